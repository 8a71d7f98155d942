package api_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/remedy-cases/remedy/api"
	cases "github.com/remedy-cases/remedy/case"
	"github.com/remedy-cases/remedy/storage"
)

// verifiedCount is the number of entries in the trail, which must verify:
// an entry appended outside its change's transaction would break it.
func (e *testEnv) verifiedCount(t *testing.T) int64 {
	t.Helper()
	n, err := storage.NewAuditService(e.db).Verify(ctx)
	must(t, err)
	return n
}

// writer is the role that makes a valid call of op on the own tenant.
func writer(op *api.Operation) string {
	for _, r := range []string{"supervisor", "admin", "auditor", "caseworker", "client"} {
		if op.Allows(cases.Role(r)) {
			return r
		}
	}
	return ""
}

// TestEveryWriteIsAudited walks every write operation of the document and
// checks that a successful call appends at least one audit entry, in the
// same transaction (the chain still verifies).
func TestEveryWriteIsAudited(t *testing.T) {
	e := newTestEnv(t, storage.SQLite)
	walked := 0
	for _, op := range e.srv.Spec().Operations() {
		if op.Method == http.MethodGet || op.ID == "verifyReport" { // a POST that stores nothing: it checks an uploaded file
			continue
		}
		spec, ok := calls[op.ID]
		if !ok {
			t.Errorf("operation %s has no entry in calls", op.ID)
			continue
		}
		t.Run(op.ID, func(t *testing.T) {
			path, query, body := e.prepare(t, op, spec, "own")
			token := ""
			if !op.Public() {
				token = e.tokens[writer(op)]
			}
			before := e.verifiedCount(t)
			res := e.do(strings.ToUpper(op.Method), path+query, token, body)
			if res.status != op.SuccessStatus() {
				t.Fatalf("%s %s: %d %s", op.Method, op.Path, res.status, res.body)
			}
			if after := e.verifiedCount(t); after <= before {
				t.Fatalf("%s %s wrote no audit entry", op.Method, op.Path)
			}
			walked++
		})
	}
	if walked < 15 {
		t.Fatalf("walked only %d write operations", walked)
	}
}

// TestUnknownQueryParameters: every operation refuses a query parameter it
// does not declare, naming it, instead of ignoring a misspelt filter.
func TestUnknownQueryParameters(t *testing.T) {
	e := newTestEnv(t, storage.SQLite)
	for _, op := range e.srv.Spec().Operations() {
		path := strings.ReplaceAll(op.Path, "{id}", uuid.NewString())
		token := ""
		if !op.Public() {
			token = e.tokens[writer(op)]
		}
		res := e.do(strings.ToUpper(op.Method), path+"?cod=CL-2026-0040", token, nil)
		if res.status != http.StatusBadRequest || !strings.Contains(string(res.body), `"name":"cod"`) {
			t.Errorf("%s %s?cod=…: %d %s", op.Method, op.Path, res.status, res.body)
		}
	}
	res := e.do("GET", "/v1/cases?%ff%fe=1", e.tokens["supervisor"], nil)
	if res.status != http.StatusBadRequest || strings.Contains(string(res.body), "\xff") {
		t.Fatalf("an unprintable parameter name: %d %q", res.status, res.body)
	}
}

// TestSearchCases: by exact code (as typed, full-width too), by a part of it,
// by factory name; a brand searches only its own cases.
func TestSearchCases(t *testing.T) {
	e := newTestEnv(t, storage.SQLite)
	own := e.caseIn("own", cases.StateIntake)
	other := e.caseIn("other", cases.StateIntake)
	codes := func(token, query string) []string {
		t.Helper()
		res := e.do("GET", "/v1/cases?"+query, token, nil)
		if res.status != http.StatusOK {
			t.Fatalf("%s: %d %s", query, res.status, res.body)
		}
		var l api.CaseList
		res.decode(t, &l)
		var out []string
		for _, c := range l.Items {
			out = append(out, c.Code)
		}
		return out
	}
	if got := codes(e.tokens["supervisor"], "code="+own.Code); !slices.Equal(got, []string{own.Code}) {
		t.Errorf("code: %v", got)
	}
	if got := codes(e.tokens["supervisor"], "code="+strings.ToLower(other.Code)); !slices.Equal(got, []string{other.Code}) {
		t.Errorf("lower-case code: %v", got)
	}
	if got := codes(e.tokens["supervisor"], "q=%E5%8D%8E%E7%BE%8E"); len(got) != 2 { // 华美, the fixture's factory
		t.Errorf("factory name: %v", got)
	}
	if got := codes(e.tokens["client"], "code="+other.Code); len(got) != 0 {
		t.Errorf("a brand found another brand's case: %v", got)
	}
	if got := codes(e.tokens["client"], "alert=true"); len(got) != 0 {
		t.Errorf("a brand listed alerts: %v", got)
	}
}

