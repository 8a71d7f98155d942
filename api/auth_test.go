package api_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/remedy-cases/remedy/api"
	"github.com/remedy-cases/remedy/auth"
	cases "github.com/remedy-cases/remedy/case"
	"github.com/remedy-cases/remedy/internal/testkit"
	"github.com/remedy-cases/remedy/storage"
	"github.com/remedy-cases/remedy/storage/storagetest"
)

// TestTokenAttacks forges tokens every way the issue lists; each must be
// refused with 401, while the control token is accepted.
func TestTokenAttacks(t *testing.T) {
	e := newTestEnv(t, storage.SQLite)
	var jwks api.JWKS
	e.do("GET", "/.well-known/jwks.json", "", nil).decode(t, &jwks)
	if len(jwks.Keys) != 1 || jwks.Keys[0].Alg != "EdDSA" || jwks.Keys[0].Kid == "" {
		t.Fatalf("jwks: %+v", jwks)
	}
	kid := jwks.Keys[0].Kid
	sup := e.users["supervisor"]
	claims := func(mod func(jwt.MapClaims)) jwt.MapClaims {
		c := jwt.MapClaims{"iss": "remedy-test", "aud": []string{"remedy-test-api"}, "sub": sup.ID.String(),
			"role": "supervisor", "iat": e.now.Unix(), "exp": e.now.Add(10 * time.Minute).Unix()}
		if mod != nil {
			mod(c)
		}
		return c
	}
	sign := func(method jwt.SigningMethod, c jwt.MapClaims, key any) string {
		t.Helper()
		tok := jwt.NewWithClaims(method, c)
		tok.Header["kid"] = kid
		s, err := tok.SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	pub := e.key.Public().(ed25519.PublicKey)
	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	_, strangerKey, _ := ed25519.GenerateKey(rand.Reader)

	control := sign(jwt.SigningMethodEdDSA, claims(nil), e.key)
	if res := e.do("GET", "/v1/cases", control, nil); res.status != http.StatusOK {
		t.Fatalf("the control token was refused: %d %s", res.status, res.body)
	}

	attacks := map[string]string{
		"alg none":                  sign(jwt.SigningMethodNone, claims(nil), jwt.UnsafeAllowNoneSignatureType),
		"HS256 with the public key": sign(jwt.SigningMethodHS256, claims(nil), []byte(pub)),
		"unlisted algorithm ES256":  sign(jwt.SigningMethodES256, claims(nil), ecKey),
		"another Ed25519 key":       sign(jwt.SigningMethodEdDSA, claims(nil), strangerKey),
		"wrong audience":            sign(jwt.SigningMethodEdDSA, claims(func(c jwt.MapClaims) { c["aud"] = []string{"another-api"} }), e.key),
		"wrong issuer":              sign(jwt.SigningMethodEdDSA, claims(func(c jwt.MapClaims) { c["iss"] = "someone-else" }), e.key),
		"no expiry":                 sign(jwt.SigningMethodEdDSA, claims(func(c jwt.MapClaims) { delete(c, "exp") }), e.key),
		"expired":                   sign(jwt.SigningMethodEdDSA, claims(func(c jwt.MapClaims) { c["exp"] = e.now.Add(-time.Hour).Unix() }), e.key),
		"role raised":               sign(jwt.SigningMethodEdDSA, claims(func(c jwt.MapClaims) { c["sub"] = e.users["caseworker"].ID.String() }), e.key),
		"unknown subject":           sign(jwt.SigningMethodEdDSA, claims(func(c jwt.MapClaims) { c["sub"] = "00000000-0000-0000-0000-000000000000" }), e.key),
		"garbage":                   "not.a.token",
	}
	for name, tok := range attacks {
		t.Run(name, func(t *testing.T) {
			res := e.do("GET", "/v1/cases", tok, nil)
			if res.status != http.StatusUnauthorized {
				t.Fatalf("status %d, want 401: %s", res.status, res.body)
			}
			if res.header.Get("WWW-Authenticate") == "" || res.header.Get("Content-Type") != "application/problem+json" {
				t.Fatalf("headers %v", res.header)
			}
		})
	}
	t.Run("token in the query string", func(t *testing.T) {
		res := e.do("GET", "/v1/cases?access_token="+control, "", nil)
		if res.status != http.StatusUnauthorized {
			t.Fatalf("status %d, want 401", res.status)
		}
	})
	t.Run("1 MB Authorization header", func(t *testing.T) {
		res := e.do("GET", "/v1/cases", "", nil, "Authorization", "Bearer "+strings.Repeat("A", 1<<20))
		if res.status != http.StatusUnauthorized {
			t.Fatalf("status %d, want 401", res.status)
		}
	})
	t.Run("disabled user", func(t *testing.T) {
		tok := e.tokens["other_supervisor"]
		if res := e.do("GET", "/v1/cases", tok, nil); res.status != http.StatusOK {
			t.Fatalf("before disabling: %d", res.status)
		}
		must(t, storage.NewUserService(e.db).DisableUser(ctx, cases.SystemActor, e.users["other_supervisor"].ID))
		if res := e.do("GET", "/v1/cases", tok, nil); res.status != http.StatusUnauthorized {
			t.Fatalf("after disabling: %d, want 401", res.status)
		}
	})
}

// TestSignIn checks the token's claims, the audit of every attempt, and the
// back-off after repeated failures.
func TestSignIn(t *testing.T) {
	e := newTestEnv(t, storage.SQLite)
	client := e.users["client"]
	tok := e.signIn(client.Email)
	parsed, _, err := jwt.NewParser().ParseUnverified(tok, jwt.MapClaims{})
	must(t, err)
	c := parsed.Claims.(jwt.MapClaims)
	if parsed.Header["alg"] != "EdDSA" || parsed.Header["kid"] == nil {
		t.Errorf("header %v", parsed.Header)
	}
	for _, k := range []string{"iss", "aud", "exp", "iat", "sub", "role", "client_id"} {
		if c[k] == nil {
			t.Errorf("claim %s is missing: %v", k, c)
		}
	}
	if c["role"] != "client" || c["client_id"] != client.ClientID.UUID.String() || c["sub"] != client.ID.String() {
		t.Errorf("claims %v", c)
	}

	if strings.Contains(e.logs.String(), "not the password") {
		t.Fatal("a password reached the log")
	}
}

// TestSignInThrottle: a stranger failing on purpose for someone's email is
// refused at its own address, while the owner signs in from elsewhere, and
// from the stranger's address with the device token of an earlier sign-in
// (slowed, never refused); the counts are in the database, so a second
// server refuses the stranger too. On both databases, through the API.
func TestSignInThrottle(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		var slept []time.Duration
		_, loopback, _ := net.ParseCIDR("127.0.0.1/32")
		options := func(c *api.Config) {
			c.TrustedProxies = []*net.IPNet{loopback} // the test is the proxy: X-Forwarded-For names the client
			c.Auth = auth.New(c.Users, c.Audit, c.SignIns)
			c.Auth.Now = c.Now
			c.Auth.Sleep = func(_ context.Context, d time.Duration) error { slept = append(slept, d); return nil }
		}
		e := newTestEnvOn(t, db, options)
		victim := e.users["other_auditor"]
		signIn := func(pw, addr string, device ...string) response {
			body := map[string]string{"email": victim.Email, "password": pw}
			if len(device) > 0 {
				body["device_token"] = device[0]
			}
			return e.do("POST", "/v1/auth/token", "", body, "X-Forwarded-For", addr)
		}
		// The owner signs in from home and keeps its device token.
		res := signIn(password, "198.51.100.4")
		var tok api.Token
		res.decode(t, &tok)
		if res.status != http.StatusOK || len(tok.DeviceToken) != 43 {
			t.Fatalf("the owner's first sign-in: %d %s", res.status, res.body)
		}
		for i := range 5 {
			if res := signIn("not the password", "203.0.113.9"); res.status != http.StatusUnauthorized {
				t.Fatalf("the stranger's failure %d: status %d, want 401", i+1, res.status)
			}
		}
		res = signIn(password, "203.0.113.9")
		if res.status != http.StatusTooManyRequests || res.header.Get("Retry-After") == "" || problemCode(t, res) != "too_many_requests" {
			t.Fatalf("the stranger after 5 failures, even with the right password: %d %s; want 429", res.status, res.body)
		}
		// A second server over the same database refuses the stranger.
		second := newServerOn(t, e, options)
		res2 := testkit.MustDo(t, second.Client(), testkit.MustRequest(t, "POST", second.URL+"/v1/auth/token", "",
			map[string]string{"email": victim.Email, "password": password}, "X-Forwarded-For", "203.0.113.9"))
		if res2.Status != http.StatusTooManyRequests {
			t.Fatalf("the second server let the stranger in: %d", res2.Status)
		}
		// The owner is not locked out: from home, from a new address, and
		// from the stranger's address with its device token.
		for _, try := range [][]string{{"198.51.100.4"}, {"192.0.2.33"}, {"203.0.113.9", tok.DeviceToken}} {
			if res := signIn(password, try[0], try[1:]...); res.status != http.StatusOK {
				t.Fatalf("the owner from %s: %d %s", try[0], res.status, res.body)
			}
		}
		if len(slept) != 1 || slept[0] > 3*time.Second {
			t.Fatalf("slowed %v; want the device at the stranger's address slowed once, at most 3s", slept)
		}
		entries := 0
		n, err := storage.NewAuditService(e.db).Verify(ctx)
		must(t, err)
		var rows []struct{ Action, Subject string }
		must(t, e.db.Gorm().Raw("SELECT action, subject FROM audit_log WHERE subject = ?", victim.ID.String()).Scan(&rows).Error)
		for _, r := range rows {
			if r.Action == cases.ActionSignInFailed {
				entries++
			}
		}
		if entries != 5 || n == 0 {
			t.Fatalf("%d failed sign-ins audited for the victim, want 5", entries)
		}
		if strings.Contains(e.logs.String(), "not the password") {
			t.Fatal("a password reached the log")
		}
	})
}

