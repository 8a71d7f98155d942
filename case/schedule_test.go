package cases_test

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	cases "github.com/remedy-cases/remedy/case"
)

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func months(ss ...string) []cases.Month {
	out := []cases.Month{}
	for _, s := range ss {
		m, err := cases.ParseMonth(s)
		if err != nil {
			panic(err)
		}
		out = append(out, m)
	}
	return out
}

func TestFollowUpPeriods(t *testing.T) {
	tr := func(from, to cases.State, when string) *cases.Transition {
		return &cases.Transition{From: from, To: to, At: at(when)}
	}
	got := cases.FollowUpPeriods([]*cases.Transition{
		tr(cases.StateClosed, cases.StateFollowUp, "2026-06-10T00:00:00Z"), // out of order on purpose
		tr(cases.StatePlanning, cases.StateFollowUp, "2026-01-10T00:00:00Z"),
		tr(cases.StateFollowUp, cases.StatePlanning, "2026-03-05T00:00:00Z"),
		tr(cases.StatePlanning, cases.StateFollowUp, "2026-03-20T00:00:00Z"),
		tr(cases.StateFollowUp, cases.StateClosed, "2026-05-01T00:00:00Z"),
	})
	if len(got) != 3 || !got[0].Start.Equal(at("2026-01-10T00:00:00Z")) || !got[0].End.Equal(at("2026-03-05T00:00:00Z")) ||
		!got[1].End.Equal(at("2026-05-01T00:00:00Z")) || got[2].End != nil {
		t.Fatalf("periods = %+v", got)
	}
}

func TestFollowUpSchedule(t *testing.T) {
	shanghai, _ := time.LoadLocation("Asia/Shanghai")
	open := func(start string) []cases.Period { return []cases.Period{{Start: at(start)}} }
	date := func(s string) time.Time { return day(s) }
	tests := []struct {
		name         string
		periods      []cases.Period
		end          time.Time
		dates        []time.Time
		now          string
		owed, missed []cases.Month
		dueThisMonth bool
	}{
		{"a November visit does not hide a missed October", open("2026-09-10T02:00:00Z"), day("2028-07-31"),
			[]time.Time{date("2026-09-20"), date("2026-11-02")}, "2026-11-15T00:00:00Z",
			months("2026-09", "2026-10", "2026-11"), months("2026-10"), false},
		{"three visits in one month count once", open("2026-09-10T02:00:00Z"), day("2028-07-31"),
			[]time.Time{date("2026-09-11"), date("2026-09-20"), date("2026-09-29")}, "2026-11-15T00:00:00Z",
			months("2026-09", "2026-10", "2026-11"), months("2026-10"), true},
		{"approval on 1 November at 01:00 in Shanghai starts November", open("2026-10-31T17:00:00Z"), day("2028-07-31"),
			nil, "2026-11-15T00:00:00Z", months("2026-11"), months(), true},
		{"no month owed after the end date", open("2026-08-10T00:00:00Z"), day("2026-09-30"),
			[]time.Time{date("2026-08-20")}, "2026-11-15T00:00:00Z", months("2026-08", "2026-09"), months("2026-09"), false},
		{"the month of a revision is owed; the months in planning are not", []cases.Period{
			{Start: at("2026-05-10T00:00:00Z"), End: ptr(at("2026-07-03T00:00:00Z"))},
			{Start: at("2026-08-15T00:00:00Z")}}, day("2028-07-31"),
			[]time.Time{date("2026-05-12"), date("2026-06-12"), date("2026-09-01"), date("2026-10-01")}, "2026-10-20T00:00:00Z",
			months("2026-05", "2026-06", "2026-07", "2026-08", "2026-09", "2026-10"), months("2026-07", "2026-08"), false},
		{"a period that starts and ends in one month owes it", []cases.Period{
			{Start: at("2026-05-02T00:00:00Z"), End: ptr(at("2026-05-20T00:00:00Z"))}}, time.Time{},
			nil, "2026-10-20T00:00:00Z", months("2026-05"), months("2026-05"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := cases.FollowUpSchedule(tt.periods, tt.end, tt.dates, at(tt.now), shanghai)
			if !slices.Equal(got.Owed, tt.owed) || !slices.Equal(nonNil(got.Missed), tt.missed) || got.DueThisMonth != tt.dueThisMonth {
				t.Fatalf("owed %v missed %v due this month %v; want %v %v %v", got.Owed, got.Missed, got.DueThisMonth, tt.owed, tt.missed, tt.dueThisMonth)
			}
		})
	}
}

