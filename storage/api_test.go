package storage_test

import (
	"crypto/sha256"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	cases "github.com/remedy-cases/remedy/case"
	"github.com/remedy-cases/remedy/storage"
	"github.com/remedy-cases/remedy/storage/storagetest"
)

func TestFileCaseOnce(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db)
		auditor := e.actor(e.Auditor)
		report := e.Report(today)
		key := cases.IdempotencyKey{Key: "retry-" + uuid.NewString(), RequestHash: sha256.Sum256([]byte("body one"))}

		t.Run("OK", func(t *testing.T) {
			first, replayed, err := e.cases.FileCaseOnce(ctx, auditor, key, report)
			if err != nil || replayed {
				t.Fatalf("first filing: replayed=%v err=%v", replayed, err)
			}
			again, replayed, err := e.cases.FileCaseOnce(ctx, auditor, key, report)
			if err != nil || !replayed || again.ID != first.ID || again.Code != first.Code {
				t.Fatalf("retry: replayed=%v err=%v, got %v want %v", replayed, err, again, first)
			}
		})
		t.Run("ErrOtherBody", func(t *testing.T) {
			other := key
			other.RequestHash = sha256.Sum256([]byte("body two"))
			_, _, err := e.cases.FileCaseOnce(ctx, auditor, other, report)
			if cases.ErrorCode(err) != cases.EINVALID || cases.ErrorFailures(err)[0].Name != "idempotency_key" {
				t.Fatalf("got %v, want EINVALID on idempotency_key", err)
			}
		})
		t.Run("KeysArePerUser", func(t *testing.T) {
			sup := e.actor(e.Supervisor)
			c, replayed, err := e.cases.FileCaseOnce(ctx, sup, key, report)
			if err != nil || replayed {
				t.Fatalf("another user's key collided: replayed=%v err=%v", replayed, err)
			}
			if c.FiledBy != e.Supervisor.ID {
				t.Fatalf("filed by %s", c.FiledBy)
			}
		})
		t.Run("Concurrent", func(t *testing.T) {
			k := cases.IdempotencyKey{Key: "race-" + uuid.NewString(), RequestHash: sha256.Sum256([]byte("race"))}
			const n = 8
			ids := make([]uuid.UUID, n)
			errs := make([]error, n)
			var wg sync.WaitGroup
			for i := range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					c, _, err := e.cases.FileCaseOnce(ctx, auditor, k, report)
					if err == nil {
						ids[i] = c.ID
					}
					errs[i] = err
				}()
			}
			wg.Wait()
			for i := range n {
				if errs[i] != nil {
					t.Fatalf("filing %d: %v", i, errs[i])
				}
				if ids[i] != ids[0] {
					t.Fatalf("filing %d made case %s, filing 0 made %s", i, ids[i], ids[0])
				}
			}
			page, err := e.cases.ListCases(ctx, cases.CaseFilter{FiledBy: uuid.NullUUID{UUID: e.Auditor.ID, Valid: true}, Limit: 200})
			if err != nil {
				t.Fatal(err)
			}
			if len(page.Cases) != 2 {
				t.Fatalf("the auditor has %d cases, want 2 (one per key)", len(page.Cases))
			}
		})
	})
}

func TestListFiledByWithPlans(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db)
		planned := e.mustReach(t, cases.StateFollowUp)
		r := e.Report(today)
		other, err := e.cases.FileCase(ctx, e.actor(e.Supervisor), r)
		if err != nil {
			t.Fatal(err)
		}
		page, err := e.cases.ListCases(ctx, cases.CaseFilter{FiledBy: uuid.NullUUID{UUID: e.Auditor.ID, Valid: true}})
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Cases) != 1 || page.Cases[0].ID != planned.ID {
			t.Fatalf("the auditor's list holds %d cases, want only %s", len(page.Cases), planned.Code)
		}
		if p := page.Cases[0].Plan; p == nil || p.MonthlyStipend != completePlan().MonthlyStipend {
			t.Fatalf("the listed case lacks its plan: %+v", p)
		}
		all, err := e.cases.ListCases(ctx, cases.CaseFilter{})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range all.Cases {
			if c.ID == other.ID && c.Plan != nil {
				t.Fatal("a case without a plan was listed with one")
			}
		}
	})
}

