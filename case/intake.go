package cases

import (
	"bytes"
	"encoding/json"
	"strings"
	"time"
)

// A report filed from a phone that may be offline rests on the phone until
// it can be sent. So that a stolen phone reveals no child, the phone seals
// the report's identity and narrative with age to the server's intake
// recipient before it stores the report; the server opens them when the
// report arrives and seals them to the new case's key as any filing.

// IntakeService opens what a device sealed.
type IntakeService interface {
	// IntakeRecipient is the age X25519 recipient a device seals to.
	IntakeRecipient() string
	// OpenIntake opens a sealed intake made for the report with the
	// idempotency key: the plaintext names the key, so a ciphertext moved
	// to another report does not open. Returns EINVALID naming "identity"
	// if it does not open or does not parse; the error never quotes it.
	OpenIntake(key string, sealed []byte) (Identity, Note, error)
}

// IntakeMagic starts every sealed intake's plaintext, followed by the
// report's idempotency key and a newline, then the JSON of SealedIntake.
const IntakeMagic = "remedy-intake/v1\n"

// MaxSealedIntakeBytes bounds a sealed intake.
const MaxSealedIntakeBytes = 32 << 10

// sealedIntake is the JSON a device seals: the identity as the API's filing
// names its fields, and the narrative.
type sealedIntake struct {
	Identity struct {
		FullName         string   `json:"full_name"`
		OtherNames       []string `json:"other_names"`
		ClaimedBirthDate string   `json:"claimed_birth_date"`
		ApparentAge      *int     `json:"apparent_age"`
		IDDocumentType   string   `json:"id_document_type"`
		IDNumber         string   `json:"id_number"`
		IDSuspected      string   `json:"id_suspected"`
		Hometown         string   `json:"hometown"`
		Address          string   `json:"address"`
		Phone            string   `json:"phone"`
		Guardians        []struct {
			Name     string `json:"name"`
			Relation string `json:"relation"`
			Phone    string `json:"phone"`
		} `json:"guardians"`
	} `json:"identity"`
	Narrative string `json:"narrative"`
}

// errSealedIntake names the identity and never repeats any of it.
func errSealedIntake(why string) error {
	return &Error{Code: EINVALID, Message: "The sealed identity is not valid.",
		Failed: []Failure{{Name: "identity", Message: "the sealed identity " + why}}}
}

// ParseSealedIntake reads the plaintext of a sealed intake made for key, as
// strictly as the API reads a filing: unknown fields, trailing data and
// malformed dates are refused. The identity is then validated with the
// report (Report.Validate).
func ParseSealedIntake(key string, plain []byte) (Identity, Note, error) {
	head := IntakeMagic + key + "\n"
	if key == "" || !bytes.HasPrefix(plain, []byte(head)) {
		return Identity{}, Note{}, errSealedIntake("was not made for this report")
	}
	dec := json.NewDecoder(bytes.NewReader(plain[len(head):]))
	dec.DisallowUnknownFields()
	var s sealedIntake
	if err := dec.Decode(&s); err != nil || dec.More() {
		return Identity{}, Note{}, errSealedIntake("does not parse")
	}
	in := s.Identity
	id := Identity{FullName: in.FullName, OtherNames: in.OtherNames, IDDocumentType: in.IDDocumentType,
		IDNumber: in.IDNumber, IDSuspected: in.IDSuspected, Hometown: in.Hometown, Address: in.Address, Phone: in.Phone}
	if in.ApparentAge != nil {
		id.ApparentAge = *in.ApparentAge
	}
	if d := strings.TrimSpace(in.ClaimedBirthDate); d != "" {
		t, err := time.Parse(time.DateOnly, d)
		if err != nil {
			return Identity{}, Note{}, &Error{Code: EINVALID, Message: "The sealed identity is not valid.",
				Failed: []Failure{{Name: "identity.claimed_birth_date", Message: "claimed_birth_date must be a date written as YYYY-MM-DD"}}}
		}
		id.ClaimedBirthDate = &t
	}
	for _, g := range in.Guardians {
		id.Guardians = append(id.Guardians, Guardian{Name: g.Name, Relation: g.Relation, Phone: g.Phone})
	}
	return id, NewNote(s.Narrative), nil
}