// TestInvalidUTF8 is refused, not turned into U+FFFD: the child's name
// would be lost without an error.
func TestInvalidUTF8(t *testing.T) {
	e := newTestEnv(t, storage.SQLite)
	before := e.verifiedCount(t)
	body := strings.Replace(mustJSON(t, e.report(map[string]any{"full_name": "NAME"})), "NAME", "Li \xe6\x9d", 1)
	res := e.do("POST", "/v1/cases", e.tokens["auditor"], body)
	if res.status != http.StatusBadRequest || !strings.Contains(string(res.body), "UTF-8") {
		t.Fatalf("invalid UTF-8: %d %s", res.status, res.body)
	}
	if e.verifiedCount(t) != before {
		t.Fatal("a refused filing wrote to the audit trail")
	}
	// A full-width ID number is normalised before its length is checked.
	r := e.report(map[string]any{"full_name": "张三", "id_number": "１１０１０５１９４９１２３１００２Ｘ"})
	res = e.do("POST", "/v1/cases", e.tokens["auditor"], r)
	if res.status != http.StatusCreated {
		t.Fatalf("a full-width ID number: %d %s", res.status, res.body)
	}
	var c api.Case
	res.decode(t, &c)
	// The auditor sees what it reported, not the check digit's verdict.
	if c.IdChecksumValid != nil {
		t.Fatal("the auditor's view carries staff facts")
	}
	got := e.do("GET", "/v1/cases/"+c.Id.String(), e.tokens["supervisor"], nil)
	var staff api.Case
	got.decode(t, &staff)
	if staff.IdChecksumValid == nil || !*staff.IdChecksumValid {
		t.Fatalf("id_checksum_valid %v", staff.IdChecksumValid)
	}
}

