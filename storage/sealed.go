package storage

import (
	"encoding/json"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	cases "github.com/remedy-cases/remedy/case"
)

// Purposes bind a sealed value to its column: a value moved to another
// column, or another case's row, fails to open.
const (
	purposeIdentity          = "identity"
	purposeNarrative         = "narrative"
	purposeVerificationNotes = "verification_notes"
	purposeConcerns          = "follow_up_concerns"
	purposeReason            = "transition_reason"
	purposeAuditDetail       = "audit_detail"
	purposeChildWishes       = "child_wishes"
)

// sealedIdentity is the identity's sealed plaintext form. It lives here, not
// in the domain, so that nothing but the vault ever marshals an identity.
// The intake narrative travels in it: both are sealed once, together, when
// a case is filed (one age encryption instead of two). A case filed before
// keeps its narrative in narrative_sealed, which then wins.
type sealedIdentity struct {
	FullName          string           `json:"full_name,omitempty"`
	OtherNames        []string         `json:"other_names,omitempty"`
	ClaimedBirthDate  *time.Time       `json:"claimed_birth_date,omitempty"`
	ApparentAge       int              `json:"apparent_age,omitempty"`
	VerifiedBirthDate *time.Time       `json:"verified_birth_date,omitempty"`
	IDDocumentType    string           `json:"id_document_type,omitempty"`
	IDNumber          string           `json:"id_number,omitempty"`
	IDSuspected       string           `json:"id_suspected,omitempty"`
	Hometown          string           `json:"hometown,omitempty"`
	Address           string           `json:"address,omitempty"`
	Phone             string           `json:"phone,omitempty"`
	Guardians         []sealedGuardian `json:"guardians,omitempty"`
	Narrative         string           `json:"narrative,omitempty"`
}

type sealedGuardian struct {
	Name     string `json:"name,omitempty"`
	Relation string `json:"relation,omitempty"`
	Phone    string `json:"phone,omitempty"`
}

// sealIdentity seals an identity with the narrative that travels with it
// (empty for a case whose narrative has its own column).
func sealIdentity(ck *caseKey, caseID uuid.UUID, id cases.Identity, narrative cases.Note) ([]byte, error) {
	s := sealedIdentity{
		FullName: id.FullName, OtherNames: id.OtherNames, ClaimedBirthDate: id.ClaimedBirthDate,
		ApparentAge: id.ApparentAge, VerifiedBirthDate: id.VerifiedBirthDate, IDDocumentType: id.IDDocumentType,
		IDNumber: id.IDNumber, IDSuspected: id.IDSuspected, Hometown: id.Hometown, Address: id.Address, Phone: id.Phone,
		Narrative: narrative.Text(),
	}
	for _, g := range id.Guardians {
		s.Guardians = append(s.Guardians, sealedGuardian{Name: g.Name, Relation: g.Relation, Phone: g.Phone})
	}
	plain, err := json.Marshal(s)
	if err != nil {
		return nil, err
	}
	return ck.seal(caseID, purposeIdentity, plain)
}

// openIdentity opens an identity and the narrative sealed with it.
func openIdentity(ck *caseKey, caseID uuid.UUID, sealed []byte) (cases.Identity, cases.Note, error) {
	if sealed == nil {
		return cases.Identity{}, cases.Note{}, nil
	}
	plain, err := ck.open(caseID, purposeIdentity, sealed)
	if err != nil {
		return cases.Identity{}, cases.Note{}, err
	}
	var s sealedIdentity
	if err := json.Unmarshal(plain, &s); err != nil {
		return cases.Identity{}, cases.Note{}, ErrSealMismatch
	}
	id := cases.Identity{
		FullName: s.FullName, OtherNames: s.OtherNames, ClaimedBirthDate: s.ClaimedBirthDate,
		ApparentAge: s.ApparentAge, VerifiedBirthDate: s.VerifiedBirthDate, IDDocumentType: s.IDDocumentType,
		IDNumber: s.IDNumber, IDSuspected: s.IDSuspected, Hometown: s.Hometown, Address: s.Address, Phone: s.Phone,
	}
	for _, g := range s.Guardians {
		id.Guardians = append(id.Guardians, cases.Guardian{Name: g.Name, Relation: g.Relation, Phone: g.Phone})
	}
	return id, cases.NewNote(s.Narrative), nil
}

// sealNote seals a note; an empty note is stored as NULL.
func sealNote(ck *caseKey, caseID uuid.UUID, purpose string, n cases.Note) ([]byte, error) {
	if n.Empty() {
		return nil, nil
	}
	return ck.seal(caseID, purpose, []byte(n.Text()))
}

func openNote(ck *caseKey, caseID uuid.UUID, purpose string, sealed []byte) (cases.Note, error) {
	if sealed == nil {
		return cases.Note{}, nil
	}
	plain, err := ck.open(caseID, purpose, sealed)
	if err != nil {
		return cases.Note{}, err
	}
	return cases.NewNote(string(plain)), nil
}

// errErased means the case's key was crypto-shredded.
var errErased = cases.Errorf(cases.ENOTFOUND, "The case's confidential data was erased.")

// caseKeyOf loads and unwraps a case's key inside tx.
func (db *DB) caseKeyOf(tx *gorm.DB, caseID uuid.UUID) (*caseKey, error) {
	var row caseKeyRow
	err := tx.Where("case_id = ?", caseID).Take(&row).Error
	if err == gorm.ErrRecordNotFound {
		return nil, errErased
	} else if err != nil {
		return nil, db.interpret(err, "Case key")
	}
	return db.keys.unwrap(row.Wrapped)
}

// storedIdentity unwraps the case key of row and opens its identity, for an
// edit that reads the identity or re-seals it under the same key; narrative
// is the one sealed with the identity, to seal again with it.
func (db *DB) storedIdentity(tx *gorm.DB, row *caseRow) (key *caseKey, identity cases.Identity, narrative cases.Note, err error) {
	key, err = db.caseKeyOf(tx, row.ID)
	if err != nil {
		return nil, cases.Identity{}, cases.Note{}, err
	}
	identity, narrative, err = openIdentity(key, row.ID, row.IdentitySealed)
	return key, identity, narrative, err
}

// storedNarrative opens the intake narrative of row: from its own column
// for a case filed before the two were sealed together, from the identity
// otherwise.
func storedNarrative(key *caseKey, row *caseRow) (cases.Note, error) {
	if row.NarrativeSealed != nil {
		return openNote(key, row.ID, purposeNarrative, row.NarrativeSealed)
	}
	_, narrative, err := openIdentity(key, row.ID, row.IdentitySealed)
	return narrative, err
}

// lazyKey unwraps a case's key the first time a sealed value needs it, so
// that listing records without notes costs no decryption.
type lazyKey struct {
	db     *DB
	tx     *gorm.DB
	caseID uuid.UUID
	key    *caseKey
}

func (l *lazyKey) openNote(purpose string, sealed []byte) (cases.Note, error) {
	if sealed == nil {
		return cases.Note{}, nil
	}
	if l.key == nil {
		key, err := l.db.caseKeyOf(l.tx, l.caseID)
		if err != nil {
			return cases.Note{}, err
		}
		l.key = key
	}
	return openNote(l.key, l.caseID, purpose, sealed)
}
