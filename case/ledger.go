package cases

import (
	"context"
	"sort"
	"time"

	"github.com/google/uuid"
)

// The stipend ledger (DOMAIN.md, "Stipends"). What a case owes follows from
// its approved plans; what was paid is a record of its own; the difference,
// per month and per payer, is the balance. Everything here is pure: the
// plans, closures, alerts and payments come in, nothing reads the clock.

// PaymentMethods lists how a payment may be made.
var PaymentMethods = []string{"bank_transfer", "wechat_pay", "alipay", "cash", "cheque", "other"}

// LedgerPayers are the two parties that pay: a split plan apportions each
// amount between them.
var LedgerPayers = []Payer{PayerFactory, PayerBrand}

// Payment is one entry of a case's ledger: a payment by one payer for one
// month, or the reversal of one. A correction is a reversing entry, never an
// edit or a delete.
type Payment struct {
	ID         uuid.UUID
	CaseID     uuid.UUID
	Payer      Payer // factory or brand
	Amount     Money // negative for a reversal
	PaidOn     time.Time
	Month      Month // the month the payment covers
	Method     string
	ProofRef   string // unique per payer; empty for a reversal
	ReversalOf uuid.NullUUID
	ReversedBy uuid.NullUUID // set when a later entry reversed this one
	FollowUpID uuid.NullUUID // the follow-up that recorded it, if one did
	// ProofDocuments counts the documents (receipts, transfer slips)
	// attached to it; they stay sealed, only the count is known.
	ProofDocuments int
	RecordedBy     uuid.UUID
	CreatedAt      time.Time
}

// PaymentInput is what a case worker records.
type PaymentInput struct {
	Payer    Payer
	Amount   int64 // minor units, in the plan's currency
	Currency string
	PaidOn   time.Time
	Month    Month
	Method   string
	ProofRef string
}

// Normalize normalises the text fields.
func (p *PaymentInput) Normalize() {
	p.Currency, p.Method, p.ProofRef = NormalizeText(p.Currency), NormalizeText(p.Method), NormalizeText(p.ProofRef)
	p.PaidOn = Date(p.PaidOn)
}

// Validate names every field that is wrong on its own; what depends on the
// plan (currency, month, amount) is checked against it by CheckAgainst.
func (p *PaymentInput) Validate(today time.Time) error {
	var v Validation
	v.Check(p.Payer == PayerFactory || p.Payer == PayerBrand, "payer", "payer must be factory or brand")
	v.Check(p.Amount > 0 && p.Amount < 1e10, "amount", "amount must be more than zero (a correction is a reversal), below 10^10 minor units")
	v.Check(ValidCurrency(p.Currency), "currency", "currency must be an ISO 4217 code such as CNY")
	v.Check(!p.PaidOn.IsZero() && !p.PaidOn.After(today) && p.PaidOn.Year() >= 2000, "paid_on", "paid_on must be a date no later than today")
	v.Check(p.Month.Year >= 2000 && p.Month.Month >= time.January && p.Month.Month <= time.December, "month", "month must be written as YYYY-MM")
	v.Check(oneOf(p.Method, PaymentMethods), "method", "method must be one of bank_transfer, wechat_pay, alipay, cash, cheque, other")
	v.Check(p.ProofRef != "" && ValidText(p.ProofRef, 100), "proof_ref", "proof_ref is required, at most 100 characters")
	return v.Err("The payment is not valid.")
}

// PlanVersion is an approved plan as it stood when approved: a revision that
// is approved later governs from its approval month on, never the past.
type PlanVersion struct {
	ApprovedAt      time.Time
	EnrolmentDate   time.Time
	EndDate         time.Time
	Currency        string
	MonthlyStipend  int64
	TuitionCost     int64
	TravelCost      int64
	Payer           Payer
	FactorySharePct int
}

