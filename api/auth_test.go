package api_test

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/remedy-cases/remedy/api"
	cases "github.com/remedy-cases/remedy/case"
	"github.com/remedy-cases/remedy/storage"
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

	victim := e.users["other_auditor"]
	wrong := map[string]string{"email": victim.Email, "password": "not the password"}
	for i := range 5 {
		if res := e.do("POST", "/v1/auth/token", "", wrong); res.status != http.StatusUnauthorized {
			t.Fatalf("failure %d: status %d, want 401", i+1, res.status)
		}
	}
	res := e.do("POST", "/v1/auth/token", "", map[string]string{"email": victim.Email, "password": password})
	if res.status != http.StatusTooManyRequests || res.header.Get("Retry-After") == "" {
		t.Fatalf("after 5 failures, even the right password: status %d, Retry-After %q; want 429",
			res.status, res.header.Get("Retry-After"))
	}
	// Time passes: the back-off ends and the right password works again.
	later := e.now.Add(20 * time.Minute)
	e.db.Now = func() time.Time { return later }
	res = e.do("POST", "/v1/auth/token", "", map[string]string{"email": victim.Email, "password": password})
	if res.status != http.StatusOK {
		t.Fatalf("after the back-off: status %d, want 200", res.status)
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
}
