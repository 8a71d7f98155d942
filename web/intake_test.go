package web_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"filippo.io/age"
	"github.com/google/uuid"

	cases "github.com/remedy-cases/remedy/case"
	"github.com/remedy-cases/remedy/storage"
)

// sendIntake posts a report as intake.js does: the facts, and the identity
// sealed to the server's recipient for this key.
func (b *browser) sendIntake(key string, facts map[string][]string, secret string) response {
	b.e.t.Helper()
	return b.postIntake(key, sealedBody(b.e.t, b.e, key, facts, secret))
}

// sealedBody is a report's body as intake.js keeps it.
func sealedBody(t testing.TB, e *env, key string, facts map[string][]string, secret string) []byte {
	t.Helper()
	r, err := age.ParseX25519Recipient(e.cases.IntakeRecipient())
	must(t, err)
	var sealed bytes.Buffer
	wc, err := age.Encrypt(&sealed, r)
	must(t, err)
	_, _ = io.WriteString(wc, cases.IntakeMagic+key+"\n"+secret)
	must(t, wc.Close())
	body, _ := json.Marshal(map[string]any{"fields": facts, "sealed": base64.StdEncoding.EncodeToString(sealed.Bytes())})
	return body
}

// postIntake sends a report's body as it rests on the phone.
func (b *browser) postIntake(key string, body []byte) response {
	b.e.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, b.e.srv.URL+"/intake/reports", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", key)
	req.Header.Set("X-CSRF-Token", b.csrf)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	req.Header.Set("Origin", b.e.srv.URL)
	return b.do(req)
}

func intakeFacts(e *env) map[string][]string {
	return map[string][]string{"client_id": {e.f.Client.ID.String()}, "factory_id": {e.f.Factory.ID.String()},
		"found_on": {"2026-11-01"}, "gender": {"male"}, "presence": {"employed"}, "recruitment": {"borrowed_id"},
		"removed_from_work": {"on"}, "child_safe": {"on"}, "labour_agent": {"yes"}, "factory_consent": {"no"},
		"other_children_found": {"2"}, "hazards": {"machinery"}, "wage_currency": {"CNY"}, "monthly_wage": {"2600"}}
}

const intakeSecret = `{"identity":{"full_name":"CANARY-WEB-NAME","apparent_age":14},"narrative":"CANARY-WEB-NOTE"}`

