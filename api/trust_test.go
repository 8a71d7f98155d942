package api_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/remedy-cases/remedy/api"
	"github.com/remedy-cases/remedy/internal/pdftext"
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

// TestReportLanguage: an admin chooses Chinese for a client; its next
// report is in Chinese, still signed.
func TestReportLanguage(t *testing.T) {
	e := newTestEnv(t, storage.SQLite)
	id := e.fixture.Client.ID.String()
	res := e.do("PUT", "/v1/clients/"+id+"/report-language", e.tokens["admin"], map[string]any{"report_language": "zh-CN"})
	var cl api.ClientOrg
	if res.status != http.StatusOK {
		t.Fatalf("%d %s", res.status, res.body)
	}
	res.decode(t, &cl)
	if cl.ReportLanguage != "zh-CN" {
		t.Fatalf("got %+v", cl)
	}
	if bad := e.do("PUT", "/v1/clients/"+id+"/report-language", e.tokens["admin"], map[string]any{"report_language": "fr"}); bad.status != http.StatusBadRequest && bad.status != http.StatusUnprocessableEntity {
		t.Errorf("fr: %d %s", bad.status, bad.body)
	}
	gen := e.do("POST", "/v1/monthly-reports", e.tokens["supervisor"], map[string]any{"client_id": e.fixture.Client.ID, "month": "2026-10"})
	var r api.MonthlyReport
	gen.decode(t, &r)
	pdf := e.do("GET", "/v1/monthly-reports/"+r.Id.String()+"/pdf", e.tokens["admin"], nil)
	pages, err := pdftext.Pages(pdf.body)
	must(t, err)
	text := strings.Join(pages, "\n")
	if !strings.Contains(text, "童工补救月度报告") || !strings.Contains(text, "2026年10月") || strings.Contains(text, "Service promises") {
		t.Errorf("not a Chinese report:\n%s", text)
	}
	if _, err := e.verifier.VerifyReport(pdf.body); err != nil {
		t.Error(err)
	}
}

// TestAuditCheckpointsAPI: a report generated carries a checkpoint, which
// an admin can list and save to verify later; a brand may not.
func TestAuditCheckpointsAPI(t *testing.T) {
	e := newTestEnv(t, storage.SQLite)
	e.generator.Witness = storage.Witness{Audit: storage.NewAuditService(e.db), Signer: e.generator.Signer}
	if res := e.do("POST", "/v1/monthly-reports", e.tokens["supervisor"], map[string]any{"client_id": e.fixture.Client.ID, "month": "2026-10"}); res.status != http.StatusCreated {
		t.Fatalf("generate: %d %s", res.status, res.body)
	}
	res := e.do("GET", "/v1/audit/checkpoints", e.tokens["admin"], nil)
	var list api.CheckpointList
	if res.status != http.StatusOK {
		t.Fatalf("%d %s", res.status, res.body)
	}
	res.decode(t, &list)
	if len(list.Items) != 1 || list.Items[0].Size == 0 || !strings.HasPrefix(list.Items[0].Note, storage.CheckpointOrigin+"\n") {
		t.Fatalf("got %+v", list)
	}
	keys, _, err := reports.ParseKeys([]byte(e.verifier.PublishedKeys()[0]))
	must(t, err)
	if _, checked, err := storage.NewAuditService(e.db).VerifyCheckpoints(ctx, keys, [][]byte{[]byte(list.Items[0].Note)}); err != nil || checked != 1 {
		t.Errorf("the listed checkpoint: %v", err)
	}
	if res := e.do("GET", "/v1/audit/checkpoints", e.tokens["client"], nil); res.status != http.StatusForbidden {
		t.Errorf("a brand: %d", res.status)
	}
}
