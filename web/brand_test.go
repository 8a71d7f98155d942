package web_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	cases "github.com/remedy-cases/remedy/case"
	"github.com/remedy-cases/remedy/storage"
	"github.com/remedy-cases/remedy/storage/storagetest"
)

// brandUser creates a brand's user who can sign in with the test password.
func (e *env) brandUser(client *cases.Client, email string) *cases.User {
	e.t.Helper()
	u, err := e.users.CreateUser(ctx, cases.SystemActor, cases.NewUser{Email: email, Name: "Compliance " + email,
		Role: cases.RoleClient, ClientID: uuid.NullUUID{UUID: client.ID, Valid: true}, PasswordHash: passwordHash()})
	must(e.t, err)
	return u
}

// brandWorld is two brands, a case each (the first with the canary
// identity and notes), and a stored monthly report each.
type brandWorld struct {
	mine, theirs             *cases.Case
	myReport, theirReport    *cases.MonthlyReport
	brand, otherBrand, admin *cases.User
}

func newBrandWorld(t *testing.T, e *env) *brandWorld {
	t.Helper()
	w := &brandWorld{}
	r := e.f.Report(e.now.AddDate(0, 0, -40))
	claimed := time.Date(2009, 7, 19, 0, 0, 0, 0, time.UTC)
	r.Identity = cases.Identity{FullName: canaries[0], ClaimedBirthDate: &claimed, IDDocumentType: "id_card",
		IDNumber: canaries[2], Phone: canaries[3], Address: canaries[4], Hometown: canaries[5],
		Guardians: []cases.Guardian{{Name: canaries[6], Relation: "mother", Phone: canaries[7]}}}
	r.Narrative = cases.NewNote(canaries[8])
	w.mine = e.caseIn(cases.StateFollowUp, r)
	other := e.f.Report(e.now.AddDate(0, 0, -10))
	other.ClientID = e.f.OtherClient.ID
	var err error
	w.theirs, err = e.cases.FileCase(ctx, e.f.Auditor.Actor(), other)
	must(t, err)
	_, err = e.cases.AddFollowUp(ctx, e.f.Worker.Actor(), w.mine.ID, cases.FollowUpInput{Date: cases.Date(e.now),
		Contact: "visit", AttendingSchool: true, Concerns: cases.NewNote(canaries[11])})
	must(t, err)
	reports := storage.NewReportService(e.db)
	w.myReport, _, err = reports.StoreReport(ctx, cases.SystemActor, cases.NewMonthlyReport{ClientID: e.f.Client.ID,
		Month: cases.Month{Year: 2026, Month: time.October}, PDF: []byte("%PDF-1.4 mine"), CaseCount: 1}, false)
	must(t, err)
	w.theirReport, _, err = reports.StoreReport(ctx, cases.SystemActor, cases.NewMonthlyReport{ClientID: e.f.OtherClient.ID,
		Month: cases.Month{Year: 2026, Month: time.October}, PDF: []byte("%PDF-1.4 theirs"), CaseCount: 1}, false)
	must(t, err)
	w.brand = e.brandUser(e.f.Client, "compliance@polaris.example")
	w.otherBrand = e.brandUser(e.f.OtherClient, "compliance@other.example")
	return w
}

// TestBrandDashboard: a brand sees its own cases, pseudonymised as the API
// shows them to a brand, its month's figures with charts, in both
// languages; never another brand's case, an identity or a note.
func TestBrandDashboard(t *testing.T) {
	for _, d := range storagetest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			e := newEnv(t, d)
			w := newBrandWorld(t, e)
			for _, lang := range []string{"en", "zh-CN"} {
				b := e.signIn(w.brand, lang)
				res := b.get("/")
				if res.status != http.StatusOK {
					t.Fatalf("%s dashboard: %d", lang, res.status)
				}
				body := res.text()
				for _, want := range []string{w.mine.Code, e.f.Factory.Name, "<svg", `id="chart-state-t"`, `id="chart-new-t"`, `id="chart-stipends-t"`} {
					if !strings.Contains(body, want) {
						t.Errorf("%s dashboard lacks %q", lang, want)
					}
				}
				if strings.Contains(body, w.theirs.Code) {
					t.Errorf("%s dashboard shows the other brand's case %s", lang, w.theirs.Code)
				}
				if l := leaked(body); l != nil {
					t.Errorf("%s dashboard leaks %v", lang, l)
				}
				// The month's follow-up, the stipend and the attending school.
				wantText := map[string][]string{"en": {"Our cases", "Follow-ups done", "Yes", "CNY 800.00"},
					"zh-CN": {"我们的个案", "个案编号", "生活补助", "是"}}[lang]
				for _, want := range wantText {
					if !strings.Contains(body, want) {
						t.Errorf("%s dashboard lacks %q", lang, want)
					}
				}
				// Both cases were filed in November: October had none.
				if res := b.get("/?month=2026-10"); res.status != http.StatusOK || strings.Contains(res.text(), w.mine.Code) {
					t.Errorf("%s dashboard of October: %d", lang, res.status)
				}
				if res := b.get("/?month=2031-01"); res.status != http.StatusNotFound {
					t.Errorf("%s dashboard of a future month: %d, want 404", lang, res.status)
				}
			}
		})
	}
}