// TestCaseWorkThroughAPI walks a case through the new paths as a case worker
// and a supervisor, with canaries in every new note, then proves that the
// notes read returns them all, once audited, and that no brand answer, no
// list and no log line carries one.
func TestCaseWorkThroughAPI(t *testing.T) {
	e := newTestEnv(t, storage.SQLite)
	canary := func(field string) string { return "CANARY" + field + strings.ReplaceAll(uuid.NewString()[:8], "-", "") }
	planted := map[string]string{}
	plant := func(field string) string { planted[field] = canary(field); return planted[field] }

	r := e.report(nil)
	r["other_children_found"], r["labour_agent"], r["factory_consent"] = 2, "yes", "unknown"
	r["narrative"] = plant("narrative")
	var c api.Case
	res := e.do("POST", "/v1/cases", e.tokens["auditor"], r)
	if res.status != http.StatusCreated {
		t.Fatalf("file: %d %s", res.status, res.body)
	}
	res.decode(t, &c)
	path := "/v1/cases/" + c.Id.String()
	worker, sup := e.tokens["caseworker"], e.tokens["supervisor"]
	version := *c.Version
	step := func(method, sub, token string, body map[string]any, want int) api.Case {
		t.Helper()
		if body != nil {
			body["version"] = version
		}
		res := e.do(method, path+sub, token, body)
		if res.status != want {
			t.Fatalf("%s %s: %d %s", method, sub, res.status, res.body)
		}
		var out api.Case
		if strings.HasSuffix(sub, "/transitions") {
			var tr api.TransitionResult
			res.decode(t, &tr)
			out = tr.Case
		} else {
			res.decode(t, &out)
		}
		if out.Version != nil {
			version = *out.Version
		}
		return out
	}
	step("PUT", "/assignee", sup, map[string]any{"caseworker_id": e.users["caseworker"].ID}, 200)
	got := step("PUT", "/removal", worker, map[string]any{"removed_from_work": true, "child_safe": true,
		"child_contacted_at": e.now.Add(-3 * 3600e9).Format("2006-01-02T15:04:05Z")}, 200)
	if got.Clocks == nil || !got.Clocks.FirstContact.Done || got.Clocks.FirstContact.LimitHours != 72 {
		t.Fatalf("clocks %+v", got.Clocks)
	}
	step("POST", "/transitions", worker, map[string]any{"event": "begin_verification"}, 200)
	got = step("PUT", "/facts", worker, map[string]any{"presence": "employed", "recruitment": "labour_agent",
		"job": "ｇｌｕｉｎｇ soles", "hours_per_week": 70, "other_children_found": 3, "labour_agent": "yes", "factory_consent": "yes"}, 200)
	if *got.Job != "gluing soles" || *got.OtherChildrenFound != 3 || *got.FactoryConsent != "yes" {
		t.Fatalf("facts %v %v %v", *got.Job, *got.OtherChildrenFound, *got.FactoryConsent)
	}
	got = step("PUT", "/verification", worker, map[string]any{"method": "household_register", "verified_birth_date": "2011-05-17",
		"guardians_contacted": true, "guardians_contacted_on": "2026-10-28", "guardians_contact_method": "visit",
		"notes": plant("verification"), "child_wishes": plant("wishes")}, 200)
	if !*got.GuardiansContacted || *got.GuardiansContactMethod != "visit" {
		t.Fatalf("guardians %v %v", got.GuardiansContacted, got.GuardiansContactMethod)
	}
	step("POST", "/transitions", worker, map[string]any{"event": "confirm_child_labour"}, 200)
	got = step("PUT", "/plan", worker, map[string]any{"school": "育才中学", "grade": "初二", "enrolment_date": "2026-10-26",
		"currency": "CNY", "monthly_stipend": 80000, "payer": "brand", "guardian_consent": true, "consent_date": "2026-10-26"}, 200)
	if got.Plan.EndDate == nil || got.Plan.EndDate.String() != "2028-07-31" {
		t.Fatalf("default end date %v: grade 8 (初二) ends compulsory schooling on 31 July 2028", got.Plan.EndDate)
	}
	step("POST", "/transitions", sup, map[string]any{"event": "approve_plan"}, 200)
	for i, date := range []string{"2026-11-03", "2026-11-03"} {
		body := map[string]any{"date": date, "contact": "visit", "attending_school": true, "working_again": i == 1,
			"concerns": plant(fmt.Sprintf("concerns%d", i))}
		res := e.do("POST", path+"/follow-ups", worker, body)
		var f api.FollowUp
		res.decode(t, &f)
		if res.status != http.StatusCreated || f.Month != "2026-11" || f.Extra != (i == 1) {
			t.Fatalf("follow-up %d: %d %s", i, res.status, res.body)
		}
	}
	var alerts api.CaseList
	e.do("GET", "/v1/cases?alert=true", sup, nil).decode(t, &alerts)
	if len(alerts.Items) != 1 || alerts.Items[0].Id != c.Id || !*alerts.Items[0].Alert {
		t.Fatalf("alerts %+v", alerts.Items)
	}
	step("POST", "/alert-decision", worker, map[string]any{"reason": "x"}, http.StatusForbidden)
	got = step("POST", "/alert-decision", sup, map[string]any{"reason": plant("decision")}, 200)
	if *got.Alert {
		t.Fatal("the alert stayed after the decision")
	}
	step("POST", "/transitions", sup, map[string]any{"event": "close", "outcome": "completed", "reason": plant("closing")}, 200)
	step("POST", "/transitions", sup, map[string]any{"event": "reopen", "reason": plant("reopening")}, 200)

	// The single case tells its schedule.
	var one api.Case
	e.do("GET", path, worker, nil).decode(t, &one)
	if one.MissedMonths == nil || len(*one.MissedMonths) != 0 || one.DueThisMonth == nil || *one.DueThisMonth || one.Overdue || one.DueToClose {
		t.Fatalf("schedule: missed %v, due this month %v (approved and followed up in November)", one.MissedMonths, one.DueThisMonth)
	}

	before := e.verifiedCount(t)
	read := e.do("GET", path+"/notes?reason=safeguarding", worker, nil)
	if read.status != http.StatusOK {
		t.Fatalf("notes: %d %s", read.status, read.body)
	}
	for field, v := range planted {
		if !strings.Contains(string(read.body), v) {
			t.Errorf("the notes read lacks the %s canary", field)
		}
	}
	if e.verifiedCount(t) != before+1 {
		t.Fatal("a notes read is not one audit entry")
	}
	seen := []response{
		e.do("GET", path+"/notes?reason=safeguarding", e.tokens["client"], nil),
		e.do("GET", path+"/notes?reason=safeguarding", e.tokens["other_caseworker"], nil),
		e.do("GET", path+"/notes", worker, nil),
		e.do("GET", path, e.tokens["client"], nil),
		e.do("GET", path+"/events", e.tokens["client"], nil),
		e.do("GET", path+"/events", worker, nil),
		e.do("GET", "/v1/cases", e.tokens["client"], nil),
		e.do("GET", "/v1/cases", sup, nil),
		e.do("GET", path, sup, nil),
		e.do("GET", "/v1/audit?case_id="+c.Id.String()+"&limit=200", sup, nil),
	}
	for _, r := range seen {
		for field, v := range planted {
			if strings.Contains(string(r.body), v) {
				t.Errorf("the %s canary reached an answer (%d)", field, r.status)
			}
		}
	}
	for field, v := range planted {
		if strings.Contains(e.logs.String(), v) {
			t.Errorf("the %s canary reached the log", field)
		}
	}
	var trail api.AuditList
	e.do("GET", "/v1/audit?case_id="+c.Id.String()+"&action=notes.read", sup, nil).decode(t, &trail)
	if len(trail.Items) != 1 || trail.Items[0].Details["reason"] != "safeguarding" {
		t.Fatalf("audit listing: %+v", trail.Items)
	}
}

