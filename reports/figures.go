// Package reports builds a brand's monthly figures from case histories, then
// renders them to PDF. Building is pure: the same histories, month and zone
// give the same figures, whenever they are built.
package reports

import (
	"cmp"
	"slices"
	"time"

	"github.com/google/uuid"

	cases "github.com/remedy-cases/remedy/case"
)

// Figures are everything a monthly report shows. They hold facts a brand may
// see (DOMAIN.md): case codes, factory names, ages, genders, states, dates and
// money. No field can hold an identity or a note, which a test checks.
type Figures struct {
	Client string `json:"client"`
	Month  string `json:"month"`
	Zone   string `json:"zone"` // decides the day of an instant

	NewCases    int            `json:"new_cases"`
	OpenAtEnd   int            `json:"open_at_end"`
	DueToClose  int            `json:"due_to_close"` // in follow-up at the month's end, past the plan's end date
	ByState     []StateCount   `json:"by_state"`     // every state, in workflow order, at the month's end
	Closed      []OutcomeCount `json:"closed"`       // closures in the month, every outcome
	FollowUps   FollowUpCounts `json:"follow_ups"`
	Stipends    []Stipend      `json:"stipends"`      // by payer and currency
	Attendance  Attendance     `json:"attendance"`    // children seen in the month who attend school
	NewPerMonth []MonthCount   `json:"new_per_month"` // twelve months, ending with the report's
	Clocks      ServiceClocks  `json:"clocks"`
	Rows        []Row          `json:"rows"` // by case code
}

// ServiceClocks are the month's figures of the two service promises: first
// contact with the child within 72 hours of the report, and a plan approved
// within 30 days.
type ServiceClocks struct {
	FirstContact ClockFigures `json:"first_contact"`
	PlanApproved ClockFigures `json:"plan_approved"`
}

// ClockFigures count one promise in a month: how many clocks stopped in it
// and their median, and how many deadlines fell in it unmet.
type ClockFigures struct {
	LimitHours  int  `json:"limit_hours"`
	Met         int  `json:"met"`          // events in the month
	MedianHours *int `json:"median_hours"` // of the events in the month; nil when none
	Breaches    int  `json:"breaches"`     // deadlines in the month that passed without the event
}

// StateCount is how many cases stood in a state.
type StateCount struct {
	State cases.State `json:"state"`
	Count int         `json:"count"`
}

// OutcomeCount is how many cases closed with an outcome.
type OutcomeCount struct {
	Outcome cases.Outcome `json:"outcome"`
	Count   int           `json:"count"`
}

// FollowUpCounts compares the month's follow-ups with what was due, by the
// rule the cases themselves follow (cases.FollowUpSchedule): a case owes a
// follow-up for every month it spends in follow-up, up to its plan's end
// date; the month is done when a follow-up is dated in it, and overdue
// otherwise. Extra visits in a done month count once.
type FollowUpCounts struct {
	Due      int `json:"due"`
	Done     int `json:"done"`
	Overdue  int `json:"overdue"`
	Recorded int `json:"recorded"` // every follow-up dated in the month, extra visits included
}

// Stipend is what one payer owed and paid in one currency, in minor units,
// from the stipend ledger: a split plan's amounts apportioned to the factory
// and the brand by the plan's share, the one-off costs in the first month.
type Stipend struct {
	Payer         cases.Payer `json:"payer"` // factory or brand
	Currency      string      `json:"currency"`
	DueThisMonth  int64       `json:"due_this_month"`
	PaidThisMonth int64       `json:"paid_this_month"` // paid for the month, however late
	DueToDate     int64       `json:"due_to_date"`     // every month up to the report's
	PaidToDate    int64       `json:"paid_to_date"`
	// Arrears is what was unpaid at the month's end of the months already
	// late then (REMEDY_ARREARS_DAYS after they fell due).
	Arrears int64 `json:"arrears"`
}

// Attendance counts the children with a follow-up in the month, and those
// whose latest follow-up of the month found them at school.
type Attendance struct {
	Seen      int `json:"seen"`
	Attending int `json:"attending"`
}

