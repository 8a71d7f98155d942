package schedule_test

import (
	"crypto/rand"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"golang.org/x/mod/sumdb/note"

	"github.com/remedy-cases/remedy/internal/pdftext"
	"github.com/remedy-cases/remedy/reports"
	"github.com/remedy-cases/remedy/storage"
)

// TestAuditCheckpointJob: the hourly checkpoint is a periodic River job,
// run at start and once an hour between all schedulers; the monthly report
// generated meanwhile is signed and carries a checkpoint that the trail
// extends.
func TestAuditCheckpointJob(t *testing.T) {
	eachDialect(t, func(t *testing.T, cfg storage.Config, db *storage.DB) {
		w := newWorld(t, db)
		w.caseAt(t, time.Date(2026, 10, 5, 10, 0, 0, 0, time.UTC), false)
		skey, vkey, err := note.GenerateKey(rand.Reader, storage.ReportKeyName)
		must(t, err)
		signer, err := note.NewSigner(skey)
		must(t, err)
		verifier, err := note.NewVerifier(vkey)
		must(t, err)
		keys := note.VerifierList(verifier)
		audit := storage.NewAuditService(db)
		w.gen.Signer, w.gen.Witness = signer, storage.Witness{Audit: audit, Signer: signer}
		w.scheduler(t, cfg, nil)
		w.scheduler(t, cfg, nil)

		g := db.Gorm()
		waitFor(t, "the checkpoint and the report", func() bool {
			var done, pending, reports int64
			g.Raw("SELECT count(*) FROM river_job WHERE kind = 'audit_checkpoint' AND state = 'completed'").Scan(&done)
			g.Raw("SELECT count(*) FROM river_job WHERE kind IN ('audit_checkpoint', 'client_monthly_report') AND state <> 'completed'").Scan(&pending)
			g.Raw("SELECT count(*) FROM monthly_reports").Scan(&reports)
			return done > 0 && pending == 0 && reports > 0
		})
		var jobs int64
		g.Raw("SELECT count(*) FROM river_job WHERE kind = 'audit_checkpoint'").Scan(&jobs)
		if jobs != 1 {
			t.Errorf("%d checkpoint jobs for two schedulers in one hour, want 1", jobs)
		}
		stored, err := audit.Checkpoints(ctx)
		if err != nil || len(stored) == 0 {
			t.Fatalf("no stored checkpoint: %v", err)
		}

		list, err := w.reports.ListReports(ctx, uuid.NullUUID{UUID: w.fixture.Client.ID, Valid: true})
		must(t, err)
		pdf, err := w.reports.ReportPDF(ctx, list[0].ID)
		must(t, err)
		v, err := reports.NewVerifier([]string{vkey})
		must(t, err)
		if _, err := v.VerifyReport(pdf); err != nil {
			t.Fatalf("the scheduled report does not verify: %v", err)
		}
		pages, err := pdftext.Pages(pdf)
		must(t, err)
		text := strings.Join(pages, "\n")
		i := strings.Index(text, storage.CheckpointOrigin)
		if i < 0 {
			t.Fatalf("the report carries no checkpoint")
		}
		// The checkpoint as printed, one line each: origin, size, hash, blank, signature.
		var lines []string
		for _, l := range strings.Split(text[i:], "\n") {
			if strings.TrimSpace(l) != "" {
				lines = append(lines, strings.TrimSpace(l))
			}
		}
		if len(lines) < 4 {
			t.Fatalf("checkpoint cut short: %q", lines)
		}
		printed := strings.Join([]string{lines[0], lines[1], lines[2], "", lines[3]}, "\n") + "\n"
		if _, checked, err := audit.VerifyCheckpoints(ctx, keys, [][]byte{[]byte(printed)}); err != nil || checked != 1 {
			t.Fatalf("the report's checkpoint %q: %v", printed, err)
		}
	})
}
