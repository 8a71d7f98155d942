// Package schedule runs Remedy's background work with River, in the
// database of the cases: the monthly reports (a periodic job early each
// month fans out one job per active client, and each new report gets a
// delivery job), the hourly retention purge, the hourly sweep of
// orphaned document blobs and the hourly signed checkpoint of the audit
// trail. Every step is idempotent
// (unique jobs, first-only storage, sent reports skipped, erasure of what is
// still sealed), and River's elected leader alone enqueues periodic jobs, so
// several serve processes on one database, a retried job or a restart give
// one report per client and month and one purge an hour.
package schedule

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
	"github.com/riverqueue/river/rivertype"

	cases "github.com/remedy-cases/remedy/case"
	"github.com/remedy-cases/remedy/reports"
)

// MonthlyArgs asks for every active client's report of Month.
type MonthlyArgs struct {
	Month string `json:"month"`
}

func (MonthlyArgs) Kind() string { return "monthly_reports" }

// ClientReportArgs asks for one client's report of Month.
type ClientReportArgs struct {
	ClientID uuid.UUID `json:"client_id"`
	Month    string    `json:"month"`
}

func (ClientReportArgs) Kind() string { return "client_monthly_report" }

// DeliverArgs asks for a stored report to be emailed.
type DeliverArgs struct {
	ReportID uuid.UUID `json:"report_id"`
}

func (DeliverArgs) Kind() string { return "deliver_monthly_report" }

// RetentionArgs asks for the identity and notes of every case closed more
// than the retention period ago to be erased.
type RetentionArgs struct{}

func (RetentionArgs) Kind() string { return "retention_purge" }

// OrphanArgs asks for the sealed blobs that no document refers to to be
// removed: what a crash between the blob store and the database, or a
// deletion that failed after an erasure, left behind.
type OrphanArgs struct{}

func (OrphanArgs) Kind() string { return "document_orphans" }

// CheckpointArgs asks for a signed checkpoint of the audit trail's head.
type CheckpointArgs struct{}

func (CheckpointArgs) Kind() string { return "audit_checkpoint" }

var unique = &river.InsertOpts{UniqueOpts: river.UniqueOpts{ByArgs: true}}

// hourly makes a job unique within its clock hour: however many processes
// start or insert it, one runs an hour.
var hourly = &river.InsertOpts{UniqueOpts: river.UniqueOpts{ByPeriod: time.Hour}}

// Eraser crypto-shreds the identity and notes of closed cases.
type Eraser interface {
	// EraseClosedBefore erases every case closed before cutoff that still
	// holds sealed data, and returns how many it erased.
	EraseClosedBefore(ctx context.Context, cutoff time.Time) (int, error)
}

// OrphanSweeper removes blobs written before cutoff that no document
// refers to, and returns how many it removed.
type OrphanSweeper interface {
	RemoveOrphanBlobs(ctx context.Context, cutoff time.Time) (int, error)
}

// DefaultOrphanGrace is how old an unreferenced blob must be before the
// sweep removes it: far longer than an upload may take (15 minutes) to
// record its row once its blob is whole.
const DefaultOrphanGrace = time.Hour

// Config is what the scheduler needs.
type Config struct {
	Generator *reports.Generator
	Mailer    *Mailer // nil: reports are not emailed
	Log       *slog.Logger
	// At is the time of day, in the generator's zone, on the 1st of each month.
	Hour, Minute int
	// RetryDelay is the first retry's delay, doubling each attempt; 30s if zero.
	RetryDelay time.Duration
	// Workers is how many jobs run at once; 2 if zero.
	Workers int

	// RetentionDays, when positive, erases each closed case's identity and
	// notes this many days after its closure, by Eraser, hourly.
	RetentionDays int
	Eraser        Eraser

	// Orphans, when set, sweeps the blobs no document refers to, hourly,
	// once they are OrphanGrace old (DefaultOrphanGrace if zero).
	Orphans     OrphanSweeper
	OrphanGrace time.Duration

	// Webhooks, when set, dispatches the audit trail's events to the
	// registered endpoints every WebhookInterval (DefaultWebhookInterval if
	// zero) and delivers them through WebhookClient (webhooks.Client with
	// its address guard if nil).
	Webhooks        WebhookStore
	WebhookInterval time.Duration
	WebhookClient   *http.Client
}

