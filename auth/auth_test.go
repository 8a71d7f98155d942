package auth_test

import (
	"context"
	"errors"
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
}

func newEnv(t *testing.T) *env {
	t.Helper()
	db := storagetest.Open(t, storage.SQLite)
	e := &env{db: db, now: time.Date(2026, 11, 3, 9, 0, 0, 0, time.UTC), users: storage.NewUserService(db)}
	db.Now = func() time.Time { return e.now }
	e.f = storagetest.NewFixture(t, db)
	e.auth = auth.New(e.users, storage.NewAuditService(db), func() time.Time { return e.now })
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

func TestSignIn(t *testing.T) {
	e := newEnv(t)
	t.Run("OK", func(t *testing.T) {
		u, err := e.auth.SignIn(ctx, "  Worker@Example.org ", password, "192.0.2.1")
		if err != nil || u.ID != e.f.Worker.ID {
			t.Fatalf("SignIn = %v, %v", u, err)
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
			_, err := e.auth.SignIn(ctx, try[0], try[1], "192.0.2.2")
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
		if _, err := e.auth.SignIn(ctx, e.f.Worker.Email, password, "192.0.2.3"); !errors.Is(err, auth.ErrBadCredentials) {
			t.Fatalf("a disabled user signed in: %v", err)
		}
	})
}

// TestThrottle: five failures are free, then the account waits, whatever
// the password, until the back-off ends; a success resets the account.
func TestThrottle(t *testing.T) {
	e := newEnv(t)
	email := e.f.Supervisor.Email
	for i := range 5 {
		if _, err := e.auth.SignIn(ctx, email, "wrong", "198.51.100."+string(rune('1'+i))); !errors.Is(err, auth.ErrBadCredentials) {
			t.Fatalf("failure %d: %v", i+1, err)
		}
	}
	_, err := e.auth.SignIn(ctx, email, password, "198.51.100.9")
	wait, ok := auth.Throttled(err)
	if !ok || wait <= 0 || wait > time.Second {
		t.Fatalf("sixth attempt: err = %v, wait %v; want a one-second back-off", err, wait)
	}
	if _, ok := auth.Throttled(nil); ok {
		t.Fatal("nil is not a throttle")
	}
	e.now = e.now.Add(2 * time.Second)
	if _, err := e.auth.SignIn(ctx, email, password, "198.51.100.9"); err != nil {
		t.Fatalf("after the back-off: %v", err)
	}
	// The success forgot the account: one more failure is free again.
	if _, err := e.auth.SignIn(ctx, email, "wrong", "198.51.100.10"); !errors.Is(err, auth.ErrBadCredentials) {
		t.Fatalf("after a success: %v", err)
	}
}

func TestMemoryThrottle(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	th := auth.NewMemoryThrottle(func() time.Time { return now })
	for range 7 {
		th.Fail("address:a")
	}
	// Seven failures: two past the free five, so a four-second back-off.
	if got := th.Blocked("account:x", "address:a"); got != 4*time.Second {
		t.Fatalf("Blocked = %v, want 4s", got)
	}
	if got := th.Blocked("account:x"); got != 0 {
		t.Fatalf("an innocent key waits %v", got)
	}
	now = now.Add(time.Hour)
	th.Fail("address:a") // the window passed: counting starts again
	if got := th.Blocked("address:a"); got != 0 {
		t.Fatalf("after the window: %v", got)
	}
	for range 40 {
		th.Fail("address:b")
	}
	if got := th.Blocked("address:b"); got != 15*time.Minute {
		t.Fatalf("the back-off is capped at 15m, got %v", got)
	}
	th.Reset("address:b")
	if got := th.Blocked("address:b"); got != 0 {
		t.Fatalf("after Reset: %v", got)
	}
}
