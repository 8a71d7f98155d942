package web_test

import (
	"bytes"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/google/uuid"

	cases "github.com/remedy-cases/remedy/case"
	"github.com/remedy-cases/remedy/storage"
)

// postFile sends the attach form as a browser would: the token first (when
// the form carries it), then the step and the kind, then the file, last;
// headers are added (htmx sends the token as X-CSRF-Token).
func (b *browser) postFile(path string, fields [][2]string, name string, file []byte, headers ...string) response {
	b.e.t.Helper()
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	for _, f := range fields {
		w.WriteField(f[0], f[1])
	}
	part, _ := w.CreateFormFile("file", name)
	part.Write(file)
	w.Close()
	req, _ := http.NewRequest(http.MethodPost, b.e.srv.URL+path, &body)
	req.Header.Set("Content-Type", w.FormDataContentType())
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	req.Header.Set("Origin", b.e.srv.URL)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	return b.do(req)
}

func gpsPhoto(t testing.TB) []byte {
	data, err := os.ReadFile("../storage/strip/testdata/gps.jpg")
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// TestCamera: the verification and follow-up forms take a photo from the
// phone's camera, with and without script; the photo is attached to the
// step, without its GPS position; its name shows nowhere; a refused file
// changes nothing and says why.
func TestCamera(t *testing.T) {
	e := newEnv(t, storage.SQLite)
	docs := storage.NewDocumentService(e.db)
	c := e.caseIn(cases.StateVerification, e.f.Report(e.now.AddDate(0, -1, 0)))
	path := "/cases/" + c.ID.String()
	b := e.signIn(e.f.Worker, "zh-CN")
	var pages bytes.Buffer
	keep := func(r response) response {
		pages.Write(r.body)
		for k, v := range r.header {
			pages.WriteString(k + ": " + strings.Join(v, ",") + "\n")
		}
		return r
	}

	page := keep(b.get(path))
	form := page.text()[strings.Index(page.text(), `action="`+path+`/documents"`):]
	form = form[:strings.Index(form, "</form>")]
	for _, want := range []string{`enctype="multipart/form-data"`, `type="file"`, `capture="environment"`,
		`accept="image/jpeg,image/png,application/pdf"`, `name="step" value="verification"`, `value="id_document"`, "附加照片或扫描件"} {
		if !strings.Contains(form, want) {
			t.Errorf("the verification form's camera lacks %s", want)
		}
	}
	if strings.Index(form, `name="csrf"`) > strings.Index(form, `name="file"`) {
		t.Error("the token does not come before the file")
	}
	token := b.csrf
	name := "CANARYNAME-" + uuid.NewString()[:8] + "_王芳身份证.jpg"

	// Without script: the token is the first part; the answer redirects.
	res := keep(b.postFile(path+"/documents", [][2]string{{"csrf", token}, {"step", "verification"}, {"kind", "id_document"}}, name, gpsPhoto(t)))
	if res.status != http.StatusSeeOther || res.header.Get("Location") != path+"?done=document" {
		t.Fatalf("upload without script: %d %s", res.status, res.header.Get("Location"))
	}
	keep(b.get(path + "?done=document"))
	list, err := docs.ListDocuments(ctx, e.f.Worker.Actor(), c.ID)
	if err != nil || len(list) != 1 || list[0].Step != cases.StepVerification || list[0].Kind != "id_document" {
		t.Fatalf("attached %v %v", list, err)
	}
	o, err := docs.OpenDocument(ctx, e.f.Worker.Actor(), c.ID, list[0].ID, cases.ReadReason{Code: "verify_age"})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(o.Content)
	o.Content.Close()
	if o.Name.Text() != name || bytes.Contains(got, []byte("GPS")) || bytes.Contains(got, []byte("5f3a")) || !bytes.HasPrefix(got, []byte{0xFF, 0xD8}) {
		t.Errorf("the photo came back named %q with %d bytes, its metadata kept", o.Name.Text(), len(got))
	}

	// With htmx: the token in the header, the case swapped in with a notice.
	res = keep(b.postFile(path+"/documents", [][2]string{{"csrf", token}, {"step", "verification"}, {"kind", "household_register"}}, name, gpsPhoto(t),
		"X-CSRF-Token", token, "HX-Request", "true"))
	if res.status != http.StatusOK || !strings.Contains(res.text(), "文件已上传并加密保存") {
		t.Fatalf("upload with htmx: %d", res.status)
	}

	// Refused: no token, the token after another field, a file that is not
	// a photo or a PDF, another worker's case.
	for what, r := range map[string]response{
		"no token":   b.postFile(path+"/documents", [][2]string{{"step", "verification"}, {"kind", "photo"}}, name, gpsPhoto(t)),
		"late token": b.postFile(path+"/documents", [][2]string{{"kind", "photo"}, {"csrf", token}}, name, gpsPhoto(t)),
	} {
		keep(r)
		if r.status != http.StatusForbidden {
			t.Errorf("%s: %d", what, r.status)
		}
	}
	res = keep(b.postFile(path+"/documents", [][2]string{{"csrf", token}, {"step", "verification"}, {"kind", "photo"}}, name, []byte("GIF89a\x01\x00\x01\x00")))
	if res.status != http.StatusUnsupportedMediaType || !strings.Contains(res.text(), "只能上传照片") {
		t.Errorf("a GIF: %d", res.status)
	}
	other := e.signIn(e.f.OtherWorker, "en")
	keep(other.get("/"))
	if res := keep(other.postFile(path+"/documents", [][2]string{{"csrf", other.csrf}, {"kind", "photo"}}, name, gpsPhoto(t))); res.status != http.StatusNotFound {
		t.Errorf("another worker's upload: %d", res.status)
	}
	if list, _ := docs.ListDocuments(ctx, e.f.Worker.Actor(), c.ID); len(list) != 2 {
		t.Errorf("%d documents, want the 2 accepted", len(list))
	}

	// The follow-up form has its camera too.
	f := e.caseIn(cases.StateFollowUp, e.f.Report(e.now.AddDate(0, -1, 0)))
	page = keep(b.get("/cases/" + f.ID.String()))
	if !strings.Contains(page.text(), `name="step" value="follow_up"`) || !strings.Contains(page.text(), `capture="environment"`) {
		t.Error("the follow-up form has no camera")
	}

	for where, text := range map[string]string{"pages": pages.String(), "logs": e.logs.String()} {
		for _, canary := range []string{"CANARYNAME", "王芳", "5f3a"} {
			if i := strings.Index(text, canary); i >= 0 {
				t.Errorf("%s leaked into the %s: …%q…", canary, where, text[max(0, i-60):min(len(text), i+60)])
			}
		}
	}
	if !strings.Contains(e.logs.String(), `/cases/{id}/documents`) {
		t.Error("the log search saw no upload: it would prove nothing")
	}
}

// TestOpenDocument: the case page lists the case's documents by kind,
// never by name; opening one is a deliberate act like the identity's
// reveal: a reason from the list, a read the domain audits, then the file,
// unstored, named by the case code only.
func TestOpenDocument(t *testing.T) {
	e := newEnv(t, storage.SQLite)
	docs := storage.NewDocumentService(e.db)
	c := e.caseIn(cases.StateVerification, e.f.Report(e.now.AddDate(0, -1, 0)))
	name := "CANARYNAME-王芳身份证.jpg"
	d, err := docs.AttachDocument(ctx, e.f.Worker.Actor(), c.ID, cases.NewDocument{Kind: "id_document", Step: cases.StepVerification,
		Name: cases.NewFileName(name)}, bytes.NewReader(gpsPhoto(t)))
	must(t, err)
	path := "/cases/" + c.ID.String()
	docPath := path + "/documents/" + d.ID.String()
	b := e.signIn(e.f.Worker, "zh-CN")
	var seen []response

	page := b.get(path)
	seen = append(seen, page)
	for _, want := range []string{"文件和照片", "身份证件", "年龄核实", "JPEG", `href="` + docPath + `"`} {
		if !strings.Contains(page.text(), want) {
			t.Errorf("the case page's documents lack %q", want)
		}
	}
	ask := b.get(docPath)
	seen = append(seen, ask)
	if ask.status != http.StatusOK || !strings.Contains(ask.text(), `name="reason"`) || !strings.Contains(ask.text(), "<title>"+c.Code+" 的文件") {
		t.Fatalf("the reason page: %d", ask.status)
	}
	reads := func() int {
		entries, err := storage.NewAuditService(e.db).CaseEntries(ctx, c.ID)
		must(t, err)
		n := 0
		for _, en := range entries {
			if en.Action == cases.ActionDocumentRead {
				n++
			}
		}
		return n
	}

	t.Run("ErrNoReason", func(t *testing.T) {
		res := b.post(docPath, url.Values{"reason": {"curiosity"}})
		seen = append(seen, res)
		if res.status != http.StatusUnprocessableEntity || fieldError(res.text(), "document", "reason") == "" {
			t.Fatalf("without a listed reason: %d", res.status)
		}
		if reads() != 0 {
			t.Fatal("a refused read was audited as a read")
		}
	})
	t.Run("OK", func(t *testing.T) {
		b.get(docPath)
		res := b.post(docPath, url.Values{"reason": {"verify_age"}}, "Accept-Encoding", "gzip")
		if res.status != http.StatusOK || !bytes.HasPrefix(res.body, []byte{0xFF, 0xD8}) {
			t.Fatalf("open: %d %q", res.status, res.body[:min(20, len(res.body))])
		}
		want := `attachment; filename="` + c.Code + `-id_document-` + d.ID.String()[:8] + `.jpg"`
		if got := res.header.Get("Content-Disposition"); got != want {
			t.Errorf("Content-Disposition %q, want %q", got, want)
		}
		if res.header.Get("Content-Type") != "image/jpeg" || res.header.Get("Cache-Control") != "no-store, max-age=0" ||
			res.header.Get("Content-Encoding") != "" || !strings.Contains(res.header.Get("Content-Security-Policy"), "sandbox") {
			t.Errorf("headers: %v", res.header)
		}
		if bytes.Contains(res.body, []byte("GPS")) {
			t.Error("the photo kept its metadata")
		}
		if reads() != 1 {
			t.Errorf("%d audited reads, want 1", reads())
		}
		res.body = nil // the photo itself is not a page
		seen = append(seen, res)
	})
	t.Run("ErrNotAllowed", func(t *testing.T) {
		for _, u := range []*cases.User{e.f.OtherWorker, e.f.Auditor} {
			o := e.signIn(u, "en")
			if res := o.get(docPath); res.status != http.StatusNotFound {
				t.Errorf("%s asks to open: %d", u.Role, res.status)
			}
			if res := o.post(docPath, url.Values{"reason": {"verify_age"}}); res.status != http.StatusNotFound {
				t.Errorf("%s opens: %d", u.Role, res.status)
			}
		}
		if res := b.get(path + "/documents/" + uuid.NewString()); res.status != http.StatusNotFound {
			t.Errorf("a missing document: %d", res.status)
		}
		if reads() != 1 {
			t.Errorf("%d audited reads, want 1", reads())
		}
	})
	for _, res := range seen {
		var all strings.Builder
		all.WriteString(res.url)
		all.Write(res.body)
		for k, v := range res.header {
			all.WriteString(k + ": " + strings.Join(v, ",") + "\n")
		}
		if strings.Contains(all.String(), "CANARYNAME") || strings.Contains(all.String(), "王芳") {
			t.Errorf("%s: the file's name shows", res.url)
		}
	}
	if strings.Contains(e.logs.String(), "CANARYNAME") || !strings.Contains(e.logs.String(), "/cases/{id}/documents/{document}") {
		t.Error("the log holds the file's name, or saw no request")
	}
}
