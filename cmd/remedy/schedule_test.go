package main

import (
	"bytes"
	"context"
	"io"
	"testing"
	"time"

	cases "github.com/remedy-cases/remedy/case"
	"github.com/remedy-cases/remedy/storage"
	"github.com/remedy-cases/remedy/storage/storagetest"
)

// TestTwoServersOneReportEach starts two serve processes at once on one
// PostgreSQL. The schedule's start-up run for last month is due in both;
// when the job queue has nothing left to do, every active client has
// exactly one report for the month, and the inactive one none.
func TestTwoServersOneReportEach(t *testing.T) {
	cfg := storagetest.Config(t, "postgres")
	vars := map[string]string{"REMEDY_DATA_DIR": t.TempDir(), "REMEDY_DATABASE_URL": cfg.DatabaseURL}
	bin := mustBinary(t)
	ctx := context.Background()
	var out bytes.Buffer
	m := &Main{Stdout: &out, Stderr: &out, Getenv: envOf(vars)}
	if err := m.Run(ctx, []string{"keys", "init"}); err != nil {
		t.Fatal(err)
	}
	db, err := m.openForCommand(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	clients := storage.NewClientService(db)
	var active []*cases.Client
	for _, name := range []string{"华彩童装集团", "Northwind Outdoor", "绿野鞋业"} {
		c, err := clients.CreateClient(ctx, cases.SystemActor, cases.NewClient{Name: name})
		if err != nil {
			t.Fatal(err)
		}
		active = append(active, c)
	}
	gone, err := clients.CreateClient(ctx, cases.SystemActor, cases.NewClient{Name: "Former Brand"})
	if err != nil {
		t.Fatal(err)
	}
	if err := clients.SetClientActive(ctx, cases.SystemActor, gone.ID, false); err != nil {
		t.Fatal(err)
	}

	// Both start at once: migrations and the start-up run race.
	started := make(chan bool, 2)
	for range 2 {
		go func() {
			defer func() { started <- true }()
			startProcess(t, bin, vars)
		}()
	}
	<-started
	<-started

	zone, _ := time.LoadLocation("Asia/Shanghai")
	month := cases.MonthOf(time.Now().In(zone)).Add(-1).String()
	g := db.Gorm()
	deadline := time.Now().Add(60 * time.Second)
	for {
		var pending, made int64
		g.Raw("SELECT count(*) FROM river_job WHERE state <> 'completed'").Scan(&pending)
		g.Raw("SELECT count(DISTINCT client_id) FROM monthly_reports WHERE month = ?", month).Scan(&made)
		if pending == 0 && made == int64(len(active)) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 60s: %d jobs pending, %d of %d clients reported", pending, made, len(active))
		}
		time.Sleep(100 * time.Millisecond)
	}
	var rows []struct {
		ClientID string
		N        int
	}
	g.Raw("SELECT client_id, count(*) AS n FROM monthly_reports WHERE month = ? GROUP BY client_id", month).Scan(&rows)
	if len(rows) != len(active) {
		t.Fatalf("reports for %d clients, want %d", len(rows), len(active))
	}
	for _, r := range rows {
		if r.N != 1 {
			t.Errorf("client %s has %d reports for %s, want 1", r.ClientID, r.N, month)
		}
		if r.ClientID == gone.ID.String() {
			t.Errorf("the inactive client got a report")
		}
	}
	var generated int64
	g.Raw("SELECT count(*) FROM audit_log WHERE action = ?", cases.ActionReportGenerated).Scan(&generated)
	if generated != int64(len(active)) {
		t.Errorf("%d report.generated audit entries, want %d", generated, len(active))
	}
}

// TestServeRetention: with REMEDY_RETENTION_DAYS, serve's job queue erases
// a case closed longer ago than that, and keeps one closed since.
func TestServeRetention(t *testing.T) {
	dir := t.TempDir()
	vars := map[string]string{"REMEDY_DATA_DIR": dir, "REMEDY_RETENTION_DAYS": "30"}
	ctx := context.Background()
	m := &Main{Stdout: io.Discard, Stderr: io.Discard, Getenv: envOf(vars)}
	if err := m.Run(ctx, []string{"keys", "init"}); err != nil {
		t.Fatal(err)
	}
	db, err := m.openForCommand(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	fx := storagetest.NewFixture(t, db)
	svc := storage.NewCaseService(db)
	dismissed := func(at time.Time) *cases.Case {
		db.Now = func() time.Time { return at }
		r := fx.Report(at.AddDate(0, 0, -3))
		r.Presence = cases.PresenceAccompanying
		c, err := svc.FileCase(ctx, fx.Auditor.Actor(), r)
		if err == nil {
			c, err = svc.Assign(ctx, fx.Supervisor.Actor(), c.ID, c.Version, fx.Worker.ID)
		}
		if err == nil {
			c, _, err = svc.Transition(ctx, fx.Worker.Actor(), c.ID, c.Version,
				cases.TransitionRequest{Event: cases.EventDismiss, Reason: cases.NewNote("not employed")})
		}
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	old := dismissed(time.Now().AddDate(0, 0, -40))
	recent := dismissed(time.Now().AddDate(0, 0, -10))
	db.Now = time.Now

	_, _, stop := startServe(t, vars)
	defer stop()
	deadline := time.Now().Add(60 * time.Second)
	for {
		got, err := svc.FindCase(ctx, old.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.ErasedAt != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("after 60 s, the case closed 40 days ago is not erased")
		}
		time.Sleep(100 * time.Millisecond)
	}
	if got, err := svc.FindCase(ctx, recent.ID); err != nil || got.ErasedAt != nil {
		t.Fatalf("the case closed 10 days ago: %+v, %v; want it kept", got, err)
	}
}
