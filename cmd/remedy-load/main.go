// Command remedy-load drives a running Remedy at a given concurrency and
// prints throughput and latency percentiles per operation. With
// -baseline-db it also starts, in the same process, a bare Echo handler that
// does the same inserts, updates and lists with pgx and no encryption, audit
// or validation, measures it in the same run, and prints Remedy's share of
// the baseline's throughput: the difference is what Remedy's safety costs.
//
// Scenarios:
//
//   - file-list (the default): each request files a case (-file-share of
//     them) or lists a page of 50.
//
//   - casework: each client takes its own cases through their life, as case
//     workers do most of the writes: file, assign, confirm the removal,
//     begin verification, record it, confirm child labour, write the plan,
//     approve it, then two follow-ups; -list-share of the requests list a
//     page of 50 in between.
//
//     remedy-load -url http://127.0.0.1:8080 -email supervisor@demo.remedy -password ... \
//     -concurrency 16 -duration 20s -baseline-db postgres://postgres@127.0.0.1/remedy_load
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/labstack/echo/v4"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "remedy-load:", err)
		os.Exit(1)
	}
}

type options struct {
	url, email, password string
	workerEmail          string
	concurrency          int
	duration             time.Duration
	scenario             string
	fileShare, listShare float64
	listQuery            string
	baselineDB           string
	zone                 *time.Location
}

func run() error {
	var o options
	flag.StringVar(&o.url, "url", "http://127.0.0.1:8080", "Remedy's base URL")
	flag.StringVar(&o.email, "email", "supervisor@demo.remedy", "a supervisor's email (supervisors file, assign, approve and list)")
	flag.StringVar(&o.workerEmail, "worker-email", "caseworker1@demo.remedy", "a case worker's email, for the casework scenario (same password)")
	flag.StringVar(&o.password, "password", os.Getenv("REMEDY_LOAD_PASSWORD"), "its password (or REMEDY_LOAD_PASSWORD)")
	flag.IntVar(&o.concurrency, "concurrency", 16, "concurrent clients")
	flag.DurationVar(&o.duration, "duration", 15*time.Second, "how long each target is driven")
	flag.StringVar(&o.scenario, "scenario", "file-list", "file-list, or casework (cases taken through assignment, verification, plan and follow-ups)")
	flag.Float64Var(&o.fileShare, "file-share", 0.5, "file-list: share of requests that file a case; the rest list a page of 50")
	flag.Float64Var(&o.listShare, "list-share", 0.3, "casework: share of requests that list a page of 50")
	flag.StringVar(&o.listQuery, "list-query", "limit=50", "the query string of Remedy's list requests (the baseline always lists its newest 50)")
	flag.StringVar(&o.baselineDB, "baseline-db", "", "a PostgreSQL URL for the bare Echo+pgx baseline (it creates tables load_baseline_*)")
	zone := flag.String("zone", "Asia/Shanghai", "the server's REMEDY_REPORT_ZONE: it decides what today is for a follow-up")
	flag.Parse()
	var err error
	if o.zone, err = time.LoadLocation(*zone); err != nil {
		return fmt.Errorf("-zone: %w", err)
	}
	today = func() string { return time.Now().In(o.zone).Format(time.DateOnly) }
	if o.scenario != "file-list" && o.scenario != "casework" {
		return fmt.Errorf("-scenario %q: want file-list or casework", o.scenario)
	}
	ctx := context.Background()

	remedy, err := newRemedyTarget(ctx, o)
	if err != nil {
		return err
	}
	targets := []target{remedy}
	if o.baselineDB != "" {
		base, stop, err := startBaseline(ctx, o.baselineDB)
		if err != nil {
			return err
		}
		defer stop()
		targets = append(targets, base)
	}
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "target\top\trequests\terrors\t429\treq/s\tp50\tp90\tp99\tmax\t\n")
	throttled := 0
	var results []map[string]*result
	for _, t := range targets {
		res := drive(ctx, t, o)
		results = append(results, res)
		for _, op := range opsOf(res) {
			r := res[op]
			throttled += r.throttled
			fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%.0f\t%s\t%s\t%s\t%s\t\n", t.name(), op, len(r.latencies), r.errors, r.throttled,
				float64(len(r.latencies))/o.duration.Seconds(), r.pct(50), r.pct(90), r.pct(99), r.pct(100))
		}
		all := merged(res)
		fmt.Fprintf(tw, "%s\tall\t%d\t%d\t%d\t%.0f\t%s\t%s\t%s\t%s\t\n", t.name(), len(all.latencies), all.errors, all.throttled,
			float64(len(all.latencies))/o.duration.Seconds(), all.pct(50), all.pct(90), all.pct(99), all.pct(100))
	}
	fmt.Fprintf(tw, "\nscenario %s, concurrency %d, %s per target\n", o.scenario, o.concurrency, o.duration)
	if err := tw.Flush(); err != nil {
		return err
	}
	if throttled > 0 {
		fmt.Fprintf(os.Stdout, "%d requests were refused by the server's rate limits: to measure throughput, start serve with\n"+
			"REMEDY_RATE_LIMIT_USER=0 REMEDY_RATE_LIMIT_ADDRESS=0\n", throttled)
	}
	if len(results) == 2 {
		printRatios(os.Stdout, results[0], results[1])
	}
	for _, res := range results {
		for op, r := range res {
			if r.errors > 0 && r.lastErr != nil {
				fmt.Fprintf(os.Stderr, "%s: last error: %v\n", op, r.lastErr)
			}
		}
	}
	return nil
}

