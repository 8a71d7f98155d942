package cases

import (
	"slices"
	"sort"
	"time"
)

// A case in follow-up owes one follow-up for each calendar month (DOMAIN.md).
// A follow-up covers the month of its date; a second one in a covered month
// is an extra visit, counted once. Months are calendar months in the
// organisation's zone (REMEDY_REPORT_ZONE): an approval at 01:00 on
// 1 November in Shanghai starts November, though it is still October in UTC.

// Period is a stretch of time a case spent in follow-up: from an approval or
// a reopening to a revision or a closure, or still running (End nil).
type Period struct {
	Start time.Time
	End   *time.Time
}

// FollowUpPeriods reads a case's follow-up periods from its transitions,
// oldest first.
func FollowUpPeriods(transitions []*Transition) []Period {
	sorted := transitions
	if !slices.IsSortedFunc(sorted, func(a, b *Transition) int { return a.At.Compare(b.At) }) {
		sorted = append([]*Transition(nil), transitions...)
		sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].At.Before(sorted[j].At) })
	}
	var out []Period
	for _, t := range sorted {
		switch {
		case t.To == StateFollowUp:
			out = append(out, Period{Start: t.At})
		case t.From == StateFollowUp && len(out) > 0 && out[len(out)-1].End == nil:
			at := t.At
			out[len(out)-1].End = &at
		}
	}
	return out
}

// Schedule tells, as of a day, which months a case owes a follow-up for and
// which of those went without one.
type Schedule struct {
	Owed    []Month // every month owed so far, the current one included
	Missed  []Month // owed months that ended without a follow-up
	Covered map[Month]int
	// DueThisMonth is true when the current month is owed and not covered yet.
	DueThisMonth bool
}

// FollowUpSchedule works out what a case owes. periods are its follow-up
// periods, end the approved plan's end date (months after it are not owed;
// zero for none), dates the dates of its follow-ups, now the present, zone
// the organisation's zone. A case owes a follow-up for every calendar month
// it spends in follow-up, however little: from the month of an approval or
// a reopening to the month it leaves follow-up, up to the end date's month
// and the current month.
func FollowUpSchedule(periods []Period, end time.Time, dates []time.Time, now time.Time, zone *time.Location) Schedule {
	current := MonthOf(now.In(zone))
	s := Schedule{Covered: map[Month]int{}}
	for _, d := range dates {
		s.Covered[MonthOf(d)]++
	}
	for _, p := range periods {
		first := MonthOf(p.Start.In(zone))
		last := current
		if p.End != nil {
			if left := MonthOf(p.End.In(zone)); left.Before(last) {
				last = left
			}
		}
		if !end.IsZero() {
			if e := MonthOf(end); e.Before(last) {
				last = e
			}
		}
		for m := first; !last.Before(m); m = m.Add(1) {
			s.Owed = append(s.Owed, m)
		}
	}
	// Periods may overlap: each month once, in order.
	if !slices.IsSortedFunc(s.Owed, func(a, b Month) int { return a.compare(b) }) {
		slices.SortFunc(s.Owed, func(a, b Month) int { return a.compare(b) })
	}
	s.Owed = slices.Compact(s.Owed)
	for _, m := range s.Owed {
		switch {
		case m == current:
			s.DueThisMonth = s.Covered[m] == 0
		case s.Covered[m] == 0 && m.Before(current):
			s.Missed = append(s.Missed, m)
		}
	}
	return s
}

// OwedNow reports whether FollowUpSchedule, with the same periods, end,
// now and zone, owes the current month, without making the schedule: a
// report asks it of every case.
func OwedNow(periods []Period, end time.Time, now time.Time, zone *time.Location) bool {
	current := MonthOf(now.In(zone))
	if !end.IsZero() && MonthOf(end).Before(current) {
		return false
	}
	for _, p := range periods {
		if current.Before(MonthOf(p.Start.In(zone))) {
			continue
		}
		if p.End != nil && MonthOf(p.End.In(zone)).Before(current) {
			continue
		}
		return true
	}
	return false
}

// FirstUncovered returns the first month from start on without a follow-up,
// given the months that have one: where the case's current follow-up period
// stops being covered.
func FirstUncovered(start Month, covered map[Month]int) Month {
	m := start
	for covered[m] > 0 {
		m = m.Add(1)
	}
	return m
}

// Service clocks, as remediation providers promise them (DOMAIN.md).
const (
	FirstContactLimit = 72 * time.Hour
	PlanApprovalLimit = 30 * 24 * time.Hour
)

// Clock is one service promise of a case: from the report to an event.
type Clock struct {
	Limit   time.Duration
	Elapsed time.Duration // to the event, or so far while it runs
	Done    bool          // the event happened
	Running bool          // the event has not happened and still can
	// Breached is true when the event came, or has not come, after the limit.
	Breached bool
}

// Clocks are a case's service clocks.
type Clocks struct {
	FirstContact Clock // first contact with the child, within 72 hours
	PlanApproved Clock // a plan approved, within 30 days
}

// ClocksAsOf works out the case's service clocks at now. A clock stops at
// its event; a case closed before the event stops it undone (and a case
// dismissed before a plan never owed one: its plan clock is neither running
// nor breached).
func (c *Case) ClocksAsOf(now time.Time) Clocks {
	stop := now
	if c.ClosedAt != nil {
		stop = *c.ClosedAt
	}
	clock := func(limit time.Duration, event *time.Time, owed bool) Clock {
		k := Clock{Limit: limit}
		switch {
		case event != nil:
			k.Done, k.Elapsed = true, max(event.Sub(c.CreatedAt), 0)
		case !owed:
			return k
		default:
			k.Running, k.Elapsed = c.ClosedAt == nil, max(stop.Sub(c.CreatedAt), 0)
		}
		k.Breached = k.Elapsed > limit
		return k
	}
	planOwed := c.Outcome != OutcomeNotChildLabour
	return Clocks{
		FirstContact: clock(FirstContactLimit, c.FirstContactAt, true),
		PlanApproved: clock(PlanApprovalLimit, c.FirstPlanApprovedAt, planOwed),
	}
}
