package api_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/remedy-cases/remedy/api"
	cases "github.com/remedy-cases/remedy/case"
	"github.com/remedy-cases/remedy/storage"
)

func (e *testEnv) countCases() int64 {
	e.t.Helper()
	var n int64
	must(e.t, e.db.Gorm().Raw("SELECT count(*) FROM cases").Scan(&n).Error)
	return n
}

func (e *testEnv) auditCount() int64 {
	e.t.Helper()
	var n int64
	must(e.t, e.db.Gorm().Raw("SELECT count(*) FROM audit_log").Scan(&n).Error)
	return n
}

func problemNames(t *testing.T, r response) []string {
	t.Helper()
	var p api.Problem
	r.decode(t, &p)
	if p.Errors == nil {
		return nil
	}
	var names []string
	for _, f := range *p.Errors {
		names = append(names, f.Name)
	}
	return names
}

// TestBadInputChangesNothing sends malformed requests; each gets 400 or 413
// as problem+json, and neither the cases nor the audit trail change.
func TestBadInputChangesNothing(t *testing.T) {
	e := newTestEnv(t, storage.SQLite)
	auditor := e.tokens["auditor"]
	c := e.caseIn("own", cases.StateIntake)
	withField := func(k string, v any) map[string]any {
		r := e.report(nil)
		r[k] = v
		return r
	}
	tests := []struct {
		name, method, path string
		token              string
		body               any
		status             int
		failed             string // a failure the problem must name
	}{
		{"unknown field", "POST", "/v1/cases", auditor, withField("favourite_colour", "blue"), 400, "favourite_colour"},
		{"unknown nested field", "POST", "/v1/cases", auditor, withField("identity", map[string]any{"full_name": "X", "shoe_size": 3}), 400, "identity.shoe_size"},
		{"wrong type", "POST", "/v1/cases", auditor, withField("hours_per_week", "sixty"), 400, "hours_per_week"},
		{"not a date", "POST", "/v1/cases", auditor, withField("found_on", "last Tuesday"), 400, "found_on"},
		{"not a uuid", "POST", "/v1/cases", auditor, withField("client_id", "brand-one"), 400, "client_id"},
		{"bad enum", "POST", "/v1/cases", auditor, withField("gender", "girl"), 400, "gender"},
		{"missing field", "POST", "/v1/cases", auditor, func() map[string]any { r := e.report(nil); delete(r, "gender"); return r }(), 400, "gender"},
		{"not JSON", "POST", "/v1/cases", auditor, `{"client_id":`, 400, ""},
		{"two JSON values", "POST", "/v1/cases", auditor, func() string { b, _ := json.Marshal(e.report(nil)); return string(b) + "{}" }(), 400, ""},
		{"oversized body", "POST", "/v1/cases", auditor, withField("narrative", strings.Repeat("x", 300<<10)), 413, ""},
		{"bad path id", "GET", "/v1/cases/not-a-uuid", auditor, nil, 400, "id"},
		{"bad query", "GET", "/v1/cases?limit=500", auditor, nil, 400, "limit"},
		{"body case id ignored", "POST", "/v1/cases/" + c.ID.String() + "/transitions", e.tokens["supervisor"],
			map[string]any{"event": "begin_verification", "version": c.Version, "id": uuid.NewString()}, 400, "id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cases0, audit0 := e.countCases(), e.auditCount()
			res := e.do(tt.method, tt.path, tt.token, tt.body)
			if res.status != tt.status {
				t.Fatalf("status %d, want %d: %s", res.status, tt.status, res.body)
			}
			if ct := res.header.Get("Content-Type"); ct != "application/problem+json" {
				t.Fatalf("content type %q", ct)
			}
			if tt.failed != "" && !slices.Contains(problemNames(t, res), tt.failed) {
				t.Fatalf("the problem does not name %s: %s", tt.failed, res.body)
			}
			if e.countCases() != cases0 || e.auditCount() != audit0 {
				t.Fatal("a refused request changed the data")
			}
		})
	}
	got, err := e.cases.FindCase(ctx, c.ID)
	must(t, err)
	if got.Version != c.Version || got.State != cases.StateIntake {
		t.Fatal("the case moved")
	}
}

