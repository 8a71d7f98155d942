package api

import "time"

// DuplicateKey and EchoName expose the body checks to the black-box tests
// and the fuzzer.
var (
	DuplicateKey = duplicateKey
	EchoName     = echoName
)

// TestLimiter is a rate limiter remembering at most size keys.
type TestLimiter struct{ l *limiter }

// NewTestLimiter returns a limiter of l over the clock now that remembers
// at most size keys.
func NewTestLimiter(l RateLimit, size int, now func() time.Time) *TestLimiter {
	lim := newLimiter("test", l, now)
	lim.keys.Resize(size)
	return &TestLimiter{lim}
}

// Take spends one request of key's quota and says whether it was allowed,
// and how many remain.
func (t *TestLimiter) Take(key string) (allowed bool, remaining int) {
	q := t.l.take(key)
	return q.allowed, q.remaining
}

// Len is how many keys the limiter remembers.
func (t *TestLimiter) Len() int {
	t.l.mu.Lock()
	defer t.l.mu.Unlock()
	return t.l.keys.Len()
}

// ProblemCodes lists every problem code the API answers with.
func ProblemCodes() []string {
	var out []string
	for code := range statusOf {
		out = append(out, code)
	}
	return out
}

// SpecYAML is the embedded API document.
func SpecYAML() []byte { return specYAML }
