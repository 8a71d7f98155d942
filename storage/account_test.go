package storage_test

import (
	"testing"
	"time"

	"github.com/google/uuid"

	cases "github.com/remedy-cases/remedy/case"
	"github.com/remedy-cases/remedy/storage"
	"github.com/remedy-cases/remedy/storage/storagetest"
)

// TestUserAccess: an admin changes a user's role and brand, audited; a
// brand only with the client role, and one that exists.
func TestUserAccess(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		f := storagetest.NewFixture(t, db)
		users := storage.NewUserService(db)
		admin := cases.Actor{UserID: f.Supervisor.ID, Role: cases.RoleAdmin}
		t.Run("OK", func(t *testing.T) {
			u, err := users.SetUserAccess(ctx, admin, f.OtherWorker.ID, cases.UserAccess{Role: cases.RoleClient,
				ClientID: uuid.NullUUID{UUID: f.Client.ID, Valid: true}})
			if err != nil {
				t.Fatal(err)
			}
			if u.Role != cases.RoleClient || u.ClientID.UUID != f.Client.ID {
				t.Fatalf("got %s %v", u.Role, u.ClientID)
			}
			if u, err = users.SetUserAccess(ctx, admin, f.OtherWorker.ID, cases.UserAccess{Role: cases.RoleSupervisor}); err != nil || u.ClientID.Valid {
				t.Fatalf("back to staff: %v %v", err, u)
			}
			page, err := storage.NewAuditService(db).ListEntries(ctx, cases.AuditFilter{Action: cases.ActionUserAccessSet})
			if err != nil || len(page.Entries) != 2 {
				t.Fatalf("audited %v times: %v", len(page.Entries), err)
			}
		})
		t.Run("ErrInvalid", func(t *testing.T) {
			for _, a := range []cases.UserAccess{{Role: cases.RoleClient}, {Role: cases.RoleAuditor, ClientID: uuid.NullUUID{UUID: f.Client.ID, Valid: true}},
				{Role: "boss"}, {Role: cases.RoleClient, ClientID: uuid.NullUUID{UUID: uuid.New(), Valid: true}}} {
				if _, err := users.SetUserAccess(ctx, admin, f.Worker.ID, a); cases.ErrorCode(err) != cases.EINVALID {
					t.Errorf("%v: got %v, want EINVALID", a, err)
				}
			}
			u, err := users.FindUserByID(ctx, f.Worker.ID)
			if err != nil || u.Role != cases.RoleCaseWorker {
				t.Errorf("a refused change changed the user: %v %v", u, err)
			}
		})
		t.Run("ErrNotFound", func(t *testing.T) {
			if _, err := users.SetUserAccess(ctx, admin, uuid.New(), cases.UserAccess{Role: cases.RoleAdmin}); cases.ErrorCode(err) != cases.ENOTFOUND {
				t.Errorf("got %v", err)
			}
		})
	})
}

// TestPasswordReset: a reset link works once, until it expires, only the
// latest of a user's links, never for a disabled user.
func TestPasswordReset(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		f := storagetest.NewFixture(t, db)
		now := time.Date(2026, 11, 3, 9, 0, 0, 0, time.UTC)
		db.Now = func() time.Time { return now }
		users := storage.NewUserService(db)
		admin := cases.Actor{UserID: f.Supervisor.ID, Role: cases.RoleAdmin}

		t.Run("OK", func(t *testing.T) {
			token, expires, err := users.IssuePasswordReset(ctx, admin, f.Worker.ID, time.Hour)
			if err != nil || !expires.Equal(now.Add(time.Hour)) || len(token) < 40 {
				t.Fatalf("issue: %v %v", err, expires)
			}
			if u, err := users.PasswordResetUser(ctx, token); err != nil || u.ID != f.Worker.ID {
				t.Fatalf("find: %v", err)
			}
			if _, err := users.ResetPassword(ctx, token, "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA"); err != nil {
				t.Fatal(err)
			}
			_, hash, err := users.Credentials(ctx, f.Worker.Email)
			if err != nil || hash != "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA" {
				t.Fatalf("the password was not set: %v", err)
			}
			if _, err := users.ResetPassword(ctx, token, "x"); cases.ErrorCode(err) != cases.ENOTFOUND {
				t.Errorf("used twice: %v", err)
			}
		})
		t.Run("ErrExpired", func(t *testing.T) {
			token, _, err := users.IssuePasswordReset(ctx, admin, f.Worker.ID, cases.MinResetTTL)
			if err != nil {
				t.Fatal(err)
			}
			later := now
			now = now.Add(cases.MinResetTTL)
			defer func() { now = later }()
			if _, err := users.PasswordResetUser(ctx, token); cases.ErrorCode(err) != cases.ENOTFOUND {
				t.Errorf("expired: %v", err)
			}
		})
		t.Run("ErrReplaced", func(t *testing.T) {
			first, _, err := users.IssuePasswordReset(ctx, admin, f.Auditor.ID, time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			if _, _, err := users.IssuePasswordReset(ctx, admin, f.Auditor.ID, time.Hour); err != nil {
				t.Fatal(err)
			}
			if _, err := users.ResetPassword(ctx, first, "x"); cases.ErrorCode(err) != cases.ENOTFOUND {
				t.Errorf("a replaced link: %v", err)
			}
		})
		t.Run("ErrDisabled", func(t *testing.T) {
			token, _, err := users.IssuePasswordReset(ctx, admin, f.OtherWorker.ID, time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			if err := users.DisableUser(ctx, admin, f.OtherWorker.ID); err != nil {
				t.Fatal(err)
			}
			if _, err := users.ResetPassword(ctx, token, "x"); cases.ErrorCode(err) != cases.ENOTFOUND {
				t.Errorf("a disabled user's link: %v", err)
			}
			if _, _, err := users.IssuePasswordReset(ctx, admin, f.OtherWorker.ID, time.Hour); cases.ErrorCode(err) != cases.EINVALID {
				t.Errorf("a link for a disabled user: %v", err)
			}
		})
		t.Run("ErrTTL", func(t *testing.T) {
			if _, _, err := users.IssuePasswordReset(ctx, admin, f.Worker.ID, 8*24*time.Hour); cases.ErrorCode(err) != cases.EINVALID {
				t.Errorf("got %v", err)
			}
		})
		t.Run("ErrUnknown", func(t *testing.T) {
			if _, err := users.PasswordResetUser(ctx, "no-such-token"); cases.ErrorCode(err) != cases.ENOTFOUND {
				t.Errorf("got %v", err)
			}
			if _, _, err := users.IssuePasswordReset(ctx, admin, uuid.New(), time.Hour); cases.ErrorCode(err) != cases.ENOTFOUND {
				t.Errorf("a link for nobody: %v", err)
			}
		})
	})
}
