package main

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	cases "github.com/remedy-cases/remedy/case"
	"github.com/remedy-cases/remedy/reports"
	"github.com/remedy-cases/remedy/storage"
	"github.com/remedy-cases/remedy/storage/storagetest"
)

// TestReportsVerify: keys init makes a report-signing key; a stored report
// verifies offline and says what it is; one flipped byte fails; after
// rotate-report-key the old report still verifies with the published keys,
// and not without its key.
func TestReportsVerify(t *testing.T) {
	dir := t.TempDir()
	vars := map[string]string{"REMEDY_DATA_DIR": dir}
	var out bytes.Buffer
	m := &Main{Stdout: &out, Stderr: &out, Getenv: envOf(vars)}
	run := func(args ...string) error {
		out.Reset()
		return m.Run(context.Background(), args)
	}
	if err := run("keys", "init"); err != nil {
		t.Fatal(err)
	}
	if info, err := os.Stat(filepath.Join(dir, "report-signing.key")); err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("report-signing.key: %v", err)
	}
	cfg, err := loadConfig(envOf(vars))
	if err != nil {
		t.Fatal(err)
	}
	keys, err := storage.LoadKeyring(cfg.keyFiles())
	if err != nil {
		t.Fatal(err)
	}
	db := storagetest.OpenWith(t, storage.Config{DataDir: dir}, keys)
	fx := storagetest.NewFixture(t, db)
	gen, err := generator(cfg, db, m.logger(cfg))
	if err != nil {
		t.Fatal(err)
	}
	month := cases.MonthOf(time.Now()).Add(-1)
	r, _, err := gen.Generate(context.Background(), cases.SystemActor, fx.Client.ID, month, false)
	if err != nil {
		t.Fatal(err)
	}
	pdf, err := storage.NewReportService(db).ReportPDF(context.Background(), r.ID)
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	file := filepath.Join(t.TempDir(), "report.pdf")
	if err := os.WriteFile(file, pdf, 0o600); err != nil {
		t.Fatal(err)
	}

	if err := run("reports", "verify", file); err != nil {
		t.Fatalf("verify: %v", err)
	}
	for _, want := range []string{"genuine", fx.Client.ID.String(), fx.Client.Name, "month:   " + month.String(), "version: 1", r.KeyID} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("verify said %q, want %q in it", out.String(), want)
		}
	}

	tampered := bytes.Clone(pdf)
	tampered[len(tampered)/3] ^= 0x20
	bad := filepath.Join(t.TempDir(), "tampered.pdf")
	if err := os.WriteFile(bad, tampered, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := run("reports", "verify", bad); err == nil || !strings.Contains(err.Error(), "does not verify") {
		t.Fatalf("a flipped byte: %v", err)
	}

	if err := run("keys", "rotate-report-key"); err != nil {
		t.Fatal(err)
	}
	rotated, err := storage.LoadReportKeys(cfg.ReportKeyFile)
	if err != nil || len(rotated) != 2 || rotated[1].ID() != r.KeyID || rotated[0].ID() == r.KeyID {
		t.Fatalf("after rotation: %v %v", rotated, err)
	}
	// The published keys, saved to a file, verify offline.
	published := filepath.Join(t.TempDir(), "keys.txt")
	os.WriteFile(published, []byte(rotated[0].Verifier+"\n"+rotated[1].Verifier+"\n"), 0o600)
	if err := run("reports", "verify", "--keys", published, file); err != nil {
		t.Fatalf("verify with the published keys after rotation: %v", err)
	}
	onlyNew := filepath.Join(t.TempDir(), "new.txt")
	os.WriteFile(onlyNew, []byte(rotated[0].Verifier+"\n"), 0o600)
	if err := run("reports", "verify", "--keys", onlyNew, file); err == nil || !strings.Contains(err.Error(), r.KeyID) {
		t.Fatalf("verify without the signing key: %v", err)
	}
	if _, err := reports.NewVerifier([]string{rotated[0].Verifier}); err != nil {
		t.Fatal(err)
	}
}

// TestAuditCheckpointCommands: audit checkpoint exports a signed checkpoint;
// audit verify --checkpoint proves the trail extends it; after the tail is
// cut and the head rewritten (and the stored checkpoints deleted), audit
// verify alone is fooled but fails against the exported file, naming it.
func TestAuditCheckpointCommands(t *testing.T) {
	dir := t.TempDir()
	vars := map[string]string{"REMEDY_DATA_DIR": dir}
	out, run := cli(vars)
	for _, args := range [][]string{{"keys", "init"}, {"migrate"},
		{"users", "add", "--email", "a@example.org", "--name", "A", "--role", "supervisor"}} {
		if err := run(args...); err != nil {
			t.Fatalf("%v: %v", args, err)
		}
	}
	first := filepath.Join(t.TempDir(), "first.checkpoint")
	if err := run("audit", "checkpoint", "--out", first); err != nil || !strings.Contains(out.String(), "signed by remedy-reports+") {
		t.Fatalf("checkpoint: %v %q", err, out.String())
	}
	for _, email := range []string{"b@example.org", "c@example.org"} {
		if err := run("users", "add", "--email", email, "--name", "B", "--role", "auditor"); err != nil {
			t.Fatal(err)
		}
	}
	second := filepath.Join(t.TempDir(), "second.checkpoint")
	if err := run("audit", "checkpoint", "--out", second); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(second)
	if err != nil {
		t.Fatal(err)
	}
	cp, err := storage.ParseCheckpoint(data, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := run("audit", "verify", "--checkpoint", first, "--checkpoint", second); err != nil ||
		!strings.Contains(out.String(), "2 stored checkpoints and the 2 given") {
		t.Fatalf("verify: %v %q", err, out.String())
	}

	// Cut the newest entries and rewrite the head, as someone with write
	// access to the database could, and remove the stored checkpoints.
	raw, err := sql.Open("sqlite", filepath.Join(dir, "remedy.db"))
	if err != nil {
		t.Fatal(err)
	}
	keep := cp.Size - 2
	for _, s := range []string{"DROP TRIGGER audit_log_no_delete", "DROP TRIGGER audit_chain_no_delete",
		"DELETE FROM audit_log WHERE seq IN (SELECT entry_seq FROM audit_chain WHERE pos > ?)",
		"DELETE FROM audit_chain WHERE pos > ?",
		"UPDATE audit_head SET seq = ?1, hash = (SELECT hash FROM audit_chain WHERE pos = ?1) WHERE id = 1",
		"DELETE FROM audit_checkpoints"} {
		var args []any
		if strings.Contains(s, "?") {
			args = []any{keep}
		}
		if _, err := raw.Exec(s, args...); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
	raw.Close()
	if err := run("audit", "verify"); err != nil {
		t.Fatalf("the cut trail no longer verifies on its own: %v", err)
	}
	err = run("audit", "verify", "--checkpoint", first, "--checkpoint", second)
	want := fmt.Sprintf("checkpoint %d", cp.Size)
	if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "cut") {
		t.Fatalf("verify against the checkpoint of the cut trail: %v, want it to name %s", err, want)
	}
}
