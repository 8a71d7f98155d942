package cases_test

import (
	"testing"
	"time"

	cases "github.com/remedy-cases/remedy/case"
)

func TestSplitAddsUp(t *testing.T) {
	tests := []struct {
		amount        int64
		payer         cases.Payer
		pct           int
		factory, want int64
	}{
		{80000, cases.PayerSplit, 50, 40000, 40000},
		{80001, cases.PayerSplit, 50, 40001, 40000}, // half a fen rounds up, to the factory
		{99999, cases.PayerSplit, 33, 33000, 66999}, // 32999.67 rounds to 33000
		{100, cases.PayerSplit, 1, 1, 99},
		{1, cases.PayerSplit, 99, 1, 0},
		{1, cases.PayerSplit, 49, 0, 1}, // 0.49 rounds down
		{80000, cases.PayerFactory, 0, 80000, 0},
		{80000, cases.PayerBrand, 0, 0, 80000},
	}
	for _, tt := range tests {
		f, b := cases.Split(tt.amount, tt.payer, tt.pct)
		if f != tt.factory || b != tt.want {
			t.Errorf("Split(%d, %s, %d) = %d, %d; want %d, %d", tt.amount, tt.payer, tt.pct, f, b, tt.factory, tt.want)
		}
	}
	// The rule, on every amount and share: the two shares add up to the amount.
	for amount := int64(0); amount < 2000; amount += 7 {
		for pct := 1; pct < 100; pct++ {
			if f, b := cases.Split(amount, cases.PayerSplit, pct); f+b != amount || f < 0 || b < 0 {
				t.Fatalf("Split(%d, split, %d) = %d + %d", amount, pct, f, b)
			}
		}
	}
}

func version(approved, enrolment, end string, stipend int64, payer cases.Payer, pct int) cases.PlanVersion {
	return cases.PlanVersion{ApprovedAt: at(approved), EnrolmentDate: day(enrolment), EndDate: day(end), Currency: "CNY",
		MonthlyStipend: stipend, Payer: payer, FactorySharePct: pct}
}

func month(s string) cases.Month { return months(s)[0] }

func TestOwed(t *testing.T) {
	shanghai, _ := time.LoadLocation("Asia/Shanghai")
	first := version("2026-03-05T02:00:00Z", "2026-02-20", "2026-12-31", 80000, cases.PayerBrand, 0)
	revised := version("2026-06-30T17:00:00Z", "2026-02-20", "2027-03-31", 90000, cases.PayerSplit, 50) // 1 July in Shanghai
	owed := cases.Owed(cases.LedgerInput{Versions: []cases.PlanVersion{first, revised}}, shanghai)
	if len(owed) != 14 { // February 2026 to March 2027
		t.Fatalf("%d months owed, want 14", len(owed))
	}
	if owed[month("2026-02")].MonthlyStipend != 80000 || owed[month("2026-06")].MonthlyStipend != 80000 ||
		owed[month("2026-07")].MonthlyStipend != 90000 {
		t.Fatal("a revision changed the past, or did not govern from its approval month")
	}
	closedAndBack := cases.LedgerInput{Versions: []cases.PlanVersion{first}, Transitions: []*cases.Transition{
		{From: cases.StateFollowUp, To: cases.StateClosed, At: at("2026-05-10T00:00:00Z")},
		{From: cases.StateClosed, To: cases.StateFollowUp, At: at("2026-08-03T00:00:00Z")},
	}, Suspensions: []cases.Suspension{{From: day("2026-10-05"), To: ptr(day("2026-11-20"))}, {From: day("2026-12-02")}}}
	owed = cases.Owed(closedAndBack, shanghai)
	for m, want := range map[string]bool{"2026-05": true, "2026-06": false, "2026-07": false, "2026-08": true,
		"2026-09": true, "2026-10": false, "2026-11": true, "2026-12": false} {
		if (owed[month(m)] != nil) != want {
			t.Errorf("%s owed = %v, want %v", m, owed[month(m)] != nil, want)
		}
	}
}