// Percent is the share attending school, rounded down; -1 when nobody was seen.
func (a Attendance) Percent() int {
	if a.Seen == 0 {
		return -1
	}
	return a.Attending * 100 / a.Seen
}

// MonthCount is how many cases were filed in a month.
type MonthCount struct {
	Month string `json:"month"`
	Count int    `json:"count"`
}

// Row is one case in the report's table: a case that was open at some time
// during the month.
type Row struct {
	Code            string       `json:"code"`
	FactoryID       uuid.UUID    `json:"factory_id"` // for logs, which never name a factory
	Factory         string       `json:"factory"`
	Age             *int         `json:"age"` // at the date found, once verified
	Gender          cases.Gender `json:"gender"`
	State           cases.State  `json:"state"`
	DaysOpen        int          `json:"days_open"`
	LastFollowUp    string       `json:"last_follow_up"` // a date, or empty
	AttendingSchool *bool        `json:"attending_school"`
	StipendDue      int64        `json:"stipend_due"`  // this month, both payers, minor units
	StipendPaid     int64        `json:"stipend_paid"` // for this month, both payers, minor units
	InArrears       bool         `json:"in_arrears"`   // a month unpaid and late at the month's end
	Currency        string       `json:"currency"`
}

// Earlier sums up the cases of a client that were closed before a report's
// window (Window) and stayed closed. Of them a month's figures need only
// that they stand closed and what was paid for them: the rest (new cases,
// closures, follow-ups, clocks, the table) is about the window.
type Earlier struct {
	Closed  int
	Ledgers []*cases.LedgerInput // their stipend ledgers' inputs, for the figures to date
}

// Window returns the first day, in zone, of the twelve months the report of
// month shows (its chart of new cases): a case closed before it and still
// closed needs no history of its own (Earlier).
func Window(month cases.Month, zone *time.Location) time.Time {
	first := month.Add(-11)
	return time.Date(first.Year, first.Month, 1, 0, 0, 0, 0, zone)
}

// Build computes the figures of client's month from its case histories. zone
// decides the day of an instant, such as when a case was filed or closed.
// A month's stipend is late, for the arrears, cases.DefaultGraceDays after
// it fell due; BuildWithGrace takes another number of days.
func Build(client string, month cases.Month, zone *time.Location, histories []*cases.CaseHistory) *Figures {
	return BuildWithGrace(client, month, zone, cases.DefaultGraceDays, histories)
}

// BuildWithGrace is Build with graceDays for the arrears (REMEDY_ARREARS_DAYS).
func BuildWithGrace(client string, month cases.Month, zone *time.Location, graceDays int, histories []*cases.CaseHistory) *Figures {
	return BuildFrom(client, month, zone, graceDays, histories, Earlier{})
}