// Split apportions amount between the factory and the brand as payer says:
// all to one of them, or, for a split, the factory's share rounded half up
// to the minor unit and the rest to the brand, so that the two always add
// up to amount.
func Split(amount int64, payer Payer, factoryPct int) (factory, brand int64) {
	switch payer {
	case PayerFactory:
		return amount, 0
	case PayerBrand:
		return 0, amount
	}
	factory = (amount*int64(factoryPct)*2 + 100) / 200
	return factory, amount - factory
}

// Suspension is a stretch during which a child found working again owed no
// stipend, until a supervisor's decision (To nil while undecided).
type Suspension struct {
	From time.Time  // the date of the follow-up that raised the alert
	To   *time.Time // the date of the decision
}

// LedgerInput is everything a case's ledger follows from.
type LedgerInput struct {
	Versions    []PlanVersion // approved plans, oldest first
	Transitions []*Transition // closures and reopenings
	Suspensions []Suspension
	Payments    []*Payment
}

// LedgerLine is one month of one payer: what was due and what was paid.
type LedgerLine struct {
	Month    Month
	Payer    Payer
	Currency string
	Due      int64
	Paid     int64
	// DueOn is the day the month's stipend fell due (zero for a month
	// paid but not owed): late GraceDays after it.
	DueOn time.Time
}

// Balance is what is still owed (negative: paid in advance or overpaid).
func (l LedgerLine) Balance() int64 { return l.Due - l.Paid }

// PayerTotals sum one payer's lines up to a month.
type PayerTotals struct {
	Payer    Payer
	Currency string
	Due      int64
	Paid     int64
	// Arrears is what is unpaid of the months that are late (due on their
	// first day, late after the grace days).
	Arrears int64
	// Credit is what was paid beyond what was due, month by month.
	Credit int64
}

// Balance is due minus paid.
func (t PayerTotals) Balance() int64 { return t.Due - t.Paid }

// CaseLedger is a case's reconciliation as of a day.
type CaseLedger struct {
	Currency string
	// Lines are every month owed or paid, each payer owed or paid in it,
	// by month then payer; future months owed are included.
	Lines  []LedgerLine
	Totals []PayerTotals // to the month of asOf, by payer
	// UnpaidFrom is the first owed month with a balance, past or future;
	// nil when nothing more is owed. UnpaidDueOn is the day it fell due.
	UnpaidFrom  *Month
	UnpaidDueOn *time.Time
	// ArrearsSince is UnpaidFrom when that month is late as of the day.
	ArrearsSince *Month
}

// DefaultGraceDays is how long after a month's first day its stipend may stay
// unpaid before the case is in arrears (REMEDY_ARREARS_DAYS).
const DefaultGraceDays = 10

// DueOn is the day a month's stipend falls due: the month's first day, or
// the day the first plan was approved if that came later (a month owed
// before the approval cannot be late before it).
func DueOn(m Month, firstApproval time.Time, zone *time.Location) time.Time {
	approved := Today(firstApproval, zone)
	if approved.After(m.Start()) {
		return approved
	}
	return m.Start()
}

// Late reports whether a stipend due on dueOn is late on today: more than
// graceDays have passed.
func Late(dueOn, today time.Time, graceDays int) bool {
	return Date(dueOn).AddDate(0, 0, graceDays).Before(Date(today))
}

