package main

import (
	"bytes"
	"context"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/remedy-cases/remedy/internal/testkit"
	"github.com/remedy-cases/remedy/storage/storagetest"
)

// client calls a running serve over HTTP.
type client struct {
	t    *testing.T
	base string
}

// call sends body as JSON and decodes the answer into out when it is not
// nil; it fails the test unless the status is want.
func (c client) call(method, path, token string, body, out any, want int, headers ...string) http.Header {
	c.t.Helper()
	res := testkit.MustDo(c.t, nil, testkit.MustRequest(c.t, method, c.base+path, token, body, headers...))
	if res.Status != want {
		c.t.Fatalf("%s %s: status %d, want %d: %s", method, path, res.Status, want, res.Body)
	}
	if out != nil {
		res.Decode(c.t, out)
	}
	return res.Header
}

func (c client) signIn(email, password string) string {
	c.t.Helper()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	c.call("POST", "/v1/auth/token", "", map[string]string{"email": email, "password": password}, &tok, http.StatusOK)
	return tok.AccessToken
}

type caseView struct {
	ID          string `json:"id"`
	Code        string `json:"code"`
	State       string `json:"state"`
	Version     int    `json:"version"`
	Outcome     string `json:"outcome"`
	FactoryName string `json:"factory_name"`
}

