// Package auth checks staff credentials for every adapter: the API, which
// answers a token, and the web app, which opens a session. Both call one
// Authenticator, so that passwords, the throttle on failures and the audit
// of every attempt are the same whichever door a user knocks on.
package auth

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"runtime"
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

// The throttle's rules. Failures are counted per account at an address
// and per address, never per account alone: a stranger who fails on
// purpose from elsewhere cannot lock the owner out. A client that signed
// in to the account before (OWASP's device cookie, or an address the
// account signed in from) is never refused, only slowed.
const (
	pairFreeFailures    = 5                   // per account at one address, before any back-off
	addressFreeFailures = 20                  // per address, whatever the account (offices share one)
	failureWindow       = 15 * time.Minute    // failures are forgotten this long after the latest
	maxBackoff          = 15 * time.Minute    // the longest an untrusted client is refused
	maxTrustedDelay     = 3 * time.Second     // the longest a trusted client is slowed
	trustLifetime       = 90 * 24 * time.Hour // how long a device or an address stays trusted
	deviceTokenLength   = 43                  // 32 random bytes, base64url without padding
)

// Attempt is one sign-in: the credentials, the client's address, and the
// device token an earlier successful sign-in gave this client, if any.
type Attempt struct {
	Email, Password string
	Address         string
	Device          string
}

// Authenticator checks an email and password, audits the attempt, and
// throttles repeated failures per account and address and per address,
// with counts the database shares between servers.
type Authenticator struct {
	Users    cases.UserService
	Audit    cases.AuditService
	Throttle cases.SignInThrottleService
	// Now is the clock of the back-offs; time.Now if nil.
	Now func() time.Time
	// Sleep slows a trusted client; a timer that ends with ctx if nil.
	Sleep func(ctx context.Context, d time.Duration) error
	// Hashing bounds the password hashes computed at once; nil makes
	// NewHashLimit(DefaultHashSlots(), time.Second) at the first sign-in.
	Hashing *HashLimit

	hashingOnce sync.Once
}

// ErrBusy refuses a sign-in that waited too long for a hashing slot: the
// server is busy hashing others' passwords. Nothing was checked, counted
// or audited; the client may retry in a moment.
var ErrBusy = errors.New("auth: too many sign-ins at once; retry in a moment")

// DefaultHashSlots is how many hashes a default HashLimit computes at
// once: half of GOMAXPROCS, at least one, so that a storm of sign-ins
// leaves the other half of the CPUs to case work.
func DefaultHashSlots() int { return max(1, runtime.GOMAXPROCS(0)/2) }

// HashLimit bounds the password hashes computed at once: argon2id takes
// 19 MiB and tens of milliseconds of a core each, so that unbounded, a
// storm of sign-ins would fill every core.
type HashLimit struct {
	slots chan struct{}
	wait  time.Duration
}

// NewHashLimit allows n hashes at once (at least one); a sign-in waits at
// most wait for a slot.
func NewHashLimit(n int, wait time.Duration) *HashLimit {
	return &HashLimit{slots: make(chan struct{}, max(n, 1)), wait: wait}
}

