package cases

import (
	"time"

	"github.com/google/uuid"
)

// Contact is how a follow-up reached the child.
type Contact string

// Contacts lists every contact method.
var Contacts = []Contact{"visit", "phone", "video"}

// FollowUp is one monthly check on a child in follow-up.
type FollowUp struct {
	ID              uuid.UUID
	CaseID          uuid.UUID
	Date            time.Time
	Contact         Contact
	AttendingSchool bool
	AttendancePct   *int
	StipendPaid     Money // zero if none was paid
	StipendPayer    Payer // copied from the plan when paid
	StipendPaidOn   *time.Time
	StipendProofRef string
	WorkingAgain    bool
	Concerns        Note // sealed; empty when read from a list
	HasConcerns     bool // concerns were recorded (lists tell this without opening them)
	RecordedBy      uuid.UUID
	CreatedAt       time.Time
	// Extra is true for a second or later follow-up in a month that another
	// one covered: an extra visit, counted once.
	Extra bool
}

// Month is the calendar month the follow-up covers.
func (f *FollowUp) Month() Month { return MonthOf(f.Date) }

// FollowUpInput is what a case worker records.
type FollowUpInput struct {
	Date            time.Time
	Contact         Contact
	AttendingSchool bool
	AttendancePct   *int
	StipendPaid     int64 // minor units, in the plan's currency
	StipendPaidOn   *time.Time
	StipendProofRef string
	// StipendPayer is who paid: factory or brand; the plan's payer when it
	// is not a split, and required when it is.
	StipendPayer Payer
	// StipendMethod is how it was paid (PaymentMethods); other if empty.
	StipendMethod string
	WorkingAgain  bool
	Concerns      Note
}

// Normalize normalises the text fields.
func (f *FollowUpInput) Normalize() {
	f.StipendProofRef = NormalizeText(f.StipendProofRef)
	f.Concerns = NewNote(NormalizeNote(f.Concerns.Text()))
}

// Validate names every invalid field. today bounds the date.
func (f *FollowUpInput) Validate(today time.Time) error {
	var v Validation
	v.Check(!f.Date.IsZero() && !f.Date.After(today), "date", "date must be a date no later than today")
	v.Check(f.StipendPaidOn == nil || !f.StipendPaidOn.After(today), "stipend_paid_on", "stipend_paid_on must be a date no later than today")
	v.Check(oneOf(f.Contact, Contacts), "contact", "contact must be visit, phone or video")
	v.Check(f.AttendancePct == nil || *f.AttendancePct >= 0 && *f.AttendancePct <= 100, "attendance_pct", "attendance_pct must be between 0 and 100")
	v.Check(f.StipendPaid >= 0 && f.StipendPaid < 1e10, "stipend_paid", "stipend_paid must be between 0 and 10^10 minor units")
	v.Check((f.StipendPaid > 0) == (f.StipendPaidOn != nil), "stipend_paid_on", "stipend_paid_on is required exactly when a stipend was paid")
	v.Check(ValidText(f.StipendProofRef, 100) && (f.StipendPaid == 0 || f.StipendProofRef != ""), "stipend_proof_ref",
		"stipend_proof_ref is required with a stipend, at most 100 characters, without control characters")
	v.Check(f.StipendPayer == "" || f.StipendPayer == PayerFactory || f.StipendPayer == PayerBrand, "stipend_payer", "stipend_payer must be factory or brand")
	v.Check(f.StipendMethod == "" || oneOf(f.StipendMethod, PaymentMethods), "stipend_method", "stipend_method is not a known payment method")
	v.Check(f.Concerns.valid(), "concerns", "concerns must be valid UTF-8 without control characters, at most %d bytes", MaxNoteBytes)
	return v.Err("The follow-up is not valid.")
}
