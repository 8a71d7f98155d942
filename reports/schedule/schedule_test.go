package schedule_test

import (
	"context"
	"encoding/base64"
	"io"
	"log/slog"
	"net"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	cases "github.com/remedy-cases/remedy/case"
	"github.com/remedy-cases/remedy/reports"
	"github.com/remedy-cases/remedy/reports/schedule"
	"github.com/remedy-cases/remedy/storage"
	"github.com/remedy-cases/remedy/storage/storagetest"
)

var ctx = context.Background()

// mailbox is an in-process SMTP server that refuses the first failFirst
// messages with a temporary error, then keeps what it receives.
type mailbox struct {
	mu        sync.Mutex
	failFirst int
	attempts  int
	messages  []message
}

type message struct {
	to   []string
	data string
}

func (b *mailbox) NewSession(*smtp.Conn) (smtp.Session, error) { return &session{box: b}, nil }

type session struct {
	box *mailbox
	to  []string
}

func (s *session) Reset()                                    { s.to = nil }
func (s *session) Logout() error                             { return nil }
func (s *session) Mail(string, *smtp.MailOptions) error      { return nil }
func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error { s.to = append(s.to, to); return nil }
func (s *session) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.box.mu.Lock()
	defer s.box.mu.Unlock()
	s.box.attempts++
	if s.box.attempts <= s.box.failFirst {
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try again later"}
	}
	s.box.messages = append(s.box.messages, message{to: s.to, data: string(data)})
	return nil
}

func (b *mailbox) received() (int, []message) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.attempts, append([]message(nil), b.messages...)
}

func startMailbox(t *testing.T, failFirst int) (*mailbox, string) {
	box := &mailbox{failFirst: failFirst}
	srv := smtp.NewServer(box)
	srv.Domain = "localhost"
	srv.AllowInsecureAuth = true
	srv.ErrorLog = nil
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return box, "smtp://" + l.Addr().String()
}

// world is a database with a client's case in follow-up since September.
type world struct {
	db      *storage.DB
	fixture *storagetest.Fixture
	reports *storage.ReportService
	gen     *reports.Generator
}

func newWorld(t *testing.T, db *storage.DB) *world {
	db.Now = func() time.Time { return time.Date(2026, 11, 1, 1, 0, 0, 0, time.UTC) }
	f := storagetest.NewFixture(t, db)
	w := &world{db: db, fixture: f, reports: storage.NewReportService(db)}
	w.gen = &reports.Generator{Reports: w.reports, Clients: storage.NewClientService(db), Fonts: reports.DefaultFonts(),
		Zone: time.UTC, Now: db.Now}
	return w
}

// scheduler starts a River client on db, with its migrations applied;
// options change its configuration first.
func (w *world) scheduler(t *testing.T, cfg storage.Config, mailer *schedule.Mailer, options ...func(*schedule.Config)) *schedule.Scheduler {
	sc := schedule.Config{Generator: w.gen, Mailer: mailer, Hour: 6, RetryDelay: 200 * time.Millisecond,
		Log: slog.New(slog.DiscardHandler)}
	for _, o := range options {
		o(&sc)
	}
	var s *schedule.Scheduler
	if w.db.Dialect() == storage.SQLite {
		sqlDB, err := w.db.Gorm().DB()
		if err != nil {
			t.Fatal(err)
		}
		if err := schedule.MigrateSQLite(ctx, sqlDB); err != nil {
			t.Fatal(err)
		}
		s, err = schedule.NewSQLite(sqlDB, sc)
		if err != nil {
			t.Fatal(err)
		}
	} else {
		pool, err := pgxpool.New(ctx, cfg.DatabaseURL)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(pool.Close)
		if err := schedule.MigratePostgres(ctx, pool); err != nil {
			t.Fatal(err)
		}
		if s, err = schedule.NewPostgres(pool, sc); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stop, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		s.Stop(stop)
	})
	return s
}

// waitFor polls cond until it holds or 30 seconds pass.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func eachDialect(t *testing.T, fn func(t *testing.T, cfg storage.Config, db *storage.DB)) {
	for _, d := range storagetest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			cfg := storagetest.Config(t, d)
			fn(t, cfg, storagetest.OpenWith(t, cfg, storagetest.Keyring(t)))
		})
	}
}

