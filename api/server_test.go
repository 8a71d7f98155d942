package api_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/remedy-cases/remedy/api"
	"github.com/remedy-cases/remedy/storage"
)

// TestHeaders: /v1 answers are never cached, request ids are kept or made,
// and CORS is off unless origins are configured.
func TestHeaders(t *testing.T) {
	e := newTestEnv(t, storage.SQLite)
	res := e.do("GET", "/v1/cases", e.tokens["supervisor"], nil, "X-Request-Id", "trace-12345678", "Origin", "https://evil.example")
	if res.header.Get("Cache-Control") != "no-store" || res.header.Get("X-Request-Id") != "trace-12345678" {
		t.Fatalf("headers %v", res.header)
	}
	if res.header.Get("Access-Control-Allow-Origin") != "" {
		t.Fatal("CORS answered with no origins configured")
	}
	res = e.do("GET", "/v1/cases", e.tokens["supervisor"], nil, "X-Request-Id", "bad id with spaces\u00e9")
	if id := res.header.Get("X-Request-Id"); id == "" || strings.Contains(id, " ") {
		t.Fatalf("request id %q", id)
	}
	if !strings.Contains(e.logs.String(), `"request_id":"trace-12345678"`) {
		t.Fatal("the request id is not in the log")
	}

	srv, err := api.NewServer(api.Config{Services: api.Services{}, DB: e.db, SigningKey: e.key, Issuer: "i", Audience: "a",
		CORSOrigins: []string{"https://app.example.org"}})
	must(t, err)
	req := httptest.NewRequest("OPTIONS", "/v1/cases", nil)
	req.Header.Set("Origin", "https://app.example.org")
	req.Header.Set("Access-Control-Request-Method", "POST")
	rec := httptest.NewRecorder()
	srv.Handler().ServeHTTP(rec, req)
	if rec.Header().Get("Access-Control-Allow-Origin") != "https://app.example.org" {
		t.Fatalf("preflight from the configured origin: %d %v", rec.Code, rec.Header())
	}
	req.Header.Set("Origin", "https://evil.example")
	rec = httptest.NewRecorder()
	srv.Handler().ServeHTTP(rec, req)
	if rec.Header().Get("Access-Control-Allow-Origin") != "" {
		t.Fatal("preflight from another origin was allowed")
	}
	if res := e.do("GET", "/nowhere", "", nil); res.status != http.StatusNotFound || res.header.Get("Content-Type") != "application/problem+json" {
		t.Fatalf("unknown route: %d %v", res.status, res.header)
	}
}

// TestMetrics: the build is named in remedy_build_info, and a method no
// standard names is counted as "other", so that clients cannot mint series.
func TestMetrics(t *testing.T) {
	e := newTestEnv(t, storage.SQLite, func(c *api.Config) {
		c.Build = api.BuildInfo{Version: "v1.2.3", Revision: "0123abcd", GoVersion: "go1.26.0"}
	})
	for _, method := range []string{"FOOBAR", "BREW", "X" + strings.Repeat("Y", 1000)} {
		if res := e.do(method, "/v1/cases", e.tokens["supervisor"], nil); res.status < 400 {
			t.Fatalf("%.10s /v1/cases answered %d", method, res.status)
		}
	}
	e.do("GET", "/healthz", "", nil)
	res := e.do("GET", "/metrics", "", nil)
	body := string(res.body)
	for _, want := range []string{
		`remedy_build_info{goversion="go1.26.0",revision="0123abcd",version="v1.2.3"} 1`,
		`remedy_http_requests_total{method="GET",route="/healthz",status="200"} 1`,
		`method="other"`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	for _, never := range []string{"FOOBAR", "BREW", "XYYY"} {
		if strings.Contains(body, never) {
			t.Errorf("/metrics has a series labelled %s", never)
		}
		if strings.Contains(e.logs.String(), never) {
			t.Errorf("the log names the method %s", never)
		}
	}
}