// printRatios prints Remedy's throughput as a share of the baseline's,
// over every request and per operation.
func printRatios(w io.Writer, remedy, base map[string]*result) {
	share := func(a, b int) string {
		if b == 0 {
			return "-"
		}
		return fmt.Sprintf("%.0f%%", 100*float64(a)/float64(b))
	}
	parts := []string{"all " + share(len(merged(remedy).latencies), len(merged(base).latencies))}
	for _, op := range opsOf(remedy) {
		if b, ok := base[op]; ok {
			parts = append(parts, op+" "+share(len(remedy[op].latencies), len(b.latencies)))
		}
	}
	fmt.Fprintf(w, "remedy/baseline throughput: %s\n", strings.Join(parts, ", "))
}

// opOrder is the order operations are printed in.
var opOrder = []string{"file", "list", "edit", "transition", "follow_up"}

func opsOf(res map[string]*result) []string {
	var out []string
	for _, op := range opOrder {
		if r, ok := res[op]; ok && (len(r.latencies) > 0 || r.errors > 0) {
			out = append(out, op)
		}
	}
	return out
}

func merged(res map[string]*result) *result {
	all := &result{}
	for _, r := range res {
		all.latencies = append(all.latencies, r.latencies...)
		all.errors += r.errors
		all.throttled += r.throttled
	}
	slices.Sort(all.latencies)
	return all
}

// target is a server under load.
type target interface {
	name() string
	file(ctx context.Context, c *http.Client, rng *rand.Rand) (*caseRef, error)
	list(ctx context.Context, c *http.Client) error
	// step takes a case one step further in its life.
	step(ctx context.Context, c *http.Client, rng *rand.Rand, ref *caseRef, s lifeStep) error
}

// caseRef is a case the load filed, at the version it was last seen.
type caseRef struct {
	id      string
	version int
}

// lifeStep is one step of a case's life after filing, as case work does it.
type lifeStep struct {
	op   string // edit, transition or follow_up: what it is counted as
	what string // the edit or the workflow event
}

var life = []lifeStep{
	{"edit", "assign"}, {"edit", "removal"}, {"transition", "begin_verification"}, {"edit", "verification"},
	{"transition", "confirm_child_labour"}, {"edit", "plan"}, {"transition", "approve_plan"},
	{"follow_up", ""}, {"follow_up", ""},
}