// The schedule's start-up run generates October's report for each active
// client, once, and emails it with the PDF attached; the SMTP server's first
// refusal is retried.
func TestMonthlyRunDeliversAndRetries(t *testing.T) {
	eachDialect(t, func(t *testing.T, cfg storage.Config, db *storage.DB) {
		w := newWorld(t, db)
		f := w.fixture
		must(t, w.reports.SetReportContacts(ctx, cases.SystemActor, f.Client.ID, []string{"compliance@polaris.example", "cso@polaris.example"}))
		box, url := startMailbox(t, 1)
		mailer, err := schedule.NewMailer(url, "Remedy <reports@ngo.example>")
		must(t, err)
		w.scheduler(t, cfg, mailer) // RunOnStart queues October

		var sent *cases.MonthlyReport
		waitFor(t, "October's report to be sent", func() bool {
			list, err := w.reports.ListReports(ctx, uuidOf(f.Client))
			must(t, err)
			if len(list) == 1 && list[0].SentAt != nil {
				sent = list[0]
			}
			return sent != nil
		})
		if sent.Month.String() != "2026-10" || len(sent.SentTo) != 2 {
			t.Errorf("sent %+v", sent)
		}
		attempts, msgs := box.received()
		if attempts != 2 || len(msgs) != 1 {
			t.Fatalf("%d attempts, %d messages; want a refused attempt, then one message", attempts, len(msgs))
		}
		m := msgs[0]
		slices.Sort(m.to)
		if strings.Join(m.to, ",") != "compliance@polaris.example,cso@polaris.example,reports@ngo.example" {
			t.Errorf("recipients %v", m.to)
		}
		if !strings.Contains(m.data, "Content-Type: application/pdf") || !strings.Contains(m.data, "remedy-report-2026-10-v1.pdf") {
			t.Errorf("no PDF attachment in:\n%.600s", m.data)
		}
		if pdf := attachment(t, m.data); !strings.HasPrefix(string(pdf), "%PDF-") || len(pdf) != sent.Size {
			t.Errorf("the attachment is %d bytes, want the %d-byte PDF", len(pdf), sent.Size)
		}
		other, err := w.reports.ListReports(ctx, uuidOf(f.OtherClient))
		must(t, err)
		if len(other) != 1 || other[0].SentAt != nil {
			t.Errorf("the other client (no contacts) has %+v", other)
		}
	})
}

var base64Part = regexp.MustCompile(`(?s)Content-Transfer-Encoding: base64\r?\n(?:[^\r\n]+\r?\n)*\r?\n([A-Za-z0-9+/=\r\n]+)`)

