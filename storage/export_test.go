package storage

import (
	"context"
	"fmt"
	"strings"
	"time"

	"filippo.io/age"
	"github.com/google/uuid"
	"gorm.io/gorm"

	cases "github.com/remedy-cases/remedy/case"
)

// Models exposes the row types to the black-box schema test.
var Models = models

// ExplainList returns PostgreSQL's executed plan of the list query for f.
func (s *CaseService) ExplainList(f cases.CaseFilter, limit int) (string, error) {
	f.Code, f.Query = strings.ToUpper(cases.NormalizeText(f.Code)), cases.NormalizeText(f.Query)
	factories, err := s.searchFactories(s.db.gorm, f.Query)
	if err != nil {
		return "", err
	}
	query := s.db.gorm.ToSQL(func(tx *gorm.DB) *gorm.DB {
		var rows []caseRow
		return s.listQuery(tx.Session(&gorm.Session{DryRun: true}), f, factories, limit+1).Find(&rows)
	})
	var lines []string
	err = s.db.gorm.Raw("EXPLAIN (ANALYZE, COSTS OFF) " + query).Scan(&lines).Error
	if err != nil {
		return "", fmt.Errorf("%w: %s", err, query)
	}
	return strings.Join(lines, "\n"), nil
}

// CaseKey exposes a case key to the benchmarks.
type CaseKey = caseKey

// NewCaseKey makes a case key and its wrapped form.
func (k *Keyring) NewCaseKey() (*CaseKey, []byte, error) { return k.newCaseKey() }

// SealIdentity seals an identity as filing does.
func SealIdentity(ck *CaseKey, caseID uuid.UUID, id cases.Identity) ([]byte, error) {
	return sealIdentity(ck, caseID, id, cases.Note{})
}

// OpenIdentity opens an identity as a read does.
func OpenIdentity(ck *CaseKey, caseID uuid.UUID, sealed []byte) (cases.Identity, error) {
	id, _, err := openIdentity(ck, caseID, sealed)
	return id, err
}

// UnwrapCaseKey unwraps as a read does, from the cache of keys opened lately.
func (k *Keyring) UnwrapCaseKey(wrapped []byte) (*CaseKey, error) { return k.unwrap(wrapped) }

// UnwrapCaseKeyNow unwraps with the server's identity, whatever is cached.
func (k *Keyring) UnwrapCaseKeyNow(wrapped []byte) (*CaseKey, error) { return k.unwrapNow(wrapped) }

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

// Identity exposes a case key's age identity, to open sealed values with age itself.
func (ck *CaseKey) Identity() *age.X25519Identity {
	id, err := age.ParseX25519Identity(ck.id.secret())
	if err != nil {
		panic(err)
	}
	return id
}

// DecryptAll opens an age file as the vault does.
var DecryptAll = decryptAll

// MigrateTo applies the migrations up to version.
func (db *DB) MigrateTo(ctx context.Context, version int64) error {
	p, err := db.migrator()
	if err != nil {
		return err
	}
	_, err = p.UpTo(ctx, version)
	return err
}

// MigrateDownTo rolls the migrations back to version.
func (db *DB) MigrateDownTo(ctx context.Context, version int64) error {
	p, err := db.migrator()
	if err != nil {
		return err
	}
	_, err = p.DownTo(ctx, version)
	return err
}

// ChainHash is the audit chain's hash of an entry after prev, as the
// entries chained before migration 00008 were hashed in audit_log.
func ChainHash(prev []byte, seq int64, at time.Time, role, action, subject, details string) []byte {
	return chainHash(prev, &auditRow{Seq: seq, At: at, ActorRole: role, Action: action, Subject: subject, Details: details})
}

// WaitSpareKeys waits until the spare case keys' maker has made n keys
// ahead, and reports whether it did within a few seconds.
func WaitSpareKeys(db *DB, n int) bool {
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if db.spares != nil && len(db.spares.keys) >= n {
			return true
		}
	}
	return false
}

// ExplainPendingEntries appends n entries in a transaction it rolls back
// (the background sealer never sees them) and returns PostgreSQL's
// executed plan of the sealer's read of the pending entries within it.
func (db *DB) ExplainPendingEntries(ctx context.Context, n int) (string, error) {
	var lines []string
	err := db.gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		err := tx.Exec(`INSERT INTO audit_log `+auditColumns+`
			SELECT now(), NULL, 'system', 'test', NULL, 'explain', '{}', NULL FROM generate_series(1, ?)`, n).Error
		if err != nil {
			return err
		}
		if err := tx.Raw("EXPLAIN (ANALYZE, COSTS OFF) "+db.pendingEntries(), sealBatch).Scan(&lines).Error; err != nil {
			return err
		}
		return errRollback
	})
	if err != errRollback {
		return "", err
	}
	return strings.Join(lines, "\n"), nil
}

var errRollback = fmt.Errorf("rolled back")

// SetFilingHook makes f run in every filing between the drawing of its
// code and its writing, until the test ends.
func SetFilingHook(tb interface{ Cleanup(func()) }, f func()) {
	testHookFiling = f
	tb.Cleanup(func() { testHookFiling = nil })
}
