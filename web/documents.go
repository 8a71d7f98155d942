package web

import (
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	cases "github.com/remedy-cases/remedy/case"
	"github.com/remedy-cases/remedy/workflow"
)

// The camera of the verification and follow-up forms: a phone's camera
// through <input type="file" capture> (no script, no camera permission),
// and this handler, which hands the file to the domain as it streams in.
// The domain strips the photo's metadata, seals it with its name and
// audits it. This handler never holds the file, and never shows, logs or
// puts in a URL its name.

// uploadSlack bounds what an upload holds besides its file: the multipart
// framing, the token and two short fields.
const uploadSlack = 64 << 10

// transferTimeout is how long an allowed upload may take on a weak phone
// connection, instead of the server's read timeout.
const transferTimeout = 15 * time.Minute

func isMultipart(r *http.Request) bool {
	mediaType, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return err == nil && mediaType == "multipart/form-data"
}

// multipart returns the request's multipart reader, made once, over the
// body capped at the document limit.
func (q *request) multipart() (*multipart.Reader, error) {
	if q.parts != nil {
		return q.parts, nil
	}
	_, params, err := mime.ParseMediaType(q.r.Header.Get("Content-Type"))
	if err != nil || params["boundary"] == "" {
		return nil, errors.New("not multipart")
	}
	limit := int64(maxFormBytes)
	if q.h.Documents != nil {
		limit = q.h.Documents.MaxDocumentBytes() + uploadSlack
	}
	q.parts = multipart.NewReader(http.MaxBytesReader(q.w, q.r.Body, limit), params["boundary"])
	return q.parts, nil
}

// multipartToken reads the CSRF token of a form sent without script: the
// form puts it first, so nothing else is read before it is checked.
func (q *request) multipartToken() string {
	mr, err := q.multipart()
	if err != nil {
		return ""
	}
	part, err := mr.NextPart()
	if err != nil || part.FormName() != "csrf" {
		return ""
	}
	token, _ := io.ReadAll(io.LimitReader(part, 256))
	return string(token)
}

// attach takes a photo or a scan for the case's current step.
func (h *Handler) attach(q *request) error {
	if h.Documents == nil {
		return cases.Errorf(cases.ENOTFOUND, "No such page.")
	}
	c, err := q.caseFor(q.r.PathValue("id"))
	if err != nil {
		return err
	}
	if err := workflow.CanWork(c, q.actor); err != nil {
		return err
	}
	if !isMultipart(q.r) {
		return q.attachFailed(c, http.StatusUnsupportedMediaType, "attach.unsupported")
	}
	_ = http.NewResponseController(q.w).SetReadDeadline(time.Now().Add(transferTimeout))
	mr, err := q.multipart()
	if err != nil {
		return q.attachFailed(c, http.StatusBadRequest, "attach.invalid")
	}
	var in cases.NewDocument
	for {
		part, err := mr.NextPart()
		if err != nil {
			var maxErr *http.MaxBytesError
			if errors.As(err, &maxErr) {
				return q.attachFailed(c, http.StatusRequestEntityTooLarge, "attach.too_large")
			}
			return q.attachFailed(c, http.StatusBadRequest, "attach.invalid")
		}
		if part.FormName() == "file" {
			in.Name = cases.NewFileName(part.FileName())
			_, err := h.Documents.AttachDocument(q.r.Context(), q.actor, c.ID, in, part)
			switch cases.ErrorCode(err) {
			case "":
				return q.afterEdit(c.ID, "document")
			case cases.ETOOLARGE:
				return q.attachFailed(c, http.StatusRequestEntityTooLarge, "attach.too_large")
			case cases.EUNSUPPORTED:
				return q.attachFailed(c, http.StatusUnsupportedMediaType, "attach.unsupported")
			case cases.EINVALID:
				return q.attachFailed(c, http.StatusUnprocessableEntity, "attach.invalid")
			}
			return err
		}
		value, _ := io.ReadAll(io.LimitReader(part, 100))
		switch part.FormName() {
		case "kind":
			in.Kind = cases.DocumentKind(value)
		case "step":
			in.Step = cases.DocumentStep(value)
		case "payment_id":
			id, err := uuid.Parse(string(value))
			if err != nil {
				return q.attachFailed(c, http.StatusBadRequest, "attach.invalid")
			}
			in.PaymentID = uuid.NullUUID{UUID: id, Valid: true}
		}
	}
}

// attachFailed shows the case again, with what went wrong with the file.
func (q *request) attachFailed(c *cases.Case, status int, message string) error {
	fresh, err := q.caseFor(c.ID.String())
	if err != nil {
		return err
	}
	v, err := q.caseView(fresh)
	if err != nil {
		return err
	}
	q.defaultForms(fresh, v)
	v.Notice, v.NoticeKind = q.loc.T(message), "error"
	if q.htmx {
		q.w.Header().Set("HX-Retarget", "#main")
		q.w.Header().Set("HX-Reswap", "outerHTML")
		return q.render(status, "case", "main", fresh.Code, v)
	}
	return q.render(status, "case", "", fresh.Code, v)
}

