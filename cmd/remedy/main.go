// Command remedy runs Remedy: the case tracker for the remediation of child
// labour. It wires configuration, storage and the HTTP API; nothing else.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"filippo.io/age"

	"github.com/remedy-cases/remedy/api"
	"github.com/remedy-cases/remedy/storage"
	"github.com/remedy-cases/remedy/workflow"
)

const usage = `Usage: remedy <command> [flags]

Commands:
  serve [--addr ADDR]   migrate the database and serve the API
  migrate               apply pending database migrations
  keys init             create the server's age identity
  workflow diagram      print the case workflow as a Mermaid diagram

Configuration comes from REMEDY_* environment variables (see the README).
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	m := &Main{Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv}
	if err := m.Run(ctx, os.Args[1:]); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "remedy:", err)
		}
		os.Exit(1)
	}
}

// Main is the program, with its outside world injected so that tests can
// run it in-process.
type Main struct {
	Stdout, Stderr io.Writer
	Getenv         func(string) string

	// Ready, when set, receives the serving address once serve listens.
	Ready func(addr string)
}

// Run runs the command named by args until it ends or ctx is cancelled.
func (m *Main) Run(ctx context.Context, args []string) error {
	if len(args) == 0 {
		fmt.Fprint(m.Stderr, usage)
		return errors.New("no command")
	}
	switch cmd, rest := args[0], args[1:]; {
	case cmd == "serve":
		return m.serve(ctx, rest)
	case cmd == "migrate":
		return m.migrate(ctx)
	case cmd == "keys" && len(rest) == 1 && rest[0] == "init":
		return m.keysInit()
	case cmd == "workflow" && len(rest) == 1 && rest[0] == "diagram":
		_, err := io.WriteString(m.Stdout, workflow.Diagram())
		return err
	case cmd == "help" || cmd == "-h" || cmd == "--help":
		fmt.Fprint(m.Stdout, usage)
		return nil
	}
	fmt.Fprint(m.Stderr, usage)
	return fmt.Errorf("unknown command %q", args[0])
}

func (m *Main) logger(cfg Config) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.LogLevel))
	return slog.New(slog.NewJSONHandler(m.Stderr, &slog.HandlerOptions{Level: level}))
}

// open loads the keys and opens the database. On the embedded default a
// missing server identity is created; with PostgreSQL it must exist, so
// that two servers can never start with different keys.
func (m *Main) open(ctx context.Context, cfg Config, log *slog.Logger) (*storage.DB, error) {
	id, err := storage.LoadOrCreateIdentity(cfg.AgeIdentityFile, cfg.embedded())
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("%w (run `remedy keys init` first)", err)
		}
		return nil, err
	}
	keys, err := storage.NewKeyring([]age.Identity{id}, []age.Recipient{id.Recipient()})
	if err != nil {
		return nil, err
	}
	return storage.Open(ctx, storage.Config{DatabaseURL: cfg.DatabaseURL, DataDir: cfg.DataDir, Logger: log}, keys)
}

func (m *Main) migrate(ctx context.Context) error {
	cfg, err := loadConfig(m.Getenv)
	if err != nil {
		return err
	}
	log := m.logger(cfg)
	db, err := m.open(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer db.Close()
	applied, err := db.Migrate(ctx)
	if err != nil {
		return err
	}
	current, _, err := db.MigrationStatus(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "applied %d migrations; schema version %d (%s)\n", len(applied), current, db.Dialect())
	return nil
}

func (m *Main) keysInit() error {
	cfg, err := loadConfig(m.Getenv)
	if err != nil {
		return err
	}
	if _, err := os.Stat(cfg.AgeIdentityFile); err == nil {
		return fmt.Errorf("%s exists already; keys init never overwrites a key", cfg.AgeIdentityFile)
	}
	id, err := storage.LoadOrCreateIdentity(cfg.AgeIdentityFile, true)
	if err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "created %s (public key %s)\n", cfg.AgeIdentityFile, id.Recipient())
	return nil
}

func (m *Main) serve(ctx context.Context, args []string) error {
	cfg, err := loadConfig(m.Getenv)
	if err != nil {
		return err
	}
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(m.Stderr)
	fs.StringVar(&cfg.Addr, "addr", cfg.Addr, "listen address")
	if err := fs.Parse(args); err != nil {
		return err
	}
	log := m.logger(cfg)
	db, err := m.open(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer db.Close()
	if applied, err := db.Migrate(ctx); err != nil {
		return err
	} else if len(applied) > 0 {
		log.Info("migrated", "applied", len(applied), "dialect", db.Dialect())
	}

	srv := api.NewServer(db, log)
	if err := srv.Open(cfg.Addr); err != nil {
		return err
	}
	log.Info("serving", "addr", srv.Addr(), "dialect", db.Dialect())
	if m.Ready != nil {
		m.Ready(srv.Addr())
	}
	<-ctx.Done()
	shutdown, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	log.Info("shutting down")
	return srv.Close(shutdown)
}