func attachment(t *testing.T, data string) []byte {
	t.Helper()
	var last []byte
	for _, m := range base64Part.FindAllStringSubmatch(data, -1) {
		b, err := base64.StdEncoding.DecodeString(strings.NewReplacer("\r", "", "\n", "").Replace(m[1]))
		if err == nil {
			last = b
		}
	}
	return last
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func uuidOf(c *cases.Client) uuid.NullUUID { return uuid.NullUUID{UUID: c.ID, Valid: true} }

// caseAt files a case of a worker's child who was not employed at the time
// at and, if closed, dismisses it then. It must run before any scheduler
// starts: it sets the database's clock.
func (w *world) caseAt(t *testing.T, at time.Time, closed bool) *cases.Case {
	t.Helper()
	saved := w.db.Now
	w.db.Now = func() time.Time { return at }
	defer func() { w.db.Now = saved }()
	f, svc := w.fixture, storage.NewCaseService(w.db)
	r := f.Report(at.AddDate(0, 0, -3))
	r.Presence = cases.PresenceAccompanying
	c, err := svc.FileCase(ctx, f.Auditor.Actor(), r)
	must(t, err)
	c, err = svc.Assign(ctx, f.Supervisor.Actor(), c.ID, c.Version, f.Worker.ID)
	must(t, err)
	if !closed {
		return c
	}
	c, _, err = svc.Transition(ctx, f.Worker.Actor(), c.ID, c.Version,
		cases.TransitionRequest{Event: cases.EventDismiss, Reason: cases.NewNote("a worker's child, not employed")})
	must(t, err)
	return c
}

// TestRetentionPurge: with a retention period, the purge is a periodic River
// job: it erases the identity and notes of the case closed longer ago than
// the period and of no other, and two schedulers on one database (two serve
// processes) queue one purge for the hour between them.
func TestRetentionPurge(t *testing.T) {
	eachDialect(t, func(t *testing.T, cfg storage.Config, db *storage.DB) {
		w := newWorld(t, db) // now: 2026-11-01 01:00 UTC
		old := w.caseAt(t, time.Date(2026, 8, 20, 10, 0, 0, 0, time.UTC), true)
		recent := w.caseAt(t, time.Date(2026, 10, 25, 10, 0, 0, 0, time.UTC), true)
		open := w.caseAt(t, time.Date(2026, 8, 1, 10, 0, 0, 0, time.UTC), false)
		svc := storage.NewCaseService(db)
		retention := func(c *schedule.Config) { c.RetentionDays, c.Eraser = 30, svc }
		w.scheduler(t, cfg, nil, retention)
		w.scheduler(t, cfg, nil, retention)

		g := db.Gorm()
		waitFor(t, "the purge to run", func() bool {
			var done, pending int64
			g.Raw("SELECT count(*) FROM river_job WHERE kind = 'retention_purge' AND state = 'completed'").Scan(&done)
			g.Raw("SELECT count(*) FROM river_job WHERE kind = 'retention_purge' AND state <> 'completed'").Scan(&pending)
			return done > 0 && pending == 0
		})
		for c, want := range map[*cases.Case]bool{old: true, recent: false, open: false} {
			got, err := svc.FindCase(ctx, c.ID)
			must(t, err)
			if erased := got.ErasedAt != nil; erased != want {
				t.Errorf("case %s (closed %v): erased %v, want %v", got.Code, got.ClosedAt, erased, want)
			}
		}
		var jobs, erasures int64
		g.Raw("SELECT count(*) FROM river_job WHERE kind = 'retention_purge'").Scan(&jobs)
		g.Raw("SELECT count(*) FROM audit_log WHERE action = ?", cases.ActionCaseErased).Scan(&erasures)
		if jobs != 1 || erasures != 1 {
			t.Errorf("%d purge jobs and %d erasures for two schedulers, want 1 and 1", jobs, erasures)
		}
	})
}

// TestNoRetention: without a retention period no purge is queued.
func TestNoRetention(t *testing.T) {
	eachDialect(t, func(t *testing.T, cfg storage.Config, db *storage.DB) {
		w := newWorld(t, db)
		w.scheduler(t, cfg, nil, func(c *schedule.Config) { c.Eraser = storage.NewCaseService(db) })
		g := db.Gorm()
		waitFor(t, "the start-up monthly run", func() bool {
			var n int64
			g.Raw("SELECT count(*) FROM river_job WHERE kind = 'monthly_reports'").Scan(&n)
			return n > 0
		})
		var jobs int64
		g.Raw("SELECT count(*) FROM river_job WHERE kind = 'retention_purge'").Scan(&jobs)
		if jobs != 0 {
			t.Errorf("%d purge jobs with retention off", jobs)
		}
	})
}

// TestOrphanSweep: the sweep is a periodic River job, run at start and once
// an hour between all schedulers; it removes a blob that a crash left
// without its document, and keeps a document's blob.
func TestOrphanSweep(t *testing.T) {
	eachDialect(t, func(t *testing.T, cfg storage.Config, db *storage.DB) {
		w := newWorld(t, db)
		c := w.caseAt(t, time.Date(2026, 10, 25, 10, 0, 0, 0, time.UTC), false)
		docs := storage.NewDocumentService(db)
		doc, err := docs.AttachDocument(ctx, w.fixture.Supervisor.Actor(), c.ID, cases.NewDocument{Kind: "receipt"},
			strings.NewReader("%PDF-1.7\n% a receipt\n"))
		must(t, err)
		// What a crash between the blob store and the transaction leaves.
		orphan := storage.NewBlobKey()
		must(t, db.Blobs().Put(ctx, orphan, func(w io.Writer) error { _, err := w.Write([]byte("sealed")); return err }))
		sweep := func(c *schedule.Config) { c.Orphans, c.OrphanGrace = docs, time.Nanosecond }
		w.scheduler(t, cfg, nil, sweep)
		w.scheduler(t, cfg, nil, sweep)
		g := db.Gorm()
		waitFor(t, "the sweep to run", func() bool {
			var done, pending int64
			g.Raw("SELECT count(*) FROM river_job WHERE kind = 'document_orphans' AND state = 'completed'").Scan(&done)
			g.Raw("SELECT count(*) FROM river_job WHERE kind = 'document_orphans' AND state <> 'completed'").Scan(&pending)
			return done > 0 && pending == 0
		})
		if _, err := db.Blobs().Open(ctx, orphan); err != storage.ErrBlobNotFound {
			t.Errorf("the orphan survived: %v", err)
		}
		o, err := docs.OpenDocument(ctx, w.fixture.Supervisor.Actor(), c.ID, doc.ID, cases.ReadReason{Code: "pay_stipend"})
		if err != nil {
			t.Fatalf("the document's blob was swept: %v", err)
		}
		o.Content.Close()
		var jobs int64
		g.Raw("SELECT count(*) FROM river_job WHERE kind = 'document_orphans'").Scan(&jobs)
		if jobs != 1 {
			t.Errorf("%d sweeps for two schedulers in one hour, want 1", jobs)
		}
	})
}
