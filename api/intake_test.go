package api_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	"filippo.io/age"
	"github.com/google/uuid"

	"github.com/remedy-cases/remedy/api"
	cases "github.com/remedy-cases/remedy/case"
	"github.com/remedy-cases/remedy/storage"
)

// sealFor seals a report's identity and narrative for key as a device does.
func sealFor(t *testing.T, recipient, key, secret string) []byte {
	t.Helper()
	r, err := age.ParseX25519Recipient(recipient)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	w, err := age.Encrypt(&buf, r)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.WriteString(w, cases.IntakeMagic+key+"\n"+secret)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestSealedFiling: a filing whose identity was sealed on the device opens
// on the server for its own Idempotency-Key, is validated as the plaintext
// one is, and is refused with the same problem documents otherwise.
func TestSealedFiling(t *testing.T) {
	e := newTestEnv(t, storage.SQLite)
	res := e.do("GET", "/v1/intake-recipient", e.tokens["auditor"], nil)
	var rcp api.IntakeRecipient
	res.decode(t, &rcp)
	if res.status != http.StatusOK || !strings.HasPrefix(rcp.Recipient, "age1") {
		t.Fatalf("recipient: %d %s", res.status, res.body)
	}
	if res := e.do("GET", "/v1/intake-recipient", e.tokens["client"], nil); res.status != http.StatusForbidden {
		t.Errorf("a brand asks for the recipient: %d", res.status)
	}
	sealed := func(key, secret string) map[string]any {
		r := e.report(nil)
		delete(r, "identity")
		delete(r, "narrative")
		r["sealed_identity"] = sealFor(t, rcp.Recipient, key, secret)
		return r
	}
	const secret = `{"identity":{"full_name":"SEALED-CANARY 张小军","apparent_age":13,"guardians":[{"name":"张父","relation":"father"}]},"narrative":"sealed on the phone"}`

	t.Run("OK", func(t *testing.T) {
		key := "intake-" + uuid.NewString()
		body, _ := json.Marshal(sealed(key, secret))
		res := e.do("POST", "/v1/cases", e.tokens["auditor"], body, "Idempotency-Key", key)
		if res.status != http.StatusCreated {
			t.Fatalf("filing: %d %s", res.status, res.body)
		}
		var c api.Case
		res.decode(t, &c)
		conf, err := e.cases.ReadIdentity(ctx, e.fixture.Supervisor.Actor(), c.Id, cases.ReadReason{Code: "verify_age"})
		if err != nil {
			t.Fatal(err)
		}
		if conf.Identity.FullName != "SEALED-CANARY 张小军" || conf.Narrative.Text() != "sealed on the phone" || len(conf.Identity.Guardians) != 1 {
			t.Error("the sealed identity was not filed")
		}
		again := e.do("POST", "/v1/cases", e.tokens["auditor"], body, "Idempotency-Key", key)
		var b api.Case
		again.decode(t, &b)
		if again.status != http.StatusCreated || b.Id != c.Id {
			t.Errorf("retry: %d", again.status)
		}
		if strings.Contains(string(res.body)+string(again.body), "SEALED-CANARY") {
			t.Error("an answer repeats the identity")
		}
	})
	refused := func(t *testing.T, body map[string]any, key string, want string) {
		t.Helper()
		raw, _ := json.Marshal(body)
		n := e.countCases()
		var res response
		if key == "" {
			res = e.do("POST", "/v1/cases", e.tokens["auditor"], raw)
		} else {
			res = e.do("POST", "/v1/cases", e.tokens["auditor"], raw, "Idempotency-Key", key)
		}
		if res.status != http.StatusUnprocessableEntity || res.header.Get("Content-Type") != "application/problem+json" ||
			!slices.Contains(problemNames(t, res), want) {
			t.Errorf("got %d %s, want 422 naming %s", res.status, res.body, want)
		}
		if strings.Contains(string(res.body), "SEALED-CANARY") {
			t.Error("the refusal repeats the identity")
		}
		if e.countCases() != n {
			t.Error("a refused filing filed a case")
		}
	}
	t.Run("ErrOtherKey", func(t *testing.T) {
		refused(t, sealed("intake-"+uuid.NewString(), secret), "intake-"+uuid.NewString(), "identity")
	})
	t.Run("ErrNoKey", func(t *testing.T) {
		refused(t, sealed("intake-"+uuid.NewString(), secret), "", "Idempotency-Key")
	})
	t.Run("ErrBoth", func(t *testing.T) {
		key := "intake-" + uuid.NewString()
		body := sealed(key, secret)
		body["identity"] = map[string]any{"full_name": "x"}
		refused(t, body, key, "identity")
	})
	t.Run("ErrNeither", func(t *testing.T) {
		body := e.report(nil)
		delete(body, "identity")
		refused(t, body, "", "identity")
	})
	t.Run("ErrInvalidOnceOpened", func(t *testing.T) {
		key := "intake-" + uuid.NewString()
		refused(t, sealed(key, `{"identity":{"full_name":"SEALED-CANARY","apparent_age":40},"narrative":""}`), key, "identity.apparent_age")
	})
	t.Run("ErrUnknownField", func(t *testing.T) {
		key := "intake-" + uuid.NewString()
		refused(t, sealed(key, `{"identity":{"name":"SEALED-CANARY"}}`), key, "identity")
	})
}
