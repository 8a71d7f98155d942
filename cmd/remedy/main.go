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
	"slices"
	"syscall"
	"time"

	"filippo.io/age"
	"github.com/schollz/progressbar/v3"

	"github.com/remedy-cases/remedy/api"
	"github.com/remedy-cases/remedy/auth"
	cases "github.com/remedy-cases/remedy/case"
	"github.com/remedy-cases/remedy/storage"
	"github.com/remedy-cases/remedy/workflow"
)

const usage = `Usage: remedy <command> [flags]

Commands:
  serve [--addr ADDR] [--demo]
                             migrate the database and serve the API; --demo
                             first seeds an empty database with demo data
  users add --email E --name N --role R [--client ID] [--password-stdin]
                             create a user and print its password once
  migrate                    apply pending database migrations
  backup --out FILE          copy the embedded database consistently (on
                             PostgreSQL, use pg_dump: see the README)
  health [--url URL]         exit 0 if the server at URL (default: REMEDY_ADDR)
                             is ready; for container health checks
  keys init                  create the missing key files (never overwrites)
  keys rotate [--add R]... [--remove R]... [--batch N]
                             change the age recipients and re-wrap every case
                             key to them; run it again to resume
  cases erase CODE           crypto-shred a case's identity and notes
  audit verify               check the audit trail's hash chain
  workflow diagram           print the case workflow as a Mermaid diagram
  reports generate --client ID|NAME --month YYYY-MM --out FILE
                             render a client's monthly report to a PDF file
                             (neither stored nor emailed)

Configuration comes from REMEDY_* environment variables (see the README).
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	m := &Main{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv}
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
	Stdin          io.Reader
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
	case cmd == "users" && len(rest) >= 1 && rest[0] == "add":
		return m.usersAdd(ctx, rest[1:])
	case cmd == "backup":
		return m.backup(ctx, rest)
	case cmd == "health":
		return m.health(ctx, rest)
	case cmd == "migrate":
		return m.migrate(ctx)
	case cmd == "keys" && len(rest) == 1 && rest[0] == "init":
		return m.keysInit()
	case cmd == "keys" && len(rest) >= 1 && rest[0] == "rotate":
		return m.keysRotate(ctx, rest[1:])
	case cmd == "cases" && len(rest) == 2 && rest[0] == "erase":
		return m.casesErase(ctx, rest[1])
	case cmd == "audit" && len(rest) == 1 && rest[0] == "verify":
		return m.auditVerify(ctx)
	case cmd == "workflow" && len(rest) == 1 && rest[0] == "diagram":
		_, err := io.WriteString(m.Stdout, workflow.Diagram())
		return err
	case cmd == "reports" && len(rest) >= 1 && rest[0] == "generate":
		return m.reportsGenerate(ctx, rest[1:])
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

// open loads the keys and opens the database. On the embedded default the
// missing key files are created; with PostgreSQL they must exist, so that
// two servers can never start with different keys.
func (m *Main) open(ctx context.Context, cfg Config, log *slog.Logger) (*storage.DB, error) {
	if cfg.embedded() {
		created, err := storage.InitKeys(cfg.keyFiles())
		if err != nil {
			return nil, err
		}
		for _, f := range created {
			log.Info("created key file", "path", f)
		}
	}
	keys, err := storage.LoadKeyring(cfg.keyFiles())
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("%w (run `remedy keys init` first)", err)
		}
		return nil, err
	}
	return storage.Open(ctx, storage.Config{DatabaseURL: cfg.DatabaseURL, DataDir: cfg.DataDir, Logger: log}, keys)
}

// openMigrated opens the database of cfg and applies pending migrations,
// returning the versions it applied.
func (m *Main) openMigrated(ctx context.Context, cfg Config, log *slog.Logger) (*storage.DB, []int64, error) {
	db, err := m.open(ctx, cfg, log)
	if err != nil {
		return nil, nil, err
	}
	applied, err := db.Migrate(ctx)
	if err != nil {
		db.Close()
		return nil, nil, err
	}
	return db, applied, nil
}

// openForCommand loads the configuration and opens the migrated database.
func (m *Main) openForCommand(ctx context.Context) (*storage.DB, error) {
	cfg, err := loadConfig(m.Getenv)
	if err != nil {
		return nil, err
	}
	db, _, err := m.openMigrated(ctx, cfg, m.logger(cfg))
	return db, err
}

func (m *Main) migrate(ctx context.Context) error {
	cfg, err := loadConfig(m.Getenv)
	if err != nil {
		return err
	}
	db, applied, err := m.openMigrated(ctx, cfg, m.logger(cfg))
	if err != nil {
		return err
	}
	defer db.Close()
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
	created, err := storage.InitKeys(cfg.keyFiles())
	if err != nil {
		return err
	}
	if len(created) == 0 {
		return fmt.Errorf("every key file exists already (%s); keys init never overwrites a key", cfg.AgeIdentityFile)
	}
	for _, f := range created {
		fmt.Fprintf(m.Stdout, "created %s\n", f)
	}
	return nil
}

// recipientList collects repeated --add and --remove flags.
type recipientList []*age.X25519Recipient

func (l *recipientList) String() string { return fmt.Sprint(len(*l), " recipients") }
func (l *recipientList) Set(v string) error {
	r, err := age.ParseX25519Recipient(v)
	if err != nil {
		return errors.New("not an age X25519 recipient (age1…)")
	}
	*l = append(*l, r)
	return nil
}

func (m *Main) keysRotate(ctx context.Context, args []string) error {
	var add, remove recipientList
	fs := flag.NewFlagSet("keys rotate", flag.ContinueOnError)
	fs.SetOutput(m.Stderr)
	fs.Var(&add, "add", "recipient to add (repeatable)")
	fs.Var(&remove, "remove", "recipient to remove (repeatable)")
	batch := fs.Int("batch", 500, "case keys re-wrapped per transaction")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := loadConfig(m.Getenv)
	if err != nil {
		return err
	}
	files := cfg.keyFiles()
	current, err := storage.ReadRecipients(files.Recipients)
	if err != nil {
		return err
	}
	next := slices.Clone(current)
	for _, r := range add {
		if !slices.ContainsFunc(next, func(x *age.X25519Recipient) bool { return x.String() == r.String() }) {
			next = append(next, r)
		}
	}
	next = slices.DeleteFunc(next, func(x *age.X25519Recipient) bool {
		return slices.ContainsFunc(remove, func(r *age.X25519Recipient) bool { return r.String() == x.String() })
	})
	server, err := storage.ServerRecipient(files)
	if err != nil {
		return err
	}
	if !slices.ContainsFunc(next, func(x *age.X25519Recipient) bool { return x.String() == server.String() }) {
		return fmt.Errorf("the recipients must keep the server's own (%s), or it could not open the case keys; put a new identity first in %s to replace it", server, files.Identity)
	}
	// Write the new set first: from now on new cases use it, and a run that
	// stops half-way resumes with `remedy keys rotate`.
	if err := storage.WriteRecipients(files.Recipients, next); err != nil {
		return err
	}
	db, _, err := m.openMigrated(ctx, cfg, m.logger(cfg))
	if err != nil {
		return err
	}
	defer db.Close()
	bar := progressbar.NewOptions64(-1, progressbar.OptionSetWriter(m.Stderr),
		progressbar.OptionSetDescription("re-wrapping case keys"), progressbar.OptionShowCount(),
		progressbar.OptionSetPredictTime(true), progressbar.OptionClearOnFinish())
	n, err := db.RewrapCaseKeys(ctx, *batch, func(done, total int64) {
		bar.ChangeMax64(total)
		bar.Set64(done)
	})
	bar.Finish()
	if err != nil {
		return fmt.Errorf("re-wrapped %d case keys, then: %w (run it again to resume)", n, err)
	}
	fmt.Fprintf(m.Stdout, "re-wrapped %d case keys to %d recipients\n", n, len(next))
	return nil
}

func (m *Main) casesErase(ctx context.Context, code string) error {
	if !cases.ValidCode(code) {
		return fmt.Errorf("%q is not a case code such as CL-2026-0042", code)
	}
	db, err := m.openForCommand(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	svc := storage.NewCaseService(db)
	c, err := svc.FindCaseByCode(ctx, code)
	if err != nil {
		return errors.New(cases.ErrorMessage(err))
	}
	if err := svc.EraseCase(ctx, cases.SystemActor, c.ID); err != nil {
		return errors.New(cases.ErrorMessage(err))
	}
	fmt.Fprintf(m.Stdout, "erased the identity and notes of %s\n", code)
	return nil
}

func (m *Main) auditVerify(ctx context.Context) error {
	db, err := m.openForCommand(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	n, err := storage.NewAuditService(db).Verify(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "audit trail verified: %d entries\n", n)
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
	demo := fs.Bool("demo", false, "on an empty database, seed demo brands, factories, users and cases")
	if err := fs.Parse(args); err != nil {
		return err
	}
	log := m.logger(cfg)
	db, applied, err := m.openMigrated(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer db.Close()
	if len(applied) > 0 {
		log.Info("migrated", "applied", len(applied), "dialect", db.Dialect())
	}

	if cfg.RetentionDays > 0 {
		go m.retain(ctx, db, cfg.RetentionDays, log)
	}

	if *demo {
		if err := m.seedDemo(ctx, db, cfg.DemoPassword); err != nil {
			return err
		}
	}
	signing, err := storage.LoadSigningKey(cfg.SigningKeyFile)
	if err != nil {
		return err
	}
	sched, closeQueue, err := m.scheduler(ctx, cfg, db, log)
	if err != nil {
		return err
	}
	defer closeQueue()
	// River runs on its own context: its jobs finish during Stop below
	// rather than being cut by the signal that ends serve.
	if err := sched.Start(context.WithoutCancel(ctx)); err != nil {
		return fmt.Errorf("start the report schedule: %w", err)
	}
	defer func() {
		stop, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		if err := sched.Stop(stop); err != nil {
			log.Warn("report schedule did not stop cleanly", "error", err.Error())
		}
	}()
	svc := services(db)
	authn := auth.New(svc.Users, svc.Audit, func() time.Time { return db.Now() })
	webh, err := webApp(db, svc, authn, cfg, log)
	if err != nil {
		return err
	}
	srv, err := api.NewServer(api.Config{
		Services: svc, DB: db, Log: log, SigningKey: signing, Generator: sched,
		Issuer: cfg.TokenIssuer, Audience: cfg.TokenAudience, TokenTTL: cfg.TokenTTL,
		CORSOrigins: cfg.CORSOrigins, TrustedProxies: cfg.proxies(), Now: func() time.Time { return db.Now() },
		Auth: authn, Web: webh,
	})
	if err != nil {
		return err
	}
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

// services returns the domain services of db.
func services(db *storage.DB) api.Services {
	return api.Services{Cases: storage.NewCaseService(db), Clients: storage.NewClientService(db),
		Factories: storage.NewFactoryService(db), Users: storage.NewUserService(db), Audit: storage.NewAuditService(db),
		Reports: storage.NewReportService(db)}
}

// retain erases closed cases past the retention period, hourly. With
// several servers, each erases what is due; an erasure is idempotent.
func (m *Main) retain(ctx context.Context, db *storage.DB, days int, log *slog.Logger) {
	svc := storage.NewCaseService(db)
	tick := time.NewTicker(time.Hour)
	defer tick.Stop()
	for {
		n, err := svc.EraseClosedBefore(ctx, db.Now().AddDate(0, 0, -days))
		if err != nil && ctx.Err() == nil {
			log.Error("retention erasure failed", "erased", n, "code", cases.ErrorCode(err))
		} else if n > 0 {
			log.Info("retention erased closed cases", "erased", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}