// TestEndToEndPostgres starts the real serve on :0 against PostgreSQL and
// walks one case from filing to closure through HTTP, each step as the
// user whose job it is.
func TestEndToEndPostgres(t *testing.T) {
	cfg := storagetest.Config(t, "postgres")
	vars := map[string]string{"REMEDY_DATA_DIR": t.TempDir(), "REMEDY_DATABASE_URL": cfg.DatabaseURL}
	ctx := context.Background()
	var out bytes.Buffer
	m := &Main{Stdin: strings.NewReader("admin password 2026\n"), Stdout: &out, Stderr: &out, Getenv: envOf(vars)}
	for _, args := range [][]string{{"keys", "init"},
		{"users", "add", "--email", "admin@example.org", "--name", "Admin", "--role", "admin", "--password-stdin"}} {
		if err := m.Run(ctx, args); err != nil {
			t.Fatalf("%v: %v\n%s", args, err, out.String())
		}
	}
	addr, logs, stop := startServe(t, vars)
	api := client{t: t, base: "http://" + addr}

	admin := api.signIn("admin@example.org", "admin password 2026")
	var brand, factory struct {
		ID string `json:"id"`
	}
	api.call("POST", "/v1/clients", admin, map[string]string{"name": "华彩童装集团"}, &brand, http.StatusCreated)
	api.call("POST", "/v1/factories", admin, map[string]string{"name": "泉州鸿运鞋业有限公司", "province": "福建", "city": "泉州"}, &factory, http.StatusCreated)
	tokens := map[string]string{}
	ids := map[string]string{}
	for _, u := range []struct{ role, email, client string }{
		{"auditor", "auditor@example.org", ""}, {"caseworker", "worker@example.org", ""},
		{"supervisor", "supervisor@example.org", ""}, {"client", "brand@example.org", brand.ID},
	} {
		body := map[string]string{"email": u.email, "name": u.role, "role": u.role}
		if u.client != "" {
			body["client_id"] = u.client
		}
		var created struct {
			User struct {
				ID string `json:"id"`
			} `json:"user"`
			Password string `json:"password"`
		}
		api.call("POST", "/v1/users", admin, body, &created, http.StatusCreated)
		tokens[u.role], ids[u.role] = api.signIn(u.email, created.Password), created.User.ID
	}

	report := map[string]any{
		"client_id": brand.ID, "factory_id": factory.ID, "found_on": "2026-10-20", "gender": "male",
		"presence": "employed", "job": "sole gluing", "hazards": []string{"chemicals", "long_hours"},
		"hours_per_week": 66, "monthly_wage": 300000, "wage_currency": "CNY", "recruitment": "borrowed_id",
		"removed_from_work": true, "child_safe": true,
		"identity":  map[string]any{"full_name": "Liu Wei", "claimed_birth_date": "2008-02-01", "id_number": "350582200802011234"},
		"narrative": "Found gluing soles; the ID card belongs to his cousin.",
	}
	var c, again caseView
	api.call("POST", "/v1/cases", tokens["auditor"], report, &c, http.StatusCreated, "Idempotency-Key", "e2e-filing-1")
	api.call("POST", "/v1/cases", tokens["auditor"], report, &again, http.StatusCreated, "Idempotency-Key", "e2e-filing-1")
	if again.ID != c.ID || !regexp.MustCompile(`^CL-\d{4}-\d{4}$`).MatchString(c.Code) {
		t.Fatalf("retried filing: %s then %s (%s)", c.ID, again.ID, c.Code)
	}
	path := "/v1/cases/" + c.ID
	transition := func(role string, body map[string]any) {
		t.Helper()
		body["version"] = c.Version
		var res struct {
			Case caseView `json:"case"`
		}
		api.call("POST", path+"/transitions", tokens[role], body, &res, http.StatusOK)
		c = res.Case
	}
	edit := func(role, method, sub string, body map[string]any) {
		t.Helper()
		body["version"] = c.Version
		api.call(method, path+sub, tokens[role], body, &c, http.StatusOK)
	}

	api.call("GET", path, tokens["caseworker"], nil, nil, http.StatusNotFound) // not assigned yet
	edit("supervisor", "PUT", "/assignee", map[string]any{"caseworker_id": ids["caseworker"]})
	transition("caseworker", map[string]any{"event": "begin_verification"})
	edit("caseworker", "PUT", "/verification", map[string]any{"method": "household_register",
		"verified_birth_date": "2011-02-01", "guardians_contacted": true, "notes": "The mother confirmed."})
	transition("caseworker", map[string]any{"event": "confirm_child_labour"})
	edit("caseworker", "PUT", "/plan", map[string]any{"school": "Quanzhou No. 5 Middle School", "grade": "9",
		"enrolment_date": "2026-11-01", "currency": "CNY", "monthly_stipend": 90000, "payer": "split",
		"factory_share_pct": 60, "guardian_consent": true, "consent_date": "2026-10-28"})
	// The plan's author cannot approve it; a supervisor can.
	api.call("POST", path+"/transitions", tokens["caseworker"], map[string]any{"event": "approve_plan", "version": c.Version}, nil, http.StatusForbidden)
	transition("supervisor", map[string]any{"event": "approve_plan"})
	// Dates are the organisation's (REMEDY_REPORT_ZONE, Asia/Shanghai by
	// default): in Shanghai it may already be tomorrow in UTC's evening.
	today := time.Now().In(shanghai(t)).Format(time.DateOnly)
	api.call("POST", path+"/follow-ups", tokens["caseworker"], map[string]any{"date": today, "contact": "visit",
		"attending_school": true, "attendance_pct": 95, "stipend_paid": 54000, "stipend_paid_on": today,
		"stipend_payer": "factory", "stipend_proof_ref": "TX-E2E-1", "working_again": false, "concerns": "None."}, nil, http.StatusCreated)
	var identity struct {
		Identity struct {
			FullName string `json:"full_name"`
		} `json:"identity"`
	}
	api.call("GET", path+"/identity?reason=follow_up_visit", tokens["caseworker"], nil, &identity, http.StatusOK)
	if identity.Identity.FullName != "Liu Wei" {
		t.Fatalf("identity read: %+v", identity)
	}
	transition("supervisor", map[string]any{"event": "close", "outcome": "completed", "reason": "Reached the end of the programme."})
	if c.State != "closed" || c.Outcome != "completed" {
		t.Fatalf("after close: %+v", c)
	}

	var seen map[string]any
	api.call("GET", path, tokens["client"], nil, &seen, http.StatusOK)
	if seen["state"] != "closed" || seen["factory_name"] != "泉州鸿运鞋业有限公司" || seen["version"] != nil || seen["job"] != nil {
		t.Fatalf("the brand's view: %v", seen)
	}
	var events struct {
		Items []map[string]any `json:"items"`
	}
	api.call("GET", path+"/events", tokens["client"], nil, &events, http.StatusOK)
	if len(events.Items) != 5 {
		t.Fatalf("%d events, want 4 transitions and 1 follow-up", len(events.Items))
	}
	stop()

	for _, secret := range []string{"Liu Wei", "350582200802011234", "ID card belongs", "The mother confirmed"} {
		if strings.Contains(logs.String(), secret) {
			t.Errorf("the server log holds %q", secret)
		}
	}
	out.Reset()
	if err := m.Run(ctx, []string{"audit", "verify"}); err != nil || !strings.Contains(out.String(), "audit trail verified") {
		t.Fatalf("audit verify: %v %s", err, out.String())
	}
}
