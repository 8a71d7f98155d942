package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"filippo.io/age"

	"github.com/remedy-cases/remedy/api"
	cases "github.com/remedy-cases/remedy/case"
	"github.com/remedy-cases/remedy/internal/testkit"
	"github.com/remedy-cases/remedy/storage"
	"github.com/remedy-cases/remedy/storage/storagetest"
	"github.com/remedy-cases/remedy/workflow"
)

func envOf(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

// cli runs commands over vars as an operator would; out holds what the
// last one printed.
func cli(vars map[string]string) (out *bytes.Buffer, run func(args ...string) error) {
	out = &bytes.Buffer{}
	m := &Main{Stdout: out, Stderr: out, Getenv: envOf(vars)}
	return out, func(args ...string) error {
		out.Reset()
		return m.Run(context.Background(), args)
	}
}

// TestServeEmbedded starts the real serve on :0 against a fresh SQLite
// directory: it creates the key with mode 0600, migrates, and answers.
func TestServeEmbedded(t *testing.T) {
	dir := t.TempDir()
	serve(t, map[string]string{"REMEDY_DATA_DIR": dir})
	info, err := os.Stat(filepath.Join(dir, "age-identity.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o600 {
		t.Fatalf("identity file mode %v, want 0600", info.Mode().Perm())
	}
}

// TestServeDefaultDataDir starts serve with no configuration at all, as the
// README's first command does: the data lands in ./remedy-data.
func TestServeDefaultDataDir(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	serve(t, map[string]string{})
	if _, err := os.Stat(filepath.Join(dir, "remedy-data", "remedy.db")); err != nil {
		t.Fatal(err)
	}
}

// TestServePostgres: migrate needs no key; serve does, and on PostgreSQL
// never creates one.
func TestServePostgres(t *testing.T) {
	cfg := storagetest.Config(t, "postgres")
	dir := t.TempDir()
	vars := map[string]string{"REMEDY_DATA_DIR": dir, "REMEDY_DATABASE_URL": cfg.DatabaseURL}
	var out bytes.Buffer
	m := &Main{Stdout: &out, Stderr: &out, Getenv: envOf(vars)}
	if err := m.Run(context.Background(), []string{"migrate"}); err != nil {
		t.Fatalf("migrate without keys: %v", err)
	}
	mustBeEmpty(t, dir)
	db, err := storage.Open(context.Background(), cfg, nil) // opened, not migrated
	if err != nil {
		t.Fatal(err)
	}
	current, latest, err := db.MigrationStatus(context.Background())
	db.Close()
	if err != nil || current != latest || latest == 0 {
		t.Fatalf("after migrate: schema version %d of %d (%v)", current, latest, err)
	}
	if want := fmt.Sprintf("schema version %d (postgres)", latest); !strings.Contains(out.String(), want) {
		t.Fatalf("migrate said %q, want %q", out.String(), want)
	}
	err = m.Run(context.Background(), []string{"serve", "--addr", "127.0.0.1:0"})
	if err == nil || !strings.Contains(err.Error(), "keys init") {
		t.Fatalf("serve without keys on PostgreSQL: err = %v, want a hint to run keys init", err)
	}
	mustBeEmpty(t, dir)
	if err := m.Run(context.Background(), []string{"keys", "init"}); err != nil {
		t.Fatal(err)
	}
	if err := m.Run(context.Background(), []string{"keys", "init"}); err == nil {
		t.Fatal("keys init overwrote an existing key")
	}
	serve(t, vars)
}

// startServe runs serve on a free loopback port until the returned stop is
// called; stop fails the test if serve did not end cleanly.
func startServe(t *testing.T, vars map[string]string, args ...string) (addr string, out *testkit.SyncBuffer, stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	out = &testkit.SyncBuffer{}
	m := &Main{Stdout: out, Stderr: out, Getenv: envOf(vars), Ready: func(addr string) { ready <- addr }}
	go func() { done <- m.Run(ctx, append([]string{"serve", "--addr", "127.0.0.1:0"}, args...)) }()
	select {
	case addr = <-ready:
	case err := <-done:
		cancel()
		t.Fatalf("serve ended: %v\n%s", err, out.String())
	case <-time.After(5 * time.Minute): // seeding the demo under -race on a busy machine is slow; this only bounds a hang
		cancel()
		t.Fatal("serve did not start")
	}
	return addr, out, func() {
		t.Helper()
		cancel()
		if err := <-done; err != nil {
			t.Fatalf("serve: %v", err)
		}
	}
}

func serve(t *testing.T, vars map[string]string) {
	t.Helper()
	addr, _, stop := startServe(t, vars)
	for _, path := range []string{"/healthz", "/readyz"} {
		resp, err := http.Get("http://" + addr + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s = %d", path, resp.StatusCode)
		}
	}
	stop()
}

func TestConfigErrors(t *testing.T) {
	for name, vars := range map[string]map[string]string{
		"mysql url":      {"REMEDY_DATABASE_URL": "mysql://root:hunter2@localhost/x"},
		"log level":      {"REMEDY_LOG_LEVEL": "loud"},
		"retention":      {"REMEDY_RETENTION_DAYS": "-3"},
		"retention word": {"REMEDY_RETENTION_DAYS": "forever"},
		"token ttl":      {"REMEDY_TOKEN_TTL": "30d"},
		"token ttl long": {"REMEDY_TOKEN_TTL": "72h"},
		"proxies":        {"REMEDY_TRUSTED_PROXIES": "10.0.0.0/8,the load balancer"},
		"cors":           {"REMEDY_CORS_ORIGINS": "app.example.org"},
		"demo password":  {"REMEDY_DEMO_PASSWORD": "short"},
		"rate no slash":  {"REMEDY_RATE_LIMIT_USER": "600"},
		"rate window":    {"REMEDY_RATE_LIMIT_ADDRESS": "600/1500ms"},
		"rate negative":  {"REMEDY_RATE_LIMIT_ADDRESS": "-5/1m"},
		"rate words":     {"REMEDY_RATE_LIMIT_USER": "lots/hour"},
		"blob scheme":    {"REMEDY_BLOB_URL": "ftp://root:hunter2@files/x"},
		"blob no bucket": {"REMEDY_BLOB_URL": "s3://key:hunter2@s3.example.org"},
		"blob one key":   {"REMEDY_BLOB_URL": "s3://hunter2@s3.example.org/docs"},
		"blob relative":  {"REMEDY_BLOB_URL": "file://hunter2/docs"},
		"document size":  {"REMEDY_DOCUMENT_MAX_BYTES": "20MB"},
		"document tiny":  {"REMEDY_DOCUMENT_MAX_BYTES": "10"},
	} {
		_, err := loadConfig(envOf(vars))
		if err == nil {
			t.Errorf("%s: accepted", name)
		} else if strings.Contains(err.Error(), "hunter2") {
			t.Errorf("%s: error repeats the password: %v", name, err)
		}
	}
}

// TestREADMEDiagram: the README's workflow diagram is the one the table generates.
func TestREADMEDiagram(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	m := &Main{Stdout: &out, Stderr: &out, Getenv: envOf(nil)}
	if err := m.Run(context.Background(), []string{"workflow", "diagram"}); err != nil {
		t.Fatal(err)
	}
	if out.String() != workflow.Diagram() {
		t.Fatal("the command prints something else than workflow.Diagram")
	}
	block := "```mermaid\n" + out.String() + "```"
	if !strings.Contains(string(readme), block) {
		t.Fatalf("README.md lacks the generated diagram; paste the output of `go run ./cmd/remedy workflow diagram`:\n%s", block)
	}
}

// TestOperatorCommands runs keys rotate, cases erase and audit verify as an
// operator would, on the embedded default.
func TestOperatorCommands(t *testing.T) {
	dir := t.TempDir()
	vars := map[string]string{"REMEDY_DATA_DIR": dir}
	out, run := cli(vars)
	// migrate on the embedded default makes the database and no key.
	if err := run("migrate"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "remedy.db")); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "age-identity.txt")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("migrate touched the keys: %v", err)
	}
	if err := run("keys", "init"); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"age-identity.txt", "age-recipients.txt", "blind-index.key", "signing.key"} {
		info, err := os.Stat(filepath.Join(dir, f))
		if err != nil || info.Mode().Perm() != 0o600 {
			t.Fatalf("%s: %v, mode %v; want 0600", f, err, info.Mode().Perm())
		}
	}

	// File a case through the storage layer with the server's own keys.
	keys, err := storage.LoadKeyring(storage.DefaultKeyFiles(dir))
	if err != nil {
		t.Fatal(err)
	}
	db, err := storage.Open(context.Background(), storage.Config{DataDir: dir}, keys)
	if err != nil {
		t.Fatal(err)
	}
	fx := storagetest.NewFixture(t, db)
	svc := storage.NewCaseService(db)
	open, err := svc.FileCase(context.Background(), fx.Auditor.Actor(), fx.Report(time.Now().AddDate(0, 0, -1)))
	if err != nil {
		t.Fatal(err)
	}
	// A worker's child, dismissed: a closed case, which may be erased.
	r := fx.Report(time.Now().AddDate(0, 0, -1))
	r.Presence = cases.PresenceAccompanying
	c, err := svc.FileCase(context.Background(), fx.Auditor.Actor(), r)
	if err != nil {
		t.Fatal(err)
	}
	if c, err = svc.Assign(context.Background(), fx.Supervisor.Actor(), c.ID, c.Version, fx.Worker.ID); err != nil {
		t.Fatal(err)
	}
	if _, _, err = svc.Transition(context.Background(), fx.Worker.Actor(), c.ID, c.Version,
		cases.TransitionRequest{Event: cases.EventDismiss, Reason: cases.NewNote("a worker's child")}); err != nil {
		t.Fatal(err)
	}
	db.Close()

	recovery, _ := age.GenerateX25519Identity()
	if err := run("keys", "rotate", "--add", recovery.Recipient().String()); err != nil {
		t.Fatalf("rotate: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "re-wrapped 2 case keys to 2 recipients") {
		t.Fatalf("rotate said %q", out.String())
	}
	server, _ := storage.ServerRecipient(storage.DefaultKeyFiles(dir))
	if err := run("keys", "rotate", "--remove", server.String()); err == nil {
		t.Fatal("rotate removed the server's own recipient")
	}
	// The recovery key alone now opens the case.
	recoveryOnly := storagetest.KeyringOf(t, []*age.X25519Identity{recovery}, []*age.X25519Recipient{recovery.Recipient()}, mustBlindKey(t, dir))
	db = storagetest.OpenWith(t, storage.Config{DataDir: dir}, recoveryOnly)
	if _, err := storage.NewCaseService(db).ReadIdentity(context.Background(), fx.Supervisor.Actor(), c.ID, cases.ReadReason{Code: "legal_obligation"}); err != nil {
		t.Fatalf("the recovery key does not open the case: %v", err)
	}
	db.Close()

	if err := run("cases", "erase", open.Code); err == nil || !strings.Contains(err.Error(), "only a closed case") {
		t.Fatalf("erasing an open case: %v", err)
	}
	if err := run("cases", "erase", c.Code); err != nil {
		t.Fatal(err)
	}
	if err := run("cases", "erase", c.Code); err == nil {
		t.Fatal("a second erasure succeeded")
	}
	if err := run("audit", "verify"); err != nil || !strings.Contains(out.String(), "audit trail verified") {
		t.Fatalf("verify: %v, %q", err, out.String())
	}

	// Tamper with entry 3 behind the database's back: verify names it.
	raw, err := sql.Open("sqlite", filepath.Join(dir, "remedy.db"))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"DROP TRIGGER audit_log_no_update", "UPDATE audit_log SET subject = 'forged' WHERE seq = 3"} {
		if _, err := raw.Exec(s); err != nil {
			t.Fatal(err)
		}
	}
	raw.Close()
	if err := run("audit", "verify"); err == nil || !strings.Contains(err.Error(), "entry 3") {
		t.Fatalf("verify after tampering: %v", err)
	}
}

