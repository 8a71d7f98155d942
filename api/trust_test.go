package api_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/remedy-cases/remedy/api"
	"github.com/remedy-cases/remedy/reports"
	"github.com/remedy-cases/remedy/storage"
)

// TestSignedReports: a generated report is signed, its signature is
// downloadable beside it, the keys are public, and anyone can check an
// uploaded copy without signing in: a flipped byte fails.
func TestSignedReports(t *testing.T) {
	e := newTestEnv(t, storage.SQLite)
	res := e.do("POST", "/v1/monthly-reports", e.tokens["supervisor"], map[string]any{"client_id": e.fixture.Client.ID, "month": "2026-10"})
	if res.status != http.StatusCreated {
		t.Fatalf("generate: %d %s", res.status, res.body)
	}
	var r api.MonthlyReport
	res.decode(t, &r)
	if r.KeyId == nil || !strings.HasPrefix(*r.KeyId, "remedy-reports+") {
		t.Fatalf("the report names no signing key: %+v", r)
	}

	keys := e.do("GET", "/.well-known/remedy-report-keys", "", nil)
	if keys.status != http.StatusOK || !strings.Contains(string(keys.body), e.verifier.PublishedKeys()[0]) {
		t.Fatalf("keys: %d %s", keys.status, keys.body)
	}
	published, _, err := reports.ParseKeys(keys.body)
	must(t, err)

	pdf := e.do("GET", "/v1/monthly-reports/"+r.Id.String()+"/pdf", e.tokens["client"], nil)
	sig := e.do("GET", "/v1/monthly-reports/"+r.Id.String()+"/signature", e.tokens["client"], nil)
	if pdf.status != http.StatusOK || sig.status != http.StatusOK {
		t.Fatalf("download: %d, signature: %d", pdf.status, sig.status)
	}
	// Offline, with the published keys: the PDF alone, and the detached signature.
	st, err := reports.Verify(pdf.body, published)
	must(t, err)
	if st.ClientID != e.fixture.Client.ID || st.Month.String() != "2026-10" || st.Version != r.Version || st.KeyID != *r.KeyId {
		t.Errorf("verified as %+v", st)
	}
	rendered, embedded, err := reports.Split(pdf.body)
	must(t, err)
	if !bytes.Equal(embedded, sig.body) {
		t.Errorf("the downloadable signature differs from the one the PDF carries")
	}
	if _, err := reports.VerifyDetached(rendered, sig.body, published); err != nil {
		t.Errorf("detached: %v", err)
	}

	t.Run("OK", func(t *testing.T) {
		res := e.do("POST", "/v1/report-verifications", "", uploadBody(t, nil, "report.pdf", pdf.body))
		if res.status != http.StatusOK {
			t.Fatalf("%d %s", res.status, res.body)
		}
		var v api.ReportVerification
		res.decode(t, &v)
		if v.ClientId != e.fixture.Client.ID || v.ClientName != e.fixture.Client.Name || v.Month != "2026-10" || v.Version != r.Version || v.KeyId != *r.KeyId {
			t.Errorf("got %+v", v)
		}
	})
	t.Run("ErrFlippedByte", func(t *testing.T) {
		tampered := bytes.Clone(pdf.body)
		tampered[len(tampered)/2] ^= 0x01
		res := e.do("POST", "/v1/report-verifications", "", uploadBody(t, nil, "report.pdf", tampered))
		var p map[string]any
		must(t, json.Unmarshal(res.body, &p))
		if res.status != http.StatusUnprocessableEntity || !strings.Contains(string(res.body), "does not match its signature") {
			t.Errorf("%d %s", res.status, res.body)
		}
	})
	t.Run("ErrNoFile", func(t *testing.T) {
		res := e.do("POST", "/v1/report-verifications", "", uploadBody(t, [][2]string{{"other", "x"}}, "", nil))
		if res.status != http.StatusBadRequest {
			t.Errorf("%d %s", res.status, res.body)
		}
	})
}
