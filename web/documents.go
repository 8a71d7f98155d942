package web

import (
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
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
