package web_test

import (
	"fmt"
	"sort"
	"testing"
	"time"

	cases "github.com/remedy-cases/remedy/case"
	"github.com/remedy-cases/remedy/storage"
)

// seedDemo files what `serve --demo` seeds, in the same shares: 40 cases
// in every state, half for each of two case workers, those in follow-up
// with a follow-up for each month.
func seedDemo(t testing.TB, e *env, workers ...*cases.User) {
	t.Helper()
	if len(workers) == 0 {
		workers = []*cases.User{e.f.Worker, e.f.OtherWorker}
	}
	plan := []struct {
		state cases.State
		n     int
	}{{cases.StateIntake, 5}, {cases.StateVerification, 5}, {cases.StatePlanning, 6}, {cases.StateFollowUp, 14}, {cases.StateClosed, 10}}
	start := e.clock()
	i := 0
	for _, p := range plan {
		for range p.n {
			worker := workers[i%len(workers)]
			i++
			e.mu.Lock()
			e.now = start.AddDate(0, -6, 0)
			e.mu.Unlock()
			c := e.caseIn(p.state, e.f.Report(start.AddDate(0, -6, -1)))
			if c.AssigneeID.Valid && c.AssigneeID.UUID != worker.ID && c.State != cases.StateClosed {
				var err error
				c, err = e.cases.Assign(ctx, e.f.Supervisor.Actor(), c.ID, c.Version, worker.ID)
				must(t, err)
			}
			if p.state == cases.StateFollowUp {
				for m := 1; m <= 5; m++ {
					e.mu.Lock()
					e.now = start.AddDate(0, -6+m, 0)
					e.mu.Unlock()
					paid := e.clock()
					actor := cases.Actor{UserID: c.AssigneeID.UUID, Role: cases.RoleCaseWorker}
					in := cases.FollowUpInput{Date: e.clock(), Contact: "visit", AttendingSchool: true,
						Concerns: cases.NewNote(fmt.Sprint("month ", m))}
					// The stipend is owed from the enrolment month on.
					if !cases.MonthOf(paid).Before(cases.MonthOf(c.Plan.EnrolmentDate)) {
						in.StipendPaid, in.StipendPaidOn, in.StipendProofRef = 80000, &paid, fmt.Sprintf("TX-%s-%d", c.Code, m)
					}
					_, err := e.cases.AddFollowUp(ctx, actor, c.ID, in)
					must(t, err)
				}
			}
		}
	}
	e.mu.Lock()
	e.now = start
	e.mu.Unlock()
}

// BenchmarkWorkerHome renders the case worker's home with the demo's data
// on the embedded SQLite, through the whole server: session, queries and
// templates. It reports the median and the 90th percentile of one render,
// and the bytes a browser transfers (page, CSS and JS, gzipped).
//
//	go test ./web -run '^$' -bench WorkerHome -benchtime 200x
func BenchmarkWorkerHome(b *testing.B) {
	e := newEnv(b, storage.SQLite)
	seedDemo(b, e)
	br := e.signIn(e.f.Worker, "zh-CN")
	total, html := homeWeight(b, br)
	benchPage(b, br, "/")
	b.ReportMetric(float64(total), "bytes-transferred")
	b.ReportMetric(float64(html), "html-bytes-gz")
}

// BenchmarkSupervisorHome renders the supervisor's home with the demo's
// data: every open case, the alerts, the recent closures, each load.
//
//	go test ./web -run '^$' -bench SupervisorHome -benchtime 200x
func BenchmarkSupervisorHome(b *testing.B) {
	e := newEnv(b, storage.SQLite)
	seedDemo(b, e)
	benchPage(b, e.signIn(e.f.Supervisor, "zh-CN"), "/")
}

// BenchmarkCasePage renders a case in follow-up with the demo's data: the
// facts, the steps, the timeline, the schedule, the ledger, the documents.
//
//	go test ./web -run '^$' -bench CasePage -benchtime 200x
func BenchmarkCasePage(b *testing.B) {
	e := newEnv(b, storage.SQLite)
	seedDemo(b, e)
	list, err := e.cases.ListCases(ctx, cases.CaseFilter{State: cases.StateFollowUp, Limit: 1})
	must(b, err)
	benchPage(b, e.signIn(e.f.Supervisor, "zh-CN"), "/cases/"+list.Cases[0].ID.String())
}

// benchPage gets path b.N times, gzipped, and reports the median and the
// 90th percentile of one answer.
func benchPage(b *testing.B, br *browser, path string) {
	b.Helper()
	times := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for range b.N {
		start := time.Now()
		res := br.get(path, "Accept-Encoding", "gzip")
		times = append(times, time.Since(start))
		if res.status != 200 {
			b.Fatalf("status %d", res.status)
		}
	}
	b.StopTimer()
	sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
	b.ReportMetric(float64(times[len(times)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(times[len(times)*9/10].Microseconds())/1000, "p90-ms")
}
