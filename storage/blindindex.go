package storage

import (
	"crypto/hmac"
	"crypto/sha256"
	"strings"
	"time"
	"unicode"

	"golang.org/x/text/unicode/norm"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/google/uuid"

	cases "github.com/remedy-cases/remedy/case"
)

// The blind index recognises a child found again, at another factory or for
// another brand, without decrypting anything: it stores keyed hashes of the
// normalised ID number, and of the normalised name with a date of birth.
// Without the blind-index key the hashes cannot be tested against guesses.

const (
	kindIDNumber      = "id_number"
	kindNameBirthDate = "name_birth_date"
)

type fingerprint struct {
	kind string
	hash []byte
}

// normalizeIDNumber folds full-width characters (NFKC), drops spaces,
// hyphens and dots, and upper-cases the check letter X.
func normalizeIDNumber(s string) string {
	s = norm.NFKC.String(s)
	return strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) || r == '-' || r == '.' || r == '/' {
			return -1
		}
		return unicode.ToUpper(r)
	}, s)
}

// normalizeName folds width and case and drops spaces and the middle dots
// used between the parts of transliterated names.
func normalizeName(s string) string {
	s = norm.NFKC.String(s)
	return strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) || r == '·' || r == '•' || r == '-' || r == '.' {
			return -1
		}
		return unicode.ToLower(r)
	}, s)
}

func (k *Keyring) mac(kind, value string) []byte {
	m := hmac.New(sha256.New, k.blindIndex)
	m.Write([]byte(kind))
	m.Write([]byte{0})
	m.Write([]byte(value))
	return m.Sum(nil)
}

// fingerprints returns the blind-index hashes of an identity: its ID number,
// and its name with each known date of birth (claimed and verified).
func fingerprints(k *Keyring, id cases.Identity) []fingerprint {
	var out []fingerprint
	if n := normalizeIDNumber(id.IDNumber); len(n) >= 6 {
		out = append(out, fingerprint{kindIDNumber, k.mac(kindIDNumber, n)})
	}
	name := normalizeName(id.FullName)
	if name == "" {
		return out
	}
	seen := map[string]bool{}
	for _, d := range []*time.Time{id.ClaimedBirthDate, id.VerifiedBirthDate} {
		if d == nil {
			continue
		}
		v := name + "|" + d.UTC().Format(time.DateOnly)
		if !seen[v] {
			seen[v] = true
			out = append(out, fingerprint{kindNameBirthDate, k.mac(kindNameBirthDate, v)})
		}
	}
	return out
}

// link stores a case's fingerprints and links it to every earlier case that
// shares one, auditing each new link. Nothing is decrypted.
func (s *CaseService) link(tx *gorm.DB, actor cases.Actor, row *caseRow, fps []fingerprint) error {
	if len(fps) == 0 {
		return nil
	}
	rows := make([]fingerprintRow, len(fps))
	hashes := make([][]byte, len(fps))
	for i, f := range fps {
		rows[i] = fingerprintRow{CaseID: row.ID, Kind: f.kind, Hash: f.hash}
		hashes[i] = f.hash
	}
	if err := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&rows).Error; err != nil {
		return s.db.interpret(err, "Fingerprint")
	}
	var matches []fingerprintRow
	if err := tx.Where("hash IN ? AND case_id <> ?", hashes, row.ID).Find(&matches).Error; err != nil {
		return s.db.interpret(err, "Fingerprints")
	}
	done := map[uuid.UUID]bool{}
	for _, m := range matches {
		if done[m.CaseID] {
			continue
		}
		done[m.CaseID] = true
		link := caseLinkRow{CaseID: row.ID, LinkedID: m.CaseID, MatchedOn: m.Kind, CreatedAt: s.db.now()}
		if m.CaseID.String() < row.ID.String() {
			link.CaseID, link.LinkedID = m.CaseID, row.ID
		}
		res := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&link)
		if res.Error != nil {
			return s.db.interpret(res.Error, "Case link")
		}
		if res.RowsAffected == 0 {
			continue
		}
		err := s.db.appendAudit(tx, actor, auditEvent{action: cases.ActionCaseLinked,
			caseID: uuid.NullUUID{UUID: row.ID, Valid: true}, subject: row.Code,
			details: map[string]string{"linked_case_id": m.CaseID.String(), "matched_on": m.Kind}})
		if err != nil {
			return err
		}
	}
	return nil
}

// links loads the cases linked to id, with their codes.
func (s *CaseService) links(tx *gorm.DB, id uuid.UUID) ([]cases.Link, error) {
	var rows []caseLinkRow
	if err := tx.Where("case_id = ? OR linked_id = ?", id, id).Order("created_at").Find(&rows).Error; err != nil {
		return nil, s.db.interpret(err, "Case links")
	}
	var out []cases.Link
	for _, r := range rows {
		other := r.LinkedID
		if other == id {
			other = r.CaseID
		}
		var codes []string
		if err := tx.Model(&caseRow{}).Where("id = ?", other).Pluck("code", &codes).Error; err != nil {
			return nil, s.db.interpret(err, "Case")
		}
		if len(codes) == 1 {
			out = append(out, cases.Link{CaseID: other, Code: codes[0], MatchedOn: r.MatchedOn})
		}
	}
	return out, nil
}