func TestBuildLedger(t *testing.T) {
	shanghai, _ := time.LoadLocation("Asia/Shanghai")
	v := version("2026-08-05T02:00:00Z", "2026-09-01", "2027-01-31", 80000, cases.PayerSplit, 30)
	v.TuitionCost, v.TravelCost = 100000, 20000
	pay := func(m string, p cases.Payer, amount int64) *cases.Payment {
		return &cases.Payment{Payer: p, Month: month(m), Amount: cases.Money{Amount: amount, Currency: "CNY"}}
	}
	in := cases.LedgerInput{Versions: []cases.PlanVersion{v}, Payments: []*cases.Payment{
		pay("2026-09", cases.PayerFactory, 24000+36000), pay("2026-09", cases.PayerBrand, 56000+84000), // stipend and one-offs
		pay("2026-10", cases.PayerFactory, 24000), pay("2026-10", cases.PayerBrand, 56000),
		pay("2026-11", cases.PayerBrand, 60000), // the factory has not paid November; the brand paid 4,000 more
		pay("2026-11", cases.PayerBrand, -4000), // a reversal of part of an earlier mistaken payment
	}}
	l := cases.BuildLedger(in, at("2026-11-22T04:00:00Z"), shanghai, cases.DefaultGraceDays)
	if l.UnpaidFrom == nil || *l.UnpaidFrom != month("2026-11") || l.ArrearsSince == nil || *l.ArrearsSince != month("2026-11") {
		t.Fatalf("unpaid from %v, arrears since %v; want November, late on the 22nd", l.UnpaidFrom, l.ArrearsSince)
	}
	want := map[cases.Payer]cases.PayerTotals{
		cases.PayerFactory: {Payer: cases.PayerFactory, Currency: "CNY", Due: 3*24000 + 36000, Paid: 60000 + 24000, Arrears: 24000},
		cases.PayerBrand:   {Payer: cases.PayerBrand, Currency: "CNY", Due: 3*56000 + 84000, Paid: 140000 + 56000 + 56000, Credit: 0},
	}
	for _, got := range l.Totals {
		if got != want[got.Payer] {
			t.Errorf("%s totals %+v, want %+v", got.Payer, got, want[got.Payer])
		}
	}
	// Early in the month, November is not late yet; December and January
	// stay owed in the future.
	early := cases.BuildLedger(in, at("2026-11-05T04:00:00Z"), shanghai, cases.DefaultGraceDays)
	if early.ArrearsSince != nil || len(early.Lines) != 10 {
		t.Fatalf("on 5 November: arrears since %v, %d lines (want none, 10)", early.ArrearsSince, len(early.Lines))
	}
	// Everything paid to the end: nothing more is owed.
	in.Payments = append(in.Payments, pay("2026-11", cases.PayerFactory, 24000), pay("2026-11", cases.PayerBrand, 100),
		pay("2026-12", cases.PayerFactory, 24000), pay("2026-12", cases.PayerBrand, 56000),
		pay("2027-01", cases.PayerFactory, 24000), pay("2027-01", cases.PayerBrand, 56000))
	done := cases.BuildLedger(in, at("2026-11-22T04:00:00Z"), shanghai, cases.DefaultGraceDays)
	if done.UnpaidFrom != nil || done.ArrearsSince != nil {
		t.Fatalf("paid up: unpaid from %v", done.UnpaidFrom)
	}
	for _, tot := range done.Totals {
		if tot.Payer == cases.PayerBrand && tot.Credit != 100 {
			t.Fatalf("the brand's 100 fen overpaid in November is no credit: %+v", tot)
		}
	}
}

func TestPaymentInputValidate(t *testing.T) {
	today := day("2026-11-22")
	ok := cases.PaymentInput{Payer: cases.PayerFactory, Amount: 80000, Currency: "CNY", PaidOn: day("2026-11-03"),
		Month: month("2026-11"), Method: "bank_transfer", ProofRef: "TX-1"}
	if err := ok.Validate(today); err != nil {
		t.Fatal(err)
	}
	bad := ok
	bad.Payer, bad.Amount, bad.Currency, bad.PaidOn, bad.Method, bad.ProofRef = cases.PayerSplit, 0, "cny", day("2026-12-01"), "barter", ""
	err := bad.Validate(today)
	got := []string{}
	for _, f := range cases.ErrorFailures(err) {
		got = append(got, f.Name)
	}
	want := []string{"payer", "amount", "currency", "paid_on", "method", "proof_ref"}
	if len(got) != len(want) {
		t.Fatalf("failed %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("failed %v, want %v", got, want)
		}
	}
	neg := ok
	neg.Amount = -5
	if cases.ErrorFailures(neg.Validate(today))[0].Name != "amount" {
		t.Fatal("a negative amount other than a reversal passed")
	}
}

func TestDueOn(t *testing.T) {
	shanghai, _ := time.LoadLocation("Asia/Shanghai")
	approved := at("2026-11-02T20:00:00Z") // 3 November in Shanghai
	if got := cases.DueOn(month("2026-10"), approved, shanghai); !got.Equal(day("2026-11-03")) {
		t.Errorf("October, owed before the approval, falls due on %s, want the approval's day", got.Format(time.DateOnly))
	}
	if got := cases.DueOn(month("2026-12"), approved, shanghai); !got.Equal(day("2026-12-01")) {
		t.Errorf("December falls due on %s, want its first day", got.Format(time.DateOnly))
	}
	if cases.Late(day("2026-11-03"), day("2026-11-13"), 10) || !cases.Late(day("2026-11-03"), day("2026-11-14"), 10) {
		t.Error("late after ten days, not on the tenth")
	}
}
