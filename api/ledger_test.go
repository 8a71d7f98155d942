package api_test

import (
	"archive/zip"
	"bytes"
	"encoding/csv"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/remedy-cases/remedy/api"
	cases "github.com/remedy-cases/remedy/case"
	"github.com/remedy-cases/remedy/storage"
)

// TestLedgerThroughAPI records and reverses payments, reads the case's and
// the brand's ledger as staff and as the brand, and exports it; no identity
// reaches the brand's answers or files.
func TestLedgerThroughAPI(t *testing.T) {
	e := newTestEnv(t, storage.SQLite)
	c := e.caseIn("own", cases.StateFollowUp) // brand pays 800 a month from October 2026
	const canary = "CANARY-LEDGER-王小红"
	must(t, func() error {
		_, err := e.cases.CorrectIdentity(ctx, e.fixture.Supervisor.Actor(), c.ID, c.Version, cases.Identity{FullName: canary})
		return err
	}())
	path := "/v1/cases/" + c.ID.String()
	worker := e.tokens["caseworker"]
	pay := func(body map[string]any) response {
		t.Helper()
		base := map[string]any{"payer": "brand", "amount": 80000, "currency": "CNY", "paid_on": "2026-11-02",
			"month": "2026-10", "method": "wechat_pay", "proof_ref": "WX-2026-10"}
		for k, v := range body {
			base[k] = v
		}
		return e.do("POST", path+"/payments", worker, base)
	}
	res := pay(nil)
	if res.status != http.StatusCreated {
		t.Fatalf("pay: %d %s", res.status, res.body)
	}
	var first api.Payment
	res.decode(t, &first)
	for name, tt := range map[string]struct {
		body   map[string]any
		status int
		field  string
	}{
		"the same proof reference": {nil, http.StatusConflict, "proof_ref"},
		"another currency":         {map[string]any{"currency": "USD", "proof_ref": "X1"}, http.StatusUnprocessableEntity, "currency"},
		"before enrolment":         {map[string]any{"month": "2026-08", "proof_ref": "X2"}, http.StatusUnprocessableEntity, "month"},
		"too much":                 {map[string]any{"amount": 9999999, "proof_ref": "X3"}, http.StatusUnprocessableEntity, "amount"},
		"nothing":                  {map[string]any{"amount": 0, "proof_ref": "X4"}, http.StatusBadRequest, "amount"},
	} {
		before := e.verifiedCount(t)
		res := pay(tt.body)
		if res.status != tt.status || !strings.Contains(string(res.body), `"name":"`+tt.field+`"`) {
			t.Errorf("%s: %d %s", name, res.status, res.body)
		}
		if e.verifiedCount(t) != before {
			t.Errorf("%s was audited: it changed something", name)
		}
	}
	res = e.do("POST", path+"/payments/"+first.Id.String()+"/reversal", worker, nil)
	if res.status != http.StatusCreated {
		t.Fatalf("reversal: %d %s", res.status, res.body)
	}
	if res := e.do("POST", path+"/payments/"+first.Id.String()+"/reversal", worker, nil); res.status != http.StatusConflict {
		t.Fatalf("a second reversal: %d", res.status)
	}
	res = pay(map[string]any{"proof_ref": "WX-2026-10b"})
	if res.status != http.StatusCreated {
		t.Fatalf("paying again: %d %s", res.status, res.body)
	}
	var again api.Payment
	res.decode(t, &again)
	// Its transfer slip, attached as the payment's proof: both views count
	// it, neither names it.
	slip := uploadBody(t, [][2]string{{"kind", "receipt"}, {"step", "payment"}, {"payment_id", again.Id.String()}}, canary+".jpg", smallJPEG(t))
	if res := e.do("POST", path+"/documents", worker, slip); res.status != http.StatusCreated {
		t.Fatalf("a payment's receipt: %d %s", res.status, res.body)
	}

	var staff, brand api.CaseLedger
	e.do("GET", path+"/ledger", worker, nil).decode(t, &staff)
	brandRes := e.do("GET", path+"/ledger", e.tokens["client"], nil)
	brandRes.decode(t, &brand)
	if len(staff.Payments) != 3 || staff.Payments[0].ProofRef == nil || staff.Payments[0].ReversedBy == nil {
		t.Fatalf("staff payments %+v", staff.Payments)
	}
	if len(brand.Payments) != 3 || brand.Payments[0].ProofRef != nil || brand.Payments[0].RecordedBy != nil {
		t.Fatalf("the brand sees proof references or who recorded: %s", brandRes.body)
	}
	for _, ps := range [][]api.Payment{staff.Payments, brand.Payments} {
		for _, p := range ps {
			if want := p.Id == again.Id; (p.ProofDocuments != nil && *p.ProofDocuments == 1) != want {
				t.Errorf("payment %s has proof documents %v", p.Id, p.ProofDocuments)
			}
		}
	}
	if strings.Contains(string(brandRes.body), canary) {
		t.Fatalf("the brand's ledger names the receipt: %s", brandRes.body)
	}
	var oct api.LedgerLine
	for _, l := range staff.Lines {
		if l.Month == "2026-10" {
			oct = l
		}
	}
	if oct.Due != 80000 || oct.Paid != 80000 || oct.Balance != 0 {
		t.Fatalf("October: %+v", oct)
	}
	if res := e.do("GET", "/v1/cases/"+c.ID.String()+"/ledger", e.tokens["other_client"], nil); res.status != http.StatusNotFound {
		t.Fatalf("another brand reads the ledger: %d", res.status)
	}

	q := "?from=2026-09&to=2026-12"
	var bl api.BrandLedger
	blRes := e.do("GET", "/v1/ledger"+q, e.tokens["client"], nil)
	blRes.decode(t, &bl)
	if blRes.status != http.StatusOK || bl.ClientId != e.fixture.Client.ID || len(bl.Months) != 4 || bl.Months[1].Lines[0].Paid != 80000 {
		t.Fatalf("brand ledger: %d %s", blRes.status, blRes.body)
	}
	if res := e.do("GET", "/v1/ledger"+q+"&client_id="+e.fixture.OtherClient.ID.String(), e.tokens["client"], nil); res.status != http.StatusNotFound {
		t.Fatalf("a brand named another brand: %d", res.status)
	}
	if res := e.do("GET", "/v1/ledger"+q, e.tokens["supervisor"], nil); res.status != http.StatusUnprocessableEntity {
		t.Fatalf("staff without a brand: %d %s", res.status, res.body)
	}

	csvRes := e.do("GET", "/v1/ledger/export"+q+"&format=csv", e.tokens["client"], nil)
	if csvRes.status != http.StatusOK || !strings.HasPrefix(csvRes.header.Get("Content-Disposition"), "attachment;") {
		t.Fatalf("csv: %d %v", csvRes.status, csvRes.header)
	}
	rows, err := csv.NewReader(bytes.NewReader(csvRes.body)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if rows[0][0] != "case_code" || rows[1][0] != c.Code || rows[len(rows)-1][0] != "TOTAL" {
		t.Fatalf("csv rows %v", rows)
	}
	xlsxRes := e.do("GET", "/v1/ledger/export"+q+"&format=xlsx", e.tokens["client"], nil)
	wb, err := excelize.OpenReader(bytes.NewReader(xlsxRes.body))
	if err != nil {
		t.Fatalf("xlsx: %v", err)
	}
	sheet, err := wb.GetRows("Ledger")
	if err != nil {
		t.Fatal(err)
	}
	if sheet[3][0] != "case_code" || sheet[4][0] != c.Code || sheet[len(sheet)-1][0] != "TOTAL" {
		t.Fatalf("xlsx rows %v", sheet)
	}
	// No identity in anything the brand got: the JSON, the CSV, every part
	// of the workbook.
	haystacks := map[string][]byte{"case ledger": brandRes.body, "brand ledger": blRes.body, "csv": csvRes.body}
	zr, err := zip.NewReader(bytes.NewReader(xlsxRes.body), int64(len(xlsxRes.body)))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		data, _ := io.ReadAll(rc)
		rc.Close()
		haystacks["xlsx "+f.Name] = data
	}
	if !bytes.Contains(haystacks["xlsx xl/sharedStrings.xml"], []byte(c.Code)) {
		t.Fatal("the workbook search does not see the case code: it would not see a canary either")
	}
	for name, data := range haystacks {
		if bytes.Contains(data, []byte("CANARY")) {
			t.Errorf("the canary reached the brand's %s", name)
		}
	}
	entries, err := storage.NewAuditService(e.db).ListEntries(ctx, cases.AuditFilter{Action: cases.ActionLedgerExported})
	must(t, err)
	if len(entries.Entries) != 2 {
		t.Fatalf("%d exports audited, want 2", len(entries.Entries))
	}
}
