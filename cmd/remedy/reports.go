package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	cases "github.com/remedy-cases/remedy/case"
	"github.com/remedy-cases/remedy/reports"
	"github.com/remedy-cases/remedy/reports/schedule"
	"github.com/remedy-cases/remedy/storage"
	"github.com/remedy-cases/remedy/webhooks"
)

// generator returns the report generator of cfg over db.
func generator(cfg Config, db *storage.DB, log *slog.Logger) (*reports.Generator, error) {
	zone, err := time.LoadLocation(cfg.ReportZone)
	if err != nil {
		return nil, err
	}
	fonts := reports.DefaultFonts()
	if cfg.ReportFont != "" {
		if fonts, err = reports.LoadFont(cfg.ReportFont); err != nil {
			return nil, fmt.Errorf("configuration: REMEDY_REPORT_FONT: %w", err)
		}
	}
	keys, err := reportKeys(cfg)
	if err != nil {
		return nil, err
	}
	return &reports.Generator{Reports: storage.NewReportService(db), Clients: storage.NewClientService(db),
		Fonts: fonts, Zone: zone, Now: db.Now, Log: log, GraceDays: cfg.ArrearsDays, Signer: keys[0].Signer(),
		Witness: storage.Witness{Audit: storage.NewAuditService(db), Signer: keys[0].Signer()}}, nil
}

// scheduler migrates River's tables and returns the scheduler of the
// monthly reports, the retention purge and the sweep of orphaned document
// blobs, its jobs kept in the same database as the cases.
func (m *Main) scheduler(ctx context.Context, cfg Config, db *storage.DB, log *slog.Logger) (*schedule.Scheduler, func(), error) {
	gen, err := generator(cfg, db, log)
	if err != nil {
		return nil, nil, err
	}
	hour, minute, _ := cfg.reportTime()
	sc := schedule.Config{Generator: gen, Log: log, Hour: hour, Minute: minute,
		RetentionDays: cfg.RetentionDays, Eraser: storage.NewCaseService(db),
		Webhooks: storage.NewWebhookService(db), WebhookClient: webhooks.Client(cfg.WebhookAllowPrivate, 30*time.Second, nil)}
	if db.Blobs() != nil {
		sc.Orphans = storage.NewDocumentService(db)
	}
	if cfg.SMTPURL != "" {
		if sc.Mailer, err = schedule.NewMailer(cfg.SMTPURL, cfg.SMTPFrom); err != nil {
			return nil, nil, err
		}
	}
	if cfg.embedded() {
		sqlDB, err := db.Gorm().DB()
		if err != nil {
			return nil, nil, err
		}
		if err := schedule.MigrateSQLite(ctx, sqlDB); err != nil {
			return nil, nil, fmt.Errorf("migrate the job queue: %w", err)
		}
		s, err := schedule.NewSQLite(sqlDB, sc)
		return s, func() {}, err
	}
	pool, err := pgxpool.New(ctx, cfg.DatabaseURL)
	if err != nil {
		return nil, nil, errors.New("open the job queue's PostgreSQL pool: check REMEDY_DATABASE_URL")
	}
	if err := schedule.MigratePostgres(ctx, pool); err != nil {
		pool.Close()
		return nil, nil, fmt.Errorf("migrate the job queue: %w", err)
	}
	s, err := schedule.NewPostgres(pool, sc)
	return s, pool.Close, err
}

func (m *Main) reportsGenerate(ctx context.Context, client, monthFlag, out string) error {
	month, err := cases.ParseMonth(monthFlag)
	if err != nil {
		return usagef("--month must be written as YYYY-MM, such as 2026-10")
	}
	cfg, err := loadConfig(m.Getenv)
	if err != nil {
		return err
	}
	log := m.logger(cfg)
	db, _, err := m.openMigrated(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer db.Close()
	gen, err := generator(cfg, db, log)
	if err != nil {
		return err
	}
	id, err := findClient(ctx, storage.NewClientService(db), client)
	if err != nil {
		return err
	}
	pdf, f, err := gen.Render(ctx, id, month)
	if err != nil {
		return err
	}
	if err := os.WriteFile(out, pdf, 0o600); err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "wrote %s: %s, %s, %d cases, %d bytes; a preview, neither stored nor signed\n", out, f.Client, f.Month, len(f.Rows), len(pdf))
	return nil
}

// findClient resolves a client given by id or by exact name.
func findClient(ctx context.Context, clients *storage.ClientService, s string) (uuid.UUID, error) {
	if id, err := uuid.Parse(s); err == nil {
		if _, err := clients.FindClientByID(ctx, id); err != nil {
			return uuid.Nil, fmt.Errorf("no client has id %s", id)
		}
		return id, nil
	}
	all, err := clients.ListClients(ctx)
	if err != nil {
		return uuid.Nil, err
	}
	for _, c := range all {
		if c.Name == s {
			return c.ID, nil
		}
	}
	return uuid.Nil, fmt.Errorf("no client is named %q", s)
}
