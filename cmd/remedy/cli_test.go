package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spf13/cobra"
)

// commandPaths lists every command the program has, cobra's own help and
// completion commands included, as the words that name it.
func commandPaths(t *testing.T) [][]string {
	t.Helper()
	root := (&Main{}).command()
	root.InitDefaultHelpCmd()
	root.InitDefaultCompletionCmd()
	var paths [][]string
	walk(root, func(c *cobra.Command) {
		if c.Hidden {
			return
		}
		paths = append(paths, strings.Fields(c.CommandPath())[1:])
	})
	if len(paths) < 20 {
		t.Fatalf("only %d commands found: %v", len(paths), paths)
	}
	return paths
}

// runIn runs the program in-process in an empty working directory with an
// empty environment, so that anything it did would land in ./remedy-data.
func runIn(t *testing.T, dir string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errOut bytes.Buffer
	m := &Main{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errOut, Getenv: envOf(nil)}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err = m.Run(ctx, args)
	return out.String(), errOut.String(), err
}

// mustBeEmpty fails t if dir holds anything: the command did something.
func mustBeEmpty(t *testing.T, dir string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		t.Errorf("the command created %s", e.Name())
	}
}

// TestHelp walks every command and subcommand with --help and -h: each
// prints its own usage on stdout, exits 0, and does nothing else: no data
// directory, no database, no key file.
func TestHelp(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	for _, path := range commandPaths(t) {
		for _, flag := range []string{"--help", "-h"} {
			args := append(slices.Clone(path), flag)
			t.Run(strings.Join(args, " "), func(t *testing.T) {
				stdout, stderr, err := runIn(t, dir, args...)
				if got, want := exitCode(err), 0; got != want {
					t.Fatalf("exit status %d (%v), want %d", got, err, want)
				}
				usage := "Usage:\n  " + strings.Join(append([]string{"remedy"}, path...), " ")
				if !strings.Contains(stdout, usage) {
					t.Errorf("stdout lacks %q:\n%s", usage, stdout)
				}
				if stderr != "" {
					t.Errorf("stderr: %s", stderr)
				}
				mustBeEmpty(t, dir)
			})
		}
	}
}

// TestExitCodes: a command line the program cannot act on exits 2, prints
// the usage on stderr and does nothing; a command that fails exits 1.
func TestExitCodes(t *testing.T) {
	t.Run("ErrUsage", func(t *testing.T) {
		for _, args := range []string{
			"", "frobnicate", "keys", "keys frob", "users", "serve --bogus", "serve extra", "migrate extra",
			"backup", "cases erase", "cases erase a b", "cases erase not-a-code", "keys rotate --add not-a-key",
			"keys rotate --batch 0", "reports generate --client x --month 2026-13 --out f.pdf",
			"reports generate --client x", "users add --email a@example.org --name A",
			"users add --email a@example.org --name A --role pilot", "users add --email x --name A --role admin",
			"users add --email a@example.org --name A --role client --client 42", "audit verify --checkpoint",
		} {
			t.Run(args, func(t *testing.T) {
				dir := t.TempDir()
				t.Chdir(dir)
				_, stderr, err := runIn(t, dir, strings.Fields(args)...)
				if got, want := exitCode(err), 2; got != want {
					t.Fatalf("exit status %d (%v), want %d", got, err, want)
				}
				if !strings.Contains(stderr, "Usage:") {
					t.Errorf("stderr lacks the usage: %q", stderr)
				}
				mustBeEmpty(t, dir)
			})
		}
	})
	t.Run("ErrFailure", func(t *testing.T) {
		dir := t.TempDir()
		t.Chdir(dir)
		for _, args := range []string{"cases erase CL-2026-0042", "health --url http://127.0.0.1:1/readyz"} {
			_, stderr, err := runIn(t, dir, strings.Fields(args)...)
			if got, want := exitCode(err), 1; got != want {
				t.Errorf("%s: exit status %d (%v), want %d", args, got, err, want)
			}
			if strings.Contains(stderr, "Usage:") {
				t.Errorf("%s: a failure printed the usage", args)
			}
		}
	})
	t.Run("OK", func(t *testing.T) {
		dir := t.TempDir()
		t.Chdir(dir)
		for _, args := range []string{"version", "--version", "workflow diagram", "help", "help keys rotate", "completion bash"} {
			stdout, _, err := runIn(t, dir, strings.Fields(args)...)
			if got, want := exitCode(err), 0; got != want || stdout == "" {
				t.Errorf("%s: exit status %d (%v), want %d, stdout %q", args, got, err, want, stdout)
			}
		}
		mustBeEmpty(t, dir)
	})
}