type result struct {
	latencies []time.Duration
	errors    int
	throttled int // answered 429 by the server's rate limits
	lastErr   error
}

// errThrottled is a 429: the server's rate limit, not a failure to measure.
var errThrottled = errors.New("throttled (429)")

func (r *result) pct(p float64) time.Duration {
	if len(r.latencies) == 0 {
		return 0
	}
	i := int(float64(len(r.latencies)-1) * p / 100)
	return r.latencies[i].Round(10 * time.Microsecond)
}

// drive runs o.concurrency workers against t for o.duration.
func drive(ctx context.Context, t target, o options) map[string]*result {
	deadline := time.Now().Add(o.duration)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: o.concurrency * 2}, Timeout: 30 * time.Second}
	var mu sync.Mutex
	all := map[string]*result{}
	var wg sync.WaitGroup
	for w := range o.concurrency {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(w), 7))
			mine := map[string]*result{}
			var current *caseRef // casework: the case this client is taking through its life
			next := 0
			for time.Now().Before(deadline) {
				listing := rng.Float64() < o.listShare
				if o.scenario == "file-list" {
					listing = rng.Float64() >= o.fileShare
				}
				op := "list"
				do := func() error { return t.list(ctx, client) }
				switch {
				case listing:
				case o.scenario == "file-list" || current == nil:
					op = "file"
					do = func() (err error) {
						ref, err := t.file(ctx, client, rng)
						if err == nil && o.scenario == "casework" {
							current, next = ref, 0
						}
						return err
					}
				default:
					s := life[next]
					op = s.op
					do = func() error {
						err := t.step(ctx, client, rng, current, s)
						if next++; err != nil || next == len(life) {
							current = nil // a failed step starts a new case
						}
						return err
					}
				}
				start := time.Now()
				err := do()
				r := mine[op]
				if r == nil {
					r = &result{}
					mine[op] = r
				}
				if errors.Is(err, errThrottled) {
					r.throttled++
					continue
				} else if err != nil {
					r.errors++
					r.lastErr = err
					continue
				}
				r.latencies = append(r.latencies, time.Since(start))
			}
			mu.Lock()
			for op, r := range mine {
				if all[op] == nil {
					all[op] = &result{}
				}
				all[op].latencies = append(all[op].latencies, r.latencies...)
				all[op].errors += r.errors
				all[op].throttled += r.throttled
				if r.lastErr != nil {
					all[op].lastErr = r.lastErr
				}
			}
			mu.Unlock()
		})
	}
	wg.Wait()
	for _, r := range all {
		slices.Sort(r.latencies)
	}
	return all
}

// report is a filing body, different each time.
func report(clientID, factoryID string, rng *rand.Rand) []byte {
	body, _ := json.Marshal(map[string]any{
		"client_id": clientID, "factory_id": factoryID, "found_on": time.Now().UTC().AddDate(0, 0, -rng.IntN(30)).Format(time.DateOnly),
		"gender": []string{"female", "male"}[rng.IntN(2)], "presence": "employed", "job": "packing",
		"hazards": []string{"long_hours"}, "hours_per_week": 50 + rng.IntN(20), "monthly_wage": 280000,
		"wage_currency": "CNY", "recruitment": "borrowed_id", "removed_from_work": true, "child_safe": true,
		"identity": map[string]any{"full_name": "Load Test " + uuid.NewString(), "apparent_age": 14,
			// Not from rng, whose sequence each run repeats: the same ID
			// numbers again would link every case to one of the last run's,
			// as the same child found twice, which real filings rarely are.
			"id_number": fmt.Sprintf("4419%014d", rand.Int64N(1e14))},
		"narrative": "Synthetic case filed by remedy-load.",
	})
	return body
}

// today is the server's date (-zone).
var today = func() string { return time.Now().UTC().Format(time.DateOnly) }

