package cases

import (
	"context"
	"time"
)

// SignInFailures is what is known of a throttle key's recent failed
// sign-ins: how many, and when the latest was.
type SignInFailures struct {
	Count int
	Last  time.Time
}

// SignInThrottleService keeps the sign-in throttle in the database, so that
// every server counts the same failures and trusts the same clients. A key
// names an account and address, an address, or a device; the service
// stores only its SHA-256, never an email or an address.
type SignInThrottleService interface {
	// SignInFailures returns each key's failures counted since now minus
	// window, in the order of keys; a key without any has a zero count.
	SignInFailures(ctx context.Context, window time.Duration, keys ...string) ([]SignInFailures, error)
	// FailSignIn counts a failure against each key, atomically across
	// servers; a key whose latest failure is older than window counts
	// from one again.
	FailSignIn(ctx context.Context, window time.Duration, keys ...string) error
	// ResetSignInFailures forgets the keys' failures.
	ResetSignInFailures(ctx context.Context, keys ...string) error
	// TrustSignInClient remembers key as a client that signed in
	// successfully, until the time given, and forgets expired ones.
	TrustSignInClient(ctx context.Context, key string, until time.Time) error
	// SignInClientTrusted reports whether any of keys is trusted now.
	SignInClientTrusted(ctx context.Context, keys ...string) (bool, error)
}
