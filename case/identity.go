package cases

import (
	"log/slog"
	"time"

	"github.com/google/uuid"
)

// Identity is who the child is. It never reaches the database or a file in
// the clear: storage seals it with age under the case's own key, and reading it
// is an explicit, reasoned, audited request. Its String, GoString, LogValue and
// MarshalJSON redact, so that a stray log line or response cannot leak it.
type Identity struct {
	FullName          string
	OtherNames        []string
	ClaimedBirthDate  *time.Time // as the child or the ID document claimed
	ApparentAge       int        // the auditor's estimate in years; 0 if unknown
	VerifiedBirthDate *time.Time // set by verification
	IDDocumentType    string     // id_card, household_register, passport, none, ...
	IDNumber          string
	IDSuspected       string // genuine, forged, borrowed, unknown
	Hometown          string
	Address           string
	Phone             string
	Guardians         []Guardian
}

// Confidential is a case's opened identity and notes, as an identity read
// returns them.
type Confidential struct {
	Identity          Identity
	Narrative         Note
	VerificationNotes Note
}

// Guardian is a parent or other guardian of the child.
type Guardian struct {
	Name     string
	Relation string
	Phone    string
}

const redacted = "[redacted]"

func (Identity) String() string               { return "cases.Identity" + redacted }
func (Identity) GoString() string             { return "cases.Identity" + redacted }
func (Identity) LogValue() slog.Value         { return slog.StringValue(redacted) }
func (Identity) MarshalJSON() ([]byte, error) { return []byte(`"` + redacted + `"`), nil }
func (Guardian) String() string               { return "cases.Guardian" + redacted }
func (Guardian) GoString() string             { return "cases.Guardian" + redacted }
func (Guardian) LogValue() slog.Value         { return slog.StringValue(redacted) }
func (Guardian) MarshalJSON() ([]byte, error) { return []byte(`"` + redacted + `"`), nil }

// IDSuspicions lists how an ID document seen at the factory may be suspected.
var IDSuspicions = []string{"genuine", "forged", "borrowed", "unknown"}

// Normalize normalises every text field (NormalizeText): full-width forms
// typed with a Chinese input method, stray and repeated spaces.
func (id *Identity) Normalize() {
	for _, f := range []*string{&id.FullName, &id.IDDocumentType, &id.IDNumber, &id.IDSuspected,
		&id.Hometown, &id.Address, &id.Phone} {
		*f = NormalizeText(*f)
	}
	for i := range id.OtherNames {
		id.OtherNames[i] = NormalizeText(id.OtherNames[i])
	}
	for i := range id.Guardians {
		g := &id.Guardians[i]
		g.Name, g.Relation, g.Phone = NormalizeText(g.Name), NormalizeText(g.Relation), NormalizeText(g.Phone)
	}
}

// Validate names every invalid field, as a correction of the identity needs.
// today bounds the claimed date of birth.
func (id *Identity) Validate(today time.Time) error {
	v := Validation{failed: id.validate()}
	v.Check(id.ClaimedBirthDate == nil || !Date(*id.ClaimedBirthDate).After(today),
		"identity.claimed_birth_date", "claimed_birth_date must not be in the future")
	return v.Err("The identity is not valid.")
}

// validate names every invalid field of a normalised identity. Its messages
// never repeat a value. Lengths count characters.
func (id *Identity) validate() []Failure {
	var v Validation
	v.Check(ValidText(id.FullName, 200), "identity.full_name", "full_name must be at most 200 characters, without control characters")
	v.Check(len(id.OtherNames) <= 10, "identity.other_names", "at most 10 other names")
	for _, n := range id.OtherNames {
		v.Check(ValidText(n, 200), "identity.other_names", "each other name must be at most 200 characters, without control characters")
	}
	v.Check(id.ApparentAge >= 0 && id.ApparentAge < 30, "identity.apparent_age", "apparent_age must be between 0 and 29")
	v.Check(id.FullName != "" || id.ApparentAge > 0 || id.ClaimedBirthDate != nil,
		"identity", "a report needs at least the child's name, claimed birth date or apparent age")
	v.Check(id.ClaimedBirthDate == nil || id.ClaimedBirthDate.Year() >= 1900,
		"identity.claimed_birth_date", "claimed_birth_date must be after 1900")
	v.Check(ValidText(id.IDDocumentType, 50), "identity.id_document_type", "id_document_type must be at most 50 characters")
	v.Check(ValidText(id.IDNumber, 50), "identity.id_number", "id_number must be at most 50 characters")
	v.Check(id.IDSuspected == "" || oneOf(id.IDSuspected, IDSuspicions), "identity.id_suspected", "id_suspected must be genuine, forged, borrowed or unknown")
	v.Check(ValidText(id.Hometown, 200), "identity.hometown", "hometown must be at most 200 characters")
	v.Check(ValidText(id.Address, 500), "identity.address", "address must be at most 500 characters")
	v.Check(ValidText(id.Phone, 50), "identity.phone", "phone must be at most 50 characters")
	v.Check(len(id.Guardians) <= 5, "identity.guardians", "at most 5 guardians")
	for _, g := range id.Guardians {
		v.Check(ValidText(g.Name, 200) && ValidText(g.Relation, 50) && ValidText(g.Phone, 50),
			"identity.guardians", "each guardian needs a name (200 characters), relation (50) and phone (50) at most")
	}
	return v.failed
}

// IDChecksumValid tells whether the identity's ID number is a resident ID
// number with a right check digit; nil when it is not of that shape.
func (id *Identity) IDChecksumValid() *bool {
	valid, applies := IDChecksum(id.IDNumber)
	if !applies {
		return nil
	}
	return &valid
}

// MaxNoteBytes caps a free-text note.
const MaxNoteBytes = 20000

// Note is a free-text note: an intake narrative, verification notes, a
// follow-up's concerns, a transition's reason. Storage seals it like an
// identity; it prints as [redacted] everywhere. Use Text to read it on purpose.
type Note struct{ text string }

// NewNote wraps text as a note.
func NewNote(text string) Note { return Note{text: text} }

// Text returns the note's plaintext. Call it only to show the note to a user
// who may read it.
func (n Note) Text() string { return n.text }

// Empty reports whether the note has no text.
func (n Note) Empty() bool { return n.text == "" }

func (n Note) valid() bool { return ValidNoteText(n.text, MaxNoteBytes) }

func (Note) String() string               { return redacted }
func (Note) GoString() string             { return "cases.Note" + redacted }
func (Note) LogValue() slog.Value         { return slog.StringValue(redacted) }
func (Note) MarshalJSON() ([]byte, error) { return []byte(`"` + redacted + `"`), nil }

// CaseNotes are every sealed note of a case, as a notes read returns them.
type CaseNotes struct {
	Narrative         Note
	VerificationNotes Note
	ChildWishes       Note
	FollowUps         []FollowUpNote   // follow-ups with concerns, by date
	Transitions       []TransitionNote // transitions with a reason, oldest first
	Details           []DetailNote     // details given with reads and decisions, oldest first
}

// FollowUpNote is a follow-up's concerns.
type FollowUpNote struct {
	FollowUpID uuid.UUID
	Date       time.Time
	Concerns   Note
}

// TransitionNote is the reason given for a transition.
type TransitionNote struct {
	TransitionID uuid.UUID
	Event        Event
	At           time.Time
	Reason       Note
}

// DetailNote is the free text given with an audited act, such as the
// detail of a read's reason or a supervisor's decision on an alert.
type DetailNote struct {
	Seq    int64
	Action string
	At     time.Time
	Detail Note
}