// Owed returns the months the plans make owed, with each month's plan
// version: a version governs from its start (the first one from its
// enrolment month, a revision from its approval month) to its end date or
// the next version's start. Months the case spent closed (after the month
// it closed, before the month it reopened) and months a child working
// again spent suspended (from the alert's month to the month before the
// decision) are not owed. zone gives the month of an approval or closure.
func Owed(in LedgerInput, zone *time.Location) map[Month]*PlanVersion {
	out := map[Month]*PlanVersion{}
	versions := in.Versions
	for i := range versions {
		v := &versions[i]
		start := MonthOf(v.ApprovedAt.In(zone))
		if i == 0 {
			start = MonthOf(v.EnrolmentDate)
		}
		last := MonthOf(v.EndDate)
		if i+1 < len(versions) {
			if next := MonthOf(versions[i+1].ApprovedAt.In(zone)).Add(-1); next.Before(last) {
				last = next
			}
		}
		for m := start; !last.Before(m); m = m.Add(1) {
			out[m] = v
		}
	}
	// Closed stretches.
	trs := append([]*Transition(nil), in.Transitions...)
	sort.SliceStable(trs, func(i, j int) bool { return trs[i].At.Before(trs[j].At) })
	var closed *Month
	drop := func(from, to Month) { // [from, to)
		for m := range out {
			if !m.Before(from) && m.Before(to) {
				delete(out, m)
			}
		}
	}
	far := Month{Year: 9999, Month: time.December}
	for _, t := range trs {
		switch {
		case t.To == StateClosed:
			m := MonthOf(t.At.In(zone)).Add(1)
			closed = &m
		case t.From == StateClosed && closed != nil:
			drop(*closed, MonthOf(t.At.In(zone)))
			closed = nil
		}
	}
	if closed != nil {
		drop(*closed, far)
	}
	for _, s := range in.Suspensions {
		to := far
		if s.To != nil {
			to = MonthOf(*s.To)
		}
		drop(MonthOf(s.From), to)
	}
	return out
}

// BuildLedger reconciles a case as of today: due per month and payer from
// its plans, paid from its payments, totals to today's month, the first
// month unpaid and whether it is late. The one-off costs of the first plan
// are due once, in its first month.
func BuildLedger(in LedgerInput, today time.Time, zone *time.Location, graceDays int) CaseLedger {
	owed := Owed(in, zone)
	type key struct {
		m Month
		p Payer
	}
	lines := map[key]*LedgerLine{}
	line := func(m Month, p Payer, currency string) *LedgerLine {
		k := key{m, p}
		if lines[k] == nil {
			lines[k] = &LedgerLine{Month: m, Payer: p, Currency: currency}
		}
		return lines[k]
	}
	var out CaseLedger
	if len(in.Versions) > 0 {
		out.Currency = in.Versions[0].Currency
	}
	var first *Month
	for m, v := range owed {
		f, b := Split(v.MonthlyStipend, v.Payer, v.FactorySharePct)
		if f > 0 {
			line(m, PayerFactory, v.Currency).Due += f
		}
		if b > 0 {
			line(m, PayerBrand, v.Currency).Due += b
		}
		if first == nil || m.Before(*first) {
			mm := m
			first = &mm
		}
	}
	if first != nil && len(in.Versions) > 0 {
		v := in.Versions[0]
		if once := v.TuitionCost + v.TravelCost; once > 0 {
			// The one-off costs fall in the first month owed.
			f, b := Split(once, v.Payer, v.FactorySharePct)
			if f > 0 {
				line(*first, PayerFactory, v.Currency).Due += f
			}
			if b > 0 {
				line(*first, PayerBrand, v.Currency).Due += b
			}
		}
	}
	for _, p := range in.Payments {
		line(p.Month, p.Payer, p.Amount.Currency).Paid += p.Amount.Amount
	}
	for _, l := range lines {
		if owed[l.Month] != nil && len(in.Versions) > 0 {
			l.DueOn = DueOn(l.Month, in.Versions[0].ApprovedAt, zone)
		}
		out.Lines = append(out.Lines, *l)
	}
	sort.Slice(out.Lines, func(i, j int) bool {
		a, b := out.Lines[i], out.Lines[j]
		if a.Month != b.Month {
			return a.Month.Before(b.Month)
		}
		return a.Payer < b.Payer
	})
	current := MonthOf(today.In(zone))
	totals := map[Payer]*PayerTotals{}
	for _, l := range out.Lines {
		if l.Balance() > 0 && owed[l.Month] != nil && (out.UnpaidFrom == nil || l.Month.Before(*out.UnpaidFrom)) {
			m := l.Month
			out.UnpaidFrom = &m
		}
		if current.Before(l.Month) {
			continue
		}
		t := totals[l.Payer]
		if t == nil {
			t = &PayerTotals{Payer: l.Payer, Currency: l.Currency}
			totals[l.Payer] = t
		}
		t.Due += l.Due
		t.Paid += l.Paid
		switch b := l.Balance(); {
		case b > 0 && !l.DueOn.IsZero() && Late(l.DueOn, Today(today, zone), graceDays):
			t.Arrears += b
		case b < 0:
			t.Credit -= b
		}
	}
	for _, p := range LedgerPayers {
		if t := totals[p]; t != nil {
			out.Totals = append(out.Totals, *t)
		}
	}
	if out.UnpaidFrom != nil {
		due := DueOn(*out.UnpaidFrom, in.Versions[0].ApprovedAt, zone)
		out.UnpaidDueOn = &due
		if Late(due, Today(today, zone), graceDays) {
			m := *out.UnpaidFrom
			out.ArrearsSince = &m
		}
	}
	return out
}

