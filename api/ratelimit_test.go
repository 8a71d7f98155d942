package api_test

import (
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/remedy-cases/remedy/api"
	"github.com/remedy-cases/remedy/storage"
)

// clock is a settable time for the rate limiters, safe across the server's
// goroutines.
type clock struct{ at atomic.Int64 }

func newClock(t time.Time) *clock {
	c := &clock{}
	c.at.Store(t.UnixNano())
	return c
}

func (c *clock) Now() time.Time            { return time.Unix(0, c.at.Load()) }
func (c *clock) Advance(d time.Duration)   { c.at.Add(int64(d)) }
func (c *clock) option() func(*api.Config) { return func(cfg *api.Config) { cfg.Now = c.Now } }

// problemCode returns the code of a problem document.
func problemCode(t *testing.T, r response) string {
	t.Helper()
	var p api.Problem
	r.decode(t, &p)
	if p.Code == nil {
		return ""
	}
	return string(*p.Code)
}

// TestRateLimitPerUser: each signed-in user has a quota of its own; the
// answers say what is left in RateLimit and RateLimit-Policy; past it, 429
// with Retry-After, until the bucket refills.
func TestRateLimitPerUser(t *testing.T) {
	clk := newClock(time.Date(2026, 11, 3, 9, 30, 0, 0, time.UTC))
	e := newTestEnv(t, storage.SQLite, clk.option(), func(c *api.Config) {
		c.UserLimit = api.RateLimit{Requests: 3, Window: time.Minute} // one request every 20 s
	})
	sup := e.tokens["supervisor"]
	for i, want := range []string{`"user";r=2;t=20`, `"user";r=1;t=40`, `"user";r=0;t=60`} {
		res := e.do("GET", "/v1/workflow", sup, nil)
		if res.status != http.StatusOK {
			t.Fatalf("request %d: %d %s", i+1, res.status, res.body)
		}
		if got := res.header.Get("RateLimit"); got != want {
			t.Errorf("request %d: RateLimit %q, want %q", i+1, got, want)
		}
		if got, want := res.header.Get("RateLimit-Policy"), `"user";q=3;w=60`; got != want {
			t.Errorf("request %d: RateLimit-Policy %q, want %q", i+1, got, want)
		}
	}

	t.Run("ErrTooMany", func(t *testing.T) {
		cases0 := e.countCases()
		res := e.do("POST", "/v1/cases", sup, e.report(nil))
		if res.status != http.StatusTooManyRequests || problemCode(t, res) != "too_many_requests" {
			t.Fatalf("got %d %s, want 429 too_many_requests", res.status, res.body)
		}
		if got, want := res.header.Get("Content-Type"), "application/problem+json"; got != want {
			t.Errorf("Content-Type %q, want %q", got, want)
		}
		if got, want := res.header.Get("Retry-After"), "20"; got != want {
			t.Errorf("Retry-After %q, want %q", got, want)
		}
		if got, want := res.header.Get("RateLimit"), `"user";r=0;t=60`; got != want {
			t.Errorf("RateLimit %q, want %q", got, want)
		}
		if e.countCases() != cases0 {
			t.Error("a refused filing filed a case")
		}
	})
	t.Run("OKOtherUser", func(t *testing.T) {
		if res := e.do("GET", "/v1/workflow", e.tokens["caseworker"], nil); res.status != http.StatusOK {
			t.Fatalf("another user: %d", res.status)
		}
	})
	t.Run("OKAnonymousCostsNothing", func(t *testing.T) {
		if res := e.do("GET", "/v1/workflow", "", nil); res.status != http.StatusUnauthorized || res.header.Get("RateLimit") != "" {
			t.Fatalf("without a token: %d, RateLimit %q", res.status, res.header.Get("RateLimit"))
		}
	})
	t.Run("OKRefilled", func(t *testing.T) {
		clk.Advance(20 * time.Second)
		res := e.do("GET", "/v1/workflow", sup, nil)
		if res.status != http.StatusOK || res.header.Get("RateLimit") != `"user";r=0;t=60` {
			t.Fatalf("after 20 s: %d, RateLimit %q", res.status, res.header.Get("RateLimit"))
		}
		if res := e.do("GET", "/v1/workflow", sup, nil); res.status != http.StatusTooManyRequests {
			t.Fatalf("the refill allowed %d, want one request", res.status)
		}
	})
}

