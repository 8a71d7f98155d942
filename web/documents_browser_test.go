package web_test

import (
	"bytes"
	"io"
	"path/filepath"
	"testing"

	"github.com/chromedp/chromedp"

	cases "github.com/remedy-cases/remedy/case"
	"github.com/remedy-cases/remedy/storage"
)

// TestBrowserCamera: in headless Chromium at a phone's size, a case worker
// picks a photo in the verification form's camera input (the file a phone's
// camera would give it) and sends it with htmx; the page says it is sealed,
// axe finds nothing serious, and the domain holds it without its GPS tags.
func TestBrowserCamera(t *testing.T) {
	e := newEnv(t, storage.SQLite)
	c := e.caseIn(cases.StateVerification, e.f.Report(e.now.AddDate(0, -1, 0)))
	w := newWalker(t, e)
	w.signIn(e.f.Worker)
	w.do("open the case", chromedp.Navigate(w.url("/cases/"+c.ID.String())), chromedp.WaitVisible(chromedp.CSS("#f-attach-file")))
	w.audit("case page, the camera")
	photo, err := filepath.Abs("../storage/strip/testdata/gps.jpg")
	must(t, err)
	w.do("take the photo", chromedp.SetValue(chromedp.CSS("#f-attach-kind"), "household_register"),
		chromedp.SetUploadFiles(chromedp.CSS("#f-attach-file"), []string{photo}),
		chromedp.Click(chromedp.CSS("form.attach button[type=submit]")))
	w.waitFor("attached", "文件已上传并加密保存")
	w.audit("case page, a photo attached")
	// Listed by kind; opening it first asks a reason.
	w.waitFor("listed", "户口簿")
	w.do("ask to open it", chromedp.Click(chromedp.CSS(`#documents a.button`)), chromedp.WaitVisible(chromedp.CSS("#f-document-reason")))
	w.audit("a document's reason page")

	docs := storage.NewDocumentService(e.db)
	list, err := docs.ListDocuments(ctx, e.f.Worker.Actor(), c.ID)
	if err != nil || len(list) != 1 || list[0].Kind != "household_register" || list[0].Step != cases.StepVerification {
		t.Fatalf("attached %v %v", list, err)
	}
	o, err := docs.OpenDocument(ctx, e.f.Worker.Actor(), c.ID, list[0].ID, cases.ReadReason{Code: "verify_age"})
	must(t, err)
	defer o.Content.Close()
	got, _ := io.ReadAll(o.Content)
	if o.Name.Text() != "gps.jpg" || bytes.Contains(got, []byte("GPS")) || !bytes.HasPrefix(got, []byte{0xFF, 0xD8}) {
		t.Errorf("the photo came back as %q, %d bytes, GPS kept %v", o.Name.Text(), len(got), bytes.Contains(got, []byte("GPS")))
	}
}
