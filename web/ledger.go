package web

import (
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/google/uuid"

	cases "github.com/remedy-cases/remedy/case"
	"github.com/remedy-cases/remedy/workflow"
)

// The stipend ledger of a case page: what each payer owed and paid each
// month, the arrears, and every payment with its proof (the count of its
// sealed receipts, never their names). The case's worker and supervisors
// record a payment and reverse one; the domain checks and audits both.

// paymentFields are the fields of the payment form that can carry an error.
var paymentFields = []string{"payer", "amount", "currency", "paid_on", "month", "method", "proof_ref"}

// ledgerView is the ledger section of a case page.
type ledgerView struct {
	Ledger *cases.CaseLedger
	// Lines are the months up to the current one, newest first.
	Lines []ledgerLine
	// Future counts the months owed after the current one.
	Future   int
	Payments []*paymentView
	// CanRecord: the user may record and reverse payments on this case.
	CanRecord bool
	Methods   []string
	Payers    []cases.Payer
}

type ledgerLine struct {
	cases.LedgerLine
	Unpaid bool // a past or current month with a balance
}

// paymentView is one entry of the ledger as staff see it.
type paymentView struct {
	*cases.Payment
	RecordedBy string
	// Reversal is an entry that reverses another; Reversed one that a
	// later entry reversed.
	Reversal, Reversed bool
}

// ledger reads the case's ledger, or nil when the case has no approved
// plan yet (nothing is owed) or the web app has no ledger service.
func (q *request) ledger(c *cases.Case, names map[uuid.UUID]string) (*ledgerView, error) {
	if q.h.Ledger == nil || c.FirstPlanApprovedAt == nil {
		return nil, nil
	}
	l, payments, err := q.h.Ledger.CaseLedger(q.r.Context(), c.ID)
	if err != nil {
		return nil, err
	}
	v := &ledgerView{Ledger: l, CanRecord: workflow.CanWork(c, q.actor) == nil && c.ErasedAt == nil,
		Methods: cases.PaymentMethods, Payers: cases.LedgerPayers}
	current := cases.MonthOf(q.h.Now().In(q.h.Zone))
	for _, line := range l.Lines {
		if current.Before(line.Month) {
			v.Future++
			continue
		}
		v.Lines = append(v.Lines, ledgerLine{LedgerLine: line, Unpaid: line.Balance() > 0})
	}
	sort.SliceStable(v.Lines, func(i, j int) bool { return v.Lines[j].Month.Before(v.Lines[i].Month) })
	for _, p := range payments {
		v.Payments = append(v.Payments, &paymentView{Payment: p, RecordedBy: names[p.RecordedBy],
			Reversal: p.ReversalOf.Valid, Reversed: p.ReversedBy.Valid})
	}
	sort.SliceStable(v.Payments, func(i, j int) bool { return v.Payments[i].CreatedAt.After(v.Payments[j].CreatedAt) })
	return v, nil
}

// Month reads a yyyy-mm month, as <input type="month"> sends it.
func (r *reader) Month(name string) cases.Month {
	s := r.Str(name)
	if s == "" {
		return cases.Month{}
	}
	m, err := cases.ParseMonth(s)
	if err != nil {
		r.bad(name, "parse.month")
	}
	return m
}

// payment records a payment from the ledger's form.
func (h *Handler) payment(q *request) error {
	if h.Ledger == nil {
		return cases.Errorf(cases.ENOTFOUND, "No such page.")
	}
	c, err := q.caseFor(q.r.PathValue("id"))
	if err != nil {
		return err
	}
	f := newForm("payment", paymentFields...)
	f.FailPrefix = "fail.payment."
	r := q.reader(f)
	in := cases.PaymentInput{Payer: cases.Payer(r.Str("payer")), Amount: r.Money("amount"), Currency: r.Str("currency"),
		PaidOn: r.Date("paid_on"), Month: r.Month("month"), Method: r.Str("method"), ProofRef: r.Str("proof_ref")}
	in.Normalize()
	// The pure check first, so that every field's error shows at once.
	if verr := in.Validate(cases.Today(h.Now(), h.Zone)); verr != nil || f.Failed() {
		f.addFailures(q.loc, cases.ErrorFailures(verr))
		return q.refused(c, f, http.StatusUnprocessableEntity, q.loc.T("form.fix"))
	}
	_, err = h.Ledger.RecordPayment(q.r.Context(), q.actor, c.ID, in)
	switch cases.ErrorCode(err) {
	case "":
		return q.afterEdit(c.ID, "payment")
	case cases.EINVALID, cases.ECONFLICT:
		// The plan's currency and months, what the payer owes, a proof
		// reference used before: each beside its field.
		f.addFailures(q.loc, cases.ErrorFailures(err))
		if !f.Failed() {
			f.Summary = append(f.Summary, q.loc.T("fail.unknown"))
		}
		// What no field explains (no approved plan) is the notice itself:
		// the form may not be on the page.
		notice := q.loc.T("form.fix")
		if len(f.Summary) > 0 {
			notice = strings.Join(f.Summary, " ")
		}
		return q.refused(c, f, http.StatusUnprocessableEntity, notice)
	}
	return err
}

// reversePayment records the reversing entry of a payment: a correction is
// never an edit.
func (h *Handler) reversePayment(q *request) error {
	if h.Ledger == nil {
		return cases.Errorf(cases.ENOTFOUND, "No such page.")
	}
	c, err := q.caseFor(q.r.PathValue("id"))
	if err != nil {
		return err
	}
	pid, err := uuid.Parse(q.r.PathValue("payment"))
	if err != nil {
		return cases.Errorf(cases.ENOTFOUND, "Payment not found.")
	}
	_, err = h.Ledger.ReversePayment(q.r.Context(), q.actor, c.ID, pid)
	switch cases.ErrorCode(err) {
	case "":
		return q.afterEdit(c.ID, "reversal")
	case cases.ECONFLICT:
		return q.refused(c, newForm("reverse"), http.StatusConflict, q.loc.T("conflict.reversed"))
	}
	return err
}

// refused shows the case as it is now, with form f as the user sent it
// and a translated notice: the answer to a form the domain or the parser
// refused.
func (q *request) refused(c *cases.Case, f *formState, status int, notice string) error {
	fresh, err := q.caseFor(c.ID.String())
	if err != nil {
		return err
	}
	v, err := q.caseView(fresh)
	if err != nil {
		return err
	}
	v.Forms[f.Name] = f
	q.defaultForms(fresh, v)
	v.Notice, v.NoticeKind = notice, "error"
	if q.htmx {
		q.w.Header().Set("HX-Retarget", "#main")
		q.w.Header().Set("HX-Reswap", "outerHTML")
		return q.render(status, "case", "main", fresh.Code, v)
	}
	return q.render(status, "case", "", fresh.Code, v)
}

// defaultPayment fills the payment form: the plan's currency, this month,
// today.
func defaultPayment(f *formState, c *cases.Case, today time.Time) {
	if f.Failed() {
		return
	}
	if c.Plan != nil && f.V("currency") == "" {
		f.Values.Set("currency", c.Plan.Currency)
	}
	if f.V("month") == "" {
		f.Values.Set("month", cases.MonthOf(today).String())
	}
	if f.V("paid_on") == "" {
		f.Values.Set("paid_on", isoDate(today))
	}
}
