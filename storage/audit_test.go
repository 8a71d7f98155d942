package storage_test

import (
	"errors"
	"sync"
	"testing"

	"github.com/google/uuid"

	cases "github.com/remedy-cases/remedy/case"
	"github.com/remedy-cases/remedy/storage"
	"github.com/remedy-cases/remedy/storage/storagetest"
)

// allowTampering drops the append-only guard, as an attacker with the
// database owner's rights could: the chain must catch what follows.
func allowTampering(t *testing.T, db *storage.DB) {
	t.Helper()
	stmts := []string{"ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only"}
	if db.Dialect() == storage.SQLite {
		stmts = []string{"DROP TRIGGER audit_log_no_update", "DROP TRIGGER audit_log_no_delete"}
	}
	for _, s := range stmts {
		if err := db.Gorm().Exec(s).Error; err != nil {
			t.Fatal(err)
		}
	}
}

func TestAuditChain(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db)
		audit := storage.NewAuditService(db)
		c := e.mustReach(t, cases.StateClosed)
		if err := audit.Append(ctx, e.actor(e.Worker), cases.ActionSignIn, e.Worker.ID.String(), nil); err != nil {
			t.Fatal(err)
		}
		n, err := audit.Verify(ctx)
		if err != nil {
			t.Fatal(err)
		}
		entries, _ := audit.CaseEntries(ctx, c.ID)
		var actions []string
		for _, en := range entries {
			actions = append(actions, en.Action)
			if en.Action == cases.ActionTransition && (en.Details["event"] == "" || en.Details["to"] == "") {
				t.Errorf("transition entry without its event: %v", en.Details)
			}
		}
		want := []string{cases.ActionCaseFiled, cases.ActionCaseAssigned, cases.ActionTransition, cases.ActionCaseVerified,
			cases.ActionTransition, cases.ActionPlanWritten, cases.ActionTransition, cases.ActionTransition}
		if len(actions) != len(want) {
			t.Fatalf("case entries %v, want %v", actions, want)
		}
		for i := range want {
			if actions[i] != want[i] {
				t.Fatalf("case entries %v, want %v", actions, want)
			}
		}

		t.Run("ErrAppendOnly", func(t *testing.T) {
			if err := db.Gorm().Exec("UPDATE audit_log SET action = 'x' WHERE seq = 1").Error; err == nil {
				t.Fatal("the database let an audit entry be edited")
			}
			if err := db.Gorm().Exec("DELETE FROM audit_log WHERE seq = 1").Error; err == nil {
				t.Fatal("the database let an audit entry be deleted")
			}
		})

		allowTampering(t, db)
		g := db.Gorm()
		mid := n / 2
		expectBreak := func(t *testing.T, at int64) {
			t.Helper()
			_, err := audit.Verify(ctx)
			var br *cases.AuditBreak
			if !errors.As(err, &br) || br.Seq != at {
				t.Fatalf("Verify = %v, want a break at entry %d", err, at)
			}
		}
		t.Run("ErrEdited", func(t *testing.T) {
			var details string
			g.Raw("SELECT details FROM audit_log WHERE seq = ?", mid).Row().Scan(&details)
			g.Exec("UPDATE audit_log SET details = ? WHERE seq = ?", `{"reason":"verify_age"}`, mid)
			expectBreak(t, mid)
			g.Exec("UPDATE audit_log SET details = ? WHERE seq = ?", details, mid)
			if _, err := audit.Verify(ctx); err != nil {
				t.Fatalf("restored chain: %v", err)
			}
		})
		t.Run("ErrReordered", func(t *testing.T) {
			// Swap the content of two neighbours, each keeping its own hash.
			swapAudit(t, db, mid, mid+1)
			expectBreak(t, mid)
			swapAudit(t, db, mid, mid+1)
			if _, err := audit.Verify(ctx); err != nil {
				t.Fatalf("restored chain: %v", err)
			}
		})
		t.Run("ErrDeleted", func(t *testing.T) {
			g.Exec("DELETE FROM audit_log WHERE seq = ?", mid)
			expectBreak(t, mid)
		})
		t.Run("ErrTailCut", func(t *testing.T) {
			g.Exec("DELETE FROM audit_log WHERE seq >= ?", mid)
			expectBreak(t, mid)
		})
	})
}

func swapAudit(t *testing.T, db *storage.DB, a, b int64) {
	t.Helper()
	g := db.Gorm()
	// Move a to a spare seq, b to a, and the spare to b: a true reordering.
	spare := int64(1 << 40)
	for _, step := range [][2]int64{{a, spare}, {b, a}, {spare, b}} {
		if err := g.Exec("UPDATE audit_log SET seq = ? WHERE seq = ?", step[1], step[0]).Error; err != nil {
			t.Fatal(err)
		}
	}
}

// TestAuditFailureAbortsChange: when the audit entry cannot be written, the
// change it records does not happen.
func TestAuditFailureAbortsChange(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db)
		c := e.mustReach(t, cases.StateFollowUp)
		if err := db.Gorm().Exec("DELETE FROM audit_head").Error; err != nil {
			t.Fatal(err)
		}
		_, _, err := e.cases.Transition(ctx, e.actor(e.Supervisor), c.ID, c.Version, cases.TransitionRequest{Event: cases.EventClose, Outcome: cases.OutcomeCompleted})
		if err == nil {
			t.Fatal("the transition succeeded without its audit entry")
		}
		if _, err := e.cases.ReadIdentity(ctx, e.actor(e.Supervisor), c.ID, cases.ReadReason{Code: "verify_age"}); err == nil {
			t.Fatal("an identity was read without an audit entry")
		}
		got, _ := e.cases.FindCase(ctx, c.ID)
		log, _ := e.cases.Transitions(ctx, c.ID)
		if got.State != cases.StateFollowUp || got.Version != c.Version || len(log) != 3 {
			t.Fatalf("state %s version %d with %d records: the change happened", got.State, got.Version, len(log))
		}
	})
}

// TestAuditConcurrent: 8 writers appending at once leave one linear chain.
func TestAuditConcurrent(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		audit := storage.NewAuditService(db)
		var wg sync.WaitGroup
		errs := make(chan error, 8*25)
		for range 8 {
			wg.Go(func() {
				for range 25 {
					errs <- audit.Append(ctx, cases.Actor{UserID: uuid.Must(uuid.NewV7()), Role: cases.RoleCaseWorker}, cases.ActionSignIn, "x", nil)
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		n, err := audit.Verify(ctx)
		if err != nil || n != 200 {
			t.Fatalf("Verify = %d, %v; want 200 entries", n, err)
		}
	})
}
