// Package auth checks staff credentials for every adapter: the API, which
// answers a token, and the web app, which opens a session. Both call one
// Authenticator, so that passwords, the throttle on failures and the audit
// of every attempt are the same whichever door a user knocks on.
package auth

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/alexedwards/argon2id"

	cases "github.com/remedy-cases/remedy/case"
)

// passwordParams follow OWASP's argon2id minimum (19 MiB, 2 passes, 1 lane).
var passwordParams = &argon2id.Params{Memory: 19 * 1024, Iterations: 2, Parallelism: 1, SaltLength: 16, KeyLength: 32}

// MinPasswordLength is the shortest password a user may be given.
const MinPasswordLength = 12

// HashPassword returns the argon2id PHC string of password. Returns EINVALID
// for a password shorter than MinPasswordLength.
func HashPassword(password string) (string, error) {
	if len(password) < MinPasswordLength {
		return "", cases.Errorf(cases.EINVALID, "A password needs at least %d characters.", MinPasswordLength)
	}
	return argon2id.CreateHash(password, passwordParams)
}

// dummyHash is compared against when the account does not exist, so that a
// failed sign-in takes the same time whether or not the email is known.
var dummyHash = sync.OnceValue(func() string {
	h, _ := argon2id.CreateHash("no account has this password", passwordParams)
	return h
})

// ErrBadCredentials is the one answer to a wrong email, a wrong password or
// a disabled account: a caller must not learn which.
var ErrBadCredentials = cases.Errorf(cases.EUNAUTHORIZED, "The email or password is wrong, or the account is disabled.")

// ThrottledError refuses a sign-in while its account or address backs off.
type ThrottledError struct {
	Wait time.Duration
}

func (e *ThrottledError) Error() string {
	return fmt.Sprintf("too many failed sign-ins; retry in %s", e.Wait.Round(time.Second))
}

// Throttled returns the wait of a *ThrottledError in err, and whether it is one.
func Throttled(err error) (time.Duration, bool) {
	var t *ThrottledError
	if errors.As(err, &t) {
		return t.Wait, true
	}
	return 0, false
}

// Throttle counts failed sign-ins per key (an account, an address) and
// says how long a key must wait. The memory throttle lives in one process;
// a shared one can replace it behind this interface.
type Throttle interface {
	// Blocked returns how long the most throttled of keys must still wait.
	Blocked(keys ...string) time.Duration
	// Fail counts a failure against each key.
	Fail(keys ...string)
	// Reset forgets a key's failures.
	Reset(key string)
}

// Authenticator checks an email and password, audits the attempt, and
// throttles repeated failures per account and per address.
type Authenticator struct {
	Users    cases.UserService
	Audit    cases.AuditService
	Throttle Throttle
}

// New returns an Authenticator over users and audit with a memory
// throttle on the clock now.
func New(users cases.UserService, audit cases.AuditService, now func() time.Time) *Authenticator {
	return &Authenticator{Users: users, Audit: audit, Throttle: NewMemoryThrottle(now)}
}

// SignIn returns the enabled user whose email and password these are, and
// audits the sign-in (auth.sign_in) or its failure (auth.sign_in_failed)
// with the caller's address. Past the limit of failures it returns a
// *ThrottledError whatever the password; a wrong email, password or a
// disabled account all return ErrBadCredentials. The password is never
// logged, stored or repeated.
func (a *Authenticator) SignIn(ctx context.Context, email, password, addr string) (*cases.User, error) {
	email = strings.ToLower(strings.TrimSpace(email))
	keys := []string{"account:" + email, "address:" + addr}
	if wait := a.Throttle.Blocked(keys...); wait > 0 {
		return nil, &ThrottledError{Wait: wait}
	}
	u, hash, err := a.Users.Credentials(ctx, email)
	if err != nil && cases.ErrorCode(err) != cases.ENOTFOUND {
		return nil, err
	}
	if hash == "" {
		hash = dummyHash()
	}
	match, cerr := argon2id.ComparePasswordAndHash(password, hash)
	if err != nil || cerr != nil || !match || u.Disabled {
		a.Throttle.Fail(keys...)
		actor := cases.Actor{Role: cases.RoleSystem}
		subject := "unknown"
		if u != nil {
			actor, subject = u.Actor(), u.ID.String()
		}
		if aerr := a.Audit.Append(ctx, actor, cases.ActionSignInFailed, subject, map[string]string{"address": addr}); aerr != nil {
			return nil, aerr
		}
		return nil, ErrBadCredentials
	}
	a.Throttle.Reset(keys[0])
	if err := a.Audit.Append(ctx, u.Actor(), cases.ActionSignIn, u.ID.String(), map[string]string{"address": addr}); err != nil {
		return nil, err
	}
	return u, nil
}

// memoryThrottle counts recent sign-in failures per key in this process:
// with several servers, each applies the limit to what it sees.
type memoryThrottle struct {
	mu       sync.Mutex
	failures map[string]*failures
	now      func() time.Time
}

type failures struct {
	count int
	last  time.Time
}

const (
	freeFailures   = 5                // failures before any back-off
	failureWindow  = 15 * time.Minute // a key is forgotten after this long without failure
	maxBackoff     = 15 * time.Minute
	throttleMaxKey = 100_000
)

// NewMemoryThrottle returns a throttle kept in memory: five free failures
// per key, then a back-off that doubles from a second up to 15 minutes; a
// key is forgotten 15 minutes after its last failure.
func NewMemoryThrottle(now func() time.Time) Throttle {
	return &memoryThrottle{failures: map[string]*failures{}, now: now}
}

func (t *memoryThrottle) Blocked(keys ...string) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	var wait time.Duration
	for _, k := range keys {
		f := t.failures[k]
		if f == nil || f.count < freeFailures {
			continue
		}
		backoff := min(time.Second<<min(f.count-freeFailures, 20), maxBackoff)
		if w := f.last.Add(backoff).Sub(now); w > wait {
			wait = w
		}
	}
	return wait
}

func (t *memoryThrottle) Fail(keys ...string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	if len(t.failures) > throttleMaxKey {
		for k, f := range t.failures {
			if now.Sub(f.last) > failureWindow {
				delete(t.failures, k)
			}
		}
	}
	for _, k := range keys {
		f := t.failures[k]
		if f == nil || now.Sub(f.last) > failureWindow {
			f = &failures{}
			t.failures[k] = f
		}
		f.count++
		f.last = now
	}
}

func (t *memoryThrottle) Reset(key string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.failures, key)
}
