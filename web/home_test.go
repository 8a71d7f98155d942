package web_test

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	cases "github.com/remedy-cases/remedy/case"
	"github.com/remedy-cases/remedy/storage"
)

// bucketOf returns the codes listed in the home page's bucket key.
func bucketOf(t *testing.T, page, key string) []string {
	t.Helper()
	start := strings.Index(page, `id="b-`+key+`"`)
	if start < 0 {
		return nil // an empty bucket shows its count only
	}
	section := page[start:]
	section = section[:strings.Index(section, "</section>")]
	return listed(section)
}

// listed returns the case codes a page lists.
func listed(page string) []string {
	var out []string
	for _, m := range regexp.MustCompile(`class="code">(CL-\d{4}-\d{4})<`).FindAllStringSubmatch(page, -1) {
		out = append(out, m[1])
	}
	return out
}

func TestHomes(t *testing.T) {
	e := newEnv(t, storage.SQLite)
	found := e.now.AddDate(0, -3, 0)
	intake := e.caseIn(cases.StateIntake, e.f.Report(found))
	unassigned, err := e.cases.FileCase(ctx, e.f.Auditor.Actor(), e.f.Report(found))
	must(t, err)
	verifying := e.caseIn(cases.StateVerification, e.f.Report(found))
	planning := e.caseIn(cases.StatePlanning, e.f.Report(found))
	// A plan complete and consented, written by the worker: awaiting approval.
	waiting := e.caseIn(cases.StatePlanning, e.f.Report(found))
	consent := e.now.AddDate(0, 0, -1)
	waiting, err = e.cases.PutPlan(ctx, e.f.Worker.Actor(), waiting.ID, waiting.Version, cases.PlanInput{School: "S", Grade: "7",
		EnrolmentDate: e.now, Currency: "CNY", MonthlyStipend: 50000, Payer: cases.PayerFactory, EndDate: e.now.AddDate(2, 0, 0),
		GuardianConsent: true, ConsentDate: &consent})
	must(t, err)
	// One the supervisor wrote: not theirs to approve.
	own := e.caseIn(cases.StatePlanning, e.f.Report(found))
	_, err = e.cases.PutPlan(ctx, e.f.Supervisor.Actor(), own.ID, own.Version, cases.PlanInput{School: "S", Grade: "7",
		EnrolmentDate: e.now, Currency: "CNY", MonthlyStipend: 50000, Payer: cases.PayerFactory, EndDate: e.now.AddDate(2, 0, 0),
		GuardianConsent: true, ConsentDate: &consent})
	must(t, err)
	// In follow-up since three months: overdue; another approved just now: due this month.
	e.advance(-80 * 24 * time.Hour)
	overdue := e.caseIn(cases.StateFollowUp, e.f.Report(found))
	e.advance(80 * 24 * time.Hour)
	due := e.caseIn(cases.StateFollowUp, e.f.Report(found.AddDate(0, 2, 0)))
	// A plan that ended twenty days ago: due to close, owing nothing more.
	e.advance(-120 * 24 * time.Hour)
	closing := e.caseIn(cases.StatePlanning, e.f.Report(e.clock().AddDate(0, 0, -5)))
	consentThen := e.clock()
	closing, err = e.cases.PutPlan(ctx, e.f.Worker.Actor(), closing.ID, closing.Version, cases.PlanInput{School: "S", Grade: "9",
		EnrolmentDate: e.clock().AddDate(0, 0, 5), Currency: "CNY", MonthlyStipend: 50000, Payer: cases.PayerFactory,
		EndDate: e.clock().AddDate(0, 0, 100), GuardianConsent: true, ConsentDate: &consentThen})
	must(t, err)
	closing, _, err = e.cases.Transition(ctx, e.f.Supervisor.Actor(), closing.ID, closing.Version, cases.TransitionRequest{Event: cases.EventApprovePlan})
	must(t, err)
	// Closed two months ago: too long ago to be offered for reopening.
	e.advance(60 * 24 * time.Hour)
	closedLongAgo := e.caseIn(cases.StateClosed, e.f.Report(found))
	e.advance(60 * 24 * time.Hour)
	closedNow := e.caseIn(cases.StateClosed, e.f.Report(found))
	// A follow-up this month found the child working again: an alert.
	alerted := e.caseIn(cases.StateFollowUp, e.f.Report(found))
	_, err = e.cases.AddFollowUp(ctx, e.f.Worker.Actor(), alerted.ID, cases.FollowUpInput{Date: e.now, Contact: "visit", WorkingAgain: true})
	must(t, err)
	otherWorkers, err := e.cases.FileCase(ctx, e.f.Auditor.Actor(), e.f.Report(found))
	must(t, err)
	_, err = e.cases.Assign(ctx, e.f.Supervisor.Actor(), otherWorkers.ID, otherWorkers.Version, e.f.OtherWorker.ID)
	must(t, err)

	codes := func(cs ...*cases.Case) []string {
		var out []string
		for _, c := range cs {
			out = append(out, c.Code)
		}
		return out
	}
	same := func(name string, got, want []string) {
		t.Helper()
		g, w := strings.Join(sorted(got), " "), strings.Join(sorted(want), " ")
		if g != w {
			t.Errorf("%s: got %s, want %s", name, g, w)
		}
	}

	t.Run("case worker", func(t *testing.T) {
		page := e.signIn(e.f.Worker, "zh-CN").get("/").text()
		same("begin", bucketOf(t, page, "begin"), codes(intake))
		same("verify", bucketOf(t, page, "verify"), codes(verifying))
		same("plan", bucketOf(t, page, "plan"), codes(planning))
		// Complete and consented, whoever wrote it: it waits for a supervisor.
		same("waiting", bucketOf(t, page, "waiting"), codes(waiting, own))
		same("missed", bucketOf(t, page, "missed"), codes(overdue))
		// Missed months do not excuse this month's follow-up.
		same("due", bucketOf(t, page, "due"), codes(due, overdue))
		same("due to close", bucketOf(t, page, "due_to_close"), codes(closing))
		same("working again", bucketOf(t, page, "working_again"), codes(alerted))
		// October's stipend, due on its first day, unpaid past ten days;
		// the plan approved this month owes nothing late yet.
		same("arrears", bucketOf(t, page, "arrears"), codes(overdue, closing))
		if strings.Contains(page, otherWorkers.Code) || strings.Contains(page, unassigned.Code) ||
			strings.Contains(page, closedNow.Code) || strings.Contains(page, closedLongAgo.Code) {
			t.Error("a case worker's home lists cases not theirs, or closed")
		}
		if !strings.Contains(page, "进行中的个案：9 个。") {
			t.Error("the count of open cases")
		}
		// Each bucket's count, in the summary, in the words.
		for _, want := range []string{`<span class="count">1</span> 待年龄核实`, `<span class="count">1</span> 漏访月份`,
			`<span class="count">1</span> 待结案`, `<span class="count">1</span> 警报：再次工作`, `<span class="count">2</span> 警报：生活补助欠付`,
			"首个漏访月份：2026年8月"} {
			if !strings.Contains(page, want) {
				t.Errorf("the worker's home lacks %q", want)
			}
		}
	})
	t.Run("supervisor", func(t *testing.T) {
		page := e.signIn(e.f.Supervisor, "zh-CN").get("/").text()
		same("unassigned", bucketOf(t, page, "unassigned"), codes(unassigned))
		same("approve", bucketOf(t, page, "approve"), codes(waiting))
		same("missed", bucketOf(t, page, "missed"), codes(overdue))
		same("due to close", bucketOf(t, page, "due_to_close"), codes(closing))
		same("working again", bucketOf(t, page, "working_again"), codes(alerted))
		same("arrears", bucketOf(t, page, "arrears"), codes(overdue, closing))
		same("reopen", bucketOf(t, page, "reopen"), codes(closedNow))
		for _, want := range []string{e.f.Worker.Name, e.f.OtherWorker.Name, `action="/cases/` + unassigned.ID.String() + `/assign"`} {
			if !strings.Contains(page, want) {
				t.Errorf("the supervisor's home lacks %q", want)
			}
		}
	})
	t.Run("close and reopen from the supervisor's home", func(t *testing.T) {
		sup := e.signIn(e.f.Supervisor, "en")
		page := sup.get("/").text()
		section := page[strings.Index(page, `id="b-due_to_close"`):]
		if !strings.Contains(section, "Close as completed") {
			t.Fatal("no close button on the due-to-close bucket")
		}
		if page := sup.get("/cases/" + closing.ID.String()).text(); !strings.Contains(page, "The plan ended on 14 Oct 2026: nothing more is owed") {
			t.Error("the case page does not say it is due to close")
		}
		fresh, err := e.cases.FindCase(ctx, closing.ID)
		must(t, err)
		res := sup.post("/cases/"+closing.ID.String()+"/transitions", url.Values{"event": {"close"}, "outcome": {"completed"},
			"version": {strconv.Itoa(fresh.Version)}})
		if res.status != http.StatusSeeOther {
			t.Fatalf("close: %d", res.status)
		}
		fresh, err = e.cases.FindCase(ctx, closing.ID)
		must(t, err)
		if fresh.State != cases.StateClosed || fresh.Outcome != cases.OutcomeCompleted {
			t.Fatalf("closed from home: %s %s", fresh.State, fresh.Outcome)
		}
		page = sup.get("/").text()
		same("reopen after closing", bucketOf(t, page, "reopen"), codes(closedNow, closing))
		if !strings.Contains(page, `name="event" value="reopen"`) {
			t.Fatal("no reopen form")
		}
		res = sup.post("/cases/"+closing.ID.String()+"/transitions", url.Values{"event": {"reopen"}, "reason": {"closed by mistake"},
			"version": {strconv.Itoa(fresh.Version)}})
		if res.status != http.StatusSeeOther {
			t.Fatalf("reopen: %d", res.status)
		}
		if fresh, err = e.cases.FindCase(ctx, closing.ID); err != nil || fresh.State != cases.StateFollowUp {
			t.Fatalf("reopened from home: %v %v", fresh.State, err)
		}
	})
	t.Run("search", func(t *testing.T) {
		b := e.signIn(e.f.Worker, "en")
		if got := b.get("/cases?code=" + strings.ToLower(intake.Code)).text(); !strings.Contains(got, intake.Code) {
			t.Error("search by code")
		}
		if got := b.get("/cases?code=" + otherWorkers.Code).text(); strings.Contains(got, otherWorkers.Code+"</span>") {
			t.Error("search by code found another worker's case")
		}
		if got := b.get("/cases?code=42").text(); !strings.Contains(got, "A case code looks like CL-2026-0042.") {
			t.Error("a malformed code is not explained")
		}
		got := b.get("/cases?factory=" + e.f.Factory.ID.String() + "&state=planning").text()
		same("by factory and state", listed(got), codes(planning, waiting, own))
		sup := e.signIn(e.f.Supervisor, "en")
		got = sup.get("/cases?assignee=" + e.f.OtherWorker.ID.String()).text()
		same("by assignee", listed(got), codes(otherWorkers))
		// By a part of a factory's name, or of a code; and the alert filters.
		toys, err := storage.NewFactoryService(e.db).CreateFactory(ctx, cases.SystemActor, cases.NewFactory{Name: "宁波星光玩具厂",
			NameEn: "Ningbo Starlight Toys", Province: "浙江", City: "宁波", ClientIDs: []uuid.UUID{e.f.Client.ID}})
		must(t, err)
		r := e.f.Report(found)
		r.FactoryID = toys.ID
		atToys, err := e.cases.FileCase(ctx, e.f.Auditor.Actor(), r)
		must(t, err)
		same("by factory name", listed(sup.get("/cases?q="+url.QueryEscape("星光")).text()), codes(atToys))
		same("by English factory name", listed(sup.get("/cases?q=starlight").text()), codes(atToys))
		same("by a part of a code", listed(sup.get("/cases?q="+atToys.Code[len(atToys.Code)-4:]).text()), codes(atToys))
		same("unassigned", listed(sup.get("/cases?unassigned=1").text()), codes(unassigned, atToys))
		same("due to close", listed(sup.get("/cases?due_to_close=1").text()), codes(closing))
		same("alert", listed(sup.get("/cases?alert=1").text()), codes(alerted))
		same("arrears", listed(sup.get("/cases?arrears=1").text()), codes(overdue, closing))
		same("a worker's alerts", listed(b.get("/cases?alert=1").text()), codes(alerted))
		if got := b.get("/cases?q=" + strings.Repeat("x", 101)).text(); !strings.Contains(got, "Type at most 100 characters.") {
			t.Error("an overlong search is not explained")
		}
		res := sup.get("/cases?overdue=1", "HX-Request", "true", "HX-Target", "results")
		if !strings.HasPrefix(res.text(), `<section id="results"`) || !strings.Contains(res.text(), overdue.Code) || res.header.Get("Vary") == "" {
			t.Errorf("htmx results: %s", res.body)
		}
	})
	t.Run("access", func(t *testing.T) {
		other := e.signIn(e.f.OtherWorker, "en")
		// Apart from its own path and the per-answer CSRF token, a case
		// the user may not see answers byte for byte as a missing one.
		tokens := regexp.MustCompile(`name="csrf" value="[^"]+"|"X-CSRF-Token": "[^"]+"`)
		normal := func(res response, id string) []byte {
			return tokens.ReplaceAll(bytes.ReplaceAll(res.body, []byte(id), []byte("ID")), []byte("TOKEN"))
		}
		const nobody = "00000000-0000-7000-8000-000000000000"
		for _, c := range []*cases.Case{intake, planning, unassigned} {
			for _, p := range []string{"", "/reveal"} {
				missing := other.get("/cases/" + nobody + p)
				res := other.get("/cases/" + c.ID.String() + p)
				if res.status != http.StatusNotFound || !bytes.Equal(normal(res, c.ID.String()), normal(missing, nobody)) {
					t.Errorf("another worker's %s%s: %d", c.Code, p, res.status)
				}
			}
		}
		auditor := e.signIn(e.f.Auditor, "en")
		if res := auditor.get("/cases/" + intake.ID.String()); res.status != http.StatusNotFound {
			t.Errorf("an auditor reads a case page: %d", res.status)
		}
		if page := auditor.get("/").text(); !strings.Contains(page, intake.Code) || !strings.Contains(page, "Reports I filed") {
			t.Error("the auditor's home lacks its reports")
		}
	})
}