// Scheduler is a running River client.
type Scheduler struct {
	cfg    Config
	client interface {
		Insert(ctx context.Context, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error)
		Start(ctx context.Context) error
		Stop(ctx context.Context) error
	}
}

// MigratePostgres applies River's migrations to the pool's database.
// Processes starting at once queue on an advisory lock: River's migrator
// does not take one, and two concurrent runs collide.
func MigratePostgres(ctx context.Context, pool *pgxpool.Pool) error {
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	const key = "SELECT hashtext('remedy.river_migrate')"
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock(("+key+"))"); err != nil {
		return err
	}
	defer conn.Exec(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock(("+key+"))")
	return migrate[pgx.Tx](ctx, riverpgxv5.New(pool))
}

// MigrateSQLite applies River's migrations to the SQLite database.
func MigrateSQLite(ctx context.Context, db *sql.DB) error {
	return migrate[*sql.Tx](ctx, riversqlite.New(db))
}

func migrate[TTx any](ctx context.Context, d riverdriver.Driver[TTx]) error {
	m, err := rivermigrate.New[TTx](d, nil)
	if err != nil {
		return err
	}
	_, err = m.Migrate(ctx, rivermigrate.DirectionUp, nil)
	return err
}

// NewPostgres returns a scheduler whose jobs live in PostgreSQL.
func NewPostgres(pool *pgxpool.Pool, cfg Config) (*Scheduler, error) {
	s := &Scheduler{cfg: cfg}
	c, err := river.NewClient[pgx.Tx](riverpgxv5.New(pool), s.riverConfig())
	s.client = c
	return s, err
}

// NewSQLite returns a scheduler whose jobs live in the embedded SQLite.
func NewSQLite(db *sql.DB, cfg Config) (*Scheduler, error) {
	s := &Scheduler{cfg: cfg}
	c, err := river.NewClient[*sql.Tx](riversqlite.New(db), s.riverConfig())
	s.client = c
	return s, err
}

func (s *Scheduler) riverConfig() *river.Config {
	if s.cfg.Log == nil {
		s.cfg.Log = slog.New(slog.DiscardHandler)
	}
	if s.cfg.Workers == 0 {
		s.cfg.Workers = 2
	}
	if s.cfg.RetryDelay == 0 {
		s.cfg.RetryDelay = 30 * time.Second
	}
	if s.cfg.OrphanGrace == 0 {
		s.cfg.OrphanGrace = DefaultOrphanGrace
	}
	workers := river.NewWorkers()
	river.AddWorker(workers, &monthlyWorker{s: s})
	river.AddWorker(workers, &clientWorker{s: s})
	river.AddWorker(workers, &deliverWorker{s: s})
	// Registered always, so that a purge queued while retention was on
	// completes (doing nothing) after it is turned off.
	river.AddWorker(workers, &retentionWorker{s: s})
	river.AddWorker(workers, &orphanWorker{s: s})
	river.AddWorker(workers, &checkpointWorker{s: s})
	periodic := []*river.PeriodicJob{river.NewPeriodicJob(monthly{s.cfg.Hour, s.cfg.Minute, s.cfg.Generator.Zone},
		func() (river.JobArgs, *river.InsertOpts) {
			return MonthlyArgs{Month: s.previousMonth().String()}, unique
		},
		// After a restart or an outage on the 1st, the month still gets
		// its reports: the run is idempotent, so running it at every start
		// costs one check a client.
		&river.PeriodicJobOpts{RunOnStart: true, ID: "monthly_reports"})}
	if s.cfg.RetentionDays > 0 && s.cfg.Eraser != nil {
		periodic = append(periodic, river.NewPeriodicJob(river.PeriodicInterval(time.Hour),
			func() (river.JobArgs, *river.InsertOpts) { return RetentionArgs{}, hourly },
			&river.PeriodicJobOpts{RunOnStart: true, ID: "retention_purge"}))
	}
	if s.cfg.Generator.Witness != nil {
		periodic = append(periodic, river.NewPeriodicJob(river.PeriodicInterval(time.Hour),
			func() (river.JobArgs, *river.InsertOpts) { return CheckpointArgs{}, hourly },
			&river.PeriodicJobOpts{RunOnStart: true, ID: "audit_checkpoint"}))
	}
	if s.cfg.Orphans != nil {
		periodic = append(periodic, river.NewPeriodicJob(river.PeriodicInterval(time.Hour),
			func() (river.JobArgs, *river.InsertOpts) { return OrphanArgs{}, hourly },
			&river.PeriodicJobOpts{RunOnStart: true, ID: "document_orphans"}))
	}
	periodic = append(periodic, s.webhookJobs(workers)...)
	return &river.Config{
		Queues:       map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: s.cfg.Workers}},
		Workers:      workers,
		Logger:       s.cfg.Log.With("component", "river"),
		RetryPolicy:  doubling{s.cfg.RetryDelay},
		MaxAttempts:  12,
		PeriodicJobs: periodic,
	}
}

