package storage

import (
	"strings"

	"github.com/google/uuid"
	"gorm.io/gorm"

	cases "github.com/remedy-cases/remedy/case"
)

// Models exposes the row types to the black-box schema test.
var Models = models

// ExplainList returns PostgreSQL's executed plan of the list query for f.
func (s *CaseService) ExplainList(f cases.CaseFilter, limit int) (string, error) {
	query := s.db.gorm.ToSQL(func(tx *gorm.DB) *gorm.DB {
		var rows []caseRow
		return s.listQuery(tx, f).Limit(limit + 1).Find(&rows)
	})
	var lines []string
	err := s.db.gorm.Raw("EXPLAIN (ANALYZE, COSTS OFF) " + query).Scan(&lines).Error
	return strings.Join(lines, "\n"), err
}

// CaseKey exposes a case key to the benchmarks.
type CaseKey = caseKey

// NewCaseKey makes a case key and its wrapped form.
func (k *Keyring) NewCaseKey() (*CaseKey, []byte, error) { return k.newCaseKey() }

// SealIdentity seals an identity as filing does.
func SealIdentity(ck *CaseKey, caseID uuid.UUID, id cases.Identity) ([]byte, error) {
	return sealIdentity(ck, caseID, id)
}

// OpenIdentity opens an identity as a read does.
func OpenIdentity(ck *CaseKey, caseID uuid.UUID, sealed []byte) (cases.Identity, error) {
	return openIdentity(ck, caseID, sealed)
}

// UnwrapCaseKey unwraps as a read does.
func (k *Keyring) UnwrapCaseKey(wrapped []byte) (*CaseKey, error) { return k.unwrap(wrapped) }

// Normalizations exposes the blind index's normalisations to the fuzz tests.
var (
	NormalizeIDNumber = normalizeIDNumber
	NormalizeName     = normalizeName
	NameVariants      = nameVariants
)

// Fingerprints returns the blind-index hashes of id, as kind and hex.
func (k *Keyring) Fingerprints(id cases.Identity) []string {
	var out []string
	for _, f := range fingerprints(k, id) {
		out = append(out, f.kind+":"+string(f.hash))
	}
	return out
}
