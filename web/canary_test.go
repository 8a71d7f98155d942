package web_test

import (
	"bytes"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	cases "github.com/remedy-cases/remedy/case"
	"github.com/remedy-cases/remedy/storage"
)

// canaries are an identity and notes no page but the reveal page may show.
var canaries = []string{"CANARY-NAME-甲乙", "CANARY-ALIAS", "CANARYID-4419", "CANARY-PHONE-139", "CANARY-ADDRESS",
	"CANARY-HOMETOWN", "CANARY-GUARDIAN", "CANARY-GPHONE", "CANARY-NARRATIVE", "CANARY-VNOTE", "CANARY-REASON",
	"CANARY-CONCERN", "CANARY-WEB-NOTE", "CANARY-WEB-NAME", "2009-07-19", "2009年7月19日", "19 Jul 2009", "CANARY-FILE"}

func leaked(s string) []string {
	var out []string
	for _, c := range canaries {
		if strings.Contains(s, c) {
			out = append(out, c)
		}
	}
	return out
}

// TestCanary: a child's identity and the notes appear on the reveal page
// and nowhere else: in no other page, header, URL, or log line, in either
// language, whether a form was accepted or refused.
func TestCanary(t *testing.T) {
	e := newEnv(t, storage.SQLite)
	claimed := time.Date(2009, 7, 19, 0, 0, 0, 0, time.UTC)
	r := e.f.Report(e.now.AddDate(0, 0, -30))
	r.Identity = cases.Identity{FullName: canaries[0], OtherNames: []string{canaries[1]}, ClaimedBirthDate: &claimed,
		IDDocumentType: "id_card", IDNumber: canaries[2], IDSuspected: "borrowed", Phone: canaries[3], Address: canaries[4],
		Hometown: canaries[5], Guardians: []cases.Guardian{{Name: canaries[6], Relation: "mother", Phone: canaries[7]}}}
	r.Narrative = cases.NewNote(canaries[8])
	c, err := e.cases.FileCase(ctx, e.f.Auditor.Actor(), r)
	must(t, err)
	step := func(next *cases.Case, err error) { t.Helper(); must(t, err); c = next }
	step(e.cases.Assign(ctx, e.f.Supervisor.Actor(), c.ID, c.Version, e.f.Worker.ID))
	next, _, err := e.cases.Transition(ctx, e.f.Worker.Actor(), c.ID, c.Version, cases.TransitionRequest{Event: cases.EventBeginVerification, Reason: cases.NewNote(canaries[10])})
	step(next, err)
	step(e.cases.RecordVerification(ctx, e.f.Worker.Actor(), c.ID, c.Version, cases.Verification{Method: "school_record",
		VerifiedBirthDate: time.Date(2011, 5, 17, 0, 0, 0, 0, time.UTC), Notes: cases.NewNote(canaries[9])}))
	next, _, err = e.cases.Transition(ctx, e.f.Worker.Actor(), c.ID, c.Version, cases.TransitionRequest{Event: cases.EventConfirmChildLabour})
	step(next, err)
	path := "/cases/" + c.ID.String()

	var seen []response
	record := func(res response) response { seen = append(seen, res); return res }
	worker := e.signIn(e.f.Worker, "zh-CN")
	sup := e.signIn(e.f.Supervisor, "en")

	// Forms carrying canaries, refused and accepted.
	worker.get(path)
	version := strconv.Itoa(c.Version)
	record(worker.post(path+"/transitions", url.Values{"event": {"dismiss"}, "version": {version}, "reason": {canaries[12]}}))
	record(worker.post(path+"/transitions", url.Values{"event": {"dismiss"}, "version": {version}, "reason": {canaries[12]}}, "HX-Request", "true"))
	record(worker.post(path+"/plan", url.Values{"version": {"1"}, "school": {"x"}}))
	sup.get("/cases/new")
	bad := reportForm(e, canaries[13])
	bad.Set("found_on", "not a date")
	bad.Set("narrative", canaries[12])
	bad.Set("claimed_birth_date", "2009-07-19")
	record(sup.post("/cases", bad))
	record(sup.post("/cases", bad, "HX-Request", "true"))
	good := reportForm(e, canaries[13])
	good.Set("narrative", canaries[12])
	filed := record(sup.post("/cases", good))
	if filed.status != http.StatusSeeOther {
		t.Fatalf("filing: %d %s", filed.status, filed.body)
	}

	// A photo named after the child, a plan approved, a follow-up with
	// concerns that found the child working again, a payment and its
	// reversal: the ledger, the documents and the alerts show on pages.
	doc, err := storage.NewDocumentService(e.db).AttachDocument(ctx, e.f.Worker.Actor(), c.ID, cases.NewDocument{Kind: "photo",
		Step: cases.StepVerification, Name: cases.NewFileName("CANARY-FILE-" + canaries[0] + ".jpg")}, bytes.NewReader(gpsPhoto(t)))
	must(t, err)
	c, err = e.cases.FindCase(ctx, c.ID)
	must(t, err)
	consent := e.now.AddDate(0, 0, -1)
	step(e.cases.PutPlan(ctx, e.f.Worker.Actor(), c.ID, c.Version, cases.PlanInput{School: "S", Grade: "8", EnrolmentDate: e.now.AddDate(0, -1, 0),
		Currency: "CNY", MonthlyStipend: 50000, Payer: cases.PayerBrand, GuardianConsent: true, ConsentDate: &consent}))
	next, _, err = e.cases.Transition(ctx, e.f.Supervisor.Actor(), c.ID, c.Version, cases.TransitionRequest{Event: cases.EventApprovePlan})
	step(next, err)
	_, err = e.cases.AddFollowUp(ctx, e.f.Worker.Actor(), c.ID, cases.FollowUpInput{Date: e.now, Contact: "visit", WorkingAgain: true,
		Concerns: cases.NewNote(canaries[11])})
	must(t, err)
	worker.get(path)
	record(worker.post(path+"/payments", url.Values{"payer": {"brand"}, "month": {"2026-10"}, "amount": {"500"}, "currency": {"CNY"},
		"paid_on": {"2026-11-01"}, "method": {"cash"}, "proof_ref": {"R-1"}}))
	record(worker.post(path+"/payments", url.Values{"payer": {"brand"}, "month": {"1999-01"}, "amount": {"x"}, "proof_ref": {"R-2"}}))
	_, payments, err := storage.NewLedgerService(e.db).CaseLedger(ctx, c.ID)
	must(t, err)
	record(worker.post(path+"/payments/"+payments[0].ID.String()+"/reversal", nil))
	// A supervisor's decision on the alert, its reason a canary: stale, then
	// accepted.
	alerted, err := e.cases.FindCase(ctx, c.ID)
	must(t, err)
	sup.get(path)
	record(sup.post(path+"/alert", url.Values{"version": {strconv.Itoa(alerted.Version - 1)}, "reason": {canaries[12]}}))
	record(sup.post(path+"/alert", url.Values{"version": {strconv.Itoa(alerted.Version)}, "reason": {canaries[12]}}, "HX-Request", "true"))
	if got, _ := e.cases.FindCase(ctx, c.ID); got.Alert() {
		t.Error("the alert was not decided: the check below would prove little")
	}
	docPath := path + "/documents/" + doc.ID.String()
	record(worker.post(docPath, url.Values{"reason": {"curiosity"}}))
	opened := record(worker.post(docPath, url.Values{"reason": {"verify_age"}}))
	if opened.status != http.StatusOK || opened.header.Get("Cache-Control") != "no-store, max-age=0" {
		t.Errorf("opening the document: %d %v", opened.status, opened.header)
	}

	// Every page, in both languages, plain and through htmx.
	for _, b := range []*browser{worker, sup} {
		for _, p := range []string{"/", "/cases", "/cases?state=planning", "/cases?code=" + c.Code, path, path + "/reveal",
			"/cases/new", filed.header.Get("Location"), "/nothing", "/cases?q=" + url.QueryEscape("华美"),
			"/cases?alert=1&arrears=1&due_to_close=1&unassigned=1&overdue=1", docPath} {
			record(b.get(p))
			record(b.get(p, "HX-Request", "true", "HX-Target", "results"))
		}
	}
	if page := worker.get(path).text(); !strings.Contains(page, "生活补助台账") || !strings.Contains(page, "文件和照片") {
		t.Error("the case page shows no ledger or documents: the check below would prove little")
	}
	for _, res := range seen {
		where := res.url + " " + res.header.Get("Location")
		if got := leaked(where); got != nil {
			t.Errorf("%s: a URL holds %v", res.url, got)
		}
		for name, values := range res.header {
			if got := leaked(strings.Join(values, " ")); got != nil {
				t.Errorf("%s: header %s holds %v", res.url, name, got)
			}
		}
		if got := leaked(res.text()); got != nil {
			t.Errorf("%s (%d): the page shows %v", res.url, res.status, got)
		}
	}

	// The reveal page shows them all, once asked with a reason, unstored.
	sup.get(path + "/reveal")
	refused := sup.post(path+"/reveal", url.Values{"reason": {"curiosity"}})
	if refused.status != http.StatusUnprocessableEntity || leaked(refused.text()) != nil {
		t.Fatalf("a reveal without a listed reason: %d %v", refused.status, leaked(refused.text()))
	}
	res := sup.post(path+"/reveal", url.Values{"reason": {"contact_guardian"}}, "Accept-Encoding", "gzip")
	if res.status != http.StatusOK {
		t.Fatalf("reveal: %d", res.status)
	}
	for _, want := range append(canaries[:11:11], "19 Jul 2009") { // no follow-up, so no concern
		if !strings.Contains(res.text(), want) {
			t.Errorf("the reveal page lacks %q", want)
		}
	}
	if res.header.Get("Cache-Control") != "no-store, max-age=0" || res.header.Get("Content-Encoding") != "" {
		t.Errorf("reveal headers: %v", res.header)
	}
	title := regexp.MustCompile(`<title>(.*)</title>`).FindStringSubmatch(res.text())
	if title == nil || leaked(title[1]) != nil || !strings.Contains(title[1], c.Code) {
		t.Errorf("title %v", title)
	}
	if strings.Contains(res.text(), "localStorage") || strings.Contains(res.text(), "sessionStorage") {
		t.Error("the reveal page touches browser storage")
	}
	// The read is audited with its reason.
	entries, err := storage.NewAuditService(e.db).CaseEntries(ctx, c.ID)
	must(t, err)
	reads := 0
	for _, en := range entries {
		if en.Action == cases.ActionIdentityRead && en.Details["reason"] == "contact_guardian" {
			reads++
		}
		if got := leaked(strings.Join(mapValues(en.Details), " ")); got != nil {
			t.Errorf("audit entry %d holds %v", en.Seq, got)
		}
	}
	if reads != 1 {
		t.Errorf("%d audited reads, want 1", reads)
	}
	if got := leaked(e.logs.String()); got != nil {
		t.Errorf("the log holds %v", got)
	}
	if !strings.Contains(e.logs.String(), `"route":"/cases/{id}/reveal"`) {
		t.Error("the log names no route: the check above read nothing")
	}
}

func mapValues(m map[string]string) []string {
	var out []string
	for _, v := range m {
		out = append(out, v)
	}
	return out
}