// TestVersion: version and --version print the same build information.
func TestVersion(t *testing.T) {
	dir := t.TempDir()
	a, _, err := runIn(t, dir, "version")
	if err != nil {
		t.Fatal(err)
	}
	b, _, err := runIn(t, dir, "--version")
	if err != nil {
		t.Fatal(err)
	}
	if a != b {
		t.Errorf("version says %q, --version %q", a, b)
	}
	if !regexp.MustCompile(`^remedy \S+\nrevision: \S+.*\ntime: \S+\ngo: go1\.\S+\n$`).MatchString(a) {
		t.Errorf("version printed %q", a)
	}
}

// binary builds the remedy command once for the tests that run it as a
// process, with VCS stamping on wherever git can give it.
var binary = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "remedy-bin-")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "remedy")
	if out, err := exec.Command("go", "build", "-buildvcs=auto", "-o", bin, ".").CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build: %v\n%s", err, out)
	}
	return bin, nil
})

func mustBinary(t *testing.T) string {
	t.Helper()
	bin, err := binary()
	if err != nil {
		t.Fatal(err)
	}
	return bin
}

func TestMain(m *testing.M) {
	code := m.Run()
	if bin, err := binary(); err == nil && bin != "" {
		os.RemoveAll(filepath.Dir(bin))
	}
	os.Exit(code)
}

// TestBuildInfo runs the built binary: it names the commit it was built
// from (when built in a git checkout), exits 2 on a usage error, and its
// server reports the same revision in remedy_build_info.
func TestBuildInfo(t *testing.T) {
	bin := mustBinary(t)
	out, err := exec.Command(bin, "version").Output()
	if err != nil {
		t.Fatal(err)
	}
	head, gitErr := exec.Command("git", "rev-parse", "HEAD").Output()
	rev := regexp.MustCompile(`(?m)^revision: (\S+)`).FindStringSubmatch(string(out))
	if rev == nil {
		t.Fatalf("version printed %q", out)
	}
	// The go command stamps a checkout whose .git is a directory; in a git
	// worktree (.git is a file) it stamps nothing.
	if info, err := os.Stat("../../.git"); gitErr == nil && err == nil && info.IsDir() {
		if got, want := rev[1], strings.TrimSpace(string(head)); got != want {
			t.Errorf("revision %s, want HEAD %s", got, want)
		}
	} else {
		t.Logf("not a plain git checkout: the revision (%s) is not compared with HEAD", rev[1])
	}
	err = exec.Command(bin, "frobnicate").Run()
	if exit, ok := err.(*exec.ExitError); !ok || exit.ExitCode() != 2 {
		t.Errorf("an unknown command: %v, want exit status 2", err)
	}

	p := startProcess(t, bin, map[string]string{"REMEDY_DATA_DIR": t.TempDir()})
	res, err := http.Get("http://" + p.addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	metrics, _ := io.ReadAll(res.Body)
	line := regexp.MustCompile(`(?m)^remedy_build_info\{[^}]*revision="([^"]+)"[^}]*\} 1$`).FindStringSubmatch(string(metrics))
	if line == nil {
		t.Fatalf("no remedy_build_info in /metrics")
	}
	want := rev[1]
	if strings.Contains(string(out), "(modified)") {
		want += "-modified"
	}
	if got := line[1]; got != want {
		t.Errorf("remedy_build_info revision %q, want %q", got, want)
	}
}

// TestServeRateLimits: the REMEDY_RATE_LIMIT_* settings reach the server.
func TestServeRateLimits(t *testing.T) {
	dir := t.TempDir()
	vars := map[string]string{"REMEDY_DATA_DIR": dir, "REMEDY_RATE_LIMIT_USER": "2/1m", "REMEDY_RATE_LIMIT_ADDRESS": "0"}
	m := &Main{Stdin: strings.NewReader("a password of some length\n"), Stdout: io.Discard, Stderr: io.Discard, Getenv: envOf(vars)}
	if err := m.Run(context.Background(), []string{"users", "add", "--email", "s@example.org", "--name", "S",
		"--role", "supervisor", "--password-stdin"}); err != nil {
		t.Fatal(err)
	}
	addr, _, stop := startServe(t, vars)
	defer stop()
	api := client{t: t, base: "http://" + addr}
	tok := api.signIn("s@example.org", "a password of some length")
	h := api.call("GET", "/v1/workflow", tok, nil, nil, http.StatusOK)
	if got, want := h.Get("RateLimit-Policy"), `"user";q=2;w=60`; got != want {
		t.Errorf("RateLimit-Policy %q, want %q", got, want)
	}
	api.call("GET", "/v1/workflow", tok, nil, nil, http.StatusOK)
	h = api.call("GET", "/v1/workflow", tok, nil, nil, http.StatusTooManyRequests)
	if h.Get("Retry-After") == "" {
		t.Error("a 429 without Retry-After")
	}
}
