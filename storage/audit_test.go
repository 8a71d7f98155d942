package storage_test

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	cases "github.com/remedy-cases/remedy/case"
	"github.com/remedy-cases/remedy/storage"
	"github.com/remedy-cases/remedy/storage/storagetest"
)

// allowTampering drops the append-only guard, as an attacker with the
// database owner's rights could: the chain must catch what follows.
func allowTampering(t *testing.T, db *storage.DB) {
	t.Helper()
	stmts := []string{"ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only",
		"ALTER TABLE audit_chain DISABLE TRIGGER audit_chain_append_only"}
	if db.Dialect() == storage.SQLite {
		stmts = []string{"DROP TRIGGER audit_log_no_update", "DROP TRIGGER audit_log_no_delete",
			"DROP TRIGGER audit_chain_no_update", "DROP TRIGGER audit_chain_no_delete"}
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
			if err := db.Gorm().Exec("UPDATE audit_chain SET hash = prev_hash WHERE pos = 1").Error; err == nil {
				t.Fatal("the database let a chain link be edited")
			}
			if err := db.Gorm().Exec("DELETE FROM audit_chain WHERE pos = 1").Error; err == nil {
				t.Fatal("the database let a chain link be deleted")
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
		t.Run("ErrChainEdited", func(t *testing.T) {
			// A link whose hash is replaced breaks at its entry, or, if
			// every later link is recomputed too, at the head.
			var hash []byte
			g.Raw("SELECT hash FROM audit_chain WHERE entry_seq = ?", mid).Row().Scan(&hash)
			g.Exec("UPDATE audit_chain SET hash = prev_hash WHERE entry_seq = ?", mid)
			expectBreak(t, mid)
			g.Exec("UPDATE audit_chain SET hash = ? WHERE entry_seq = ?", hash, mid)
			if _, err := audit.Verify(ctx); err != nil {
				t.Fatalf("restored chain: %v", err)
			}
		})
		t.Run("ErrChainLinkDeleted", func(t *testing.T) {
			// Dropping a link leaves its entry unchained and the next link
			// without its predecessor.
			var link struct {
				Pos, EntrySeq  int64
				PrevHash, Hash []byte
			}
			g.Raw("SELECT pos, entry_seq, prev_hash, hash FROM audit_chain WHERE entry_seq = ?", mid).Scan(&link)
			g.Exec("DELETE FROM audit_chain WHERE entry_seq = ?", mid)
			expectBreak(t, mid)
			g.Exec("INSERT INTO audit_chain (pos, entry_seq, prev_hash, hash) VALUES (?, ?, ?, ?)", link.Pos, link.EntrySeq, link.PrevHash, link.Hash)
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
		t.Run("ErrTailCutWithChain", func(t *testing.T) {
			// Entries and links cut together: the head still names the end.
			g.Exec("DELETE FROM audit_chain WHERE pos >= ?", mid)
			expectBreak(t, mid)
		})
	})
}

// TestAuditEveryEntryChained: an entry slipped into the log without being
// queued, and a queued entry deleted before it was chained, are both found.
func TestAuditEveryEntryChained(t *testing.T) {
	for _, d := range storagetest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			cfg := storagetest.Config(t, d)
			cfg.ManualAuditSeal = true
			db := storagetest.OpenWith(t, cfg, storagetest.Keyring(t))
			audit := storage.NewAuditService(db)
			actor := cases.Actor{UserID: uuid.Must(uuid.NewV7()), Role: cases.RoleCaseWorker}
			for range 5 {
				if err := audit.Append(ctx, actor, cases.ActionSignIn, "x", nil); err != nil {
					t.Fatal(err)
				}
			}
			if n, err := audit.Verify(ctx); err != nil || n != 5 {
				t.Fatalf("Verify = %d, %v; want 5 entries", n, err)
			}
			allowTampering(t, db)
			g := db.Gorm()
			var br *cases.AuditBreak

			// An entry written behind the queue's back.
			dropQueue := "ALTER TABLE audit_log DISABLE TRIGGER audit_log_pend"
			if d == storage.SQLite {
				dropQueue = "DROP TRIGGER audit_log_pend"
			}
			if err := g.Exec(dropQueue).Error; err != nil {
				t.Fatal(err)
			}
			if err := g.Exec(`INSERT INTO audit_log (seq, at, actor_role, action, subject, details) VALUES (100, ?, 'system', 'sign_in', 'x', '{}')`, time.Now().UTC()).Error; err != nil {
				t.Fatal(err)
			}
			if _, err := audit.Verify(ctx); !errors.As(err, &br) || br.Seq != 100 {
				t.Fatalf("Verify = %v, want entry 100 not chained", err)
			}
			g.Exec("DELETE FROM audit_log WHERE seq = 100")

			// A queued entry deleted before the sealer came.
			if err := g.Exec(`INSERT INTO audit_log (seq, at, actor_role, action, subject, details) VALUES (101, ?, 'system', 'sign_in', 'x', '{}')`, time.Now().UTC()).Error; err != nil {
				t.Fatal(err)
			}
			g.Exec("INSERT INTO audit_pending (seq) VALUES (101)")
			g.Exec("DELETE FROM audit_log WHERE seq = 101")
			if _, err := audit.Verify(ctx); !errors.As(err, &br) || br.Seq != 101 {
				t.Fatalf("Verify = %v, want queued entry 101 missing", err)
			}
		})
	}
}