// TestSignInBusy: while every password-hashing slot is taken, a sign-in is
// answered 503 with Retry-After and a problem, quickly, without hashing.
func TestSignInBusy(t *testing.T) {
	limit := auth.NewHashLimit(1, 10*time.Millisecond)
	e := newTestEnv(t, storage.SQLite, func(c *api.Config) {
		c.Auth = auth.New(c.Users, c.Audit, c.SignIns)
		c.Auth.Hashing = limit
	})
	must(t, limit.Acquire(ctx))
	res := e.do("POST", "/v1/auth/token", "", map[string]string{"email": e.users["supervisor"].Email, "password": password})
	if res.status != http.StatusServiceUnavailable || res.header.Get("Retry-After") != "1" ||
		res.header.Get("Content-Type") != "application/problem+json" || problemCode(t, res) != "service_unavailable" {
		t.Fatalf("with every slot taken: %d %s %s", res.status, res.header, res.body)
	}
	limit.Release()
	if res := e.do("POST", "/v1/auth/token", "", map[string]string{"email": e.users["supervisor"].Email, "password": password}); res.status != http.StatusOK {
		t.Fatalf("with a free slot: %d %s", res.status, res.body)
	}
}

// TestVerifiedTokenExpires: a token the server verified once, and so
// remembers, is refused when it expires like any other, and its user being
// disabled still ends it at once.
func TestVerifiedTokenExpires(t *testing.T) {
	clk := newClock(time.Date(2026, 11, 3, 9, 30, 0, 0, time.UTC))
	e := newTestEnv(t, storage.SQLite, clk.option(), func(c *api.Config) { c.TokenTTL = 10 * time.Minute })
	sup := e.tokens["supervisor"]
	for range 3 {
		if res := e.do("GET", "/v1/workflow", sup, nil); res.status != http.StatusOK {
			t.Fatalf("a fresh token: %d %s", res.status, res.body)
		}
	}
	// The leeway for clock skew is 30 s: still valid just inside it.
	clk.Advance(10*time.Minute + 29*time.Second)
	if res := e.do("GET", "/v1/workflow", sup, nil); res.status != http.StatusOK {
		t.Fatalf("inside the leeway: %d %s", res.status, res.body)
	}
	clk.Advance(2 * time.Second)
	if res := e.do("GET", "/v1/workflow", sup, nil); res.status != http.StatusUnauthorized {
		t.Fatalf("expired: %d, want 401", res.status)
	}
	if res := e.do("GET", "/v1/workflow", sup, nil); res.status != http.StatusUnauthorized {
		t.Fatalf("expired, asked again: %d, want 401", res.status)
	}
}