// BrandLedger is a brand's reconciliation over a range of months.
type BrandLedger struct {
	From, To Month
	Months   []BrandMonth // every month of the range, oldest first
	// Totals are every month of the brand's cases up to the current one, by
	// payer and currency, with what is in arrears and in credit.
	Totals    []PayerTotals
	InArrears []CaseArrears   // the brand's cases in arrears, by case code
	Cases     []CaseLedgerRow // each case's lines in the range, with LedgerFilter.WithLines; by case code
}

// CaseArrears names a case in arrears and its first late unpaid month's due day.
type CaseArrears struct {
	CaseID      uuid.UUID
	Code        string
	UnpaidDueOn time.Time
}

// BrandMonth is one month of a brand: due and paid per payer.
type BrandMonth struct {
	Month Month
	Lines []LedgerLine // one per payer and currency with anything due or paid
}

// CaseLedgerRow is one case's lines within a brand ledger's range.
type CaseLedgerRow struct {
	CaseID uuid.UUID
	Code   string
	Lines  []LedgerLine
}

// LedgerFilter selects a brand's ledger.
type LedgerFilter struct {
	ClientID uuid.UUID
	From, To Month // inclusive
	// WithLines adds each case's lines within the range (an export needs
	// them; a summary does not).
	WithLines bool
}

// MaxLedgerMonths bounds a ledger's range.
const MaxLedgerMonths = 120

// Validate names what is wrong with the range.
func (f LedgerFilter) Validate() error {
	var v Validation
	v.Check(!f.To.Before(f.From), "to", "to must not be before from")
	v.Check(!f.From.Add(MaxLedgerMonths).Before(f.To), "to", "a ledger covers at most %d months", MaxLedgerMonths)
	return v.Err("The ledger's range is not valid.")
}

// LedgerService keeps the stipend ledger.
type LedgerService interface {
	// RecordPayment adds a payment to a case with an approved plan, and
	// audits it. Returns ENOTFOUND, EFORBIDDEN (only the case's worker and
	// supervisors record payments), EINVALID naming a bad field (a currency
	// other than the plan's, a month outside the plan, an amount larger than
	// all the payer owes), ECONFLICT if the payer used the proof reference
	// before.
	RecordPayment(ctx context.Context, actor Actor, caseID uuid.UUID, in PaymentInput) (*Payment, error)
	// ReversePayment records the reversing entry of a payment. Returns
	// ENOTFOUND if the payment does not exist on the case, ECONFLICT if it
	// was reversed already or is itself a reversal, EFORBIDDEN.
	ReversePayment(ctx context.Context, actor Actor, caseID, paymentID uuid.UUID) (*Payment, error)
	// CaseLedger reconciles a case as of now, with its payments. Returns
	// ENOTFOUND.
	CaseLedger(ctx context.Context, caseID uuid.UUID) (*CaseLedger, []*Payment, error)
	// BrandLedger reconciles a brand's cases over a range of months.
	// Returns EINVALID for a bad range.
	BrandLedger(ctx context.Context, f LedgerFilter) (*BrandLedger, error)
}