func nonNil(m []cases.Month) []cases.Month {
	if m == nil {
		return []cases.Month{}
	}
	return m
}

func ptr[T any](v T) *T { return &v }

func TestFirstUncovered(t *testing.T) {
	covered := map[cases.Month]int{months("2026-09")[0]: 2, months("2026-10")[0]: 1, months("2026-12")[0]: 1}
	if got := cases.FirstUncovered(months("2026-09")[0], covered); got != months("2026-11")[0] {
		t.Fatalf("FirstUncovered = %v, want 2026-11", got)
	}
	if got := cases.FirstUncovered(months("2026-08")[0], covered); got != months("2026-08")[0] {
		t.Fatalf("FirstUncovered = %v, want 2026-08", got)
	}
}

func TestClocks(t *testing.T) {
	filed := at("2026-11-01T08:00:00Z")
	tests := []struct {
		name          string
		c             cases.Case
		now           string
		contact, plan cases.Clock
	}{
		{"contact in 10 hours, plan running", cases.Case{CreatedAt: filed, FirstContactAt: ptr(at("2026-11-01T18:00:00Z"))}, "2026-11-03T08:00:00Z",
			cases.Clock{Limit: cases.FirstContactLimit, Elapsed: 10 * time.Hour, Done: true},
			cases.Clock{Limit: cases.PlanApprovalLimit, Elapsed: 48 * time.Hour, Running: true}},
		{"no contact after 80 hours", cases.Case{CreatedAt: filed}, "2026-11-04T16:00:00Z",
			cases.Clock{Limit: cases.FirstContactLimit, Elapsed: 80 * time.Hour, Running: true, Breached: true},
			cases.Clock{Limit: cases.PlanApprovalLimit, Elapsed: 80 * time.Hour, Running: true}},
		{"plan approved on day 31", cases.Case{CreatedAt: filed, FirstContactAt: ptr(filed), FirstPlanApprovedAt: ptr(filed.Add(31 * 24 * time.Hour))}, "2026-12-20T00:00:00Z",
			cases.Clock{Limit: cases.FirstContactLimit, Done: true},
			cases.Clock{Limit: cases.PlanApprovalLimit, Elapsed: 31 * 24 * time.Hour, Done: true, Breached: true}},
		{"dismissed: no plan was owed", cases.Case{CreatedAt: filed, FirstContactAt: ptr(filed.Add(time.Hour)), Outcome: cases.OutcomeNotChildLabour,
			State: cases.StateClosed, ClosedAt: ptr(filed.Add(24 * time.Hour))}, "2027-01-01T00:00:00Z",
			cases.Clock{Limit: cases.FirstContactLimit, Elapsed: time.Hour, Done: true},
			cases.Clock{Limit: cases.PlanApprovalLimit}},
		{"refused before any plan, closed on day 40", cases.Case{CreatedAt: filed, FirstContactAt: ptr(filed), Outcome: cases.OutcomeRefused,
			State: cases.StateClosed, ClosedAt: ptr(filed.Add(40 * 24 * time.Hour))}, "2027-03-01T00:00:00Z",
			cases.Clock{Limit: cases.FirstContactLimit, Done: true},
			cases.Clock{Limit: cases.PlanApprovalLimit, Elapsed: 40 * 24 * time.Hour, Breached: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.c.ClocksAsOf(at(tt.now))
			if got.FirstContact != tt.contact || got.PlanApproved != tt.plan {
				t.Fatalf("clocks = %+v\nwant contact %+v plan %+v", got, tt.contact, tt.plan)
			}
		})
	}
}

// OwedNow is whether FollowUpSchedule owes the current month, on random
// periods, end dates and days.
func TestOwedNowIsTheSchedulesCurrentMonth(t *testing.T) {
	zone, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(3, 4))
	day := func() time.Time {
		return time.Date(2025, 1, 1, r.IntN(24), 0, 0, 0, time.UTC).AddDate(0, 0, r.IntN(500))
	}
	for i := range 20000 {
		var periods []cases.Period
		for range r.IntN(4) {
			p := cases.Period{Start: day()}
			if r.IntN(2) == 0 {
				e := day()
				p.End = &e
			}
			periods = append(periods, p)
		}
		var end time.Time
		if r.IntN(2) == 0 {
			end = day()
		}
		now := day()
		want := slices.Contains(cases.FollowUpSchedule(periods, end, nil, now, zone).Owed, cases.MonthOf(now.In(zone)))
		if got := cases.OwedNow(periods, end, now, zone); got != want {
			t.Fatalf("%d: OwedNow(%v, %v, %v) = %v, want %v", i, periods, end, now, got, want)
		}
	}
}
