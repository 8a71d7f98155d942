package api_test

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/remedy-cases/remedy/api"
	cases "github.com/remedy-cases/remedy/case"
	"github.com/remedy-cases/remedy/internal/pdftext"
	"github.com/remedy-cases/remedy/storage"
)

// TestMonthlyReports walks a case with canary identity and notes through
// October, has a supervisor generate October's report, and checks what the
// brand can list and download: its own report, audited, with the case code,
// the Chinese factory name and the figures, and none of the canaries.
func TestMonthlyReports(t *testing.T) {
	e := newTestEnv(t, storage.SQLite)
	f := e.fixture
	canary := func(field string) string { return "CANARY" + field + uuid.NewString()[:8] }
	canaries := map[string]string{}
	for _, k := range []string{"name", "idnum", "narrative", "notes", "concerns", "reason"} {
		canaries[k] = canary(k)
	}

	// October, through storage: the API's tokens are dated November.
	now := e.db.Now
	october := time.Date(2026, 10, 12, 8, 0, 0, 0, time.UTC)
	e.db.Now = func() time.Time { return october }
	r := f.Report(time.Date(2026, 10, 10, 0, 0, 0, 0, time.UTC))
	r.Identity.FullName, r.Identity.IDNumber = canaries["name"], canaries["idnum"]
	r.Narrative = cases.NewNote(canaries["narrative"])
	c, err := e.cases.FileCase(ctx, f.Auditor.Actor(), r)
	must(t, err)
	step := func(next *cases.Case, err error) { t.Helper(); must(t, err); c = next }
	fire := func(u *cases.User, ev cases.Event) {
		t.Helper()
		next, _, err := e.cases.Transition(ctx, u.Actor(), c.ID, c.Version, cases.TransitionRequest{Event: ev, Reason: cases.NewNote(canaries["reason"])})
		step(next, err)
	}
	step(e.cases.Assign(ctx, f.Supervisor.Actor(), c.ID, c.Version, f.Worker.ID))
	fire(f.Worker, cases.EventBeginVerification)
	step(e.cases.RecordVerification(ctx, f.Worker.Actor(), c.ID, c.Version, cases.Verification{Method: "household_register",
		VerifiedBirthDate: time.Date(2012, 2, 1, 0, 0, 0, 0, time.UTC), Notes: cases.NewNote(canaries["notes"])}))
	fire(f.Worker, cases.EventConfirmChildLabour)
	step(e.cases.PutPlan(ctx, f.Worker.Actor(), c.ID, c.Version, cases.PlanInput{School: "Xinhua Middle School", Grade: "8",
		EnrolmentDate: october, Currency: "CNY", MonthlyStipend: 80000, Payer: cases.PayerBrand, GuardianConsent: true}))
	fire(f.Supervisor, cases.EventApprovePlan)
	paid := time.Date(2026, 10, 12, 0, 0, 0, 0, time.UTC)
	_, err = e.cases.AddFollowUp(ctx, f.Worker.Actor(), c.ID, cases.FollowUpInput{Date: paid, Contact: "visit", AttendingSchool: true,
		StipendPaid: 80000, StipendPaidOn: &paid, StipendProofRef: "BANK-OCT-1", Concerns: cases.NewNote(canaries["concerns"])})
	must(t, err)
	e.db.Now = now

	res := e.do("POST", "/v1/monthly-reports", e.tokens["supervisor"], map[string]any{"client_id": f.Client.ID, "month": "2026-10"})
	if res.status != http.StatusCreated {
		t.Fatalf("generate: %d %s", res.status, res.body)
	}
	var made api.MonthlyReport
	res.decode(t, &made)
	if made.Version != 1 || made.CaseCount != 1 {
		t.Errorf("report = %+v, want version 1 with one case", made)
	}

	t.Run("NotOverYet", func(t *testing.T) {
		res := e.do("POST", "/v1/monthly-reports", e.tokens["supervisor"], map[string]any{"client_id": f.Client.ID, "month": "2026-11"})
		if res.status != http.StatusUnprocessableEntity || !strings.Contains(string(res.body), "month must be over") {
			t.Errorf("November on 3 November: %d %s", res.status, res.body)
		}
		res = e.do("POST", "/v1/monthly-reports", e.tokens["supervisor"], map[string]any{"client_id": uuid.New(), "month": "2026-10"})
		if res.status != http.StatusUnprocessableEntity {
			t.Errorf("unknown client: %d %s", res.status, res.body)
		}
	})
	t.Run("ListIsTheBrandsOwn", func(t *testing.T) {
		var list api.MonthlyReportList
		e.do("GET", "/v1/monthly-reports", e.tokens["client"], nil).decode(t, &list)
		if len(list.Items) != 1 || list.Items[0].Id != made.Id {
			t.Errorf("the brand lists %+v", list.Items)
		}
		e.do("GET", "/v1/monthly-reports?client_id="+f.Client.ID.String(), e.tokens["other_client"], nil).decode(t, &list)
		if len(list.Items) != 0 {
			t.Errorf("another brand lists %+v", list.Items)
		}
	})
	t.Run("Download", func(t *testing.T) {
		if res := e.do("GET", "/v1/monthly-reports/"+made.Id.String()+"/pdf", e.tokens["other_client"], nil); res.status != http.StatusNotFound {
			t.Errorf("another brand's download: %d", res.status)
		}
		res := e.do("GET", "/v1/monthly-reports/"+made.Id.String()+"/pdf", e.tokens["client"], nil)
		if res.status != http.StatusOK || res.header.Get("Content-Type") != "application/pdf" {
			t.Fatalf("download: %d %s", res.status, res.header.Get("Content-Type"))
		}
		if sum := sha256.Sum256(res.body); hex.EncodeToString(sum[:]) != made.Sha256 {
			t.Errorf("the PDF's SHA-256 is not the one listed")
		}
		pages, err := pdftext.Pages(res.body)
		if err != nil {
			t.Fatal(err)
		}
		text := strings.Join(pages, "\n")
		for _, want := range []string{c.Code, f.Factory.Name, f.Client.Name, "October 2026", "800.00 CNY", "Page 2 of 2"} {
			if !strings.Contains(text, want) {
				t.Errorf("the PDF lacks %q", want)
			}
		}
		for k, v := range canaries {
			if strings.Contains(text, v) || strings.Contains(string(res.body), v) {
				t.Errorf("the PDF holds the %s canary", k)
			}
			if strings.Contains(e.logs.String(), v) {
				t.Errorf("the log holds the %s canary", k)
			}
		}
		var downloads int64
		must(t, e.db.Gorm().Raw("SELECT count(*) FROM audit_log WHERE action = ? AND subject = ?", cases.ActionReportDownloaded, made.Id.String()).Scan(&downloads).Error)
		if downloads != 1 {
			t.Errorf("%d audited downloads, want 1", downloads)
		}
	})
	t.Run("Contacts", func(t *testing.T) {
		path := "/v1/clients/" + f.Client.ID.String() + "/report-contacts"
		// The document declares format: email, so the validator refuses it,
		// naming the item, before the domain is asked.
		if res := e.do("PUT", path, e.tokens["admin"], map[string]any{"emails": []string{"not an address"}}); res.status != http.StatusBadRequest ||
			!strings.Contains(string(res.body), `"emails.0"`) {
			t.Errorf("bad address: %d %s", res.status, res.body)
		}
		res := e.do("PUT", path, e.tokens["admin"], map[string]any{"emails": []string{"b@brand.example", "a@brand.example"}})
		if res.status != http.StatusOK || !strings.Contains(string(res.body), `["a@brand.example","b@brand.example"]`) {
			t.Errorf("put: %d %s", res.status, res.body)
		}
	})
}
