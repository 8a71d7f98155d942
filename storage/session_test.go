package storage_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/google/uuid"

	cases "github.com/remedy-cases/remedy/case"
	"github.com/remedy-cases/remedy/storage"
	"github.com/remedy-cases/remedy/storage/storagetest"
)

func newSession(userID uuid.UUID) cases.NewSession {
	return cases.NewSession{UserID: userID, IdleTimeout: 30 * time.Minute, AbsoluteTimeout: 12 * time.Hour, Locale: "zh-CN"}
}

func TestSessions(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db)
		now := today
		db.Now = func() time.Time { return now }
		svc := storage.NewSessionService(db)
		worker := e.Worker.ID

		t.Run("OK", func(t *testing.T) {
			s, token, err := svc.CreateSession(ctx, newSession(worker))
			if err != nil {
				t.Fatal(err)
			}
			if len(token) < 40 || s.UserID != worker || len(s.CSRFSecret) != 32 || s.Locale != "zh-CN" ||
				!s.ExpiresAt.Equal(now.Add(12*time.Hour)) || s.IdleTimeout != 30*time.Minute {
				t.Fatalf("created %+v with a token of %d bytes", s, len(token))
			}
			// The database holds a hash of the token, never the token.
			var stored [][]byte
			if err := db.Gorm().Raw("SELECT token_hash FROM sessions WHERE id = ?", s.ID).Scan(&stored).Error; err != nil {
				t.Fatal(err)
			}
			if len(stored) != 1 || bytes.Contains(stored[0], []byte(token)) || len(stored[0]) != 32 {
				t.Fatalf("stored %x", stored)
			}
			found, err := svc.FindSession(ctx, token)
			if err != nil || found.ID != s.ID || !bytes.Equal(found.CSRFSecret, s.CSRFSecret) {
				t.Fatalf("FindSession = %+v, %v", found, err)
			}
		})

		t.Run("IdleExpiry", func(t *testing.T) {
			s, token, err := svc.CreateSession(ctx, newSession(worker))
			if err != nil {
				t.Fatal(err)
			}
			// Used every 20 minutes, it lives past its idle timeout...
			for range 4 {
				now = now.Add(20 * time.Minute)
				if _, err := svc.FindSession(ctx, token); err != nil {
					t.Fatalf("at %s: %v", now, err)
				}
			}
			// ...and idle for 31 minutes it ends, and is deleted.
			now = now.Add(31 * time.Minute)
			if _, err := svc.FindSession(ctx, token); cases.ErrorCode(err) != cases.ENOTFOUND {
				t.Fatalf("idle session: err = %v, want not found", err)
			}
			var n int64
			db.Gorm().Raw("SELECT count(*) FROM sessions WHERE id = ?", s.ID).Scan(&n)
			if n != 0 {
				t.Fatal("the expired session was kept")
			}
		})

		t.Run("AbsoluteExpiry", func(t *testing.T) {
			s, token, err := svc.CreateSession(ctx, newSession(worker))
			if err != nil {
				t.Fatal(err)
			}
			for range 25 {
				now = now.Add(29 * time.Minute)
				if _, err := svc.FindSession(ctx, token); err != nil && now.Before(s.ExpiresAt) {
					t.Fatalf("busy session ended early at %s: %v", now, err)
				}
			}
			if _, err := svc.FindSession(ctx, token); cases.ErrorCode(err) != cases.ENOTFOUND {
				t.Fatalf("after 12 hours: err = %v, want not found", err)
			}
		})

		t.Run("ErrNotFound", func(t *testing.T) {
			for _, token := range []string{"", "not-a-token", string(make([]byte, 200))} {
				if _, err := svc.FindSession(ctx, token); cases.ErrorCode(err) != cases.ENOTFOUND {
					t.Fatalf("token %q: err = %v", token, err)
				}
			}
		})

		t.Run("ErrInvalid", func(t *testing.T) {
			bad := []cases.NewSession{
				{UserID: uuid.New(), IdleTimeout: time.Hour, AbsoluteTimeout: 2 * time.Hour},
				{UserID: worker, IdleTimeout: time.Second, AbsoluteTimeout: time.Hour},
				{UserID: worker, IdleTimeout: time.Hour, AbsoluteTimeout: time.Minute},
				{UserID: worker, IdleTimeout: time.Hour, AbsoluteTimeout: 2 * time.Hour, Locale: "fr"},
			}
			for i, n := range bad {
				if _, _, err := svc.CreateSession(ctx, n); cases.ErrorCode(err) != cases.EINVALID {
					t.Errorf("case %d: err = %v, want invalid", i, err)
				}
			}
		})

		t.Run("SignOut", func(t *testing.T) {
			_, token, err := svc.CreateSession(ctx, newSession(worker))
			if err != nil {
				t.Fatal(err)
			}
			if err := svc.DeleteSession(ctx, e.Worker.Actor(), token); err != nil {
				t.Fatal(err)
			}
			if _, err := svc.FindSession(ctx, token); cases.ErrorCode(err) != cases.ENOTFOUND {
				t.Fatalf("after sign-out: %v", err)
			}
			if err := svc.DeleteSession(ctx, e.Worker.Actor(), token); cases.ErrorCode(err) != cases.ENOTFOUND {
				t.Fatalf("second sign-out: %v", err)
			}
			if n := auditCount(t, db, cases.ActionSignOut, worker.String()); n != 1 {
				t.Fatalf("%d sign-outs audited, want 1", n)
			}
		})

		t.Run("RevokeAll", func(t *testing.T) {
			sup := e.Supervisor.ID
			var tokens []string
			for range 3 {
				_, token, err := svc.CreateSession(ctx, newSession(sup))
				if err != nil {
					t.Fatal(err)
				}
				tokens = append(tokens, token)
			}
			_, other, err := svc.CreateSession(ctx, newSession(worker))
			if err != nil {
				t.Fatal(err)
			}
			n, err := svc.DeleteUserSessions(ctx, cases.SystemActor, sup)
			if err != nil || n != 3 {
				t.Fatalf("DeleteUserSessions = %d, %v; want 3", n, err)
			}
			for _, tok := range tokens {
				if _, err := svc.FindSession(ctx, tok); cases.ErrorCode(err) != cases.ENOTFOUND {
					t.Fatalf("a revoked session lives: %v", err)
				}
			}
			if _, err := svc.FindSession(ctx, other); err != nil {
				t.Fatalf("another user's session ended: %v", err)
			}
			if n := auditCount(t, db, cases.ActionSessionsRevoked, sup.String()); n != 1 {
				t.Fatalf("%d revocations audited, want 1", n)
			}
		})

		t.Run("Locale", func(t *testing.T) {
			users := storage.NewUserService(db)
			if l, err := users.UserLocale(ctx, worker); err != nil || l != "" {
				t.Fatalf("UserLocale before = %q, %v", l, err)
			}
			if err := users.SetUserLocale(ctx, e.Worker.Actor(), worker, "en"); err != nil {
				t.Fatal(err)
			}
			if l, err := users.UserLocale(ctx, worker); err != nil || l != "en" {
				t.Fatalf("UserLocale after = %q, %v", l, err)
			}
			if err := users.SetUserLocale(ctx, e.Worker.Actor(), worker, "de"); cases.ErrorCode(err) != cases.EINVALID {
				t.Fatalf("SetUserLocale de: %v", err)
			}
			if err := users.SetUserLocale(ctx, e.Worker.Actor(), uuid.New(), "en"); cases.ErrorCode(err) != cases.ENOTFOUND {
				t.Fatalf("SetUserLocale of nobody: %v", err)
			}
			if n := auditCount(t, db, cases.ActionLocaleSet, worker.String()); n != 1 {
				t.Fatalf("%d locale changes audited, want 1", n)
			}
			s, token, err := svc.CreateSession(ctx, newSession(worker))
			if err != nil {
				t.Fatal(err)
			}
			if err := svc.SetSessionLocale(ctx, s.ID, "en"); err != nil {
				t.Fatal(err)
			}
			if found, err := svc.FindSession(ctx, token); err != nil || found.Locale != "en" {
				t.Fatalf("session locale %+v, %v", found, err)
			}
			if err := svc.SetSessionLocale(ctx, s.ID, "xx"); cases.ErrorCode(err) != cases.EINVALID {
				t.Fatalf("SetSessionLocale xx: %v", err)
			}
			if err := svc.SetSessionLocale(ctx, uuid.New(), "en"); cases.ErrorCode(err) != cases.ENOTFOUND {
				t.Fatalf("SetSessionLocale of nothing: %v", err)
			}
		})
		if _, err := storage.NewAuditService(db).Verify(ctx); err != nil {
			t.Fatal(err)
		}
	})
}

func auditCount(t *testing.T, db *storage.DB, action, subject string) int64 {
	t.Helper()
	var n int64
	if err := db.Gorm().Raw("SELECT count(*) FROM audit_log WHERE action = ? AND subject = ?", action, subject).Scan(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}
