package api_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/remedy-cases/remedy/api"
	cases "github.com/remedy-cases/remedy/case"
	"github.com/remedy-cases/remedy/internal/testkit"
	"github.com/remedy-cases/remedy/storage"
	"github.com/remedy-cases/remedy/storage/strip"
)

// rawBody is a request body that is not JSON, with its content type.
type rawBody struct {
	contentType string
	data        []byte
}

// uploadBody is a multipart/form-data upload: fields in order, then the
// file under name.
func uploadBody(t testing.TB, fields [][2]string, name string, file []byte) rawBody {
	t.Helper()
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	for _, f := range fields {
		if err := w.WriteField(f[0], f[1]); err != nil {
			t.Fatal(err)
		}
	}
	if file != nil {
		part, err := w.CreateFormFile("file", name)
		if err != nil {
			t.Fatal(err)
		}
		part.Write(file)
	}
	w.Close()
	return rawBody{contentType: w.FormDataContentType(), data: b.Bytes()}
}

// smallJPEG is a real, decodable photo.
func smallJPEG(t testing.TB) []byte {
	img := image.NewRGBA(image.Rect(0, 0, 32, 24))
	for y := range 24 {
		for x := range 32 {
			img.Set(x, y, color.RGBA{uint8(x * 8), uint8(y * 10), 120, 255})
		}
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, nil); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// gpsPhoto is storage/strip's fixture: a photo whose Exif, XMP, IPTC and
// comment hold a GPS position, a device and the canary "5f3a".
func gpsPhoto(t testing.TB) []byte {
	data, err := os.ReadFile("../storage/strip/testdata/gps.jpg")
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// TestDocuments walks an upload, a list and a reasoned download, with a
// canary in the file's name, in its Exif and in its content; then searches
// every answer but the download, every log line and the audit trail for
// them, and asks as a brand.
func TestDocuments(t *testing.T) {
	e := newTestEnv(t, storage.SQLite)
	c := e.caseIn("own", cases.StateFollowUp)
	base := "/v1/cases/" + c.ID.String() + "/documents"
	nameCanary, contentCanary := "CANARYNAME-"+uuid.NewString()[:8], "CANARYPDF-"+uuid.NewString()[:8]
	var answers bytes.Buffer
	keep := func(r response) response {
		answers.Write(r.body)
		for k, v := range r.header {
			answers.WriteString(k + ": " + strings.Join(v, ",") + "\n")
		}
		return r
	}

	photo := gpsPhoto(t)
	res := keep(e.do("POST", base, e.tokens["caseworker"], uploadBody(t, [][2]string{{"kind", "photo"}, {"step", "follow_up"}},
		nameCanary+"_王芳家.jpg", photo)))
	if res.status != http.StatusCreated {
		t.Fatalf("upload: %d %s", res.status, res.body)
	}
	var doc api.Document
	res.decode(t, &doc)
	var stripped bytes.Buffer
	if err := strip.JPEG(&stripped, bytes.NewReader(photo)); err != nil {
		t.Fatal(err)
	}
	if doc.Kind != "photo" || *doc.Step != "follow_up" || doc.ContentType != "image/jpeg" || doc.Size != int64(stripped.Len()) ||
		doc.UploadedBy != e.users["caseworker"].ID || res.header.Get("Location") != base+"/"+doc.Id.String() {
		t.Errorf("uploaded %+v, Location %s", doc, res.header.Get("Location"))
	}
	res = keep(e.do("POST", base, e.tokens["supervisor"], uploadBody(t, [][2]string{{"kind", "consent"}}, nameCanary+".pdf",
		[]byte("%PDF-1.7\n% "+contentCanary+"\n%%EOF\n"))))
	if res.status != http.StatusCreated {
		t.Fatalf("upload a PDF: %d %s", res.status, res.body)
	}
	var pdf api.Document
	res.decode(t, &pdf)

	res = keep(e.do("GET", base, e.tokens["caseworker"], nil))
	var list api.DocumentList
	res.decode(t, &list)
	if res.status != http.StatusOK || len(list.Items) != 2 || list.Items[0].Id != doc.Id {
		t.Fatalf("list: %d %s", res.status, res.body)
	}

	// The brand may not list or read, and sees nothing of them elsewhere.
	for _, path := range []string{base, base + "/" + doc.Id.String() + "?reason=verify_age"} {
		if res := keep(e.do("GET", path, e.tokens["client"], nil)); res.status != http.StatusForbidden {
			t.Errorf("a brand GET %s: %d", path, res.status)
		}
	}
	for _, path := range []string{"/v1/cases/" + c.ID.String(), "/v1/cases/" + c.ID.String() + "/events", "/v1/cases"} {
		if res := keep(e.do("GET", path, e.tokens["client"], nil)); res.status != http.StatusOK {
			t.Errorf("a brand GET %s: %d", path, res.status)
		}
	}
	res = keep(e.do("GET", "/v1/audit?case_id="+c.ID.String(), e.tokens["supervisor"], nil))
	if !strings.Contains(string(res.body), `"document.attached"`) {
		t.Errorf("the audit trail has no upload: %s", res.body)
	}

	// The reasoned read.
	if res := keep(e.do("GET", base+"/"+doc.Id.String(), e.tokens["caseworker"], nil)); res.status != http.StatusBadRequest {
		t.Errorf("a read without a reason: %d", res.status)
	}
	res = e.do("GET", base+"/"+doc.Id.String()+"?reason=follow_up_visit", e.tokens["caseworker"], nil)
	if res.status != http.StatusOK || !bytes.Equal(res.body, stripped.Bytes()) {
		t.Fatalf("read: %d, %d bytes", res.status, len(res.body))
	}
	for header, want := range map[string]string{
		"Content-Type":            "image/jpeg",
		"Content-Disposition":     `attachment; filename="` + c.Code + "-" + doc.Id.String()[:8] + `.jpg"; filename*=UTF-8''` + nameCanary + "_%E7%8E%8B%E8%8A%B3%E5%AE%B6.jpg",
		"Cache-Control":           "no-store",
		"X-Content-Type-Options":  "nosniff",
		"Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'; sandbox",
	} {
		if got := res.header.Get(header); got != want {
			t.Errorf("%s: %q, want %q", header, got, want)
		}
	}
	if bytes.Contains(res.body, []byte("5f3a")) || bytes.Contains(res.body, []byte("GPS")) {
		t.Error("the photo kept its metadata")
	}
	res = e.do("GET", base+"/"+pdf.Id.String()+"?reason=verify_age", e.tokens["supervisor"], nil)
	if !bytes.Contains(res.body, []byte(contentCanary)) || !strings.Contains(res.header.Get("Content-Disposition"), nameCanary+".pdf") {
		t.Errorf("the PDF read: %d %s", res.status, res.header.Get("Content-Disposition"))
	}
	res = keep(e.do("GET", "/v1/audit?case_id="+c.ID.String()+"&action=document.read", e.tokens["supervisor"], nil))
	if strings.Count(string(res.body), `"document.read"`) != 2 || !strings.Contains(string(res.body), `"reason":"follow_up_visit"`) {
		t.Errorf("the reads were not audited: %s", res.body)
	}

	haystacks := map[string]string{"answers": answers.String(), "logs": e.logs.String()}
	for where, text := range haystacks {
		for _, canary := range []string{nameCanary, contentCanary, "5f3a", "王芳"} {
			if i := strings.Index(text, canary); i >= 0 {
				t.Errorf("%s leaked into %s: …%q…", canary, where, text[max(0, i-60):min(len(text), i+60)])
			}
		}
	}
	if !strings.Contains(e.logs.String(), `"route":"/v1/cases/:id/documents"`) {
		t.Error("the log search saw no upload: it would prove nothing")
	}
}

// TestUploadRefusals: every refusal is a problem that names its cause, and
// changes nothing.
func TestUploadRefusals(t *testing.T) {
	e := newTestEnv(t, storage.SQLite, func(cfg *api.Config) {
		cfg.Documents = smallLimit{cfg.Documents}
	})
	c := e.caseIn("own", cases.StateVerification)
	base := "/v1/cases/" + c.ID.String() + "/documents"
	jpg := smallJPEG(t)
	kind := [][2]string{{"kind", "id_document"}}
	for name, tc := range map[string]struct {
		body   any
		status int
		code   string
		named  string
	}{
		"ErrGIF":          {uploadBody(t, kind, "a.jpg", []byte("GIF89a\x01\x00\x01\x00")), 415, "unsupported_media_type", "file"},
		"ErrHTMLAsJPEG":   {uploadBody(t, kind, "a.jpg", []byte("<html><script>alert(1)</script></html>")), 415, "unsupported_media_type", "file"},
		"ErrNotMultipart": {rawBody{"application/octet-stream", jpg}, 415, "unsupported_media_type", ""},
		"ErrJSON":         {map[string]string{"kind": "photo"}, 415, "unsupported_media_type", ""},
		"ErrNoFile":       {uploadBody(t, kind, "", nil), 400, "bad_request", "file"},
		"ErrFileFirst":    {uploadBody(t, nil, "a.jpg", jpg), 400, "bad_request", "kind"},
		"ErrUnknownField": {uploadBody(t, [][2]string{{"kind", "photo"}, {"owner<script>", "x"}}, "a.jpg", jpg), 400, "bad_request", "owner?script?"},
		"ErrTwice":        {uploadBody(t, [][2]string{{"kind", "photo"}, {"kind", "receipt"}}, "a.jpg", jpg), 400, "bad_request", "kind"},
		"ErrKind":         {uploadBody(t, [][2]string{{"kind", "selfie"}}, "a.jpg", jpg), 422, "invalid", "kind"},
		"ErrUUID":         {uploadBody(t, [][2]string{{"kind", "photo"}, {"step", "follow_up"}, {"follow_up_id", "nope"}}, "a.jpg", jpg), 422, "invalid", "follow_up_id"},
		"ErrMalformed":    {uploadBody(t, kind, "a.jpg", jpg[:len(jpg)-40]), 422, "invalid", "file"},
		"ErrLongName":     {uploadBody(t, kind, strings.Repeat("x", 300)+".jpg", jpg), 422, "invalid", "file_name"},
	} {
		t.Run(name, func(t *testing.T) {
			res := e.do("POST", base, e.tokens["caseworker"], tc.body)
			if res.status != tc.status || res.header.Get("Content-Type") != "application/problem+json" ||
				!strings.Contains(string(res.body), `"code":"`+tc.code+`"`) || tc.named != "" && !strings.Contains(string(res.body), `"name":"`+tc.named+`"`) {
				t.Fatalf("%d %s", res.status, res.body)
			}
		})
	}
	// A streamed body over the limit, with no length declared.
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	go func() {
		mw.WriteField("kind", "receipt")
		part, _ := mw.CreateFormFile("file", "big.pdf")
		part.Write([]byte("%PDF-1.7\n"))
		for range 64 {
			if _, err := part.Write(make([]byte, 16<<10)); err != nil {
				break
			}
		}
		mw.Close()
		pw.Close()
	}()
	req, _ := http.NewRequest("POST", e.http.URL+base, pr)
	req.Header.Set("Authorization", "Bearer "+e.tokens["caseworker"])
	req.Header.Set("Content-Type", mw.FormDataContentType())
	// The server answers and closes while the client still sends: the
	// client sees the 413 or, if it was still writing, a broken connection.
	if res, err := e.http.Client().Do(req); err == nil {
		if res.StatusCode != http.StatusRequestEntityTooLarge {
			t.Errorf("a chunked body over the limit: %d", res.StatusCode)
		}
		res.Body.Close()
	} else {
		t.Logf("a chunked body over the limit: %v", err)
	}
	pr.CloseWithError(errors.New("done"))

	res := e.do("GET", base, e.tokens["caseworker"], nil)
	if !strings.Contains(string(res.body), `"items":[]`) {
		t.Errorf("refusals left documents: %s", res.body)
	}
	if n := blobCount(t, e.db); n != 0 {
		t.Errorf("refusals left %d blobs", n)
	}
	// Refused before reading: the body stays unread and the connection closes.
	for _, who := range []string{"", "client", "other_caseworker"} {
		res := e.do("POST", base, e.tokens[who], uploadBody(t, kind, "a.jpg", jpg))
		if res.status < 400 || !res.close {
			t.Errorf("upload as %q: %d, connection closed %v", who, res.status, res.close)
		}
	}
	// A declared length over the limit is refused unread: the answer comes
	// while the client has sent only the start of its body. (Through
	// net/http's client, a body large enough to fill the socket's buffers
	// could fail with a reset connection before the answer was read.)
	for _, declared := range []int{200 << 10, 10 << 20} {
		res := sendHead(t, e.http.URL, base, e.tokens["caseworker"], declared,
			uploadBody(t, kind, "a.pdf", []byte("%PDF-1.7\n")))
		if res.Status != http.StatusRequestEntityTooLarge || res.Header.Get("Content-Type") != "application/problem+json" ||
			!strings.Contains(string(res.Body), `"code":"payload_too_large"`) || !res.Close {
			t.Errorf("a declared length of %d: %d, close %v: %s", declared, res.Status, res.Close, res.Body)
		}
	}
	if n := blobCount(t, e.db); n != 0 {
		t.Errorf("refusals left %d blobs", n)
	}
}

// sendHead sends a POST to path declaring a body of length bytes, sends
// only the first part of it (body, shorter), and reads the answer.
func sendHead(t *testing.T, base, path, token string, length int, body rawBody) testkit.Response {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: remedy\r\nAuthorization: Bearer %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n",
		path, token, body.contentType, length)
	if _, err := conn.Write(body.data); err != nil {
		t.Fatal(err)
	}
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	return testkit.Read(t, res)
}

// smallLimit lowers the size limit the API enforces to 100 KiB.
type smallLimit struct{ cases.DocumentService }

func (smallLimit) MaxDocumentBytes() int64 { return 100 << 10 }

func blobCount(t *testing.T, db *storage.DB) int {
	t.Helper()
	n := 0
	if err := db.Blobs().List(context.Background(), func(string, time.Time) error { n++; return nil }); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestDownloadCutOff: when the sealed copy fails while it is sent (it
// changed after it was authenticated), the client gets a transfer cut
// short of its Content-Length, never a complete answer.
func TestDownloadCutOff(t *testing.T) {
	e := newTestEnv(t, storage.SQLite, func(cfg *api.Config) {
		cfg.Documents = cutOff{cfg.Documents}
	})
	c := e.caseIn("own", cases.StateVerification)
	content := append([]byte("%PDF-1.7\n"), bytes.Repeat([]byte("scan "), 100_000)...)
	res := e.do("POST", "/v1/cases/"+c.ID.String()+"/documents", e.tokens["caseworker"],
		uploadBody(t, [][2]string{{"kind", "id_document"}}, "id.pdf", content))
	var doc api.Document
	res.decode(t, &doc)
	req, _ := http.NewRequest("GET", e.http.URL+"/v1/cases/"+c.ID.String()+"/documents/"+doc.Id.String()+"?reason=verify_age", nil)
	req.Header.Set("Authorization", "Bearer "+e.tokens["caseworker"])
	r, err := e.http.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Body.Close()
	got, err := io.ReadAll(r.Body)
	if err == nil || r.StatusCode != http.StatusOK || r.ContentLength != int64(len(content)) {
		t.Fatalf("status %d, %d of %d bytes, error %v: the client could take it for the whole file", r.StatusCode, len(got), r.ContentLength, err)
	}
	if !bytes.HasPrefix(content, got) {
		t.Fatal("the bytes sent are not the file's start")
	}
	if !strings.Contains(e.logs.String(), "document read cut off") {
		t.Error("the operator was not told")
	}
}

// cutOff serves documents whose content fails after 200,000 bytes, as the
// real reader does when the blob changed after its first pass (storage's
// TestDocumentTamper proves that it does).
type cutOff struct{ cases.DocumentService }

func (c cutOff) OpenDocument(ctx context.Context, a cases.Actor, caseID, id uuid.UUID, r cases.ReadReason) (*cases.OpenedDocument, error) {
	o, err := c.DocumentService.OpenDocument(ctx, a, caseID, id, r)
	if err != nil {
		return nil, err
	}
	o.Content = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(io.LimitReader(o.Content, 200_000), failing{}), o.Content}
	return o, nil
}

type failing struct{}

func (failing) Read([]byte) (int, error) { return 0, errors.New("chunk does not authenticate") }