func TestCorrectIdentity(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db)
		c := e.mustReach(t, cases.StatePlanning)
		worker := e.actor(e.Worker)
		read := func() cases.Identity {
			t.Helper()
			conf, err := e.cases.ReadIdentity(ctx, worker, c.ID, cases.ReadReason{Code: "correct_record"})
			if err != nil {
				t.Fatal(err)
			}
			return conf.Identity
		}
		before := read()
		birth := time.Date(2011, 5, 17, 0, 0, 0, 0, time.UTC)
		earlier, err := e.cases.FileCase(ctx, e.actor(e.Auditor), func() cases.Report {
			r := e.Report(today)
			r.ClientID = e.OtherClient.ID
			r.Identity = cases.Identity{FullName: "Zhou Min", ClaimedBirthDate: &birth}
			return r
		}())
		if err != nil {
			t.Fatal(err)
		}

		t.Run("OK", func(t *testing.T) {
			fixed := before
			fixed.FullName, fixed.VerifiedBirthDate = "Zhou Min", nil
			got, err := e.cases.CorrectIdentity(ctx, worker, c.ID, c.Version, fixed)
			if err != nil {
				t.Fatal(err)
			}
			c = got
			after := read()
			if after.FullName != "Zhou Min" || after.VerifiedBirthDate == nil || !after.VerifiedBirthDate.Equal(*before.VerifiedBirthDate) {
				t.Fatalf("after correction: name changed=%v, verified birth date kept=%v",
					after.FullName == "Zhou Min", after.VerifiedBirthDate != nil)
			}
			linked := false
			for _, l := range got.Links {
				linked = linked || l.CaseID == earlier.ID
			}
			if !linked {
				t.Fatal("the corrected name and birth date did not link the case filed under them")
			}
		})
		t.Run("ErrVerifiedBirthDate", func(t *testing.T) {
			id := read()
			other := birth.AddDate(-1, 0, 0)
			id.VerifiedBirthDate = &other
			_, err := e.cases.CorrectIdentity(ctx, worker, c.ID, c.Version, id)
			if cases.ErrorCode(err) != cases.EINVALID {
				t.Fatalf("got %v, want EINVALID", err)
			}
		})
		t.Run("ErrStale", func(t *testing.T) {
			_, err := e.cases.CorrectIdentity(ctx, worker, c.ID, c.Version-1, read())
			if cases.ErrorCode(err) != cases.ECONFLICT {
				t.Fatalf("got %v, want ECONFLICT", err)
			}
		})
		t.Run("ErrNotAssigned", func(t *testing.T) {
			_, err := e.cases.CorrectIdentity(ctx, e.actor(e.OtherWorker), c.ID, c.Version, read())
			if cases.ErrorCode(err) != cases.EFORBIDDEN {
				t.Fatalf("got %v, want EFORBIDDEN", err)
			}
		})
	})
}

func TestCredentials(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db)
		users := storage.NewUserService(db)
		u, hash, err := users.Credentials(ctx, " Worker@Example.org ")
		if err != nil || u.ID != e.Worker.ID || hash != "" {
			t.Fatalf("before a password: user %v hash %q err %v", u, hash, err)
		}
		if err := users.SetPasswordHash(ctx, cases.SystemActor, e.Worker.ID, "$argon2id$v=19$m=1,t=1,p=1$c2FsdA$aGFzaA"); err != nil {
			t.Fatal(err)
		}
		if _, hash, _ := users.Credentials(ctx, "worker@example.org"); hash != "$argon2id$v=19$m=1,t=1,p=1$c2FsdA$aGFzaA" {
			t.Fatalf("hash %q", hash)
		}
		if _, _, err := users.Credentials(ctx, "nobody@example.org"); cases.ErrorCode(err) != cases.ENOTFOUND {
			t.Fatalf("unknown email: %v", err)
		}
		if err := users.SetPasswordHash(ctx, cases.SystemActor, uuid.New(), "x"); cases.ErrorCode(err) != cases.ENOTFOUND {
			t.Fatalf("unknown user: %v", err)
		}
	})
}

// TestUserCheckSeesDisable: the user check answers from a short cache, and
// a user disabled through the service is seen disabled at once.
func TestUserCheckSeesDisable(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db)
		users := storage.NewUserService(db)
		u, err := users.FindUserByID(ctx, e.Worker.ID)
		if err != nil || u.Disabled {
			t.Fatalf("before: %v, %v", u, err)
		}
		u.Name = "changed by the caller" // a copy: the cache keeps its own
		if again, _ := users.FindUserByID(ctx, e.Worker.ID); again.Name == u.Name {
			t.Fatal("the cache handed out its own user")
		}
		if err := users.DisableUser(ctx, cases.SystemActor, e.Worker.ID); err != nil {
			t.Fatal(err)
		}
		if u, err := users.FindUserByID(ctx, e.Worker.ID); err != nil || !u.Disabled {
			t.Fatalf("after disabling: %v, %v", u, err)
		}
	})
}