// TestDeadEndsThroughAPI: a case closes from planning; a dismissal reopens
// into verification; an open case cannot be erased from under its worker
// (that is the command line's; here its facts stay correctable).
func TestDeadEndsThroughAPI(t *testing.T) {
	e := newTestEnv(t, storage.SQLite)
	c := e.caseIn("own", cases.StatePlanning)
	path := "/v1/cases/" + c.ID.String() + "/transitions"
	res := e.do("POST", path, e.tokens["supervisor"], map[string]any{"event": "close", "outcome": "completed", "version": c.Version})
	if res.status != http.StatusUnprocessableEntity || !strings.Contains(string(res.body), `"name":"outcome"`) {
		t.Fatalf("completed from planning: %d %s", res.status, res.body)
	}
	res = e.do("POST", path, e.tokens["supervisor"], map[string]any{"event": "close", "outcome": "refused", "version": c.Version})
	if res.status != http.StatusOK {
		t.Fatalf("refused from planning: %d %s", res.status, res.body)
	}

	r := e.report(nil)
	r["presence"] = "accompanying"
	var d api.Case
	e.do("POST", "/v1/cases", e.tokens["supervisor"], r).decode(t, &d)
	dp := "/v1/cases/" + d.Id.String()
	res = e.do("POST", dp+"/transitions", e.tokens["supervisor"], map[string]any{"event": "dismiss", "reason": "a worker's child", "version": *d.Version})
	if res.status != http.StatusOK {
		t.Fatalf("dismiss: %d %s", res.status, res.body)
	}
	var tr api.TransitionResult
	res.decode(t, &tr)
	res = e.do("POST", dp+"/transitions", e.tokens["supervisor"], map[string]any{"event": "reopen_dismissed", "reason": "on the payroll after all", "version": *tr.Case.Version})
	res.decode(t, &tr)
	if res.status != http.StatusOK || tr.Case.State != api.StateVerification {
		t.Fatalf("reopen_dismissed: %d %s", res.status, res.body)
	}
	res = e.do("PUT", dp+"/facts", e.tokens["supervisor"], map[string]any{"presence": "employed", "recruitment": "borrowed_id", "version": *tr.Case.Version})
	if res.status != http.StatusOK {
		t.Fatalf("facts: %d %s", res.status, res.body)
	}
}

func TestFactoriesThroughAPI(t *testing.T) {
	e := newTestEnv(t, storage.SQLite)
	body := map[string]any{"name": "Sunrise Toys 😀", "name_en": "Sunrise Toys", "province": "广东", "city": "东莞",
		"client_ids": []uuid.UUID{e.fixture.Client.ID}}
	res := e.do("POST", "/v1/factories", e.tokens["auditor"], body)
	if res.status != http.StatusCreated {
		t.Fatalf("an auditor adds a factory: %d %s", res.status, res.body)
	}
	var f api.Factory
	res.decode(t, &f)
	if f.Name != "Sunrise Toys 😀" || f.NameEn != "Sunrise Toys" || !slices.Equal(f.ClientIds, []uuid.UUID{e.fixture.Client.ID}) {
		t.Fatalf("factory %+v", f)
	}
	body["name"] = "Bell\x07Toys"
	if res := e.do("POST", "/v1/factories", e.tokens["auditor"], body); res.status != http.StatusUnprocessableEntity {
		t.Fatalf("a control character in a name: %d %s", res.status, res.body)
	}
	if res := e.do("POST", "/v1/factories", e.tokens["client"], body); res.status != http.StatusForbidden {
		t.Fatalf("a brand added a factory: %d", res.status)
	}
	res = e.do("POST", "/v1/factories/"+f.Id.String()+"/merge", e.tokens["admin"], map[string]any{"into": e.fixture.Factory.ID})
	if res.status != http.StatusOK {
		t.Fatalf("merge: %d %s", res.status, res.body)
	}
	if res := e.do("POST", "/v1/factories/"+f.Id.String()+"/merge", e.tokens["admin"], map[string]any{"into": e.fixture.Factory.ID}); res.status != http.StatusNotFound {
		t.Fatalf("merging a merged factory: %d", res.status)
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	data, err := json.Marshal(v)
	must(t, err)
	return string(data)
}
