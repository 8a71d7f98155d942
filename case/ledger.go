package cases

import (
	"cmp"
	"context"
	"slices"
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
	months := owedMonths(nil, in, zone, lastMonth)
	out := make(map[Month]*PlanVersion, len(months))
	for _, o := range months {
		out[o.m] = o.v
	}
	return out
}

// lastMonth is later than any month a plan can owe: the open end of a
// closure or a suspension.
var lastMonth = Month{Year: 9999, Month: time.December}

// owedMonth is a month owed and the plan version that governs it.
type owedMonth struct {
	m Month
	v *PlanVersion
}

// owedMonths is Owed as a slice by month, for BuildLedger: a case's ledger
// is built for every case of every report, and a map a case costs more
// than the ledger itself. Owed is built from it.
// Months after through are left out. The months are appended to dst.
func owedMonths(dst []owedMonth, in LedgerInput, zone *time.Location, through Month) []owedMonth {
	versions := in.Versions
	out := dst
	sorted := true
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
		if through.Before(last) {
			last = through
		}
		if cap(out) == 0 && !last.Before(start) {
			out = make([]owedMonth, 0, (last.Year-start.Year)*12+int(last.Month-start.Month)+1)
		}
		for m := start; !last.Before(m); m = m.Add(1) {
			if n := len(out); n > 0 && !out[n-1].m.Before(m) {
				sorted = false
			}
			out = append(out, owedMonth{m, v})
		}
	}
	if !sorted {
		// As Owed's map: a later version's month replaces an earlier's.
		slices.SortStableFunc(out, func(a, b owedMonth) int { return a.m.compare(b.m) })
		kept := out[:0]
		for _, o := range out {
			if n := len(kept); n > 0 && kept[n-1].m == o.m {
				kept[n-1] = o
				continue
			}
			kept = append(kept, o)
		}
		out = kept
	}
	drop := func(from, to Month) { // [from, to)
		out = slices.DeleteFunc(out, func(o owedMonth) bool { return !o.m.Before(from) && o.m.Before(to) })
	}
	// Closed stretches.
	trs := in.Transitions
	if !slices.IsSortedFunc(trs, func(a, b *Transition) int { return a.At.Compare(b.At) }) {
		trs = append([]*Transition(nil), trs...)
		sort.SliceStable(trs, func(i, j int) bool { return trs[i].At.Before(trs[j].At) })
	}
	var closed *Month
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
		drop(*closed, lastMonth)
	}
	for _, s := range in.Suspensions {
		to := lastMonth
		if s.To != nil {
			to = MonthOf(*s.To)
		}
		drop(MonthOf(s.From), to)
	}
	return out
}

// compare orders months.
func (m Month) compare(o Month) int {
	if c := cmp.Compare(m.Year, o.Year); c != 0 {
		return c
	}
	return cmp.Compare(m.Month, o.Month)
}

// BuildLedger reconciles a case as of today: due per month and payer from
// its plans, paid from its payments, totals to today's month, the first
// month unpaid and whether it is late. The one-off costs of the first plan
// are due once, in its first month.
func BuildLedger(in LedgerInput, today time.Time, zone *time.Location, graceDays int) CaseLedger {
	return buildLedger(in, today, zone, graceDays, false, nil)
}

// BuildLedgerToDate is BuildLedger without the months after today's, for a
// report of many cases that needs none of them: its Lines end at today's
// month, and UnpaidFrom and UnpaidDueOn are nil if only a later month is
// unpaid. Totals and ArrearsSince are BuildLedger's: a month not yet begun
// is in no total and cannot be late.
func BuildLedgerToDate(in LedgerInput, today time.Time, zone *time.Location, graceDays int) CaseLedger {
	return buildLedger(in, today, zone, graceDays, true, nil)
}

// A LedgerBuffer builds ledgers one after the other in the same memory,
// for a report that reads each case's ledger before it builds the next.
// Its zero value is ready to use; it is not safe for concurrent use.
type LedgerBuffer struct {
	owed   []owedMonth
	lines  []LedgerLine
	totals []PayerTotals
}

// BuildToDate is BuildLedgerToDate, but the ledger's Lines and Totals are
// the buffer's: valid until its next build.
func (b *LedgerBuffer) BuildToDate(in LedgerInput, today time.Time, zone *time.Location, graceDays int) CaseLedger {
	return buildLedger(in, today, zone, graceDays, true, b)
}

