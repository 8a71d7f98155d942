package auth_test

import (
	"context"
	"errors"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/remedy-cases/remedy/auth"
	cases "github.com/remedy-cases/remedy/case"
	"github.com/remedy-cases/remedy/storage"
	"github.com/remedy-cases/remedy/storage/storagetest"
)

var ctx = context.Background()

const password = "correct horse battery staple"

func TestHashPassword(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		h, err := auth.HashPassword(password)
		if err != nil || !strings.HasPrefix(h, "$argon2id$") || strings.Contains(h, password) {
			t.Fatalf("HashPassword = %q, %v", h, err)
		}
	})
	t.Run("ErrShort", func(t *testing.T) {
		_, err := auth.HashPassword("short")
		if cases.ErrorCode(err) != cases.EINVALID {
			t.Fatalf("err = %v, want invalid", err)
		}
	})
}

// env is an Authenticator over a real database, on a clock the test moves.
type env struct {
	db    *storage.DB
	auth  *auth.Authenticator
	now   time.Time
	users *storage.UserService
	f     *storagetest.Fixture
	// slept lists the delays the Authenticator asked for.
	slept []time.Duration
}

func newEnv(t *testing.T, db *storage.DB) *env {
	t.Helper()
	e := &env{db: db, now: time.Date(2026, 11, 3, 9, 0, 0, 0, time.UTC), users: storage.NewUserService(db)}
	db.Now = func() time.Time { return e.now }
	e.f = storagetest.NewFixture(t, db)
	e.auth = auth.New(e.users, storage.NewAuditService(db), storage.NewSignInThrottleService(db))
	e.auth.Now = func() time.Time { return e.now }
	e.auth.Sleep = func(_ context.Context, d time.Duration) error {
		e.slept = append(e.slept, d)
		e.now = e.now.Add(d)
		return nil
	}
	h, err := auth.HashPassword(password)
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range []*cases.User{e.f.Worker, e.f.Supervisor} {
		if err := e.users.SetPasswordHash(ctx, cases.SystemActor, u.ID, h); err != nil {
			t.Fatal(err)
		}
	}
	return e
}

// actions lists the audit actions whose subject is subject.
func (e *env) actions(t *testing.T, subject string) []string {
	t.Helper()
	var out []string
	if err := e.db.Gorm().Raw("SELECT action FROM audit_log WHERE subject = ? AND action LIKE 'auth.%' ORDER BY seq", subject).Scan(&out).Error; err != nil {
		t.Fatal(err)
	}
	return out
}

// signIn signs in from addr with no device token.
func (e *env) signIn(email, pw, addr string) (*cases.User, string, error) {
	return e.auth.SignIn(ctx, auth.Attempt{Email: email, Password: pw, Address: addr})
}

func TestSignIn(t *testing.T) {
	e := newEnv(t, storagetest.Open(t, storage.SQLite))
	t.Run("OK", func(t *testing.T) {
		u, device, err := e.signIn("  Worker@Example.org ", password, "192.0.2.1")
		if err != nil || u.ID != e.f.Worker.ID || len(device) != 43 {
			t.Fatalf("SignIn = %v, %q, %v", u, device, err)
		}
		if got := e.actions(t, u.ID.String()); len(got) != 1 || got[0] != cases.ActionSignIn {
			t.Fatalf("audited %v", got)
		}
	})
	t.Run("ErrBadCredentials", func(t *testing.T) {
		for name, try := range map[string][2]string{
			"wrong password": {"supervisor@example.org", "not the password"},
			"unknown email":  {"nobody@example.org", password},
			"no password":    {"auditor@example.org", password}, // the fixture's auditor has none
		} {
			_, _, err := e.signIn(try[0], try[1], "192.0.2.2")
			if !errors.Is(err, auth.ErrBadCredentials) {
				t.Errorf("%s: err = %v, want bad credentials", name, err)
			}
		}
		if got := e.actions(t, e.f.Supervisor.ID.String()); len(got) != 1 || got[0] != cases.ActionSignInFailed {
			t.Fatalf("supervisor's audit %v", got)
		}
		if got := e.actions(t, "unknown"); len(got) != 1 || got[0] != cases.ActionSignInFailed {
			t.Fatalf("unknown email's audit %v", got)
		}
	})
	t.Run("ErrDisabled", func(t *testing.T) {
		if err := e.users.DisableUser(ctx, cases.SystemActor, e.f.Worker.ID); err != nil {
			t.Fatal(err)
		}
		if _, _, err := e.signIn(e.f.Worker.Email, password, "192.0.2.3"); !errors.Is(err, auth.ErrBadCredentials) {
			t.Fatalf("a disabled user signed in: %v", err)
		}
	})
}