// TestFilingIsIdempotent retries one filing with its Idempotency-Key.
func TestFilingIsIdempotent(t *testing.T) {
	e := newTestEnv(t, storage.SQLite)
	body, _ := json.Marshal(e.report(nil))
	key := "filing-" + uuid.NewString()
	first := e.do("POST", "/v1/cases", e.tokens["auditor"], body, "Idempotency-Key", key)
	if first.status != http.StatusCreated {
		t.Fatalf("first: %d %s", first.status, first.body)
	}
	again := e.do("POST", "/v1/cases", e.tokens["auditor"], body, "Idempotency-Key", key)
	var a, b api.Case
	first.decode(t, &a)
	again.decode(t, &b)
	if again.status != http.StatusCreated || a.Id != b.Id || a.Code != b.Code || again.header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("retry: %d replayed=%q, ids %s %s", again.status, again.header.Get("Idempotent-Replayed"), a.Id, b.Id)
	}
	n := e.countCases()
	other, _ := json.Marshal(e.report(nil))
	res := e.do("POST", "/v1/cases", e.tokens["auditor"], other, "Idempotency-Key", key)
	if res.status != http.StatusUnprocessableEntity || !slices.Contains(problemNames(t, res), "idempotency_key") {
		t.Fatalf("same key, other body: %d %s", res.status, res.body)
	}
	if e.countCases() != n {
		t.Fatal("a refused retry filed a case")
	}
}

// TestWorkflowErrors: a stale version answers 409, a refused guard 422
// naming the guards, and neither changes the case.
func TestWorkflowErrors(t *testing.T) {
	e := newTestEnv(t, storage.SQLite)
	c := e.caseIn("own", cases.StateVerification)
	path := "/v1/cases/" + c.ID.String() + "/transitions"
	res := e.do("POST", path, e.tokens["caseworker"], map[string]any{"event": "confirm_child_labour", "version": c.Version - 1})
	if res.status != http.StatusConflict {
		t.Fatalf("stale version: %d %s", res.status, res.body)
	}
	c2 := e.caseIn("own", cases.StateIntake)
	_, err := e.cases.ConfirmRemoval(ctx, e.users["caseworker"].Actor(), c2.ID, c2.Version, cases.Removal{})
	must(t, err)
	c2, _ = e.cases.FindCase(ctx, c2.ID)
	res = e.do("POST", "/v1/cases/"+c2.ID.String()+"/transitions", e.tokens["caseworker"],
		map[string]any{"event": "dismiss", "version": c2.Version})
	names := problemNames(t, res)
	if res.status != http.StatusUnprocessableEntity || !slices.Contains(names, "dismiss_grounds") || !slices.Contains(names, "reason") {
		t.Fatalf("guards: %d %v", res.status, names)
	}
	got, _ := e.cases.FindCase(ctx, c2.ID)
	if got.Version != c2.Version {
		t.Fatal("a refused transition changed the case")
	}
}

