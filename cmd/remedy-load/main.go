// Command remedy-load drives filing and listing against a running Remedy at
// a given concurrency and prints throughput and latency percentiles. With
// -baseline-db it also starts, in the same process, a bare Echo handler that
// does the same insert and list with pgx and no encryption, audit or
// validation, and measures it in the same run: the difference is what
// Remedy's safety costs.
//
//	remedy-load -url http://127.0.0.1:8080 -email supervisor@demo.remedy -password ... \
//	    -concurrency 16 -duration 20s -baseline-db postgres://postgres@127.0.0.1/remedy_load
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
	"sync"
	"text/tabwriter"
	"time"

	"github.com/google/uuid"
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
	concurrency          int
	duration             time.Duration
	fileShare            float64
	baselineDB           string
}

func run() error {
	var o options
	flag.StringVar(&o.url, "url", "http://127.0.0.1:8080", "Remedy's base URL")
	flag.StringVar(&o.email, "email", "supervisor@demo.remedy", "a supervisor's email (supervisors may file and list)")
	flag.StringVar(&o.password, "password", os.Getenv("REMEDY_LOAD_PASSWORD"), "its password (or REMEDY_LOAD_PASSWORD)")
	flag.IntVar(&o.concurrency, "concurrency", 16, "concurrent clients")
	flag.DurationVar(&o.duration, "duration", 15*time.Second, "how long each target is driven")
	flag.Float64Var(&o.fileShare, "file-share", 0.5, "share of requests that file a case; the rest list a page of 50")
	flag.StringVar(&o.baselineDB, "baseline-db", "", "a PostgreSQL URL for the bare Echo+pgx baseline (it creates table load_baseline_cases)")
	flag.Parse()
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
	for _, t := range targets {
		res := drive(ctx, t, o)
		for _, op := range []string{"file", "list"} {
			r := res[op]
			throttled += r.throttled
			fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%.0f\t%s\t%s\t%s\t%s\t\n", t.name(), op, len(r.latencies), r.errors, r.throttled,
				float64(len(r.latencies))/o.duration.Seconds(), r.pct(50), r.pct(90), r.pct(99), r.pct(100))
		}
	}
	fmt.Fprintf(tw, "\nconcurrency %d, %s per target, %.0f%% filings\n", o.concurrency, o.duration, o.fileShare*100)
	if throttled > 0 {
		fmt.Fprintf(tw, "%d requests were refused by the server's rate limits: to measure throughput, start serve with\n"+
			"REMEDY_RATE_LIMIT_USER=0 REMEDY_RATE_LIMIT_ADDRESS=0\n", throttled)
	}
	return tw.Flush()
}

// target is a server under load.
type target interface {
	name() string
	file(ctx context.Context, c *http.Client, rng *rand.Rand) error
	list(ctx context.Context, c *http.Client) error
}

type result struct {
	latencies []time.Duration
	errors    int
	throttled int // answered 429 by the server's rate limits
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
	all := map[string]*result{"file": {}, "list": {}}
	var wg sync.WaitGroup
	for w := range o.concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 7))
			mine := map[string]*result{"file": {}, "list": {}}
			for time.Now().Before(deadline) {
				op := "list"
				if rng.Float64() < o.fileShare {
					op = "file"
				}
				start := time.Now()
				var err error
				if op == "file" {
					err = t.file(ctx, client, rng)
				} else {
					err = t.list(ctx, client)
				}
				if errors.Is(err, errThrottled) {
					mine[op].throttled++
					continue
				} else if err != nil {
					mine[op].errors++
					continue
				}
				mine[op].latencies = append(mine[op].latencies, time.Since(start))
			}
			mu.Lock()
			for op, r := range mine {
				all[op].latencies = append(all[op].latencies, r.latencies...)
				all[op].errors += r.errors
				all[op].throttled += r.throttled
			}
			mu.Unlock()
		}()
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
			"id_number": fmt.Sprintf("4419%014d", rng.Int64N(1e14))},
		"narrative": "Synthetic case filed by remedy-load.",
	})
	return body
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
		return nil, fmt.Errorf("%s %s: status %d", method, url, res.StatusCode)
	}
	return data, nil
}

// remedyTarget is a running Remedy, signed in.
type remedyTarget struct {
	url, token, clientID, factoryID string
}

func newRemedyTarget(ctx context.Context, o options) (*remedyTarget, error) {
	if o.password == "" {
		return nil, errors.New("-password (or REMEDY_LOAD_PASSWORD) is required")
	}
	c := http.DefaultClient
	creds, _ := json.Marshal(map[string]string{"email": o.email, "password": o.password})
	data, err := send(ctx, c, "POST", o.url+"/v1/auth/token", "", creds, http.StatusOK)
	if err != nil {
		return nil, fmt.Errorf("sign in: %w", err)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(data, &tok); err != nil {
		return nil, err
	}
	t := &remedyTarget{url: o.url, token: tok.AccessToken}
	var list struct {
		Items []struct {
			ID     string `json:"id"`
			Active *bool  `json:"active"`
		} `json:"items"`
	}
	for _, what := range []struct {
		path string
		into *string
	}{{"/v1/clients", &t.clientID}, {"/v1/factories", &t.factoryID}} {
		data, err := send(ctx, c, "GET", o.url+what.path, t.token, nil, http.StatusOK)
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
	return t, nil
}

func (t *remedyTarget) name() string { return "remedy" }

func (t *remedyTarget) file(ctx context.Context, c *http.Client, rng *rand.Rand) error {
	_, err := send(ctx, c, "POST", t.url+"/v1/cases", t.token, report(t.clientID, t.factoryID, rng), http.StatusCreated)
	return err
}

func (t *remedyTarget) list(ctx context.Context, c *http.Client) error {
	_, err := send(ctx, c, "GET", t.url+"/v1/cases?limit=50", t.token, nil, http.StatusOK)
	return err
}

// baseline is a bare Echo handler over pgx: decode, insert one row, list 50.
type baseline struct{ url string }

func (b *baseline) name() string { return "echo+pgx" }

func (b *baseline) file(ctx context.Context, c *http.Client, rng *rand.Rand) error {
	_, err := send(ctx, c, "POST", b.url+"/cases", "", report(uuid.NewString(), uuid.NewString(), rng), http.StatusCreated)
	return err
}

func (b *baseline) list(ctx context.Context, c *http.Client) error {
	_, err := send(ctx, c, "GET", b.url+"/cases", "", nil, http.StatusOK)
	return err
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
		identity jsonb NOT NULL, narrative text NOT NULL, created_at timestamptz NOT NULL)`)
	if err != nil {
		pool.Close()
		return nil, nil, err
	}
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	type row struct {
		ID              uuid.UUID       `json:"id"`
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
		r.ID = uuid.Must(uuid.NewV7())
		hazards, _ := json.Marshal(r.Hazards)
		_, err := pool.Exec(c.Request().Context(), `INSERT INTO load_baseline_cases VALUES
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
		rows, err := pool.Query(c.Request().Context(), `SELECT id, client_id, factory_id, found_on::text, gender, presence,
			job, hours_per_week, monthly_wage, wage_currency, recruitment, removed_from_work, child_safe
			FROM load_baseline_cases ORDER BY id DESC LIMIT 50`)
		if err != nil {
			return err
		}
		defer rows.Close()
		var out []row
		for rows.Next() {
			var r row
			if err := rows.Scan(&r.ID, &r.ClientID, &r.FactoryID, &r.FoundOn, &r.Gender, &r.Presence, &r.Job,
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