// TestIntakeReport: a report from a phone is filed once per key, with
// every fact of the API's filing; bad input is refused beside its field in
// the user's language and changes nothing; only those who file may send.
func TestIntakeReport(t *testing.T) {
	e := newEnv(t, storage.SQLite)
	auditor := e.signIn(e.f.Auditor, "zh-CN")
	auditor.get("/intake/")
	count := func() int {
		page, err := e.cases.ListCases(ctx, cases.CaseFilter{FiledBy: uuid.NullUUID{UUID: e.f.Auditor.ID, Valid: true}})
		must(t, err)
		return len(page.Cases)
	}

	t.Run("OK", func(t *testing.T) {
		key := uuid.NewString()
		body := sealedBody(t, e, key, intakeFacts(e), intakeSecret)
		first := auditor.postIntake(key, body)
		if first.status != http.StatusCreated {
			t.Fatalf("filing: %d %s", first.status, first.text())
		}
		var a struct{ Code string }
		must(t, json.Unmarshal(first.body, &a))
		c, err := e.cases.FindCaseByCode(ctx, a.Code)
		must(t, err)
		if c.LabourAgent != cases.AnswerYes || c.FactoryConsent != cases.AnswerNo || c.OtherChildrenFound != 2 ||
			c.MonthlyWage.Amount != 260000 || len(c.Hazards) != 1 || !c.RemovedFromWork || c.Gender != cases.GenderMale {
			t.Errorf("the facts did not arrive")
		}
		// The answer was lost: the phone sends the report again, as it rests there.
		again := auditor.postIntake(key, body)
		var b struct {
			Code     string
			Replayed bool
		}
		must(t, json.Unmarshal(again.body, &b))
		if again.status != http.StatusOK || b.Code != a.Code || !b.Replayed {
			t.Errorf("sent again: %d %s", again.status, again.text())
		}
		// The same key for another report is refused.
		other := auditor.sendIntake(key, intakeFacts(e), intakeSecret)
		if other.status != http.StatusUnprocessableEntity {
			t.Errorf("the same key for another request: %d %s", other.status, other.text())
		}
		if n := count(); n != 1 {
			t.Errorf("%d cases, want 1", n)
		}
		if l := leaked(first.text() + again.text() + other.text()); l != nil {
			t.Errorf("an answer leaks %v", l)
		}
	})

	t.Run("ErrField", func(t *testing.T) {
		before := count()
		facts := intakeFacts(e)
		facts["found_on"] = []string{"not a date"}
		res := auditor.sendIntake(uuid.NewString(), facts, `{"identity":{"full_name":"CANARY-WEB-NAME","apparent_age":40},"narrative":"CANARY-WEB-NOTE"}`)
		var a struct {
			Errors map[string]string
		}
		must(t, json.Unmarshal(res.body, &a))
		if res.status != http.StatusUnprocessableEntity || a.Errors["found_on"] == "" || a.Errors["apparent_age"] == "" {
			t.Fatalf("refusal: %d %s", res.status, res.text())
		}
		if !strings.ContainsFunc(a.Errors["found_on"], func(r rune) bool { return r >= 0x4e00 && r <= 0x9fff }) {
			t.Errorf("the refusal is not in Chinese: %q", a.Errors["found_on"])
		}
		if l := leaked(res.text()); l != nil {
			t.Errorf("the refusal leaks %v", l)
		}
		if count() != before {
			t.Error("a refused report filed a case")
		}
	})

	t.Run("ErrSealedForAnotherReport", func(t *testing.T) {
		before := count()
		key := uuid.NewString()
		res := auditor.sendIntake(key, intakeFacts(e), intakeSecret)
		if res.status != http.StatusCreated {
			t.Fatal(res.status)
		}
		// The ciphertext of one report under another report's key.
		var body map[string]any
		r, _ := age.ParseX25519Recipient(e.cases.IntakeRecipient())
		var sealed bytes.Buffer
		wc, _ := age.Encrypt(&sealed, r)
		_, _ = io.WriteString(wc, cases.IntakeMagic+key+"\n"+intakeSecret)
		_ = wc.Close()
		body = map[string]any{"fields": intakeFacts(e), "sealed": base64.StdEncoding.EncodeToString(sealed.Bytes())}
		raw, _ := json.Marshal(body)
		req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/intake/reports", bytes.NewReader(raw))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Idempotency-Key", uuid.NewString())
		req.Header.Set("X-CSRF-Token", auditor.csrf)
		req.Header.Set("Sec-Fetch-Site", "same-origin")
		moved := auditor.do(req)
		if moved.status != http.StatusUnprocessableEntity || !strings.Contains(moved.text(), `"identity"`) {
			t.Errorf("a moved ciphertext: %d %s", moved.status, moved.text())
		}
		if count() != before+1 {
			t.Error("a moved ciphertext filed a case")
		}
	})

	t.Run("ErrKey", func(t *testing.T) {
		if res := auditor.sendIntake("short", intakeFacts(e), intakeSecret); res.status != http.StatusBadRequest {
			t.Errorf("a bad key: %d", res.status)
		}
	})

	t.Run("ErrNotAuditor", func(t *testing.T) {
		worker := e.signIn(e.f.Worker, "en")
		if res := worker.get("/intake/"); res.status != http.StatusNotFound {
			t.Errorf("a case worker's form: %d", res.status)
		}
		if res := worker.sendIntake(uuid.NewString(), intakeFacts(e), intakeSecret); res.status != http.StatusNotFound {
			t.Errorf("a case worker's report: %d", res.status)
		}
	})
}

// TestSealBundleCurrent: static/seal.js was built from sealjs/entry.js and
// the versions package-lock.json pins (bundle.sum); where the npm packages
// are installed, rebuilding gives the same bytes.
func TestSealBundleCurrent(t *testing.T) {
	entry, err := os.ReadFile(filepath.Join("sealjs", "entry.js"))
	must(t, err)
	lock, err := os.ReadFile(filepath.Join("sealjs", "package-lock.json"))
	must(t, err)
	recorded, err := os.ReadFile(filepath.Join("sealjs", "bundle.sum"))
	must(t, err)
	sum := sha256.Sum256(append(entry, lock...))
	if got := hex.EncodeToString(sum[:]); got != strings.TrimSpace(string(recorded)) {
		t.Fatalf("sealjs changed since seal.js was built: run web/sealjs/build.sh")
	}
	esbuild := filepath.Join("sealjs", "node_modules", "@esbuild", "linux-x64", "bin", "esbuild")
	if _, err := os.Stat(esbuild); err != nil {
		t.Skip("the npm packages are not installed (web/sealjs/build.sh): only the sources were checked")
	}
	out := filepath.Join(t.TempDir(), "seal.js")
	cmd := exec.Command(filepath.Join("node_modules", "@esbuild", "linux-x64", "bin", "esbuild"), "entry.js", "--bundle",
		"--format=iife", "--global-name=RemedySeal", "--minify", "--legal-comments=eof", "--target=es2020", "--outfile="+out)
	cmd.Dir = "sealjs"
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("esbuild: %v %s", err, b)
	}
	want, err := os.ReadFile(out)
	must(t, err)
	got, err := os.ReadFile(filepath.Join("static", "seal.js"))
	must(t, err)
	if !bytes.Equal(got, want) {
		t.Fatal("static/seal.js is not the bundle of sealjs: run web/sealjs/build.sh")
	}
}