// documentView is a document as the case page lists it: what it is, for
// which step, its type and size, who attached it and when; never its name.
type documentView struct {
	*cases.Document
	UploadedBy string
	KB         int64
	Type       string // JPEG, PNG or PDF
}

// documents lists the case's documents for those who may open them.
func (q *request) documents(c *cases.Case, names map[uuid.UUID]string) ([]documentView, error) {
	if q.h.Documents == nil || workflow.CanReadIdentity(c, q.actor) != nil || c.ErasedAt != nil {
		return nil, nil
	}
	list, err := q.h.Documents.ListDocuments(q.r.Context(), q.actor, c.ID)
	if err != nil {
		return nil, err
	}
	out := make([]documentView, 0, len(list))
	for _, d := range list {
		out = append(out, documentView{Document: d, UploadedBy: names[d.UploadedBy], KB: (d.Size + 1023) / 1024,
			Type: strings.ToUpper(strings.TrimPrefix(extensions[d.ContentType], "."))})
	}
	return out, nil
}

// documentForm asks for a reason before a document is opened.
type documentForm struct {
	Case     *cases.Case
	Document *cases.Document
	Reasons  []string
	Form     *formState
}

// openable loads a case whose documents the user may open, and one of them.
func (q *request) openable() (*cases.Case, *cases.Document, error) {
	if q.h.Documents == nil {
		return nil, nil, cases.Errorf(cases.ENOTFOUND, "No such page.")
	}
	c, err := q.revealable()
	if err != nil {
		return nil, nil, err
	}
	id, err := uuid.Parse(q.r.PathValue("document"))
	if err != nil {
		return nil, nil, cases.Errorf(cases.ENOTFOUND, "Document not found.")
	}
	list, err := q.h.Documents.ListDocuments(q.r.Context(), q.actor, c.ID)
	if err != nil {
		return nil, nil, err
	}
	for _, d := range list {
		if d.ID == id {
			return c, d, nil
		}
	}
	return nil, nil, cases.Errorf(cases.ENOTFOUND, "Document not found.")
}

func (h *Handler) documentPage(q *request) error {
	c, d, err := q.openable()
	if err != nil {
		return err
	}
	v := &documentForm{Case: c, Document: d, Reasons: cases.ReadReasons, Form: newForm("document", "reason")}
	return q.render(http.StatusOK, "document", "", q.loc.T("open_document.title", "Code", c.Code), v)
}

// openDocument hands out a document for the reason picked from the list:
// the domain authenticates the sealed copy and audits the read before any
// byte is sent. The download is named by the case code, the document's
// kind and a part of its id, never by the name it was uploaded with, and
// is never stored, compressed or run.
func (h *Handler) openDocument(q *request) error {
	c, d, err := q.openable()
	if err != nil {
		return err
	}
	o, err := h.Documents.OpenDocument(q.r.Context(), q.actor, c.ID, d.ID, cases.ReadReason{Code: q.r.PostFormValue("reason")})
	if cases.ErrorCode(err) == cases.EINVALID {
		v := &documentForm{Case: c, Document: d, Reasons: cases.ReadReasons, Form: newForm("document", "reason")}
		v.Form.addFailures(q.loc, cases.ErrorFailures(err))
		return q.render(http.StatusUnprocessableEntity, "document", "", q.loc.T("open_document.title", "Code", c.Code), v)
	} else if err != nil {
		return err
	}
	defer o.Content.Close()
	hd := q.w.Header()
	hd.Set("Content-Type", o.ContentType)
	hd.Set("Content-Length", strconv.FormatInt(o.Size, 10))
	hd.Set("Content-Disposition", `attachment; filename="`+downloadName(c.Code, &o.Document)+`"`)
	hd.Set("Cache-Control", "no-store, max-age=0")
	hd.Set("Pragma", "no-cache")
	// Opened in a tab after all, a PDF or an image runs no script and
	// loads nothing.
	hd.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'; sandbox")
	_ = http.NewResponseController(q.w).SetWriteDeadline(time.Now().Add(transferTimeout))
	q.w.WriteHeader(http.StatusOK)
	if _, err := io.CopyBuffer(q.w, o.Content, make([]byte, 32<<10)); err != nil {
		h.logError(q.r.Context(), q.r, err)
		// The status is sent: cut the connection rather than end the
		// response as if the file were whole.
		panic(http.ErrAbortHandler)
	}
	return nil
}

// downloadName is a document's file name on the user's device: the case
// code, the kind and the first part of its id, with its type's extension.
func downloadName(code string, d *cases.Document) string {
	return code + "-" + string(d.Kind) + "-" + d.ID.String()[:8] + extensions[d.ContentType]
}

// extensions are the file extensions of the document types.
var extensions = map[string]string{cases.TypeJPEG: ".jpg", cases.TypePNG: ".png", cases.TypePDF: ".pdf"}
