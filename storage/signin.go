package storage

import (
	"context"
	"crypto/sha256"
	"database/sql/driver"
	"time"

	"gorm.io/gorm"

	cases "github.com/remedy-cases/remedy/case"
)

// SignInThrottleService implements cases.SignInThrottleService in the
// database, so that every server sees the same counts.
type SignInThrottleService struct{ db *DB }

var _ cases.SignInThrottleService = (*SignInThrottleService)(nil)

// NewSignInThrottleService returns the sign-in throttle of db.
func NewSignInThrottleService(db *DB) *SignInThrottleService { return &SignInThrottleService{db: db} }

type signInFailureRow struct {
	KeyHash      []byte `gorm:"primaryKey"`
	Failures     int
	LastFailedAt time.Time
}

func (signInFailureRow) TableName() string { return "sign_in_failures" }

// keyHash is what a key is stored as: its SHA-256, so that the table holds
// no email and no address. It is a driver.Valuer so that gorm binds it as
// one value, never expanding its bytes into a list.
type keyHash []byte

func (h keyHash) Value() (driver.Value, error) { return []byte(h), nil }

func throttleKey(key string) keyHash {
	h := sha256.Sum256([]byte(key))
	return h[:]
}

func throttleKeys(keys []string) []keyHash {
	hashes := make([]keyHash, len(keys))
	for i, k := range keys {
		hashes[i] = throttleKey(k)
	}
	return hashes
}

func (s *SignInThrottleService) SignInFailures(ctx context.Context, window time.Duration, keys ...string) ([]cases.SignInFailures, error) {
	out := make([]cases.SignInFailures, len(keys))
	if len(keys) == 0 {
		return out, nil
	}
	hashes := throttleKeys(keys)
	var rows []signInFailureRow
	since := s.db.now().Add(-window)
	if err := s.db.gorm.WithContext(ctx).Where("key_hash IN ? AND last_failed_at > ?", hashes, since).
		Find(&rows).Error; err != nil {
		return nil, s.db.interpret(err, "Sign-in failures")
	}
	for _, r := range rows {
		for i, h := range hashes {
			if string(h) == string(r.KeyHash) {
				out[i] = cases.SignInFailures{Count: r.Failures, Last: r.LastFailedAt.UTC()}
			}
		}
	}
	return out, nil
}

func (s *SignInThrottleService) FailSignIn(ctx context.Context, window time.Duration, keys ...string) error {
	now := s.db.now()
	return s.db.transact(ctx, func(tx *gorm.DB) error {
		// Forget failures no one has repeated for a window: the table
		// holds only keys failing now.
		if err := tx.Where("last_failed_at <= ?", now.Add(-window)).Delete(&signInFailureRow{}).Error; err != nil {
			return s.db.interpret(err, "Sign-in failures")
		}
		for _, k := range keys {
			// One statement per key: two servers counting the same key at
			// once both count, neither overwrites the other.
			err := tx.Exec(`INSERT INTO sign_in_failures (key_hash, failures, last_failed_at) VALUES (?, 1, ?)
				ON CONFLICT (key_hash) DO UPDATE SET
				failures = CASE WHEN sign_in_failures.last_failed_at <= ? THEN 1 ELSE sign_in_failures.failures + 1 END,
				last_failed_at = excluded.last_failed_at`, throttleKey(k), now, now.Add(-window)).Error
			if err != nil {
				return s.db.interpret(err, "Sign-in failures")
			}
		}
		return nil
	})
}

func (s *SignInThrottleService) ResetSignInFailures(ctx context.Context, keys ...string) error {
	if len(keys) == 0 {
		return nil
	}
	hashes := throttleKeys(keys)
	if err := s.db.gorm.WithContext(ctx).Where("key_hash IN ?", hashes).Delete(&signInFailureRow{}).Error; err != nil {
		return s.db.interpret(err, "Sign-in failures")
	}
	return nil
}

type signInTrustRow struct {
	KeyHash   []byte `gorm:"primaryKey"`
	ExpiresAt time.Time
}

func (signInTrustRow) TableName() string { return "sign_in_trust" }

func (s *SignInThrottleService) TrustSignInClient(ctx context.Context, key string, until time.Time) error {
	now := s.db.now()
	return s.db.transact(ctx, func(tx *gorm.DB) error {
		if err := tx.Where("expires_at <= ?", now).Delete(&signInTrustRow{}).Error; err != nil {
			return s.db.interpret(err, "Trusted clients")
		}
		err := tx.Exec(`INSERT INTO sign_in_trust (key_hash, expires_at) VALUES (?, ?)
			ON CONFLICT (key_hash) DO UPDATE SET expires_at = excluded.expires_at`,
			throttleKey(key), until.UTC().Truncate(time.Microsecond)).Error
		if err != nil {
			return s.db.interpret(err, "Trusted clients")
		}
		return nil
	})
}

func (s *SignInThrottleService) SignInClientTrusted(ctx context.Context, keys ...string) (bool, error) {
	if len(keys) == 0 {
		return false, nil
	}
	hashes := throttleKeys(keys)
	var n int64
	if err := s.db.gorm.WithContext(ctx).Model(&signInTrustRow{}).Where("key_hash IN ? AND expires_at > ?", hashes, s.db.now()).
		Count(&n).Error; err != nil {
		return false, s.db.interpret(err, "Trusted clients")
	}
	return n > 0, nil
}
