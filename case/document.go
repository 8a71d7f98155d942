package cases

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/google/uuid"
)

// Documents and photos (DOMAIN.md, "Documents and photos"): the ID card or
// household-register page seen at verification, the guardian's signed
// consent, the school's enrolment proof, payment receipts and follow-up
// photos belong to the case. They are identity: sealed like the identity
// (their file names too), read only with a reason, never shown to a brand,
// erased with the case. A photo loses its metadata before it is sealed.

// Error codes of documents, beside the domain's own: the adapters map each
// to one status (413 and 415 over HTTP).
const (
	ETOOLARGE    = "payload_too_large"      // a file over the configured size
	EUNSUPPORTED = "unsupported_media_type" // a file that is not a JPEG, PNG or PDF by its content
)

// Audit actions of documents.
const (
	ActionDocumentAttached = "document.attached"
	ActionDocumentRead     = "document.read"
)

// DefaultMaxDocumentBytes is the default size limit of one file: 20 MiB.
const DefaultMaxDocumentBytes = 20 << 20

// DocumentKind says what a document is.
type DocumentKind string

// DocumentKinds lists every kind, in the order forms offer them.
var DocumentKinds = []DocumentKind{"id_document", "household_register", "consent", "enrolment_proof",
	"receipt", "photo", "other"}

// DocumentStep is the step of the case a document belongs to.
type DocumentStep string

const (
	StepVerification DocumentStep = "verification"
	StepConsent      DocumentStep = "consent"
	StepFollowUp     DocumentStep = "follow_up"
	StepPayment      DocumentStep = "payment"
)

// DocumentSteps lists every step.
var DocumentSteps = []DocumentStep{StepVerification, StepConsent, StepFollowUp, StepPayment}

// The content types a document may have. The type is judged by the file's
// first bytes, never by its name or the type a client claims.
const (
	TypeJPEG = "image/jpeg"
	TypePNG  = "image/png"
	TypePDF  = "application/pdf"
)

// DocumentTypes lists every accepted content type.
var DocumentTypes = []string{TypeJPEG, TypePNG, TypePDF}

// SniffBytes is how many first bytes SniffDocument needs.
const SniffBytes = 8

// SniffDocument returns the content type of a file from its first bytes
// (at least SniffBytes of them unless the file is shorter): JPEG (FF D8 FF),
// PNG (its 8-byte signature) or PDF (%PDF-). ok is false for anything else.
func SniffDocument(head []byte) (contentType string, ok bool) {
	switch {
	case bytes.HasPrefix(head, []byte{0xFF, 0xD8, 0xFF}):
		return TypeJPEG, true
	case bytes.HasPrefix(head, []byte("\x89PNG\r\n\x1a\n")):
		return TypePNG, true
	case bytes.HasPrefix(head, []byte("%PDF-")):
		return TypePDF, true
	}
	return "", false
}

// FileName is the name a file was uploaded with. It is identity
// ("wang_fang_id.jpg"): sealed with the file, never stored or logged in the
// clear. Its String, GoString, LogValue and MarshalJSON redact.
type FileName struct{ name string }

// MaxFileNameChars bounds a file name.
const MaxFileNameChars = 255

// NewFileName normalises name as it comes from a client: the last element
// of a path (some browsers send C:\fakepath\photo.jpg), NFKC, spaces
// collapsed.
func NewFileName(name string) FileName {
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	return FileName{name: NormalizeText(name)}
}

// Text returns the name. Call it only to hand the file to a user who may
// read it.
func (n FileName) Text() string { return n.name }

// Empty reports whether the name is empty.
func (n FileName) Empty() bool { return n.name == "" }

func (n FileName) valid() bool {
	return ValidText(n.name, MaxFileNameChars) && n.name != "." && n.name != ".."
}

func (FileName) String() string               { return redacted }
func (FileName) GoString() string             { return "cases.FileName" + redacted }
func (FileName) LogValue() slog.Value         { return slog.StringValue(redacted) }
func (FileName) MarshalJSON() ([]byte, error) { return []byte(`"` + redacted + `"`), nil }

