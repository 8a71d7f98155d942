package api

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"
	openapi_types "github.com/oapi-codegen/runtime/types"

	cases "github.com/remedy-cases/remedy/case"
	"github.com/remedy-cases/remedy/workflow"
)

// Documents stream: an upload is read part by part and its file handed to
// the domain as a reader, a download is copied from the decrypting reader
// to the client. Neither holds a file in memory, and neither ever puts a
// file's name in a log line, an error or a URL.

var errNoDocuments = cases.Errorf(cases.ENOTFOUND, "No such resource.")

// maxUploadOverhead bounds what an upload's body may hold besides the
// file: the multipart framing and the few fields before it.
const maxUploadOverhead = 64 << 10

// maxUploadField bounds one field of an upload (an enum or a UUID).
const maxUploadField = 100

// streamedBodyRead marks, in place of the body, that a handler read a
// streamed body to its end: the connection may serve another request.
type streamedBodyRead struct{}

func (h handlers) UploadDocument(c echo.Context, id CaseID) error {
	if h.Documents == nil {
		return errNoDocuments
	}
	found, err := h.caseFor(c, id)
	if err != nil {
		return err
	}
	a := actorOf(c)
	// Allowed or not is known before a byte of the body is read.
	if err := workflow.CanWork(found, a); err != nil {
		return err
	}
	r := c.Request()
	mediaType, params, err := mime.ParseMediaType(r.Header.Get(echo.HeaderContentType))
	if err != nil || mediaType != "multipart/form-data" || params["boundary"] == "" {
		return &problemError{code: cases.EUNSUPPORTED, message: "The body must be multipart/form-data, with the file last in the part named file."}
	}
	maxFile := h.Documents.MaxDocumentBytes()
	limit := maxFile + maxUploadOverhead
	if r.ContentLength > limit {
		return cases.Errorf(cases.ETOOLARGE, "The file is larger than the limit of %d bytes.", maxFile)
	}
	// A weak phone connection may take minutes over 20 MiB; only an
	// authenticated, allowed upload gets the time.
	_ = http.NewResponseController(c.Response()).SetReadDeadline(time.Now().Add(h.TransferTimeout))
	body := http.MaxBytesReader(c.Response(), r.Body, limit)
	in, file, err := readUploadFields(multipart.NewReader(body, params["boundary"]))
	if err != nil {
		return err
	}
	doc, err := h.Documents.AttachDocument(r.Context(), a, id, in, file)
	if err != nil {
		return err
	}
	// The file is the last part: what is left is the closing boundary.
	if _, err := io.Copy(io.Discard, body); err == nil {
		c.Set("body", streamedBodyRead{})
	}
	c.Response().Header().Set(echo.HeaderLocation, "/v1/cases/"+id.String()+"/documents/"+doc.ID.String())
	return c.JSON(http.StatusCreated, documentView(doc))
}

// readUploadFields reads the fields before the file and returns them with
// the file's part, positioned at its first byte.
func readUploadFields(mr *multipart.Reader) (cases.NewDocument, io.Reader, error) {
	var (
		in   cases.NewDocument
		seen = map[string]bool{}
	)
	for {
		part, err := mr.NextRawPart()
		if errors.Is(err, io.EOF) {
			return in, nil, badRequest("The body has no file.", cases.Failure{Name: "file", Message: "is required"})
		} else if err != nil {
			return in, nil, bodyError(err)
		}
		name := part.FormName()
		if seen[name] {
			return in, nil, badRequest("The body has a part twice.", cases.Failure{Name: echoName(name), Message: "appears more than once"})
		}
		seen[name] = true
		if name == "file" {
			if !seen["kind"] {
				return in, nil, badRequest("The fields come before the file.", cases.Failure{Name: "kind", Message: "must come before the file"})
			}
			in.Name = cases.NewFileName(part.FileName())
			return in, part, nil
		}
		value, err := readField(part)
		if err != nil {
			return in, nil, err
		}
		var v cases.Validation
		switch name {
		case "kind":
			in.Kind = cases.DocumentKind(value)
		case "step":
			in.Step = cases.DocumentStep(value)
		case "follow_up_id", "payment_id":
			u, err := uuid.Parse(value)
			v.Check(err == nil, name, "%s must be a UUID", name)
			if name == "follow_up_id" {
				in.FollowUpID = uuid.NullUUID{UUID: u, Valid: err == nil}
			} else {
				in.PaymentID = uuid.NullUUID{UUID: u, Valid: err == nil}
			}
		default:
			return in, nil, badRequest("The body has an unknown field.", cases.Failure{Name: echoName(name), Message: "is not a field of this request"})
		}
		if err := v.Err("The document is not valid."); err != nil {
			return in, nil, err
		}
	}
}

// readField reads a short field whole.
func readField(part *multipart.Part) (string, error) {
	data, err := io.ReadAll(io.LimitReader(part, maxUploadField+1))
	if err != nil {
		return "", bodyError(err)
	}
	if len(data) > maxUploadField {
		return "", badRequest("A field is too long.", cases.Failure{Name: echoName(part.FormName()), Message: "is too long"})
	}
	return string(data), nil
}