// TestCaseViewsByRole: lists are scoped by role, and a client sees only the
// fields DOMAIN.md allows a brand.
func TestCaseViewsByRole(t *testing.T) {
	e := newTestEnv(t, storage.SQLite)
	own := e.caseIn("own", cases.StateFollowUp)
	other := e.caseIn("other", cases.StateIntake)
	ids := func(token, query string) []uuid.UUID {
		t.Helper()
		var l api.CaseList
		res := e.do("GET", "/v1/cases"+query, token, nil)
		if res.status != http.StatusOK {
			t.Fatalf("list: %d %s", res.status, res.body)
		}
		res.decode(t, &l)
		var out []uuid.UUID
		for _, c := range l.Items {
			out = append(out, c.Id)
		}
		return out
	}
	for role, want := range map[string][]uuid.UUID{
		"client": {own.ID}, "other_client": {other.ID}, "auditor": {own.ID}, "other_auditor": {other.ID},
		"caseworker": {own.ID}, "other_caseworker": {other.ID}, "supervisor": {other.ID, own.ID},
	} {
		if got := ids(e.tokens[role], ""); !slices.Equal(got, want) {
			t.Errorf("%s lists %v, want %v", role, got, want)
		}
	}
	if got := ids(e.tokens["client"], "?client_id="+e.fixture.OtherClient.ID.String()); len(got) != 0 {
		t.Errorf("a client widened its list to another brand: %v", got)
	}

	res := e.do("GET", "/v1/cases/"+own.ID.String(), e.tokens["client"], nil)
	var fields map[string]any
	res.decode(t, &fields)
	allowed := []string{"id", "code", "client_id", "factory_id", "factory_name", "state", "gender", "age_years",
		"opened_on", "days_open", "closed_on", "outcome", "last_follow_up", "overdue", "due_to_close", "missed_months", "arrears",
		"monthly_stipend", "stipend_currency", "payer"}
	for k := range fields {
		if !slices.Contains(allowed, k) {
			t.Errorf("a client sees the field %s", k)
		}
	}
	if fields["code"] != own.Code || fields["factory_name"] != e.fixture.Factory.Name || fields["age_years"] != float64(15) {
		t.Errorf("client view %v", fields)
	}
	var events api.EventList
	e.do("GET", "/v1/cases/"+own.ID.String()+"/events", e.tokens["client"], nil).decode(t, &events)
	if len(events.Items) != 3 {
		t.Fatalf("%d events, want 3 transitions", len(events.Items))
	}
	for _, ev := range events.Items {
		if ev.Transition == nil || ev.Transition.ActorId != nil || ev.Transition.HasReason != nil {
			t.Errorf("a client sees who acted: %+v", ev.Transition)
		}
	}
}