// stepBody is the body of a step of a case's life, at version.
func stepBody(s lifeStep, version int, workerID string, rng *rand.Rand) []byte {
	today := today()
	var body map[string]any
	switch s.what {
	case "assign":
		body = map[string]any{"caseworker_id": workerID, "version": version}
	case "removal":
		body = map[string]any{"removed_from_work": true, "child_safe": true, "version": version}
	case "verification":
		born := time.Now().UTC().AddDate(-14, 0, -rng.IntN(300)).Format(time.DateOnly)
		body = map[string]any{"method": "id_card", "verified_birth_date": born, "guardians_contacted": true,
			"guardians_contacted_on": today, "guardians_contact_method": "phone",
			"notes": "Synthetic verification by remedy-load.", "version": version}
	case "plan":
		body = map[string]any{"school": "Load Test Middle School", "grade": "8", "enrolment_date": today,
			"currency": "CNY", "tuition_cost": 150000, "travel_cost": 20000, "monthly_stipend": 80000,
			"payer": "factory", "guardian_consent": true, "consent_date": today, "version": version}
	case "":
		body = map[string]any{"date": today, "contact": "phone", "attending_school": true, "attendance_pct": 90 + rng.IntN(11),
			"stipend_paid": 80000, "stipend_paid_on": today, "stipend_proof_ref": "LOAD-" + uuid.NewString()[:8],
			"working_again": false}
	default: // a workflow event
		body = map[string]any{"event": s.what, "version": version}
	}
	data, _ := json.Marshal(body)
	return data
}

func send(ctx context.Context, c *http.Client, method, url, token string, body []byte, want int) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, url, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	if err != nil {
		return nil, err
	}
	if res.StatusCode == http.StatusTooManyRequests {
		return nil, errThrottled
	}
	if res.StatusCode != want {
		return nil, fmt.Errorf("%s %s: status %d: %.300s", method, url, res.StatusCode, data)
	}
	return data, nil
}

// remedyTarget is a running Remedy, signed in as a supervisor and, for
// the casework scenario, as a case worker.
type remedyTarget struct {
	url, listQuery                string
	token, workerToken            string
	clientID, factoryID, workerID string
}

