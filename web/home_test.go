package web_test

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

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
		same("overdue", bucketOf(t, page, "overdue"), codes(overdue))
		same("due", bucketOf(t, page, "due"), codes(due))
		if strings.Contains(page, otherWorkers.Code) || strings.Contains(page, unassigned.Code) {
			t.Error("a case worker's home lists cases not theirs")
		}
		if !strings.Contains(page, "进行中的个案：7 个。") {
			t.Error("the count of open cases")
		}
	})
	t.Run("supervisor", func(t *testing.T) {
		page := e.signIn(e.f.Supervisor, "zh-CN").get("/").text()
		same("unassigned", bucketOf(t, page, "unassigned"), codes(unassigned))
		same("approve", bucketOf(t, page, "approve"), codes(waiting))
		same("overdue", bucketOf(t, page, "overdue"), codes(overdue))
		for _, want := range []string{e.f.Worker.Name, e.f.OtherWorker.Name, `action="/cases/` + unassigned.ID.String() + `/assign"`} {
			if !strings.Contains(page, want) {
				t.Errorf("the supervisor's home lacks %q", want)
			}
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