func sorted(s []string) []string {
	out := append([]string(nil), s...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

// homeWeight is what a browser transfers for the case worker's home:
// the page and every stylesheet and script it loads, gzipped.
func homeWeight(t testing.TB, b *browser) (total, html int) {
	page := b.get("/", "Accept-Encoding", "gzip")
	if page.header.Get("Content-Encoding") != "gzip" {
		t.Fatalf("the home page is not compressed: %v", page.header)
	}
	total, html = len(page.body), len(page.body)
	zr, err := gzip.NewReader(bytes.NewReader(page.body))
	must(t, err)
	plain, err := io.ReadAll(zr)
	must(t, err)
	for _, m := range regexp.MustCompile(`(?:href|src)="(/static/[^"]+\.(?:css|js))"`).FindAllSubmatch(plain, -1) {
		a := b.get(string(m[1]), "Accept-Encoding", "gzip")
		if a.status != http.StatusOK {
			t.Fatalf("%s: %d", m[1], a.status)
		}
		total += len(a.body)
	}
	return total, html
}

// TestHomeWeight: the case worker's home with the demo's share of cases
// stays under 50 KB transferred, HTML, CSS and JS, compressed.
func TestHomeWeight(t *testing.T) {
	e := newEnv(t, storage.SQLite)
	seedDemo(t, e)
	total, html := homeWeight(t, e.signIn(e.f.Worker, "zh-CN"))
	t.Logf("home: %d bytes transferred (%d of HTML)", total, html)
	if total > 50_000 {
		t.Fatalf("the home page weighs %d bytes, over 50 KB", total)
	}
}

// TestLinks: a child found again is linked to the earlier case on the case
// page, by the blind index; a link the user may not follow is named only.
func TestLinks(t *testing.T) {
	e := newEnv(t, storage.SQLite)
	r := e.f.Report(e.now.AddDate(0, -2, 0))
	first := e.caseIn(cases.StateVerification, r)
	r.FoundOn = e.now.AddDate(0, 0, -3)
	again, err := e.cases.FileCase(ctx, e.f.Auditor.Actor(), r) // same ID number
	must(t, err)
	_, err = e.cases.Assign(ctx, e.f.Supervisor.Actor(), again.ID, again.Version, e.f.OtherWorker.ID)
	must(t, err)
	page := e.signIn(e.f.Supervisor, "zh-CN").get("/cases/" + again.ID.String()).text()
	if !strings.Contains(page, `<a href="/cases/`+first.ID.String()+`">`+first.Code+`</a> · `) || !strings.Contains(page, "相同</li>") {
		t.Fatalf("the supervisor sees no link to %s", first.Code)
	}
	page = e.signIn(e.f.OtherWorker, "zh-CN").get("/cases/" + again.ID.String()).text()
	if !strings.Contains(page, "<li>"+first.Code+" · ") || strings.Contains(page, `href="/cases/`+first.ID.String()+`"`) {
		t.Fatal("another worker's earlier case is linked to a page they may not see")
	}
}