// TestBrandReportsAndLedger: a brand lists and downloads its own reports,
// reads and exports its ledger; another brand's report answers 404 as a
// missing one does, and every download is audited.
func TestBrandReportsAndLedger(t *testing.T) {
	for _, d := range storagetest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			e := newEnv(t, d)
			w := newBrandWorld(t, e)
			b := e.signIn(w.brand, "en")
			list := b.get("/brand/reports")
			if list.status != http.StatusOK || !strings.Contains(list.text(), "/brand/reports/"+w.myReport.ID.String()) {
				t.Fatalf("reports: %d %s", list.status, list.text())
			}
			if strings.Contains(list.text(), w.theirReport.ID.String()) {
				t.Error("the list names the other brand's report")
			}
			pdf := b.get("/brand/reports/" + w.myReport.ID.String())
			if pdf.status != http.StatusOK || pdf.header.Get("Content-Type") != "application/pdf" || pdf.text() != "%PDF-1.4 mine" {
				t.Fatalf("download: %d %q", pdf.status, pdf.header.Get("Content-Type"))
			}
			theirs := b.get("/brand/reports/" + w.theirReport.ID.String())
			missing := b.get("/brand/reports/" + uuid.NewString())
			same := func(r response) string { _, main, _ := strings.Cut(r.text(), "<main"); return main }
			if theirs.status != http.StatusNotFound || missing.status != http.StatusNotFound || same(theirs) != same(missing) {
				t.Errorf("another brand's report: %d, a missing one: %d; the pages differ: %v", theirs.status, missing.status, same(theirs) != same(missing))
			}
			ledger := b.get("/brand/ledger")
			if ledger.status != http.StatusOK || !strings.Contains(ledger.text(), "CNY 800.00") {
				t.Errorf("ledger: %d", ledger.status)
			}
			csv := b.get("/brand/ledger.csv")
			if csv.status != http.StatusOK || !strings.Contains(csv.text(), w.mine.Code) || strings.Contains(csv.text(), w.theirs.Code) {
				t.Errorf("ledger export: %d %s", csv.status, csv.text())
			}
			xlsx := b.get("/brand/ledger.xlsx")
			if xlsx.status != http.StatusOK || !strings.HasPrefix(xlsx.text(), "PK") {
				t.Errorf("ledger export as XLSX: %d", xlsx.status)
			}
			for _, res := range []response{list, pdf, ledger, csv} {
				if l := leaked(res.text()); l != nil {
					t.Errorf("%s leaks %v", res.url, l)
				}
			}
			audit := storage.NewAuditService(e.db)
			for _, action := range []string{cases.ActionReportDownloaded, cases.ActionLedgerExported} {
				page, err := audit.ListEntries(ctx, cases.AuditFilter{ActorID: uuid.NullUUID{UUID: w.brand.ID, Valid: true}, Action: action})
				must(t, err)
				if want := map[string]int{cases.ActionReportDownloaded: 1, cases.ActionLedgerExported: 2}[action]; len(page.Entries) != want {
					t.Errorf("%s audited %d times, want %d", action, len(page.Entries), want)
				}
			}
		})
	}
}

// TestBrandReachesNoStaffPage: a brand user gets 404 from every staff page
// and its own case's staff URL; staff get 404 from the brand's pages.
func TestBrandReachesNoStaffPage(t *testing.T) {
	e := newEnv(t, storage.SQLite)
	w := newBrandWorld(t, e)
	b := e.signIn(w.brand, "en")
	for _, p := range []string{"/cases", "/cases/new", "/cases/" + w.mine.ID.String(), "/cases/" + w.theirs.ID.String(),
		"/cases/" + w.mine.ID.String() + "/reveal", "/intake", "/admin/users", "/admin/audit"} {
		if res := b.get(p); res.status != http.StatusNotFound {
			t.Errorf("brand GET %s: %d, want 404", p, res.status)
		}
	}
	if res := b.post("/cases/"+w.mine.ID.String()+"/reveal", nil); res.status != http.StatusNotFound {
		t.Errorf("brand POST reveal: %d, want 404", res.status)
	}
	worker := e.signIn(e.f.Worker, "en")
	for _, p := range []string{"/brand/reports", "/brand/ledger", "/brand/ledger.csv", "/brand/reports/" + w.myReport.ID.String()} {
		if res := worker.get(p); res.status != http.StatusNotFound {
			t.Errorf("worker GET %s: %d, want 404", p, res.status)
		}
	}
	// Its own case's page, pseudonymised; another brand's answers as a missing one.
	own := b.get("/brand/cases/" + w.mine.ID.String())
	if own.status != http.StatusOK || !strings.Contains(own.text(), w.mine.Code) || !strings.Contains(own.text(), "CNY 800.00") {
		t.Errorf("its own case: %d", own.status)
	}
	if l := leaked(own.text()); l != nil {
		t.Errorf("its own case's page leaks %v", l)
	}
	for _, staffOnly := range []string{e.f.Worker.Name, e.f.Supervisor.Name, "verification note", "closing note"} {
		if strings.Contains(own.text(), staffOnly) {
			t.Errorf("its own case's page shows %q", staffOnly)
		}
	}
	theirs := b.get("/brand/cases/" + w.theirs.ID.String())
	missing := b.get("/brand/cases/" + uuid.NewString())
	main := func(r response) string { _, m, _ := strings.Cut(r.text(), "<main"); return m }
	if theirs.status != http.StatusNotFound || missing.status != http.StatusNotFound || main(theirs) != main(missing) {
		t.Errorf("another brand's case: %d, a missing one %d", theirs.status, missing.status)
	}
	if res := worker.get("/brand/cases/" + w.mine.ID.String()); res.status != http.StatusNotFound {
		t.Errorf("a worker on a brand's case page: %d", res.status)
	}
	// The other brand sees its own case only.
	o := e.signIn(w.otherBrand, "zh-CN")
	body := o.get("/").text()
	if !strings.Contains(body, w.theirs.Code) || strings.Contains(body, w.mine.Code) {
		t.Errorf("the other brand's dashboard: has its case %v, has ours %v", strings.Contains(body, w.theirs.Code), strings.Contains(body, w.mine.Code))
	}
}