func mustBlindKey(t *testing.T, dir string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, "blind-index.key"))
	if err != nil {
		t.Fatal(err)
	}
	k, err := hex.DecodeString(strings.TrimSpace(string(data)))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// TestConfigReference: every setting the program reads is in the README's
// configuration table, and the table names nothing else.
func TestConfigReference(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	documented := map[string]bool{}
	for _, line := range strings.Split(string(readme), "\n") {
		if strings.HasPrefix(line, "| `REMEDY_") {
			documented[strings.Trim(strings.Fields(line)[1], "`")] = true
		}
	}
	for _, s := range settings {
		if !documented[s] {
			t.Errorf("%s is read but not in the README", s)
		}
		delete(documented, s)
	}
	for s := range documented {
		t.Errorf("the README documents %s, which nothing reads", s)
	}
	typ := reflect.TypeOf(Config{})
	for i := range typ.NumField() {
		if tag := typ.Field(i).Tag.Get("env"); !slices.Contains(settings, tag) {
			t.Errorf("Config reads %s, missing from settings", tag)
		}
	}
}

// TestHealth is the container's health check: ready while serve runs, an
// error once it stops.
func TestHealth(t *testing.T) {
	vars := map[string]string{"REMEDY_DATA_DIR": t.TempDir()}
	addr, _, stop := startServe(t, vars)
	var out bytes.Buffer
	m := &Main{Stdout: &out, Stderr: &out, Getenv: envOf(map[string]string{"REMEDY_ADDR": addr})}
	if err := m.Run(context.Background(), []string{"health"}); err != nil || !strings.Contains(out.String(), "ready") {
		t.Fatalf("health while serving: %v %s", err, out.String())
	}
	stop()
	if err := m.Run(context.Background(), []string{"health"}); err == nil {
		t.Fatal("health passed with no server")
	}
}

func TestParseRateLimit(t *testing.T) {
	for in, want := range map[string]api.RateLimit{
		"0": {}, "600/1m": {Requests: 600, Window: time.Minute}, " 5/30s ": {Requests: 5, Window: 30 * time.Second},
	} {
		got, err := parseRateLimit(in)
		if err != nil || got != want {
			t.Errorf("%q: got %+v, %v; want %+v", in, got, err, want)
		}
	}
	cfg, err := loadConfig(envOf(nil))
	if err != nil {
		t.Fatal(err)
	}
	address, user := cfg.rateLimits()
	if got, want := address, (api.RateLimit{Requests: 1200, Window: time.Minute}); got != want {
		t.Errorf("default per address %+v, want %+v", got, want)
	}
	if got, want := user, (api.RateLimit{Requests: 600, Window: time.Minute}); got != want {
		t.Errorf("default per user %+v, want %+v", got, want)
	}
}