// TestCanariesNeverLeak files cases whose identity and notes are unique
// canaries, provokes errors that carry them, and searches every answer a
// brand or a refused caller gets, and every log line, for them.
func TestCanariesNeverLeak(t *testing.T) {
	e := newTestEnv(t, storage.SQLite)
	canary := func(field string) string { return "CANARY" + field + strings.ReplaceAll(uuid.NewString()[:8], "-", "") }
	id := map[string]any{
		"full_name": canary("name"), "other_names": []string{canary("alias")}, "claimed_birth_date": "2011-03-04",
		"id_number": canary("idnum"), "hometown": canary("hometown"), "address": canary("address"), "phone": canary("phone"),
		"guardians": []map[string]any{{"name": canary("guardian"), "phone": canary("gphone"), "relation": "mother"}},
	}
	report := e.report(id)
	report["narrative"] = canary("narrative")
	var all []string
	for _, v := range []any{id["full_name"], id["other_names"].([]string)[0], id["id_number"], id["hometown"], id["address"],
		id["phone"], id["guardians"].([]map[string]any)[0]["name"], id["guardians"].([]map[string]any)[0]["phone"], report["narrative"]} {
		all = append(all, v.(string))
	}

	var filed api.Case
	res := e.do("POST", "/v1/cases", e.tokens["auditor"], report)
	if res.status != http.StatusCreated {
		t.Fatalf("filing: %d %s", res.status, res.body)
	}
	res.decode(t, &filed)
	var seen []response // every answer that must hold no canary
	seen = append(seen, res)
	must(t, func() error {
		_, err := e.cases.Assign(ctx, e.users["supervisor"].Actor(), filed.Id, *filed.Version, e.users["caseworker"].ID)
		return err
	}())

	// Errors provoked with canaries in the input.
	for _, bad := range []map[string]any{
		func() map[string]any { r := e.report(id); r["gender"] = canary("gender"); return r }(),
		func() map[string]any { r := e.report(id); r["found_on"] = canary("date"); return r }(),
		func() map[string]any { r := e.report(id); r["client_id"] = canary("uuid"); return r }(),
		func() map[string]any {
			r := e.report(map[string]any{"full_name": strings.Repeat(canary("long"), 30)})
			return r
		}(),
	} {
		res := e.do("POST", "/v1/cases", e.tokens["auditor"], bad)
		if res.status < 400 {
			t.Fatalf("a bad filing was accepted: %d", res.status)
		}
		seen = append(seen, res)
		for _, v := range bad {
			if s, ok := v.(string); ok && strings.HasPrefix(s, "CANARY") {
				all = append(all, s)
			}
		}
	}
	path := "/v1/cases/" + filed.Id.String()
	seen = append(seen,
		e.do("GET", path, e.tokens["client"], nil),
		e.do("GET", "/v1/cases", e.tokens["client"], nil),
		e.do("GET", path+"/events", e.tokens["client"], nil),
		e.do("GET", path+"/identity?reason=verify_age", e.tokens["client"], nil),
		e.do("GET", path+"/identity?reason=verify_age", e.tokens["other_caseworker"], nil),
		e.do("GET", path+"/identity", e.tokens["caseworker"], nil),
		e.do("GET", path, e.tokens["auditor"], nil),
		e.do("GET", path, e.tokens["caseworker"], nil),
	)
	// The assigned case worker may read the identity: the canaries are real.
	read := e.do("GET", path+"/identity?reason=verify_age", e.tokens["caseworker"], nil)
	if read.status != http.StatusOK || !strings.Contains(string(read.body), id["full_name"].(string)) ||
		!strings.Contains(string(read.body), report["narrative"].(string)) {
		t.Fatalf("the identity read did not return the canaries: %d", read.status)
	}
	for _, r := range seen {
		for _, c := range all {
			if strings.Contains(string(r.body), c) {
				t.Errorf("a canary reached an answer (%d): %s", r.status, r.body)
			}
		}
	}
	logs := e.logs.String()
	if !strings.Contains(logs, `"route":"/v1/cases/:id/identity"`) {
		t.Fatal("the log holds no request lines; the search below would prove nothing")
	}
	for _, c := range all {
		if strings.Contains(logs, c) {
			t.Errorf("a canary reached the log")
		}
	}
	entries, err := storage.NewAuditService(e.db).CaseEntries(ctx, filed.Id)
	must(t, err)
	reads := 0
	for _, en := range entries {
		if en.Action == cases.ActionIdentityRead && en.Details["reason"] == "verify_age" {
			reads++
		}
	}
	if reads != 1 {
		t.Fatalf("%d identity reads audited, want 1", reads)
	}
}

// TestIdentityCorrection corrects an identity through the API and reads it back.
func TestIdentityCorrection(t *testing.T) {
	e := newTestEnv(t, storage.SQLite)
	c := e.caseIn("own", cases.StatePlanning)
	path := "/v1/cases/" + c.ID.String() + "/identity"
	res := e.do("PUT", path, e.tokens["caseworker"], map[string]any{"version": c.Version,
		"identity": map[string]any{"full_name": "Chen Jing", "id_number": "350500201105171234", "phone": "13900000000"}})
	if res.status != http.StatusOK {
		t.Fatalf("correct: %d %s", res.status, res.body)
	}
	var got api.Confidential
	e.do("GET", path+"?reason=correct_record", e.tokens["caseworker"], nil).decode(t, &got)
	if deref(got.Identity.FullName) != "Chen Jing" || deref(got.Identity.Phone) != "13900000000" || got.Identity.VerifiedBirthDate == nil {
		t.Fatalf("after correction: %+v", got.Identity)
	}
	res = e.do("PUT", path, e.tokens["caseworker"], map[string]any{"version": c.Version,
		"identity": map[string]any{"full_name": "Chen Jing"}})
	if res.status != http.StatusConflict {
		t.Fatalf("stale correction: %d", res.status)
	}
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