// Acquire takes a slot, waiting at most the limit's wait; it returns
// ErrBusy after that, or ctx's error. A nil error must be Released.
func (l *HashLimit) Acquire(ctx context.Context) error {
	select {
	case l.slots <- struct{}{}:
		return nil
	default:
	}
	t := time.NewTimer(l.wait)
	defer t.Stop()
	select {
	case l.slots <- struct{}{}:
		return nil
	case <-t.C:
		return ErrBusy
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Release gives back a slot Acquire took.
func (l *HashLimit) Release() { <-l.slots }

// comparePassword checks password against hash in one of the bounded
// hashing slots.
func (a *Authenticator) comparePassword(ctx context.Context, password, hash string) (bool, error) {
	a.hashingOnce.Do(func() {
		if a.Hashing == nil {
			a.Hashing = NewHashLimit(DefaultHashSlots(), time.Second)
		}
	})
	if err := a.Hashing.Acquire(ctx); err != nil {
		return false, err
	}
	defer a.Hashing.Release()
	return argon2id.ComparePasswordAndHash(password, hash)
}

// New returns an Authenticator over users, audit and throttle.
func New(users cases.UserService, audit cases.AuditService, throttle cases.SignInThrottleService) *Authenticator {
	return &Authenticator{Users: users, Audit: audit, Throttle: throttle}
}

func (a *Authenticator) now() time.Time {
	if a.Now != nil {
		return a.Now()
	}
	return time.Now()
}

func (a *Authenticator) sleep(ctx context.Context, d time.Duration) error {
	if a.Sleep != nil {
		return a.Sleep(ctx, d)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// backoff is how long a key with f failures must still wait at now: none
// for the first free ones, then a second, doubling up to maxBackoff.
func backoff(f cases.SignInFailures, free int, now time.Time) time.Duration {
	if f.Count < free {
		return 0
	}
	d := min(time.Second<<min(f.Count-free, 20), maxBackoff)
	return max(f.Last.Add(d).Sub(now), 0)
}

// validDevice reports whether token has the shape of a device token; any
// other value is ignored, as if none were sent.
func validDevice(token string) bool {
	if len(token) != deviceTokenLength {
		return false
	}
	for _, r := range token {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}

func newDeviceToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return base64.RawURLEncoding.EncodeToString(b)
}

// SignIn returns the enabled user whose email and password these are,
// with the device token the client should present at its next sign-in,
// and audits the sign-in (auth.sign_in) or its failure
// (auth.sign_in_failed) with the caller's address.
//
// A client the account trusts (its device token, or an address the account
// signed in from within 90 days) is slowed by its own failures, at most 3
// seconds, and never refused. Any other client past the limit of failures
// of the account at its address, or of its address, gets a
// *ThrottledError whatever the password. A wrong email, password or a
// disabled account all return ErrBadCredentials. A sign-in that waits
// longer than its Hashing limit allows for a slot returns ErrBusy. The
// password is never logged, stored or repeated.
func (a *Authenticator) SignIn(ctx context.Context, at Attempt) (*cases.User, string, error) {
	email := strings.ToLower(strings.TrimSpace(at.Email))
	pairKey, addrKey := "pair:"+email+"\x00"+at.Address, "address:"+at.Address
	knownKey := "known:" + email + "\x00" + at.Address
	var deviceKey string
	if validDevice(at.Device) {
		deviceKey = "device:" + email + "\x00" + at.Device
	}
	deviceTrusted := false
	if deviceKey != "" {
		ok, err := a.Throttle.SignInClientTrusted(ctx, deviceKey)
		if err != nil {
			return nil, "", err
		}
		deviceTrusted = ok
	}
	known, err := a.Throttle.SignInClientTrusted(ctx, knownKey)
	if err != nil {
		return nil, "", err
	}
	counted := []string{pairKey, addrKey}
	if deviceTrusted {
		counted = append(counted, deviceKey)
	}
	fails, err := a.Throttle.SignInFailures(ctx, failureWindow, counted...)
	if err != nil {
		return nil, "", err
	}
	now := a.now()
	if deviceTrusted || known {
		// Slowed by its own failures (the account at this address, this
		// device), never by the address's: others share it.
		wait := backoff(fails[0], pairFreeFailures, now)
		if deviceTrusted {
			wait = max(wait, backoff(fails[2], pairFreeFailures, now))
		}
		if wait = min(wait, maxTrustedDelay); wait > 0 {
			if err := a.sleep(ctx, wait); err != nil {
				return nil, "", err
			}
		}
	} else if wait := max(backoff(fails[0], pairFreeFailures, now), backoff(fails[1], addressFreeFailures, now)); wait > 0 {
		return nil, "", &ThrottledError{Wait: wait}
	}

	u, hash, err := a.Users.Credentials(ctx, email)
	if err != nil && cases.ErrorCode(err) != cases.ENOTFOUND {
		return nil, "", err
	}
	if hash == "" {
		hash = dummyHash()
	}
	match, cerr := a.comparePassword(ctx, at.Password, hash)
	if errors.Is(cerr, ErrBusy) || ctx.Err() != nil {
		// Nothing was checked: neither a failure to count nor one to audit.
		return nil, "", cmp.Or(ctx.Err(), cerr)
	}
	client := "new"
	switch {
	case deviceTrusted:
		client = "known_device"
	case known:
		client = "known_address"
	}
	details := map[string]string{"address": at.Address, "client": client}
	if err != nil || cerr != nil || !match || u.Disabled {
		if ferr := a.Throttle.FailSignIn(ctx, failureWindow, counted...); ferr != nil {
			return nil, "", ferr
		}
		actor := cases.Actor{Role: cases.RoleSystem}
		subject := "unknown"
		if u != nil {
			actor, subject = u.Actor(), u.ID.String()
		}
		if aerr := a.Audit.Append(ctx, actor, cases.ActionSignInFailed, subject, details); aerr != nil {
			return nil, "", aerr
		}
		return nil, "", ErrBadCredentials
	}
	// The address's count stays: one good password must not clear the
	// way for guessing others' from the same address.
	reset := []string{pairKey}
	device := at.Device
	if deviceTrusted {
		reset = append(reset, deviceKey)
	} else {
		device = newDeviceToken()
		deviceKey = "device:" + email + "\x00" + device
	}
	if err := a.Throttle.ResetSignInFailures(ctx, reset...); err != nil {
		return nil, "", err
	}
	until := now.Add(trustLifetime)
	for _, k := range []string{knownKey, deviceKey} {
		if err := a.Throttle.TrustSignInClient(ctx, k, until); err != nil {
			return nil, "", err
		}
	}
	if err := a.Audit.Append(ctx, u.Actor(), cases.ActionSignIn, u.ID.String(), details); err != nil {
		return nil, "", err
	}
	return u, device, nil
}
