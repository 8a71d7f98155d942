package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	cases "github.com/remedy-cases/remedy/case"
	"github.com/remedy-cases/remedy/storage"
)

// fieldError returns the text of a form field's error element.
func fieldError(page, form, field string) string {
	marker := `id="f-` + form + `-` + field + `-error">`
	i := strings.Index(page, marker)
	if i < 0 {
		return ""
	}
	rest := page[i+len(marker):]
	return rest[:strings.Index(rest, "</p>")]
}

// TestLedger: the case page shows the stipend ledger (due and paid per
// month and payer, arrears, each payment with its count of receipts); the
// case's worker records a payment and reverses one, bad input is refused
// beside its field in the user's language, and the domain audits both.
func TestLedger(t *testing.T) {
	e := newEnv(t, storage.SQLite)
	ledger := storage.NewLedgerService(e.db)
	c := e.caseIn(cases.StateFollowUp, e.f.Report(e.now.AddDate(0, -1, 0)))
	path := "/cases/" + c.ID.String()
	b := e.signIn(e.f.Worker, "zh-CN")

	page := b.get(path).text()
	for _, want := range []string{"生活补助台账", "2026年10月", "2026年11月", "¥800.00", `action="` + path + `/payments"`,
		`name="month" type="month" required value="2026-11"`, `value="CNY"`, "微信支付"} {
		if !strings.Contains(page, want) {
			t.Errorf("the ledger lacks %q", want)
		}
	}
	good := func() url.Values {
		return url.Values{"payer": {"brand"}, "month": {"2026-10"}, "amount": {"800"}, "currency": {"CNY"},
			"paid_on": {"2026-11-02"}, "method": {"wechat_pay"}, "proof_ref": {"WX-0001"}}
	}
	paid := func() int64 {
		t.Helper()
		l, _, err := ledger.CaseLedger(ctx, c.ID)
		must(t, err)
		var sum int64
		for _, line := range l.Lines {
			sum += line.Paid
		}
		return sum
	}

	t.Run("ErrInvalid", func(t *testing.T) {
		bad := good()
		bad.Set("amount", "八百")
		bad.Set("month", "")
		bad.Set("method", "")
		res := b.post(path+"/payments", bad)
		if res.status != http.StatusUnprocessableEntity {
			t.Fatalf("%d", res.status)
		}
		for field, want := range map[string]string{"amount": "请输入金额，例如 800 或 800.50。",
			"month": "请选择计划入学月份至结束月份之间的月份。", "method": "请选择支付方式。"} {
			if got := fieldError(res.text(), "payment", field); got != want {
				t.Errorf("%s: %q, want %q", field, got, want)
			}
		}
		// The domain's own refusal, against the plan: its currency.
		bad = good()
		bad.Set("currency", "USD")
		res = b.post(path+"/payments", bad, "HX-Request", "true")
		if res.status != http.StatusUnprocessableEntity || fieldError(res.text(), "payment", "currency") != "请使用计划中的币种。" {
			t.Fatalf("another currency: %d %q", res.status, fieldError(res.text(), "payment", "currency"))
		}
		if !strings.Contains(res.text(), `value="USD"`) {
			t.Error("the form lost what was typed")
		}
		if got := paid(); got != 0 {
			t.Fatalf("a refused payment was recorded: %d", got)
		}
	})
	t.Run("OK", func(t *testing.T) {
		b.get(path)
		res := b.post(path+"/payments", good())
		if res.status != http.StatusSeeOther || res.header.Get("Location") != path+"?done=payment" {
			t.Fatalf("record: %d %s", res.status, res.header.Get("Location"))
		}
		if got := paid(); got != 80000 {
			t.Fatalf("paid %d, want 80000", got)
		}
		page := b.get(path + "?done=payment").text()
		for _, want := range []string{"付款已记录。", "WX-0001", "凭证文件：0 份", "冲正此笔付款"} {
			if !strings.Contains(page, want) {
				t.Errorf("the page lacks %q", want)
			}
		}
		// The same payer cannot use a proof reference twice.
		again := good()
		again.Set("month", "2026-11")
		res = b.post(path+"/payments", again)
		if res.status != http.StatusUnprocessableEntity || fieldError(res.text(), "payment", "proof_ref") != "请输入凭证编号；同一支付方不可重复使用。" {
			t.Fatalf("a proof reference twice: %d %q", res.status, fieldError(res.text(), "payment", "proof_ref"))
		}
	})
	_, payments, err := ledger.CaseLedger(ctx, c.ID)
	must(t, err)
	if len(payments) != 1 {
		t.Fatalf("%d payments", len(payments))
	}
	p := payments[0]
	t.Run("receipt", func(t *testing.T) {
		b.get(path)
		res := b.postFile(path+"/documents", [][2]string{{"csrf", b.csrf}, {"step", "payment"}, {"kind", "receipt"},
			{"payment_id", p.ID.String()}}, "CANARYNAME-receipt.jpg", gpsPhoto(t))
		if res.status != http.StatusSeeOther {
			t.Fatalf("receipt: %d", res.status)
		}
		page := b.get(path).text()
		if !strings.Contains(page, "凭证文件：1 份") || strings.Contains(page, "CANARYNAME") {
			t.Error("the receipt is not counted, or its name shows")
		}
	})
	t.Run("reversal", func(t *testing.T) {
		b.get(path)
		res := b.post(path+"/payments/"+p.ID.String()+"/reversal", nil)
		if res.status != http.StatusSeeOther || res.header.Get("Location") != path+"?done=reversal" {
			t.Fatalf("reverse: %d", res.status)
		}
		if got := paid(); got != 0 {
			t.Fatalf("paid %d after the reversal, want 0", got)
		}
		page := b.get(path).text()
		if !strings.Contains(page, "已冲正") || !strings.Contains(page, "-¥800.00") {
			t.Error("the page does not show the reversal")
		}
		res = b.post(path+"/payments/"+p.ID.String()+"/reversal", nil)
		if res.status != http.StatusConflict || !strings.Contains(res.text(), "此笔付款已被冲正") {
			t.Fatalf("a second reversal: %d", res.status)
		}
	})
	t.Run("ErrNotAllowed", func(t *testing.T) {
		for _, u := range []*cases.User{e.f.OtherWorker, e.f.Auditor} {
			o := e.signIn(u, "en")
			if res := o.post(path+"/payments", good()); res.status != http.StatusNotFound {
				t.Errorf("%s records a payment: %d", u.Role, res.status)
			}
			if res := o.post(path+"/payments/"+p.ID.String()+"/reversal", nil); res.status != http.StatusNotFound {
				t.Errorf("%s reverses a payment: %d", u.Role, res.status)
			}
		}
		// A case in planning owes nothing: no ledger, and the domain says why.
		planning := e.caseIn(cases.StatePlanning, e.f.Report(e.now.AddDate(0, -1, 0)))
		if strings.Contains(b.get("/cases/"+planning.ID.String()).text(), "生活补助台账") {
			t.Error("a ledger before any approved plan")
		}
		res := b.post("/cases/"+planning.ID.String()+"/payments", good())
		if res.status != http.StatusUnprocessableEntity || !strings.Contains(res.text(), "此个案尚无已批准的复学计划") {
			t.Errorf("a payment before the plan: %d", res.status)
		}
	})
	t.Run("audited", func(t *testing.T) {
		entries, err := storage.NewAuditService(e.db).CaseEntries(ctx, c.ID)
		must(t, err)
		seen := map[string]int{}
		for _, en := range entries {
			seen[en.Action]++
		}
		if seen[cases.ActionPaymentRecorded] != 1 || seen[cases.ActionPaymentReversed] != 1 {
			t.Errorf("audit: %v", seen)
		}
	})
}
