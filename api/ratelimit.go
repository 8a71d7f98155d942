package api

import (
	"fmt"
	"math"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/golang-lru/v2/simplelru"
	"github.com/labstack/echo/v4"
	"golang.org/x/time/rate"
)

// RateLimit is a quota of Requests per Window for one key (a user, an
// address): a token bucket that holds Requests tokens and refills them all
// in Window, so a burst of Requests is allowed, then Requests/Window per
// second. Zero Requests means no limit.
type RateLimit struct {
	Requests int
	Window   time.Duration
}

// Enabled reports whether the limit applies.
func (l RateLimit) Enabled() bool { return l.Requests > 0 && l.Window > 0 }

// Validate checks a limit that is enabled: a window of whole seconds, as
// the RateLimit-Policy field states it.
func (l RateLimit) Validate() error {
	if l.Requests < 0 {
		return fmt.Errorf("a rate limit needs a number of requests of 0 (none) or more, not %d", l.Requests)
	}
	if l.Requests > 0 && (l.Window < time.Second || l.Window%time.Second != 0) {
		return fmt.Errorf("a rate limit's window must be a whole number of seconds, at least 1s, not %s", l.Window)
	}
	return nil
}

// The names of the quota policies in the RateLimit and RateLimit-Policy
// fields.
const (
	policyAddress = "address"
	policyUser    = "user"
)

// rateLimitKeys bounds how many keys a limiter remembers. Past it, the key
// used least recently is forgotten: it starts again with a full quota.
const rateLimitKeys = 10_000

// limiter holds one token bucket per key, in this process only.
type limiter struct {
	policy string
	limit  RateLimit
	now    func() time.Time

	mu   sync.Mutex
	keys *simplelru.LRU[string, *rate.Limiter]
}

func newLimiter(policy string, l RateLimit, now func() time.Time) *limiter {
	if !l.Enabled() {
		return nil
	}
	keys, err := simplelru.NewLRU[string, *rate.Limiter](rateLimitKeys, nil)
	if err != nil {
		panic(err) // only for a size below 1
	}
	return &limiter{policy: policy, limit: l, now: now, keys: keys}
}

// quota is the outcome of one request against a policy.
type quota struct {
	policy    string
	limit     RateLimit
	allowed   bool
	remaining int           // whole requests left now
	reset     time.Duration // until the quota is whole again
	retry     time.Duration // when refused: until one request is allowed
}

// take spends one request of key's quota, if there is one.
func (l *limiter) take(key string) quota {
	now := l.now()
	l.mu.Lock()
	b, ok := l.keys.Get(key)
	if !ok {
		b = rate.NewLimiter(rate.Limit(float64(l.limit.Requests)/l.limit.Window.Seconds()), l.limit.Requests)
		b.SetLimitAt(now, b.Limit()) // start the bucket's clock at now, full
		l.keys.Add(key, b)
	}
	allowed := b.AllowN(now, 1)
	tokens := b.TokensAt(now)
	l.mu.Unlock()

	perSecond := float64(l.limit.Requests) / l.limit.Window.Seconds()
	q := quota{policy: l.policy, limit: l.limit, allowed: allowed, remaining: max(int(math.Floor(tokens)), 0)}
	q.reset = seconds((float64(l.limit.Requests) - tokens) / perSecond)
	if !allowed {
		q.retry = max(seconds((1-tokens)/perSecond), time.Second)
	}
	return q
}

// seconds rounds a number of seconds up to a whole duration.
func seconds(s float64) time.Duration {
	if s <= 0 {
		return 0
	}
	return time.Duration(math.Ceil(s)) * time.Second
}

// policyItem is q's member of the RateLimit-Policy field.
func (q quota) policyItem() string {
	return fmt.Sprintf(`"%s";q=%d;w=%d`, q.policy, q.limit.Requests, int(q.limit.Window/time.Second))
}

// item is q's member of the RateLimit field.
func (q quota) item() string {
	return fmt.Sprintf(`"%s";r=%d;t=%d`, q.policy, q.remaining, int(q.reset/time.Second))
}

// report adds q to the answer's RateLimit-Policy and RateLimit fields
// (draft-ietf-httpapi-ratelimit-headers), one list member per policy.
func report(c echo.Context, q quota) {
	h := c.Response().Header()
	for name, item := range map[string]string{"RateLimit-Policy": q.policyItem(), "RateLimit": q.item()} {
		if old := h.Get(name); old != "" && !strings.Contains(old, `"`+q.policy+`"`) {
			item = old + ", " + item
		}
		h.Set(name, item)
	}
}

// limit spends one request of key's quota under l, reports it, and refuses
// the request with 429 when none is left.
func (s *Server) limit(c echo.Context, l *limiter, key string) error {
	if l == nil {
		return nil
	}
	q := l.take(key)
	report(c, q)
	if q.allowed {
		return nil
	}
	s.metrics.rateLimited.WithLabelValues(q.policy).Inc()
	return &problemError{code: codeTooManyRequests, retryAfter: int(q.retry / time.Second),
		message: "Too many requests; wait before trying again."}
}

// limitAddress applies the per-address limit to every request but the
// liveness and readiness probes: refusing those would have an orchestrator
// restart or unlist a server because someone else is busy on its node's
// address.
func (s *Server) limitAddress(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if p := c.Request().URL.Path; p == "/healthz" || p == "/readyz" {
			return next(c)
		}
		if err := s.limit(c, s.byAddress, c.RealIP()); err != nil {
			return err
		}
		return next(c)
	}
}