func buildLedger(in LedgerInput, today time.Time, zone *time.Location, graceDays int, toDate bool, buf *LedgerBuffer) CaseLedger {
	if buf == nil {
		buf = &LedgerBuffer{}
	}
	current := MonthOf(today.In(zone))
	through := Month{Year: 9999, Month: time.December}
	if toDate {
		through = current
	}
	owed := owedMonths(buf.owed[:0], in, zone, through)
	buf.owed = owed
	isOwed := func(m Month) bool {
		_, ok := slices.BinarySearchFunc(owed, m, func(o owedMonth, m Month) int { return o.m.compare(m) })
		return ok
	}
	// The lines due, by month then payer, as they are made; then the
	// one-off costs and the payments, each added to its line if there is
	// one, else as a line of its own, and the lines sorted and merged. A
	// line's currency is that of its first amount.
	order := func(a, b LedgerLine) int {
		if c := a.Month.compare(b.Month); c != 0 {
			return c
		}
		return cmp.Compare(a.Payer, b.Payer)
	}
	n, shares := 0, 0
	for i, o := range owed {
		if i == 0 || o.v != owed[i-1].v {
			shares = 0
			if f, b := Split(o.v.MonthlyStipend, o.v.Payer, o.v.FactorySharePct); f > 0 && b > 0 {
				shares = 2
			} else if f > 0 || b > 0 {
				shares = 1
			}
		}
		n += shares
	}
	var out CaseLedger
	if len(in.Versions) > 0 {
		out.Currency = in.Versions[0].Currency
	}
	lines := buf.lines[:0]
	if cap(lines) < n+2 {
		lines = make([]LedgerLine, 0, max(n+2, 2*cap(lines)))
	}
	for _, o := range owed {
		f, b := Split(o.v.MonthlyStipend, o.v.Payer, o.v.FactorySharePct)
		if b > 0 {
			lines = append(lines, LedgerLine{Month: o.m, Payer: PayerBrand, Currency: o.v.Currency, Due: b})
		}
		if f > 0 {
			lines = append(lines, LedgerLine{Month: o.m, Payer: PayerFactory, Currency: o.v.Currency, Due: f})
		}
	}
	due := len(lines) // sorted
	add := func(l LedgerLine) {
		if i, found := slices.BinarySearchFunc(lines[:due], l, order); found {
			lines[i].Due += l.Due
			lines[i].Paid += l.Paid
			return
		}
		lines = append(lines, l)
	}
	if len(owed) > 0 && len(in.Versions) > 0 {
		v, first := in.Versions[0], owed[0].m
		if once := v.TuitionCost + v.TravelCost; once > 0 {
			// The one-off costs fall in the first month owed.
			f, b := Split(once, v.Payer, v.FactorySharePct)
			if f > 0 {
				add(LedgerLine{Month: first, Payer: PayerFactory, Currency: v.Currency, Due: f})
			}
			if b > 0 {
				add(LedgerLine{Month: first, Payer: PayerBrand, Currency: v.Currency, Due: b})
			}
		}
	}
	for _, p := range in.Payments {
		if toDate && current.Before(p.Month) {
			continue
		}
		add(LedgerLine{Month: p.Month, Payer: p.Payer, Currency: p.Amount.Currency, Paid: p.Amount.Amount})
	}
	if len(lines) > due {
		slices.SortStableFunc(lines, order)
		merged := lines[:0]
		for _, l := range lines {
			if n := len(merged); n > 0 && order(merged[n-1], l) == 0 {
				merged[n-1].Due += l.Due
				merged[n-1].Paid += l.Paid
				continue
			}
			merged = append(merged, l)
		}
		lines = merged
	}
	buf.lines = lines
	if len(lines) > 0 {
		out.Lines = lines
	}
	var firstApproval time.Time
	if len(in.Versions) > 0 {
		firstApproval = in.Versions[0].ApprovedAt
	}
	day := Today(today, zone)
	var totals [2]*PayerTotals // by LedgerPayers
	var totalsOf [2]PayerTotals
	for i := range out.Lines {
		l := &out.Lines[i]
		owed := isOwed(l.Month)
		if owed && len(in.Versions) > 0 {
			l.DueOn = DueOn(l.Month, firstApproval, zone)
		}
		if l.Balance() > 0 && owed && (out.UnpaidFrom == nil || l.Month.Before(*out.UnpaidFrom)) {
			m := l.Month
			out.UnpaidFrom = &m
		}
		if current.Before(l.Month) {
			continue
		}
		p := slices.Index(LedgerPayers, l.Payer)
		if p < 0 {
			continue // in no total
		}
		t := totals[p]
		if t == nil {
			t = &totalsOf[p]
			*t = PayerTotals{Payer: l.Payer, Currency: l.Currency}
			totals[p] = t
		}
		t.Due += l.Due
		t.Paid += l.Paid
		switch b := l.Balance(); {
		case b > 0 && !l.DueOn.IsZero() && Late(l.DueOn, day, graceDays):
			t.Arrears += b
		case b < 0:
			t.Credit -= b
		}
	}
	for _, t := range totals {
		if t != nil {
			if out.Totals == nil {
				out.Totals = buf.totals[:0]
				if cap(out.Totals) == 0 {
					out.Totals = make([]PayerTotals, 0, len(LedgerPayers))
				}
				buf.totals = out.Totals
			}
			out.Totals = append(out.Totals, *t)
		}
	}
	if out.UnpaidFrom != nil {
		due := DueOn(*out.UnpaidFrom, firstApproval, zone)
		out.UnpaidDueOn = &due
		if Late(due, day, graceDays) {
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
