// Command remedy runs Remedy: the case tracker for the remediation of child
// labour. It wires configuration, storage and the HTTP API; nothing else.
package main

import (
	"context"
	"errors"
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
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	m := &Main{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv}
	err := m.Run(ctx, os.Args[1:])
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "remedy:", err)
	}
	os.Exit(exitCode(err))
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
// --help on any command prints its usage and does nothing else. An error
// that is a *usageError (exit status 2) means nothing was done: the
// command line named no command, an unknown one, or bad flags or
// arguments; its usage has been printed to Stderr. Any other error is a
// failure of the command (exit status 1).
func (m *Main) Run(ctx context.Context, args []string) error {
	root := m.command()
	if args == nil {
		args = []string{} // nil would make cobra read os.Args
	}
	root.SetArgs(args)
	root.SetIn(m.Stdin)
	root.SetOut(m.Stdout)
	root.SetErr(m.Stderr)
	cmd, err := root.ExecuteContextC(ctx)
	if err == nil {
		return nil
	}
	var (
		failed *failure
		usage  *usageError
	)
	switch {
	case errors.As(err, &failed):
		return failed.err
	case errors.As(err, &usage):
	default:
		// Anything that did not come out of a command's own run is cobra's:
		// an unknown command or flag, a missing flag, a bad argument.
		usage = &usageError{err: err}
	}
	fmt.Fprint(m.Stderr, cmd.UsageString())
	return usage
}

// usageError is a command line the program could not act on; nothing was
// done. It exits with status 2.
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

// usagef returns a usageError for a bad flag or argument found by a
// command before it does anything.
func usagef(format string, args ...any) error {
	return &usageError{err: fmt.Errorf(format, args...)}
}

// failure is the error of a command that ran; Run unwraps it.
type failure struct{ err error }

func (e *failure) Error() string { return e.err.Error() }
func (e *failure) Unwrap() error { return e.err }

// exitCode is the process's exit status for Run's error: 0 for none, 2 for
// a usage error, 1 for a failure.
func exitCode(err error) int {
	var usage *usageError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &usage):
		return 2
	default:
		return 1
	}
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
	sc := cfg.storage(log)
	if sc.Blobs, err = cfg.blobStore(ctx); err != nil {
		return nil, err
	}
	return storage.Open(ctx, sc, keys)
}

// openDatabase opens the database without loading any key: enough to
// migrate it, and nothing more.
func (m *Main) openDatabase(ctx context.Context, cfg Config, log *slog.Logger) (*storage.DB, error) {
	return storage.Open(ctx, cfg.storage(log), nil)
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

// migrate applies the pending migrations, and creates the S3 bucket of
// the documents if it is missing. It reads no key: a migration job needs
// the database's and the bucket's credentials and nothing that opens an
// identity.
func (m *Main) migrate(ctx context.Context) error {
	cfg, err := loadConfig(m.Getenv)
	if err != nil {
		return err
	}
	created, err := cfg.ensureBucket(ctx)
	if err != nil {
		return err
	}
	if created {
		fmt.Fprintln(m.Stdout, "created the documents' bucket")
	}
	db, err := m.openDatabase(ctx, cfg, m.logger(cfg))
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

func (l *recipientList) String() string {
	if len(*l) == 0 {
		return ""
	}
	return fmt.Sprint(len(*l), " recipients")
}
func (l *recipientList) Type() string { return "recipient" }
func (l *recipientList) Set(v string) error {
	r, err := age.ParseX25519Recipient(v)
	if err != nil {
		return errors.New("not an age X25519 recipient (age1…)")
	}
	*l = append(*l, r)
	return nil
}

func (m *Main) keysRotate(ctx context.Context, add, remove recipientList, batch int) error {
	if batch < 1 {
		return usagef("--batch must be at least 1")
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
	// The bar is made once the total is known: a bar of unknown length
	// spins from a goroutine of its own that races with Set64.
	var bar *progressbar.ProgressBar
	n, err := db.RewrapCaseKeys(ctx, batch, func(done, total int64) {
		if bar == nil {
			bar = progressbar.NewOptions64(total, progressbar.OptionSetWriter(m.Stderr),
				progressbar.OptionSetDescription("re-wrapping case keys"), progressbar.OptionShowCount(),
				progressbar.OptionSetPredictTime(true), progressbar.OptionClearOnFinish())
		}
		bar.ChangeMax64(total)
		bar.Set64(done)
	})
	if bar != nil {
		bar.Finish()
	}
	if err != nil {
		return fmt.Errorf("re-wrapped %d case keys, then: %w (run it again to resume)", n, err)
	}
	fmt.Fprintf(m.Stdout, "re-wrapped %d case keys to %d recipients\n", n, len(next))
	return nil
}

func (m *Main) casesErase(ctx context.Context, code string) error {
	if !cases.ValidCode(code) {
		return usagef("%q is not a case code such as CL-2026-0042", code)
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

func (m *Main) serve(ctx context.Context, addr string, demo bool) error {
	cfg, err := loadConfig(m.Getenv)
	if err != nil {
		return err
	}
	if addr != "" {
		cfg.Addr = addr
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
	if !cfg.embedded() && cfg.BlobURL == "" {
		log.Warn("documents are kept in this server's data directory: with several replicas, set REMEDY_BLOB_URL to a shared S3 bucket")
	}

	if demo {
		if err := m.seedDemo(ctx, db, cfg.DemoPassword); err != nil {
			return err
		}
	}
	signing, err := storage.LoadSigningKey(cfg.SigningKeyFile)
	if err != nil {
		return err
	}
	reportKeys, err := reportKeys(cfg)
	if err != nil {
		return err
	}
	verifier, err := reportVerifier(reportKeys)
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
		return fmt.Errorf("start the job queue: %w", err)
	}
	defer func() {
		stop, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		if err := sched.Stop(stop); err != nil {
			log.Warn("the job queue did not stop cleanly", "error", err.Error())
		}
	}()
	byAddress, byUser := cfg.rateLimits()
	svc := services(db)
	authn := auth.New(svc.Users, svc.Audit, svc.SignIns)
	authn.Now = func() time.Time { return db.Now() }
	webh, err := webApp(db, svc, authn, cfg, log, verifier)
	if err != nil {
		return err
	}
	srv, err := api.NewServer(api.Config{
		Services: svc, DB: db, Log: log, SigningKey: signing, Generator: sched,
		Issuer: cfg.TokenIssuer, Audience: cfg.TokenAudience, TokenTTL: cfg.TokenTTL,
		CORSOrigins: cfg.CORSOrigins, TrustedProxies: cfg.proxies(), Now: func() time.Time { return db.Now() },
		Zone: cfg.zone(), ArrearsDays: cfg.ArrearsDays, Build: readBuild().api(), AddressLimit: byAddress, UserLimit: byUser,
		Auth: authn, Web: webh, ReportKeys: verifier, WebhookAllowPrivate: cfg.WebhookAllowPrivate,
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
		Reports: storage.NewReportService(db), Ledger: storage.NewLedgerService(db), Documents: storage.NewDocumentService(db),
		SignIns: storage.NewSignInThrottleService(db), Webhooks: storage.NewWebhookService(db)}
}
