package cases

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
)

// Audit actions. An entry names what happened and to which case, never an
// identity or a note.
const (
	ActionCaseFiled        = "case.filed"
	ActionCaseAssigned     = "case.assigned"
	ActionRemovalConfirmed = "case.removal_confirmed"
	ActionCaseVerified     = "case.verified"
	ActionPlanWritten      = "case.plan_written"
	ActionFollowUpAdded    = "case.follow_up_added"
	ActionFactsCorrected   = "case.facts_corrected"
	ActionAlertRaised      = "case.alert_raised"
	ActionAlertResolved    = "case.alert_resolved"
	ActionNotesRead        = "notes.read"
	ActionPaymentRecorded  = "payment.recorded"
	ActionPaymentReversed  = "payment.reversed"
	ActionLedgerExported   = "ledger.exported"
	ActionTransition       = "case.transition"
	ActionCaseLinked       = "case.linked"
	ActionIdentityRead     = "identity.read"
	ActionIdentityCorrect  = "identity.corrected"
	ActionCaseErased       = "case.erased"
	ActionKeysRewrapped    = "keys.rewrapped"
	ActionSignIn           = "auth.sign_in"
	ActionSignInFailed     = "auth.sign_in_failed"
	ActionReportGenerated  = "report.generated"
	ActionReportDownloaded = "report.downloaded"
	ActionClientCreated    = "admin.client_created"
	ActionClientActivated  = "admin.client_active_set"
	ActionFactoryCreated   = "admin.factory_created"
	ActionFactoriesMerged  = "admin.factories_merged"
	ActionUserCreated      = "admin.user_created"
	ActionUserDisabled     = "admin.user_disabled"
	ActionPasswordSet      = "admin.password_set"
	ActionReportContacts   = "admin.report_contacts_set"
	ActionReportSent       = "report.sent"
)

// RoleSystem marks entries made by Remedy itself or an operator's command.
const RoleSystem Role = "system"

// SystemActor is the actor of commands run by an operator on the server.
var SystemActor = Actor{Role: RoleSystem}

// AuditEntry is one link of the append-only, hash-chained audit trail.
type AuditEntry struct {
	Seq       int64
	At        time.Time
	ActorID   uuid.NullUUID
	ActorRole Role
	Action    string
	CaseID    uuid.NullUUID
	Subject   string            // a public id or code
	Details   map[string]string // public facts only: states, events, field names, reason codes
}

// AuditBreak is the first entry at which the chain does not verify.
type AuditBreak struct {
	Seq    int64
	Reason string
}

func (b *AuditBreak) Error() string {
	return fmt.Sprintf("audit chain broken at entry %d: %s", b.Seq, b.Reason)
}

// Checkpoint is a signed statement of the audit chain's head: how many
// entries it held and the hash of the last. Kept outside the database (in
// every monthly report, in exported files), it witnesses the trail: a
// trail that was cut and rewritten no longer extends it.
type Checkpoint struct {
	Size      int64
	Hash      [32]byte
	Note      []byte // the signed note, C2SP checkpoint format
	KeyID     string // name+hash of the key that signed it
	CreatedAt time.Time
}

// CheckpointBreak says that the trail does not extend a checkpoint.
type CheckpointBreak struct {
	Size   int64  // the checkpoint's, which names it
	Hash   string // its head hash, base64
	Reason string
}

func (b *CheckpointBreak) Error() string {
	return fmt.Sprintf("the audit trail does not extend checkpoint %d (%s): %s", b.Size, b.Hash, b.Reason)
}

// ActionAuditCheckpoint records that a checkpoint was signed.
const ActionAuditCheckpoint = "audit.checkpoint"

// ReadReasons are why someone may open a child's identity.
var ReadReasons = []string{"contact_guardian", "verify_age", "arrange_schooling", "pay_stipend",
	"follow_up_visit", "correct_record", "legal_obligation", "safeguarding"}

// ReadReason is the stated reason for opening an identity or notes: a code,
// and an optional free-text detail that is sealed like any note.
type ReadReason struct {
	Code   string
	Detail Note
}

// Validate names every invalid field.
func (r ReadReason) Validate() error {
	var v Validation
	v.Check(oneOf(r.Code, ReadReasons), "reason", "reason must be one of contact_guardian, verify_age, arrange_schooling, pay_stipend, follow_up_visit, correct_record, legal_obligation, safeguarding")
	v.Check(r.Detail.valid(), "detail", "detail must be valid UTF-8, at most %d bytes", MaxNoteBytes)
	return v.Err("A reason is required to read an identity or notes.")
}

// AuditService reads and extends the audit trail.
type AuditService interface {
	// Append records an event that changes nothing else, such as a sign-in.
	Append(ctx context.Context, actor Actor, action, subject string, details map[string]string) error
	// Verify walks the whole chain. It returns the number of entries, and an
	// *AuditBreak naming the first broken entry if there is one.
	Verify(ctx context.Context) (int64, error)
	// CaseEntries lists the entries about a case, oldest first.
	CaseEntries(ctx context.Context, caseID uuid.UUID) ([]*AuditEntry, error)
	// ListEntries returns a page of entries, newest first. Entries carry
	// public facts only; sealed details stay sealed. Returns EINVALID for a
	// bad limit or time range.
	ListEntries(ctx context.Context, f AuditFilter) (*AuditPage, error)
	// Checkpoints returns the stored signed checkpoints of the trail's
	// head, oldest first.
	Checkpoints(ctx context.Context) ([]*Checkpoint, error)
}

// AuditFilter selects audit entries. Zero fields do not filter.
type AuditFilter struct {
	CaseID  uuid.NullUUID
	ActorID uuid.NullUUID
	Action  string
	Since   time.Time // at or after
	Until   time.Time // before
	// Before is the cursor: the seq of the last entry of the previous page.
	Before int64
	Limit  int // default 50, at most 200
}

// AuditPage is one page of entries, newest first.
type AuditPage struct {
	Entries []*AuditEntry
	Next    int64 // the cursor of the following page; 0 at the end
}