// Start runs the scheduler until ctx ends or Stop.
func (s *Scheduler) Start(ctx context.Context) error { return s.client.Start(ctx) }

// Stop waits for running jobs to finish.
func (s *Scheduler) Stop(ctx context.Context) error { return s.client.Stop(ctx) }

// GenerateNow generates a new version of a client's month at once, and
// queues its delivery.
func (s *Scheduler) GenerateNow(ctx context.Context, actor cases.Actor, clientID uuid.UUID, month cases.Month) (*cases.MonthlyReport, error) {
	r, _, err := s.cfg.Generator.Generate(ctx, actor, clientID, month, false)
	if err != nil {
		return nil, err
	}
	return r, s.deliver(ctx, r)
}

// RunMonth queues the reports of month for every active client, as the
// schedule does.
func (s *Scheduler) RunMonth(ctx context.Context, month cases.Month) error {
	_, err := s.client.Insert(ctx, MonthlyArgs{Month: month.String()}, unique)
	return err
}

func (s *Scheduler) deliver(ctx context.Context, r *cases.MonthlyReport) error {
	if s.cfg.Mailer == nil || r.SentAt != nil {
		return nil
	}
	_, err := s.client.Insert(ctx, DeliverArgs{ReportID: r.ID}, unique)
	return err
}

func (s *Scheduler) previousMonth() cases.Month {
	g := s.cfg.Generator
	return cases.MonthOf(g.Time().In(g.Zone)).Add(-1)
}

type monthlyWorker struct {
	river.WorkerDefaults[MonthlyArgs]
	s *Scheduler
}

func (w *monthlyWorker) Work(ctx context.Context, job *river.Job[MonthlyArgs]) error {
	clients, err := w.s.cfg.Generator.Clients.ListClients(ctx)
	if err != nil {
		return err
	}
	for _, c := range clients {
		if !c.Active {
			continue
		}
		if _, err := w.s.client.Insert(ctx, ClientReportArgs{ClientID: c.ID, Month: job.Args.Month}, unique); err != nil {
			return err
		}
	}
	return nil
}

type clientWorker struct {
	river.WorkerDefaults[ClientReportArgs]
	s *Scheduler
}

func (w *clientWorker) Work(ctx context.Context, job *river.Job[ClientReportArgs]) error {
	month, err := cases.ParseMonth(job.Args.Month)
	if err != nil {
		return river.JobCancel(err)
	}
	r, created, err := w.s.cfg.Generator.Generate(ctx, cases.SystemActor, job.Args.ClientID, month, true)
	if err != nil {
		return fmt.Errorf("report %s: %w", job.Args.Month, err)
	}
	if created {
		w.s.cfg.Log.Info("monthly report generated", "report_id", r.ID, "client_id", r.ClientID, "month", r.Month.String())
	}
	return w.s.deliver(ctx, r)
}

type deliverWorker struct {
	river.WorkerDefaults[DeliverArgs]
	s *Scheduler
}