// TestRateLimitPerAddress: every request from an address counts, whatever
// its route and whether or not it is signed in, except the health probes.
// A refused request is not authenticated and its body is not read.
func TestRateLimitPerAddress(t *testing.T) {
	clk := newClock(time.Date(2026, 11, 3, 9, 30, 0, 0, time.UTC))
	_, loopback, _ := net.ParseCIDR("127.0.0.0/8")
	e := newTestEnv(t, storage.SQLite, clk.option(), func(c *api.Config) {
		c.AddressLimit = api.RateLimit{Requests: 2, Window: 10 * time.Second} // one request every 5 s
		c.UserLimit = api.RateLimit{Requests: 100, Window: time.Minute}
		c.TrustedProxies = []*net.IPNet{loopback} // the test is the proxy: X-Forwarded-For names the client
	})
	from := func(addr string) []string { return []string{"X-Forwarded-For", addr} }
	sup := e.tokens["supervisor"]

	for range 5 {
		if res := e.do("GET", "/healthz", "", nil, from("203.0.113.7")...); res.status != http.StatusOK || res.header.Get("RateLimit") != "" {
			t.Fatalf("the liveness probe: %d, RateLimit %q", res.status, res.header.Get("RateLimit"))
		}
	}
	res := e.do("GET", "/nowhere", "", nil, from("203.0.113.7")...)
	if res.status != http.StatusNotFound || res.header.Get("RateLimit") != `"address";r=1;t=5` {
		t.Fatalf("an unknown route: %d, RateLimit %q", res.status, res.header.Get("RateLimit"))
	}
	res = e.do("GET", "/v1/workflow", sup, nil, from("203.0.113.7")...)
	if got, want := res.header.Get("RateLimit-Policy"), `"address";q=2;w=10, "user";q=100;w=60`; res.status != http.StatusOK || got != want {
		t.Fatalf("signed in: %d, RateLimit-Policy %q, want %q", res.status, got, want)
	}
	if got, want := res.header.Get("RateLimit"), `"address";r=0;t=10, "user";r=99;t=1`; got != want {
		t.Errorf("RateLimit %q, want %q", got, want)
	}

	t.Run("ErrTooMany", func(t *testing.T) {
		audit0 := e.auditCount()
		res := e.do("POST", "/v1/auth/token", "", map[string]string{"email": "supervisor@example.org", "password": password},
			from("203.0.113.7")...)
		if res.status != http.StatusTooManyRequests || problemCode(t, res) != "too_many_requests" {
			t.Fatalf("got %d %s, want 429", res.status, res.body)
		}
		if got, want := res.header.Get("Retry-After"), "5"; got != want {
			t.Errorf("Retry-After %q, want %q", got, want)
		}
		if !res.close {
			t.Error("the connection stays open: net/http would first read the unread body")
		}
		if e.auditCount() != audit0 {
			t.Error("a refused sign-in was audited: it reached the handler")
		}
		if res := e.do("GET", "/v1/workflow", sup, nil, from("203.0.113.7")...); res.status != http.StatusTooManyRequests {
			t.Errorf("a token does not lift the address limit: %d", res.status)
		}
	})
	t.Run("OKOtherAddress", func(t *testing.T) {
		if res := e.do("GET", "/v1/workflow", sup, nil, from("203.0.113.8")...); res.status != http.StatusOK {
			t.Fatalf("another address: %d", res.status)
		}
	})
	t.Run("OKMetrics", func(t *testing.T) {
		res := e.do("GET", "/metrics", "", nil, from("198.51.100.1")...)
		for _, policy := range []string{"address"} {
			line := `remedy_http_rate_limited_total{policy="` + policy + `"} 2`
			if !strings.Contains(string(res.body), line) {
				t.Errorf("/metrics lacks %s", line)
			}
		}
	})
}

// TestRateLimitMemory: a limiter remembers at most its size of keys, the
// least recently used forgotten first (it starts again with a full quota).
func TestRateLimitMemory(t *testing.T) {
	clk := newClock(time.Date(2026, 11, 3, 9, 30, 0, 0, time.UTC))
	l := api.NewTestLimiter(api.RateLimit{Requests: 1, Window: time.Hour}, 100, clk.Now)
	for i := range 1000 {
		if ok, _ := l.Take("10.0.0." + strconv.Itoa(i)); !ok {
			t.Fatalf("key %d refused at its first request", i)
		}
	}
	if got, want := l.Len(), 100; got != want {
		t.Fatalf("the limiter holds %d keys, want at most %d", got, want)
	}
	if ok, _ := l.Take("10.0.0.999"); ok {
		t.Error("a remembered key got a second request within its hour")
	}
	if ok, _ := l.Take("10.0.0.0"); !ok {
		t.Error("a forgotten key was refused")
	}
}

func TestRateLimitConfig(t *testing.T) {
	for _, l := range []api.RateLimit{{Requests: -1, Window: time.Minute}, {Requests: 5, Window: 1500 * time.Millisecond},
		{Requests: 5, Window: 0}, {Requests: 5, Window: 500 * time.Millisecond}} {
		if err := l.Validate(); err == nil {
			t.Errorf("%+v accepted", l)
		}
	}
	for _, l := range []api.RateLimit{{}, {Requests: 600, Window: time.Minute}} {
		if err := l.Validate(); err != nil {
			t.Errorf("%+v: %v", l, err)
		}
	}
}

// BenchmarkRateLimit measures one request's take on a limiter holding
// 10,000 keys, from parallel goroutines.
func BenchmarkRateLimit(b *testing.B) {
	l := api.NewTestLimiter(api.RateLimit{Requests: 1 << 30, Window: time.Second}, 10_000, time.Now)
	keys := make([]string, 10_000)
	for i := range keys {
		keys[i] = fmt.Sprintf("198.51.%d.%d", i/256, i%256)
	}
	var n atomic.Int64
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			l.Take(keys[n.Add(1)%int64(len(keys))])
		}
	})
}
