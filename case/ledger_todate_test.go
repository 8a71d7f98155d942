package cases_test

import (
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	cases "github.com/remedy-cases/remedy/case"
)

// cases.BuildLedgerToDate is cases.BuildLedger cut at today's month, on random plans,
// closures, suspensions and payments.
func TestBuildLedgerToDateIsBuildLedgerToDate(t *testing.T) {
	zone, _ := time.LoadLocation("Asia/Shanghai")
	r := rand.New(rand.NewPCG(1, 2))
	day := func() time.Time {
		return time.Date(2024, 1, 1, r.IntN(24), 0, 0, 0, time.UTC).AddDate(0, 0, r.IntN(1000))
	}
	var buf cases.LedgerBuffer // one for all the ledgers, as a report uses it
	payers := []cases.Payer{cases.PayerFactory, cases.PayerBrand, cases.PayerSplit}
	for i := 0; i < 5000; i++ {
		var in cases.LedgerInput
		for range r.IntN(4) {
			in.Versions = append(in.Versions, cases.PlanVersion{ApprovedAt: day(), EnrolmentDate: day(), EndDate: day(),
				Currency: []string{"CNY", "USD"}[r.IntN(2)], MonthlyStipend: int64(r.IntN(3)) * 10001,
				TuitionCost: int64(r.IntN(2)) * 500, TravelCost: int64(r.IntN(2)) * 301, Payer: payers[r.IntN(3)], FactorySharePct: r.IntN(101)})
		}
		for range r.IntN(4) {
			tr := &cases.Transition{At: day(), From: cases.StateFollowUp, To: cases.StateClosed}
			if r.IntN(2) == 0 {
				tr.From, tr.To = cases.StateClosed, cases.StateFollowUp
			}
			in.Transitions = append(in.Transitions, tr)
		}
		for range r.IntN(3) {
			s := cases.Suspension{From: day()}
			if r.IntN(2) == 0 {
				d := day()
				s.To = &d
			}
			in.Suspensions = append(in.Suspensions, s)
		}
		for range r.IntN(6) {
			in.Payments = append(in.Payments, &cases.Payment{Payer: payers[r.IntN(2)],
				Amount: cases.Money{Amount: int64(r.IntN(30000) - 5000), Currency: []string{"CNY", "USD"}[r.IntN(2)]}, Month: cases.MonthOf(day())})
		}
		today := day()
		grace := r.IntN(20)
		want := cases.BuildLedger(in, today, zone, grace)
		cur := cases.MonthOf(today.In(zone))
		part := cases.BuildLedgerToDate(in, today, zone, grace)
		if got := buf.BuildToDate(in, today, zone, grace); !reflect.DeepEqual(got, part) {
			t.Fatalf("buffered %d:\ngot  %+v\nwant %+v", i, got, part)
		}
		var wl []cases.LedgerLine
		for _, l := range want.Lines {
			if !cur.Before(l.Month) {
				wl = append(wl, l)
			}
		}
		if !reflect.DeepEqual(part.Lines, wl) || !reflect.DeepEqual(part.Totals, want.Totals) || !reflect.DeepEqual(part.ArrearsSince, want.ArrearsSince) || part.Currency != want.Currency {
			t.Fatalf("to date %d:\ngot  %+v\nwant %+v", i, part, want)
		}
		if want.UnpaidFrom != nil && !cur.Before(*want.UnpaidFrom) && !reflect.DeepEqual(part.UnpaidDueOn, want.UnpaidDueOn) {
			t.Fatalf("to date unpaid %d", i)
		}
	}
}
