package storage_test

import (
	"bytes"
	"crypto/rand"
	"errors"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"testing"

	"golang.org/x/mod/sumdb/note"

	cases "github.com/remedy-cases/remedy/case"
	"github.com/remedy-cases/remedy/storage"
	"github.com/remedy-cases/remedy/storage/storagetest"
)

func mustNoteKey(t *testing.T) (note.Signer, note.Verifiers) {
	t.Helper()
	skey, vkey, err := note.GenerateKey(rand.Reader, storage.ReportKeyName)
	if err != nil {
		t.Fatal(err)
	}
	s, err := note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	v, err := note.NewVerifier(vkey)
	if err != nil {
		t.Fatal(err)
	}
	return s, note.VerifierList(v)
}

// cutAndRewriteHead does what someone with write access to the database
// can: cut the chain after position keep, with its entries, and point the
// head at the new end. Verify alone no longer sees anything.
func cutAndRewriteHead(t *testing.T, db *storage.DB, keep int64) {
	t.Helper()
	allowTampering(t, db)
	g := db.Gorm()
	for _, s := range []string{
		"DELETE FROM audit_log WHERE seq IN (SELECT entry_seq FROM audit_chain WHERE pos > ?)",
		"DELETE FROM audit_chain WHERE pos > ?",
		"UPDATE audit_head SET seq = ?, hash = (SELECT hash FROM audit_chain WHERE pos = ?) WHERE id = 1",
	} {
		args := []any{keep}
		if strings.Count(s, "?") == 2 {
			args = append(args, keep)
		}
		if err := g.Exec(s, args...).Error; err != nil {
			t.Fatal(err)
		}
	}
}

// TestAuditCheckpoints: checkpoints witness the head; a trail cut and its
// head rewritten passes Verify on its own, but fails against a checkpoint
// kept outside the database, naming it, and against the stored ones.
func TestAuditCheckpoints(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db)
		audit := storage.NewAuditService(db)
		signer, keys := mustNoteKey(t)
		e.mustReach(t, cases.StateFollowUp)

		first, err := audit.Checkpoint(ctx, signer)
		if err != nil {
			t.Fatal(err)
		}
		if first.Size == 0 || !strings.HasPrefix(string(first.Note), storage.CheckpointOrigin+"\n"+strconv.FormatInt(first.Size, 10)+"\n") {
			t.Fatalf("checkpoint %d: %q", first.Size, first.Note)
		}
		again, err := audit.Checkpoint(ctx, signer)
		if err != nil || again.Size != first.Size {
			t.Fatalf("nothing new, yet checkpoint %d after %d (%v)", again.Size, first.Size, err)
		}
		for range 3 {
			if err := audit.Append(ctx, e.actor(e.Worker), cases.ActionSignIn, e.Worker.ID.String(), nil); err != nil {
				t.Fatal(err)
			}
		}
		second, err := audit.Checkpoint(ctx, signer)
		if err != nil || second.Size <= first.Size+3 {
			t.Fatalf("checkpoint %d after %d and 3 entries (%v)", second.Size, first.Size, err)
		}
		if cp, err := storage.ParseCheckpoint(second.Note, keys); err != nil || cp.Size != second.Size || cp.Hash != second.Hash {
			t.Fatalf("parse: %+v %v", cp, err)
		}

		t.Run("OK", func(t *testing.T) {
			n, checked, err := audit.VerifyCheckpoints(ctx, keys, [][]byte{first.Note, second.Note})
			if err != nil || checked != 2 || n <= second.Size {
				t.Fatalf("verify: %d entries, %d checkpoints, %v", n, checked, err)
			}
			stored, err := audit.Checkpoints(ctx)
			if err != nil || len(stored) != 2 {
				t.Fatalf("stored: %d, %v", len(stored), err)
			}
		})
		t.Run("ErrUnknownKey", func(t *testing.T) {
			_, other := mustNoteKey(t)
			if _, _, err := audit.VerifyCheckpoints(ctx, other, [][]byte{second.Note}); err == nil {
				t.Fatal("a checkpoint verified with another key")
			}
		})
		t.Run("ErrForged", func(t *testing.T) {
			forged := []byte(strings.Replace(string(second.Note), "\n"+strconv.FormatInt(second.Size, 10)+"\n", "\n1\n", 1))
			if _, _, err := audit.VerifyCheckpoints(ctx, keys, [][]byte{forged}); err == nil {
				t.Fatal("an edited checkpoint verified")
			}
		})

		t.Run("ErrTailCutHeadRewritten", func(t *testing.T) {
			cutAndRewriteHead(t, db, first.Size+1)
			// Against the stored checkpoints: the second no longer holds.
			_, err := audit.Verify(ctx)
			expectCheckpointBreak(t, err, second.Size, "cut")
			// The attacker deletes the stored ones too: Verify alone is fooled...
			if err := db.Gorm().Exec("DELETE FROM audit_checkpoints").Error; err != nil {
				t.Fatal(err)
			}
			if _, err := audit.Verify(ctx); err != nil {
				t.Fatalf("the cut trail no longer verifies on its own: %v", err)
			}
			// ...but not a checkpoint kept outside, say in a brand's report.
			_, _, err = audit.VerifyCheckpoints(ctx, keys, [][]byte{first.Note, second.Note})
			expectCheckpointBreak(t, err, second.Size, "cut")

			// New entries grow the trail past the checkpoint again, on
			// another history: the link at its size has another hash.
			for range 5 {
				if err := audit.Append(ctx, e.actor(e.Supervisor), cases.ActionSignIn, e.Supervisor.ID.String(), nil); err != nil {
					t.Fatal(err)
				}
			}
			_, _, err = audit.VerifyCheckpoints(ctx, keys, [][]byte{first.Note, second.Note})
			expectCheckpointBreak(t, err, second.Size, "rewritten")
			if _, _, err := audit.VerifyCheckpoints(ctx, keys, [][]byte{first.Note}); err != nil {
				t.Errorf("the first checkpoint, before the cut, still holds: %v", err)
			}
		})
	})
}