// BuildFrom is BuildWithGrace from the histories of the cases not closed
// before the month's Window, and the ledgers of those that were: the same
// figures as BuildWithGrace from every history.
func BuildFrom(client string, month cases.Month, zone *time.Location, graceDays int, histories []*cases.CaseHistory, earlier Earlier) *Figures {
	start, end := month.Start(), month.End()
	f := &Figures{Client: client, Month: month.String(), Zone: zone.String()}
	byState := map[cases.State]int{}
	closed := map[cases.Outcome]int{}
	type payerCurrency struct {
		payer    cases.Payer
		currency string
	}
	stipends := map[payerCurrency]*Stipend{}
	filedIn := map[cases.Month]int{}
	first := month.Add(-11)
	lastInstant := end.Add(-time.Nanosecond)
	// The month's last instant in the zone: what was known at its end.
	monthEnd := time.Date(month.Year, month.Month+1, 1, 0, 0, 0, 0, zone).Add(-time.Nanosecond)
	var contact, approval clockTally
	var ledgers cases.LedgerBuffer // each case's ledger is read before the next is built

	// addLedger adds a case's ledger, as it stood at the month's end, to the
	// stipends: what was owed up to the month and paid for it, and what was
	// late then. It returns the case's due and paid for the month.
	addLedger := func(in *cases.LedgerInput) (due, paid cases.Money, inArrears bool) {
		if in == nil || len(in.Versions) == 0 {
			return
		}
		l := ledgers.BuildToDate(*in, monthEnd, zone, graceDays)
		inArrears = l.ArrearsSince != nil
		for _, line := range l.Lines {
			if month.Before(line.Month) {
				continue
			}
			k := payerCurrency{line.Payer, line.Currency}
			s := stipends[k]
			if s == nil {
				s = &Stipend{Payer: k.payer, Currency: k.currency}
				stipends[k] = s
			}
			s.DueToDate += line.Due
			s.PaidToDate += line.Paid
			if line.Month == month {
				s.DueThisMonth += line.Due
				s.PaidThisMonth += line.Paid
				due.Amount, due.Currency = due.Amount+line.Due, line.Currency
				paid.Amount, paid.Currency = paid.Amount+line.Paid, line.Currency
			}
		}
		for _, t := range l.Totals {
			if s := stipends[payerCurrency{t.Payer, t.Currency}]; s != nil {
				s.Arrears += t.Arrears
			}
		}
		return
	}

	for _, h := range histories {
		c := h.Case
		filed := day(c.CreatedAt, zone)
		if !filed.Before(end) {
			continue
		}
		if m := cases.MonthOf(filed); !m.Before(first) {
			filedIn[m]++
		}
		if !filed.Before(start) {
			f.NewCases++
		}
		atStart, _ := stateOn(h, start, zone)
		atEnd, closedOn := stateOn(h, end, zone)
		byState[atEnd]++
		if atEnd != cases.StateClosed {
			f.OpenAtEnd++
		}
		if atEnd == cases.StateFollowUp && c.Plan != nil && !c.Plan.EndDate.IsZero() && c.Plan.EndDate.Before(lastInstant) {
			f.DueToClose++
		}
		contact.add(c, c.FirstContactAt, cases.FirstContactLimit, start, end, zone)
		approval.add(c, c.FirstPlanApprovedAt, cases.PlanApprovalLimit, start, end, zone)
		for _, t := range h.Transitions {
			if t.To == cases.StateClosed && inMonth(day(t.At, zone), start, end) {
				closed[t.Outcome]++
			}
		}

		var last, lastInMonth *cases.FollowUp
		for _, fu := range h.FollowUps {
			if fu.Date.Before(end) {
				last = fu
			}
			if inMonth(fu.Date, start, end) {
				lastInMonth = fu
				f.FollowUps.Recorded++
			}
		}
		// The ledger as it stood at the month's end: what was owed up to the
		// month and paid for it, and what was late then.
		due, paid, inArrears := addLedger(h.Ledger)
		if owes(h, monthEnd, zone) {
			f.FollowUps.Due++
			if lastInMonth != nil {
				f.FollowUps.Done++
			} else {
				f.FollowUps.Overdue++
			}
		}
		if lastInMonth != nil {
			f.Attendance.Seen++
			if lastInMonth.AttendingSchool {
				f.Attendance.Attending++
			}
		}

		if atStart == cases.StateClosed && closedOn.Before(start) {
			continue // closed before the month: not in the table
		}
		until := end.AddDate(0, 0, -1)
		if atEnd == cases.StateClosed {
			until = closedOn
		}
		r := Row{
			Code:     c.Code,
			Factory:  h.Factory,
			Age:      c.AgeAtFound,
			Gender:   c.Gender,
			State:    atEnd,
			DaysOpen: int(until.Sub(filed).Hours() / 24),
		}
		r.FactoryID = c.FactoryID
		if c.Plan != nil {
			r.Currency = c.Plan.Currency
		}
		r.StipendDue, r.StipendPaid, r.InArrears = due.Amount, paid.Amount, inArrears
		if due.Currency != "" {
			r.Currency = due.Currency
		}
		if last != nil {
			r.LastFollowUp = last.Date.Format(time.DateOnly)
			attending := last.AttendingSchool
			r.AttendingSchool = &attending
		}
		if f.Rows == nil {
			f.Rows = make([]Row, 0, len(histories))
		}
		f.Rows = append(f.Rows, r)
	}

	byState[cases.StateClosed] += earlier.Closed
	for _, in := range earlier.Ledgers {
		addLedger(in)
	}
	for _, s := range cases.States {
		f.ByState = append(f.ByState, StateCount{s, byState[s]})
	}
	for _, o := range cases.Outcomes {
		f.Closed = append(f.Closed, OutcomeCount{o, closed[o]})
	}
	for _, s := range stipends {
		f.Stipends = append(f.Stipends, *s)
	}
	slices.SortFunc(f.Stipends, func(a, b Stipend) int {
		return cmp.Or(cmp.Compare(a.Payer, b.Payer), cmp.Compare(a.Currency, b.Currency))
	})
	for m := first; !month.Before(m); m = m.Add(1) {
		f.NewPerMonth = append(f.NewPerMonth, MonthCount{m.String(), filedIn[m]})
	}
	f.Clocks = ServiceClocks{FirstContact: contact.figures(cases.FirstContactLimit), PlanApproved: approval.figures(cases.PlanApprovalLimit)}
	slices.SortFunc(f.Rows, func(a, b Row) int { return cmp.Compare(a.Code, b.Code) })
	return f
}