// bodyError says what went wrong reading a multipart body.
func bodyError(err error) error {
	var maxErr *http.MaxBytesError
	if errors.As(err, &maxErr) {
		return cases.Errorf(cases.ETOOLARGE, "The request body is larger than the limit.")
	}
	return badRequest("The body is not valid multipart/form-data.")
}

func (h handlers) ListDocuments(c echo.Context, id CaseID) error {
	if h.Documents == nil {
		return errNoDocuments
	}
	if _, err := h.caseFor(c, id); err != nil {
		return err
	}
	list, err := h.Documents.ListDocuments(c.Request().Context(), actorOf(c), id)
	if err != nil {
		return err
	}
	out := DocumentList{Items: make([]Document, len(list))}
	for i, d := range list {
		out.Items[i] = documentView(d)
	}
	return c.JSON(http.StatusOK, out)
}

// ReadDocument sends a document opened by a reasoned, audited read. The
// domain authenticated the sealed copy to its end before the read was
// audited; the copy is read again here, and if it fails now (it changed
// under us) the transfer is cut off, so that the client never takes a
// short file for a whole one.
func (h handlers) ReadDocument(c echo.Context, id CaseID, documentID openapi_types.UUID, params ReadDocumentParams) error {
	if h.Documents == nil {
		return errNoDocuments
	}
	found, err := h.caseFor(c, id)
	if err != nil {
		return err
	}
	o, err := h.Documents.OpenDocument(c.Request().Context(), actorOf(c), id, documentID, cases.ReadReason{Code: string(params.Reason)})
	if err != nil {
		return err
	}
	defer o.Content.Close()
	hd := c.Response().Header()
	hd.Set(echo.HeaderContentType, o.ContentType)
	hd.Set(echo.HeaderContentLength, strconv.FormatInt(o.Size, 10))
	hd.Set("Content-Disposition", contentDisposition(found.Code, o))
	hd.Set("Cache-Control", "no-store")
	hd.Set("X-Content-Type-Options", "nosniff")
	// Opened in a browser tab after all, a PDF or an image runs no script,
	// loads nothing, and is framed by nobody.
	hd.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'; sandbox")
	hd.Set("Cross-Origin-Resource-Policy", "same-origin")
	hd.Set("Referrer-Policy", "no-referrer")
	_ = http.NewResponseController(c.Response()).SetWriteDeadline(time.Now().Add(h.TransferTimeout))
	c.Response().WriteHeader(http.StatusOK)
	src := &readErr{r: o.Content}
	if _, err := io.CopyBuffer(c.Response(), src, make([]byte, 32<<10)); err != nil {
		if src.err != nil {
			h.Log.Error("document read cut off: its sealed copy failed while sent", "document_id", o.ID.String(),
				"request_id", requestID(c))
		}
		// net/http closes the connection without finishing the response.
		panic(http.ErrAbortHandler)
	}
	return nil
}

// readErr remembers an error of its reader, to tell it from the client's.
type readErr struct {
	r   io.Reader
	err error
}

func (r *readErr) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	if err != nil && err != io.EOF {
		r.err = err
	}
	return n, err
}

var extensions = map[string][]string{
	cases.TypeJPEG: {".jpg", ".jpeg", ".jpe"},
	cases.TypePNG:  {".png"},
	cases.TypePDF:  {".pdf"},
}

// contentDisposition makes the file an attachment: its own name as the
// uploader gave it (RFC 8187), with the extension of its real type added
// when it lacks it, and for older clients an ASCII name of the case code
// and the document, which names no child.
func contentDisposition(code string, d *cases.OpenedDocument) string {
	ext := extensions[d.ContentType]
	v := fmt.Sprintf(`attachment; filename="%s-%s%s"`, code, d.ID.String()[:8], ext[0])
	name := d.Name.Text()
	if name == "" {
		return v
	}
	known := false
	for _, e := range ext {
		known = known || strings.EqualFold(path.Ext(name), e)
	}
	if !known {
		name += ext[0]
	}
	return v + "; filename*=UTF-8''" + encodeRFC8187(name)
}

// encodeRFC8187 percent-encodes every byte that is not an attr-char.
func encodeRFC8187(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("!#$&+-.^_`|~", c) >= 0 {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

func documentView(d *cases.Document) Document {
	v := Document{Id: d.ID, CaseId: d.CaseID, Kind: DocumentKind(d.Kind), ContentType: DocumentContentType(d.ContentType),
		Size: d.Size, UploadedBy: d.UploadedBy, UploadedAt: d.UploadedAt}
	if d.Step != "" {
		v.Step = ptr(DocumentStep(d.Step))
	}
	if d.FollowUpID.Valid {
		v.FollowUpId = &d.FollowUpID.UUID
	}
	if d.PaymentID.Valid {
		v.PaymentId = &d.PaymentID.UUID
	}
	return v
}