// TestThrottle: an unknown client is refused past five failures of the
// account at its address, or twenty of its address; a stranger failing on
// purpose elsewhere does not refuse the owner, and a client that signed in
// before is slowed at most, never refused. On both databases: the counts
// are the database's, shared by every server.
func TestThrottle(t *testing.T) {
	run := func(name string, fn func(t *testing.T, e *env)) {
		t.Run(name, func(t *testing.T) {
			storagetest.Each(t, func(t *testing.T, db *storage.DB) { fn(t, newEnv(t, db)) })
		})
	}
	run("ErrUnknownClient", func(t *testing.T, e *env) {
		email := e.f.Supervisor.Email
		for i := range 5 {
			if _, _, err := e.signIn(email, "wrong", "198.51.100.1"); !errors.Is(err, auth.ErrBadCredentials) {
				t.Fatalf("failure %d: %v", i+1, err)
			}
		}
		_, _, err := e.signIn(email, password, "198.51.100.1")
		wait, ok := auth.Throttled(err)
		if !ok || wait <= 0 || wait > time.Second {
			t.Fatalf("sixth attempt: err = %v, wait %v; want a one-second back-off", err, wait)
		}
		if _, ok := auth.Throttled(nil); ok {
			t.Fatal("nil is not a throttle")
		}
		// The same account from another address is not refused.
		if _, _, err := e.signIn(email, password, "198.51.100.2"); err != nil {
			t.Fatalf("the owner elsewhere: %v", err)
		}
		e.now = e.now.Add(2 * time.Second)
		if _, _, err := e.signIn(email, password, "198.51.100.1"); err != nil {
			t.Fatalf("after the back-off: %v", err)
		}
		if len(e.slept) != 0 {
			t.Fatalf("slept %v", e.slept)
		}
	})
	run("OKStrangerCannotLockOut", func(t *testing.T, e *env) {
		email := e.f.Worker.Email
		// The owner signed in from the office once and keeps its device token.
		_, device, err := e.signIn(email, password, "192.0.2.10")
		if err != nil {
			t.Fatal(err)
		}
		// A stranger fails 50 times for the owner's email, from one address
		// and from many.
		for i := range 50 {
			addr := "203.0.113.66"
			if i%2 == 1 {
				addr = "203.0.113." + strconv.Itoa(100+i)
			}
			if _, _, err := e.signIn(email, "guess", addr); err == nil {
				t.Fatal("a guess signed in")
			}
		}
		// The stranger's address is refused...
		if _, _, err := e.signIn(email, "guess", "203.0.113.66"); !isThrottled(err) {
			t.Fatalf("the stranger's address: %v", err)
		}
		// ...the owner is not: from the office it signed in from, from a
		// new address with its device token, and from a new address and
		// device, none of which the stranger touched.
		if _, _, err := e.signIn(email, password, "192.0.2.10"); err != nil {
			t.Fatalf("the owner at a known address: %v", err)
		}
		if _, _, err := e.auth.SignIn(ctx, auth.Attempt{Email: email, Password: password, Address: "192.0.2.77", Device: device}); err != nil {
			t.Fatalf("the owner's device elsewhere: %v", err)
		}
		if _, _, err := e.signIn(email, password, "192.0.2.99"); err != nil {
			t.Fatalf("the owner on a new device: %v", err)
		}
		if len(e.slept) != 0 {
			t.Fatalf("the owner was slowed %v by a stranger's failures", e.slept)
		}
	})
	run("OKKnownClientSlowedNotRefused", func(t *testing.T, e *env) {
		email := e.f.Supervisor.Email
		_, device, err := e.signIn(email, password, "192.0.2.20")
		if err != nil {
			t.Fatal(err)
		}
		// Its own device fails 30 times from a new address: slowed, never refused.
		at := auth.Attempt{Email: email, Password: "typo", Address: "192.0.2.21", Device: device}
		for i := range 30 {
			if _, _, err := e.auth.SignIn(ctx, at); !errors.Is(err, auth.ErrBadCredentials) {
				t.Fatalf("failure %d of a known device: %v", i+1, err)
			}
		}
		if len(e.slept) == 0 {
			t.Fatal("a known device failing 30 times was not slowed")
		}
		for _, d := range e.slept {
			if d > 3*time.Second {
				t.Fatalf("slowed %v, more than 3s", d)
			}
		}
		at.Password = password
		u, again, err := e.auth.SignIn(ctx, at)
		if err != nil || u.ID != e.f.Supervisor.ID {
			t.Fatalf("the known device with its password: %v", err)
		}
		if again != device {
			t.Fatalf("a trusted device token was replaced: %q", again)
		}
		// Without the device token the same new address is refused.
		for range 5 {
			_, _, _ = e.signIn(email, "typo", "192.0.2.22")
		}
		if _, _, err := e.signIn(email, password, "192.0.2.22"); !isThrottled(err) {
			t.Fatalf("an unknown client: %v", err)
		}
		// A device token for another account is no trust here.
		at = auth.Attempt{Email: e.f.Worker.Email, Password: "typo", Address: "192.0.2.22", Device: device}
		for range 5 {
			_, _, _ = e.auth.SignIn(ctx, at)
		}
		at.Password = password
		if _, _, err := e.auth.SignIn(ctx, at); !isThrottled(err) {
			t.Fatalf("another account's device token: %v", err)
		}
	})
	run("ErrAddress", func(t *testing.T, e *env) {
		// Twenty failures from one address across accounts: the address
		// waits, for an account it never failed for as well.
		for i := range 20 {
			email := "nobody" + strconv.Itoa(i) + "@example.org"
			if _, _, err := e.signIn(email, "guess", "198.51.100.50"); !errors.Is(err, auth.ErrBadCredentials) {
				t.Fatalf("failure %d: %v", i+1, err)
			}
		}
		if _, _, err := e.signIn(e.f.Worker.Email, password, "198.51.100.50"); !isThrottled(err) {
			t.Fatalf("after 20 failures from the address: %v", err)
		}
	})
}

