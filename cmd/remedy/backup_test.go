package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"io"
	"io/fs"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	cases "github.com/remedy-cases/remedy/case"
	"github.com/remedy-cases/remedy/storage"
	"github.com/remedy-cases/remedy/storage/storagetest"
)

// attachDocument attaches a scanned ID (a PDF) to the first of the demo's
// cases, as a supervisor, and returns it with its content.
func attachDocument(t *testing.T, vars map[string]string) (*cases.Document, []byte) {
	t.Helper()
	ctx := context.Background()
	var out bytes.Buffer
	m := &Main{Stdout: &out, Stderr: &out, Getenv: envOf(vars)}
	db, err := m.openForCommand(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	page, err := storage.NewCaseService(db).ListCases(ctx, cases.CaseFilter{Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	content := append([]byte("%PDF-1.7\n% a household register page\n"), bytes.Repeat([]byte("scan "), 30_000)...)
	d, err := storage.NewDocumentService(db).AttachDocument(ctx, supervisor(t, db).Actor(), page.Cases[0].ID,
		cases.NewDocument{Kind: "household_register", Step: cases.StepVerification, Name: cases.NewFileName("户口簿.pdf")},
		bytes.NewReader(content))
	if err != nil {
		t.Fatal(err)
	}
	return d, content
}

func supervisor(t *testing.T, db *storage.DB) *cases.User {
	t.Helper()
	users, err := storage.NewUserService(db).ListUsers(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range users {
		if u.Role == cases.RoleSupervisor {
			return u
		}
	}
	t.Fatal("no supervisor")
	return nil
}

// restoredMatches opens the database of vars and checks that it holds the
// demo's 40 cases, that the audit chain verifies, and that an identity and
// the document doc (with content) open with the keys kept apart from the
// backup.
func restoredMatches(t *testing.T, vars map[string]string, doc *cases.Document, content []byte) {
	t.Helper()
	ctx := context.Background()
	var out bytes.Buffer
	m := &Main{Stdout: &out, Stderr: &out, Getenv: envOf(vars)}
	if err := m.Run(ctx, []string{"audit", "verify"}); err != nil {
		t.Fatalf("audit verify on the restored copy: %v\n%s", err, out.String())
	}
	db, err := m.openForCommand(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	svc := storage.NewCaseService(db)
	page, err := svc.ListCases(ctx, cases.CaseFilter{Limit: 200})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Cases) != 40 {
		t.Fatalf("the restored copy holds %d cases, want 40", len(page.Cases))
	}
	sup := supervisor(t, db)
	conf, err := svc.ReadIdentity(ctx, sup.Actor(), page.Cases[0].ID, cases.ReadReason{Code: "legal_obligation"})
	if err != nil || conf.Identity.FullName == "" {
		t.Fatalf("an identity did not open on the restored copy: %v", err)
	}
	o, err := storage.NewDocumentService(db).OpenDocument(ctx, sup.Actor(), doc.CaseID, doc.ID, cases.ReadReason{Code: "legal_obligation"})
	if err != nil {
		t.Fatalf("the document did not open on the restored copy: %v", err)
	}
	defer o.Content.Close()
	got, err := io.ReadAll(o.Content)
	if err != nil || !bytes.Equal(got, content) || o.Name.Text() != "户口簿.pdf" {
		t.Fatalf("the restored document reads %d bytes named %q: %v", len(got), o.Name.Text(), err)
	}
}

// TestBackupRestoreEmbedded: remedy backup, then the copy and the key files
// in a fresh directory give back every case, identity and audit entry.
func TestBackupRestoreEmbedded(t *testing.T) {
	src := t.TempDir()
	vars := map[string]string{"REMEDY_DATA_DIR": src, "REMEDY_DEMO_PASSWORD": "demo password 123"}
	_, _, stop := startServe(t, vars, "--demo")
	stop()
	doc, content := attachDocument(t, vars)
	backup := filepath.Join(t.TempDir(), "remedy-backup.db")
	var out bytes.Buffer
	m := &Main{Stdout: &out, Stderr: &out, Getenv: envOf(vars)}
	if err := m.Run(context.Background(), []string{"backup", "--out", backup}); err != nil {
		t.Fatalf("backup: %v\n%s", err, out.String())
	}
	if err := m.Run(context.Background(), []string{"backup", "--out", backup}); err == nil {
		t.Fatal("a backup overwrote an existing file")
	}
	if !strings.Contains(out.String(), "copied 1 sealed documents") {
		t.Fatalf("backup did not copy the document: %s", out.String())
	}
	dst := t.TempDir()
	copyFile(t, backup, filepath.Join(dst, "remedy.db"))
	copyDir(t, backup+".blobs", filepath.Join(dst, "blobs"))
	for _, f := range []string{"age-identity.txt", "age-recipients.txt", "blind-index.key", "signing.key"} {
		copyFile(t, filepath.Join(src, f), filepath.Join(dst, f))
	}
	restoredMatches(t, map[string]string{"REMEDY_DATA_DIR": dst}, doc, content)
}

// copyDir copies a directory tree, as an operator's cp -a would.
func copyDir(t *testing.T, from, to string) {
	t.Helper()
	err := filepath.WalkDir(from, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, path)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(to, rel), 0o700)
		}
		copyFile(t, path, filepath.Join(to, rel))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestBackupRestorePostgres: pg_dump, then pg_restore into a fresh database,
// with the key files kept apart, gives back everything.
func TestBackupRestorePostgres(t *testing.T) {
	cfg := storagetest.Config(t, "postgres")
	base := storagetest.RequirePostgres(t)
	keys := t.TempDir()
	vars := map[string]string{"REMEDY_DATA_DIR": keys, "REMEDY_DATABASE_URL": cfg.DatabaseURL,
		"REMEDY_DEMO_PASSWORD": "demo password 123"}
	var out bytes.Buffer
	m := &Main{Stdout: &out, Stderr: &out, Getenv: envOf(vars)}
	if err := m.Run(context.Background(), []string{"keys", "init"}); err != nil {
		t.Fatal(err)
	}
	_, _, stop := startServe(t, vars, "--demo")
	stop()
	// The blobs stay where they are (keys/blobs): on PostgreSQL they are
	// backed up apart, with the blob store's own tools.
	doc, content := attachDocument(t, vars)

	u, _ := url.Parse(cfg.DatabaseURL)
	schema := u.Query().Get("search_path")
	dump := filepath.Join(t.TempDir(), "remedy.dump")
	run(t, "pg_dump", "--format=custom", "--schema="+schema, "--file="+dump, base)

	b := make([]byte, 6)
	rand.Read(b)
	name := "restore_" + hex.EncodeToString(b)
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	if _, err := admin.Exec("CREATE DATABASE " + name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Exec("DROP DATABASE " + name + " WITH (FORCE)") })
	restored, _ := url.Parse(base)
	restored.Path = "/" + name
	// A dump of one schema leaves out the extensions, which live in public
	// (pg_trgm, for searching codes); a dump of the database has them.
	fresh, err := sql.Open("pgx", restored.String())
	if err != nil {
		t.Fatal(err)
	}
	defer fresh.Close()
	if _, err := fresh.Exec("CREATE EXTENSION pg_trgm SCHEMA public"); err != nil {
		t.Fatal(err)
	}
	run(t, "pg_restore", "--no-owner", "--dbname="+restored.String(), dump)
	q := restored.Query()
	q.Set("search_path", schema)
	restored.RawQuery = q.Encode()
	restoredMatches(t, map[string]string{"REMEDY_DATA_DIR": keys, "REMEDY_DATABASE_URL": restored.String()}, doc, content)
}

func run(t *testing.T, name string, args ...string) {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", name, err, strings.TrimSpace(string(out)))
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	data, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, data, 0o600); err != nil {
		t.Fatal(err)
	}
}