// TestAuditSealer: on PostgreSQL, entries are queued by their transaction
// and chained by the background sealer soon after, in one linear chain.
func TestAuditSealer(t *testing.T) {
	db := storagetest.Open(t, storage.Postgres)
	audit := storage.NewAuditService(db)
	actor := cases.Actor{UserID: uuid.Must(uuid.NewV7()), Role: cases.RoleCaseWorker}
	for range 20 {
		if err := audit.Append(ctx, actor, cases.ActionSignIn, "x", nil); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		var pending, chained int64
		db.Gorm().Raw("SELECT count(*) FROM audit_pending").Scan(&pending)
		db.Gorm().Raw("SELECT count(*) FROM audit_chain").Scan(&chained)
		if pending == 0 && chained == 20 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 10s, %d entries pending and %d chained", pending, chained)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if n, err := audit.Verify(ctx); err != nil || n != 20 {
		t.Fatalf("Verify = %d, %v", n, err)
	}
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
		// Entries are no longer written under the head: make the entry's
		// own insert fail.
		if err := db.Gorm().Exec("ALTER TABLE audit_log RENAME TO audit_log_moved").Error; err != nil {
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

// TestAuditMigratesChain: entries chained in audit_log before migration
// 00008 keep their hashes in audit_chain, verify, and the chain goes on.
func TestAuditMigratesChain(t *testing.T) {
	for _, d := range storagetest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			cfg := storagetest.Config(t, d)
			db, err := storage.Open(ctx, cfg, storagetest.Keyring(t))
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if err := db.MigrateTo(ctx, 5); err != nil {
				t.Fatal(err)
			}
			g := db.Gorm()
			prev := make([]byte, 32)
			at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
			for seq := int64(1); seq <= 5; seq++ {
				hash := storage.ChainHash(prev, seq, at, "system", "sign_in", "x", "{}")
				if err := g.Exec(`INSERT INTO audit_log (seq, at, actor_role, action, subject, details, prev_hash, hash)
					VALUES (?, ?, 'system', 'sign_in', 'x', '{}', ?, ?)`, seq, at, prev, hash).Error; err != nil {
					t.Fatal(err)
				}
				prev = hash
			}
			if err := g.Exec("UPDATE audit_head SET seq = 5, hash = ? WHERE id = 1", prev).Error; err != nil {
				t.Fatal(err)
			}
			if _, err := db.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			audit := storage.NewAuditService(db)
			if n, err := audit.Verify(ctx); err != nil || n != 5 {
				t.Fatalf("after the migration: Verify = %d, %v", n, err)
			}
			if err := audit.Append(ctx, cases.SystemActor, cases.ActionSignIn, "y", nil); err != nil {
				t.Fatal(err)
			}
			if n, err := audit.Verify(ctx); err != nil || n != 6 {
				t.Fatalf("after one more entry: Verify = %d, %v", n, err)
			}
			var seq int64
			g.Raw("SELECT max(seq) FROM audit_log").Scan(&seq)
			if seq != 6 {
				t.Fatalf("the next entry is %d, want 6", seq)
			}
			// An old entry edited after the migration is caught by its old hash.
			allowTampering(t, db)
			g.Exec("UPDATE audit_log SET subject = 'z' WHERE seq = 3")
			var br *cases.AuditBreak
			if _, err := audit.Verify(ctx); !errors.As(err, &br) || br.Seq != 3 {
				t.Fatalf("Verify = %v, want a break at 3", err)
			}
		})
	}
}