// owes reports whether the case owed a follow-up for the month that ends
// at monthEnd, by its transitions up to then.
func owes(h *cases.CaseHistory, monthEnd time.Time, zone *time.Location) bool {
	later := func(t *cases.Transition) bool { return t.At.After(monthEnd) }
	known := h.Transitions
	if slices.ContainsFunc(known, later) {
		known = slices.DeleteFunc(slices.Clone(known), later)
	}
	var planEnd time.Time
	if h.Case.Plan != nil {
		planEnd = h.Case.Plan.EndDate
	}
	return cases.OwedNow(cases.FollowUpPeriods(known), planEnd, monthEnd, zone)
}

// clockTally collects one service clock over a month's cases.
type clockTally struct {
	elapsed  []time.Duration
	breaches int
}

// add counts c's clock: its event if the event fell in the month, and a
// breach if its deadline fell in the month without the event before it. A
// case closed before its deadline owed nothing more (a dismissal owes no
// plan).
func (k *clockTally) add(c *cases.Case, event *time.Time, limit time.Duration, start, end time.Time, zone *time.Location) {
	if event != nil && inMonth(day(*event, zone), start, end) {
		k.elapsed = append(k.elapsed, max(event.Sub(c.CreatedAt), 0))
	}
	deadline := c.CreatedAt.Add(limit)
	if !inMonth(day(deadline, zone), start, end) {
		return
	}
	if event != nil && !event.After(deadline) {
		return
	}
	if c.ClosedAt != nil && c.ClosedAt.Before(deadline) && event == nil {
		return
	}
	k.breaches++
}

func (k *clockTally) figures(limit time.Duration) ClockFigures {
	f := ClockFigures{LimitHours: int(limit.Hours()), Met: len(k.elapsed), Breaches: k.breaches}
	if len(k.elapsed) > 0 {
		sorted := slices.Clone(k.elapsed)
		slices.Sort(sorted)
		mid := sorted[len(sorted)/2]
		if len(sorted)%2 == 0 {
			mid = (sorted[len(sorted)/2-1] + mid) / 2
		}
		hours := int(mid.Hours())
		f.MedianHours = &hours
	}
	return f
}

// stateOn replays a case's transitions to find where it stood at the start
// of the day on, and the day it closed if it stood closed.
func stateOn(h *cases.CaseHistory, on time.Time, zone *time.Location) (cases.State, time.Time) {
	state, closedOn := cases.StateIntake, time.Time{}
	for _, t := range h.Transitions {
		at := day(t.At, zone)
		if !at.Before(on) {
			break
		}
		state = t.To
		if t.To == cases.StateClosed {
			closedOn = at
		}
	}
	return state, closedOn
}

func day(t time.Time, zone *time.Location) time.Time { return cases.Date(t.In(zone)) }

func inMonth(d, start, end time.Time) bool { return !d.Before(start) && d.Before(end) }