func isThrottled(err error) bool {
	_, ok := auth.Throttled(err)
	return ok
}

// TestHashLimit: while every hashing slot is taken, a sign-in waits for the
// limit's time and is refused with ErrBusy, unchecked, uncounted and
// unaudited; once a slot is free it goes through.
func TestHashLimit(t *testing.T) {
	e := newEnv(t, storagetest.Open(t, storage.SQLite))
	e.auth.Hashing = auth.NewHashLimit(1, 20*time.Millisecond)
	if err := e.auth.Hashing.Acquire(ctx); err != nil {
		t.Fatal(err)
	}
	if err := e.auth.Hashing.Acquire(ctx); !errors.Is(err, auth.ErrBusy) {
		t.Fatalf("a second Acquire of one slot: %v, want ErrBusy", err)
	}
	t.Run("ErrBusy", func(t *testing.T) {
		for _, pw := range []string{password, "wrong"} {
			if _, _, err := e.signIn(e.f.Worker.Email, pw, "192.0.2.40"); !errors.Is(err, auth.ErrBusy) {
				t.Fatalf("with every slot taken: %v, want ErrBusy", err)
			}
		}
		if got := e.actions(t, e.f.Worker.ID.String()); len(got) != 0 {
			t.Fatalf("a busy refusal was audited: %v", got)
		}
		got, err := storage.NewSignInThrottleService(e.db).SignInFailures(ctx, time.Hour, "address:192.0.2.40")
		if err != nil || got[0].Count != 0 {
			t.Fatalf("a busy refusal was counted: %+v, %v", got, err)
		}
	})
	t.Run("ErrCanceled", func(t *testing.T) {
		c, cancel := context.WithCancel(ctx)
		cancel()
		if _, _, err := e.auth.SignIn(c, auth.Attempt{Email: e.f.Worker.Email, Password: password, Address: "192.0.2.40"}); err == nil {
			t.Fatal("a cancelled sign-in went through")
		}
	})
	t.Run("OK", func(t *testing.T) {
		e.auth.Hashing.Release()
		if _, _, err := e.signIn(e.f.Worker.Email, password, "192.0.2.40"); err != nil {
			t.Fatalf("with a free slot: %v", err)
		}
	})
	if n := auth.DefaultHashSlots(); n < 1 || n > max(1, runtime.GOMAXPROCS(0)) {
		t.Fatalf("DefaultHashSlots = %d", n)
	}
}