// Document is a file attached to a case, as anyone who may see that it
// exists sees it: its kind, its step, its size and type, who uploaded it and
// when. Its name and content stay sealed.
type Document struct {
	ID          uuid.UUID
	CaseID      uuid.UUID
	Kind        DocumentKind
	Step        DocumentStep  // empty when tied to no step
	FollowUpID  uuid.NullUUID // the follow-up it belongs to, if any
	PaymentID   uuid.NullUUID // the payment it belongs to, if any
	ContentType string        // one of DocumentTypes
	Size        int64         // bytes of the file as sealed (a photo without its metadata)
	UploadedBy  uuid.UUID
	UploadedAt  time.Time
}

// NewDocument describes a file to attach; its content comes as a stream.
type NewDocument struct {
	Kind       DocumentKind
	Step       DocumentStep
	FollowUpID uuid.NullUUID
	PaymentID  uuid.NullUUID
	Name       FileName
}

// Validate names every invalid field. Whether the follow-up or the payment
// belongs to the case is checked by the service.
func (d *NewDocument) Validate() error {
	var v Validation
	v.Check(oneOf(d.Kind, DocumentKinds), "kind", "kind must be one of id_document, household_register, consent, enrolment_proof, receipt, photo, other")
	v.Check(d.Step == "" || oneOf(d.Step, DocumentSteps), "step", "step must be verification, consent, follow_up or payment")
	v.Check(!d.FollowUpID.Valid || d.Step == StepFollowUp, "follow_up_id", "follow_up_id needs step follow_up")
	v.Check(!d.PaymentID.Valid || d.Step == StepPayment, "payment_id", "payment_id needs step payment")
	v.Check(d.Name.Empty() || d.Name.valid(), "file_name", "the file name must be at most %d characters, without control characters", MaxFileNameChars)
	return v.Err("The document is not valid.")
}

// OpenedDocument is a document opened by a reasoned read: its name and its
// content. Content was authenticated to its end once before the read was
// audited; it is read again while it is served, and fails (never returns
// unauthenticated bytes) if the sealed copy changed in between. The caller
// must close it.
type OpenedDocument struct {
	Document
	Name    FileName
	Content io.ReadCloser
}

// DocumentService attaches files to cases and opens them.
type DocumentService interface {
	// AttachDocument reads content to its end, judges its type by its first
	// bytes, strips a photo's metadata, seals it with its name under the
	// case's key while streaming it to the blob store, and records it with
	// an audit entry. Nothing is read before the actor is known to be
	// allowed. Returns ENOTFOUND (also when the case was erased), EFORBIDDEN
	// (only the case's worker and supervisors attach files), EINVALID naming
	// a bad field (or "file" for a JPEG or PNG that is malformed),
	// ETOOLARGE past the size limit, EUNSUPPORTED for anything that is not a
	// JPEG, PNG or PDF. A refused file leaves nothing behind.
	AttachDocument(ctx context.Context, actor Actor, caseID uuid.UUID, d NewDocument, content io.Reader) (*Document, error)
	// ListDocuments lists a case's documents, oldest first, without their
	// names. Returns ENOTFOUND, EFORBIDDEN (only the case's worker and
	// supervisors).
	ListDocuments(ctx context.Context, actor Actor, caseID uuid.UUID) ([]*Document, error)
	// OpenDocument opens a document for a stated reason: the sealed copy is
	// authenticated to its end, then the read is audited in its own
	// transaction, and only then is the content handed out. Returns
	// ENOTFOUND (also when erased), EFORBIDDEN, EINVALID for a missing
	// reason, EINTERNAL when the sealed copy is missing or damaged.
	OpenDocument(ctx context.Context, actor Actor, caseID, documentID uuid.UUID, reason ReadReason) (*OpenedDocument, error)
	// MaxDocumentBytes is the size limit of one file.
	MaxDocumentBytes() int64
}