func (w *deliverWorker) Work(ctx context.Context, job *river.Job[DeliverArgs]) error {
	g := w.s.cfg.Generator
	r, err := g.Reports.FindReport(ctx, job.Args.ReportID)
	if err != nil {
		return err
	}
	if r.SentAt != nil || w.s.cfg.Mailer == nil {
		return nil
	}
	to, err := g.Reports.ReportContacts(ctx, r.ClientID)
	if err != nil || len(to) == 0 {
		return err // nobody to send to: done
	}
	client, err := g.Clients.FindClientByID(ctx, r.ClientID)
	if err != nil {
		return err
	}
	pdf, err := g.Reports.ReportPDF(ctx, r.ID)
	if err != nil {
		return err
	}
	if err := w.s.cfg.Mailer.Send(ctx, client.Name, r, pdf, to); err != nil {
		w.s.cfg.Log.Warn("report delivery failed; will retry", "report_id", r.ID, "attempt", job.Attempt, "error", err.Error())
		return err
	}
	return g.Reports.MarkReportSent(ctx, r.ID, to, g.Time())
}

type retentionWorker struct {
	river.WorkerDefaults[RetentionArgs]
	s *Scheduler
}

// Work erases what is due. Each case is its own transaction: a failure keeps
// what was erased, and the retry or the next hour goes on.
func (w *retentionWorker) Work(ctx context.Context, job *river.Job[RetentionArgs]) error {
	if w.s.cfg.RetentionDays <= 0 || w.s.cfg.Eraser == nil {
		return nil
	}
	cutoff := w.s.cfg.Generator.Time().AddDate(0, 0, -w.s.cfg.RetentionDays)
	n, err := w.s.cfg.Eraser.EraseClosedBefore(ctx, cutoff)
	if err != nil {
		w.s.cfg.Log.Error("retention erasure failed; will retry", "erased", n, "attempt", job.Attempt, "code", cases.ErrorCode(err))
		return err
	}
	if n > 0 {
		w.s.cfg.Log.Info("retention erased closed cases", "erased", n)
	}
	return nil
}

type orphanWorker struct {
	river.WorkerDefaults[OrphanArgs]
	s *Scheduler
}

// Work sweeps the orphaned blobs. The cutoff is in wall-clock time, the
// clock of the blob store's timestamps, never the reports' clock.
func (w *orphanWorker) Work(ctx context.Context, job *river.Job[OrphanArgs]) error {
	if w.s.cfg.Orphans == nil {
		return nil
	}
	n, err := w.s.cfg.Orphans.RemoveOrphanBlobs(ctx, time.Now().Add(-w.s.cfg.OrphanGrace))
	if err != nil {
		w.s.cfg.Log.Error("orphan blob sweep failed; will retry", "removed", n, "attempt", job.Attempt, "type", fmt.Sprintf("%T", err))
		return err
	}
	if n > 0 {
		w.s.cfg.Log.Info("removed orphaned document blobs", "removed", n)
	}
	return nil
}

type checkpointWorker struct {
	river.WorkerDefaults[CheckpointArgs]
	s *Scheduler
}

// Work signs a checkpoint of the audit trail's head, unless nothing but
// checkpoints was recorded since the last.
func (w *checkpointWorker) Work(ctx context.Context, job *river.Job[CheckpointArgs]) error {
	if w.s.cfg.Generator.Witness == nil {
		return nil
	}
	if _, err := w.s.cfg.Generator.Witness.Checkpoint(ctx); err != nil {
		w.s.cfg.Log.Error("audit checkpoint failed; will retry", "attempt", job.Attempt, "code", cases.ErrorCode(err))
		return err
	}
	return nil
}

// monthly is due on the 1st of each month at hour:minute in zone.
type monthly struct {
	hour, minute int
	zone         *time.Location
}

func (m monthly) Next(t time.Time) time.Time {
	t = t.In(m.zone)
	due := time.Date(t.Year(), t.Month(), 1, m.hour, m.minute, 0, 0, m.zone)
	if !due.After(t) {
		due = time.Date(t.Year(), t.Month()+1, 1, m.hour, m.minute, 0, 0, m.zone)
	}
	return due
}

// doubling retries after base, then twice as long each attempt, up to a day.
type doubling struct{ base time.Duration }

func (d doubling) NextRetry(job *rivertype.JobRow) time.Time {
	delay := d.base << min(max(job.Attempt-1, 0), 20)
	return time.Now().Add(min(delay, 24*time.Hour))
}