func expectCheckpointBreak(t *testing.T, err error, size int64, reason string) {
	t.Helper()
	var b *cases.CheckpointBreak
	if !errors.As(err, &b) || b.Size != size || !strings.Contains(b.Reason, reason) {
		t.Fatalf("got %v, want the checkpoint of %d named (%s)", err, size, reason)
	}
	if !strings.Contains(err.Error(), "checkpoint "+strconv.FormatInt(size, 10)) {
		t.Errorf("the error does not name the checkpoint: %v", err)
	}
}

// TestConcurrentCheckpoints: processes that checkpoint the same head at
// once (the hourly job of two replicas) all get the one checkpoint stored,
// and the losers' inserts are no errors in the log.
func TestConcurrentCheckpoints(t *testing.T) {
	var log lockedLog
	cfg := storagetest.Config(t, storage.Postgres)
	cfg.Logger = slog.New(slog.NewJSONHandler(&log, nil))
	db := storagetest.OpenWith(t, cfg, storagetest.Keyring(t))
	storagetest.NewFixture(t, db) // audited writes to witness
	signer, _ := mustNoteKey(t)
	audit := storage.NewAuditService(db)
	const n = 4
	got := make([]*cases.Checkpoint, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { got[i], errs[i] = audit.Checkpoint(ctx, signer) })
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("checkpoint %d: %v", i, errs[i])
		}
		if got[i].Size != got[0].Size || !bytes.Equal(got[i].Note, got[0].Note) {
			t.Fatalf("checkpoint %d of size %d, checkpoint 0 of size %d", i, got[i].Size, got[0].Size)
		}
	}
	if stored, err := audit.Checkpoints(ctx); err != nil || len(stored) != 1 {
		t.Fatalf("%d checkpoints stored, want 1 (%v)", len(stored), err)
	}
	if s := log.String(); strings.Contains(s, `"level":"ERROR"`) {
		t.Fatalf("an error was logged:\n%s", s)
	}
}

// lockedLog is a log buffer the server's goroutines may write at once.
type lockedLog struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *lockedLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *lockedLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}