func signIn(ctx context.Context, url, email, password string) (string, error) {
	creds, _ := json.Marshal(map[string]string{"email": email, "password": password})
	data, err := send(ctx, http.DefaultClient, "POST", url+"/v1/auth/token", "", creds, http.StatusOK)
	if err != nil {
		return "", fmt.Errorf("sign in as %s: %w", email, err)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(data, &tok); err != nil {
		return "", err
	}
	return tok.AccessToken, nil
}

func newRemedyTarget(ctx context.Context, o options) (*remedyTarget, error) {
	if o.password == "" {
		return nil, errors.New("-password (or REMEDY_LOAD_PASSWORD) is required")
	}
	token, err := signIn(ctx, o.url, o.email, o.password)
	if err != nil {
		return nil, err
	}
	t := &remedyTarget{url: o.url, token: token, listQuery: o.listQuery}
	var list struct {
		Items []struct {
			ID     string `json:"id"`
			Email  string `json:"email"`
			Active *bool  `json:"active"`
		} `json:"items"`
	}
	for _, what := range []struct {
		path string
		into *string
	}{{"/v1/clients", &t.clientID}, {"/v1/factories", &t.factoryID}} {
		data, err := send(ctx, http.DefaultClient, "GET", o.url+what.path, t.token, nil, http.StatusOK)
		if err != nil {
			return nil, err
		}
		if err := json.Unmarshal(data, &list); err != nil {
			return nil, err
		}
		for _, it := range list.Items {
			if it.Active == nil || *it.Active {
				*what.into = it.ID
				break
			}
		}
		if *what.into == "" {
			return nil, fmt.Errorf("no active entry in %s: run serve --demo first", what.path)
		}
	}
	if o.scenario == "casework" {
		if t.workerToken, err = signIn(ctx, o.url, o.workerEmail, o.password); err != nil {
			return nil, err
		}
		data, err := send(ctx, http.DefaultClient, "GET", o.url+"/v1/users?limit=200", t.token, nil, http.StatusOK)
		if err != nil {
			return nil, err
		}
		if err := json.Unmarshal(data, &list); err != nil {
			return nil, err
		}
		for _, it := range list.Items {
			if it.Email == o.workerEmail {
				t.workerID = it.ID
			}
		}
		if t.workerID == "" {
			return nil, fmt.Errorf("no user %s", o.workerEmail)
		}
	}
	return t, nil
}

func (t *remedyTarget) name() string { return "remedy" }

func (t *remedyTarget) file(ctx context.Context, c *http.Client, rng *rand.Rand) (*caseRef, error) {
	data, err := send(ctx, c, "POST", t.url+"/v1/cases", t.token, report(t.clientID, t.factoryID, rng), http.StatusCreated)
	if err != nil {
		return nil, err
	}
	return parseRef(data, "")
}

// parseRef reads a case's id and version from an answer; a transition's
// answer holds the case under "case".
func parseRef(data []byte, under string) (*caseRef, error) {
	var c struct {
		ID      string `json:"id"`
		Version int    `json:"version"`
	}
	if under != "" {
		var wrapped map[string]json.RawMessage
		if err := json.Unmarshal(data, &wrapped); err != nil {
			return nil, err
		}
		data = wrapped[under]
	}
	if err := json.Unmarshal(data, &c); err != nil {
		return nil, err
	}
	return &caseRef{id: c.ID, version: c.Version}, nil
}

func (t *remedyTarget) list(ctx context.Context, c *http.Client) error {
	_, err := send(ctx, c, "GET", t.url+"/v1/cases?"+t.listQuery, t.token, nil, http.StatusOK)
	return err
}

func (t *remedyTarget) step(ctx context.Context, c *http.Client, rng *rand.Rand, ref *caseRef, s lifeStep) error {
	base := t.url + "/v1/cases/" + ref.id
	body := stepBody(s, ref.version, t.workerID, rng)
	token, method, path, want, under := t.workerToken, "PUT", "", http.StatusOK, ""
	switch s.what {
	case "assign":
		token, path = t.token, "/assignee"
	case "removal", "verification", "plan":
		path = "/" + s.what
	case "":
		method, path, want = "POST", "/follow-ups", http.StatusCreated
	case "approve_plan":
		token, method, path, under = t.token, "POST", "/transitions", "case"
	default:
		method, path, under = "POST", "/transitions", "case"
	}
	data, err := send(ctx, c, method, base+path, token, body, want)
	if err != nil || s.op == "follow_up" {
		return err
	}
	next, err := parseRef(data, under)
	if err != nil {
		return err
	}
	ref.version = next.version
	return nil
}

// baseline is a bare Echo handler over pgx: decode, then one insert, one
// update (with the version check), a transition (an update and an insert
// in one transaction), or a list of 50.
type baseline struct{ url string }

func (b *baseline) name() string { return "echo+pgx" }

func (b *baseline) file(ctx context.Context, c *http.Client, rng *rand.Rand) (*caseRef, error) {
	data, err := send(ctx, c, "POST", b.url+"/cases", "", report(uuid.NewString(), uuid.NewString(), rng), http.StatusCreated)
	if err != nil {
		return nil, err
	}
	return parseRef(data, "")
}

func (b *baseline) list(ctx context.Context, c *http.Client) error {
	_, err := send(ctx, c, "GET", b.url+"/cases", "", nil, http.StatusOK)
	return err
}

func (b *baseline) step(ctx context.Context, c *http.Client, rng *rand.Rand, ref *caseRef, s lifeStep) error {
	body := stepBody(s, ref.version, uuid.NewString(), rng)
	path, want := "/edits", http.StatusOK
	switch s.op {
	case "transition":
		path = "/transitions"
	case "follow_up":
		path, want = "/follow-ups", http.StatusCreated
	}
	data, err := send(ctx, c, "POST", b.url+"/cases/"+ref.id+path, "", body, want)
	if err != nil || s.op == "follow_up" {
		return err
	}
	next, err := parseRef(data, "")
	if err != nil {
		return err
	}
	ref.version = next.version
	return nil
}

func startBaseline(ctx context.Context, dbURL string) (*baseline, func(), error) {
	pool, err := pgxpool.New(ctx, dbURL)
	if err != nil {
		return nil, nil, err
	}
	_, err = pool.Exec(ctx, `CREATE TABLE IF NOT EXISTS load_baseline_cases (
		id uuid PRIMARY KEY, client_id uuid NOT NULL, factory_id uuid NOT NULL, found_on date NOT NULL,
		gender text NOT NULL, presence text NOT NULL, job text NOT NULL, hazards text NOT NULL,
		hours_per_week int NOT NULL, monthly_wage bigint NOT NULL, wage_currency text NOT NULL,
		recruitment text NOT NULL, removed_from_work bool NOT NULL, child_safe bool NOT NULL,
		identity jsonb NOT NULL, narrative text NOT NULL, created_at timestamptz NOT NULL);
	ALTER TABLE load_baseline_cases ADD COLUMN IF NOT EXISTS version int NOT NULL DEFAULT 1;
	ALTER TABLE load_baseline_cases ADD COLUMN IF NOT EXISTS state text NOT NULL DEFAULT 'intake';
	ALTER TABLE load_baseline_cases ADD COLUMN IF NOT EXISTS work jsonb NOT NULL DEFAULT '{}';
	CREATE TABLE IF NOT EXISTS load_baseline_events (id uuid PRIMARY KEY, case_id uuid NOT NULL,
		event text NOT NULL, at timestamptz NOT NULL);
	CREATE TABLE IF NOT EXISTS load_baseline_follow_ups (id uuid PRIMARY KEY, case_id uuid NOT NULL,
		body jsonb NOT NULL, at timestamptz NOT NULL)`)
	if err != nil {
		pool.Close()
		return nil, nil, err
	}
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	type row struct {
		ID              uuid.UUID       `json:"id"`
		Version         int             `json:"version"`
		ClientID        uuid.UUID       `json:"client_id"`
		FactoryID       uuid.UUID       `json:"factory_id"`
		FoundOn         string          `json:"found_on"`
		Gender          string          `json:"gender"`
		Presence        string          `json:"presence"`
		Job             string          `json:"job"`
		Hazards         []string        `json:"hazards"`
		HoursPerWeek    int             `json:"hours_per_week"`
		MonthlyWage     int64           `json:"monthly_wage"`
		WageCurrency    string          `json:"wage_currency"`
		Recruitment     string          `json:"recruitment"`
		RemovedFromWork bool            `json:"removed_from_work"`
		ChildSafe       bool            `json:"child_safe"`
		Identity        json.RawMessage `json:"identity,omitempty"`
		Narrative       string          `json:"narrative,omitempty"`
	}
	e.POST("/cases", func(c echo.Context) error {
		var r row
		if err := json.NewDecoder(c.Request().Body).Decode(&r); err != nil {
			return echo.NewHTTPError(http.StatusBadRequest)
		}
		r.ID, r.Version = uuid.Must(uuid.NewV7()), 1
		hazards, _ := json.Marshal(r.Hazards)
		_, err := pool.Exec(c.Request().Context(), `INSERT INTO load_baseline_cases (id, client_id, factory_id,
			found_on, gender, presence, job, hazards, hours_per_week, monthly_wage, wage_currency, recruitment,
			removed_from_work, child_safe, identity, narrative, created_at) VALUES
			($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,now())`,
			r.ID, r.ClientID, r.FactoryID, r.FoundOn, r.Gender, r.Presence, r.Job, string(hazards), r.HoursPerWeek,
			r.MonthlyWage, r.WageCurrency, r.Recruitment, r.RemovedFromWork, r.ChildSafe, []byte(r.Identity), r.Narrative)
		if err != nil {
			return err
		}
		r.Identity, r.Narrative = nil, ""
		return c.JSON(http.StatusCreated, r)
	})
	e.GET("/cases", func(c echo.Context) error {
		rows, err := pool.Query(c.Request().Context(), `SELECT id, version, client_id, factory_id, found_on::text, gender, presence,
			job, hours_per_week, monthly_wage, wage_currency, recruitment, removed_from_work, child_safe
			FROM load_baseline_cases ORDER BY id DESC LIMIT 50`)
		if err != nil {
			return err
		}
		defer rows.Close()
		var out []row
		for rows.Next() {
			var r row
			if err := rows.Scan(&r.ID, &r.Version, &r.ClientID, &r.FactoryID, &r.FoundOn, &r.Gender, &r.Presence, &r.Job,
				&r.HoursPerWeek, &r.MonthlyWage, &r.WageCurrency, &r.Recruitment, &r.RemovedFromWork, &r.ChildSafe); err != nil {
				return err
			}
			out = append(out, r)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		return c.JSON(http.StatusOK, map[string]any{"items": out})
	})
	// An edit: the body merged into the row where the version matches.
	e.POST("/cases/:id/edits", func(c echo.Context) error {
		var body map[string]any
		if err := json.NewDecoder(c.Request().Body).Decode(&body); err != nil {
			return echo.NewHTTPError(http.StatusBadRequest)
		}
		id, version := c.Param("id"), body["version"]
		data, _ := json.Marshal(body)
		var next int
		err := pool.QueryRow(c.Request().Context(), `UPDATE load_baseline_cases SET work = work || $3, version = version + 1
			WHERE id = $1 AND version = $2 RETURNING version`, id, version, data).Scan(&next)
		if errors.Is(err, pgx.ErrNoRows) {
			return echo.NewHTTPError(http.StatusConflict)
		} else if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, map[string]any{"id": id, "version": next})
	})
	// A transition: the state and version change with an event row, in one transaction.
	e.POST("/cases/:id/transitions", func(c echo.Context) error {
		var body struct {
			Event   string `json:"event"`
			Version int    `json:"version"`
		}
		if err := json.NewDecoder(c.Request().Body).Decode(&body); err != nil {
			return echo.NewHTTPError(http.StatusBadRequest)
		}
		id := c.Param("id")
		var next int
		err := pgx.BeginFunc(c.Request().Context(), pool, func(tx pgx.Tx) error {
			err := tx.QueryRow(c.Request().Context(), `UPDATE load_baseline_cases SET state = $3, version = version + 1
				WHERE id = $1 AND version = $2 RETURNING version`, id, body.Version, body.Event).Scan(&next)
			if err != nil {
				return err
			}
			_, err = tx.Exec(c.Request().Context(), `INSERT INTO load_baseline_events (id, case_id, event, at) VALUES ($1, $2, $3, now())`,
				uuid.Must(uuid.NewV7()), id, body.Event)
			return err
		})
		if errors.Is(err, pgx.ErrNoRows) {
			return echo.NewHTTPError(http.StatusConflict)
		} else if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, map[string]any{"id": id, "version": next})
	})
	e.POST("/cases/:id/follow-ups", func(c echo.Context) error {
		var body map[string]any
		if err := json.NewDecoder(c.Request().Body).Decode(&body); err != nil {
			return echo.NewHTTPError(http.StatusBadRequest)
		}
		data, _ := json.Marshal(body)
		fid := uuid.Must(uuid.NewV7())
		_, err := pool.Exec(c.Request().Context(), `INSERT INTO load_baseline_follow_ups (id, case_id, body, at) VALUES ($1, $2, $3, now())`,
			fid, c.Param("id"), data)
		if err != nil {
			return err
		}
		body["id"] = fid
		return c.JSON(http.StatusCreated, body)
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		pool.Close()
		return nil, nil, err
	}
	e.Listener = ln
	go func() { _ = e.Start("") }()
	stop := func() {
		_ = e.Shutdown(context.Background())
		pool.Close()
	}
	return &baseline{url: "http://" + ln.Addr().String()}, stop, nil
}
