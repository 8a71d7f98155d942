package storage_test

import (
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	cases "github.com/remedy-cases/remedy/case"
	"github.com/remedy-cases/remedy/storage"
	"github.com/remedy-cases/remedy/storage/storagetest"
)

func (e *env) payment(payer cases.Payer, amount int64, month string, ref string) cases.PaymentInput {
	m, err := cases.ParseMonth(month)
	if err != nil {
		panic(err)
	}
	return cases.PaymentInput{Payer: payer, Amount: amount, Currency: "CNY", PaidOn: today, Month: m, Method: "bank_transfer", ProofRef: ref}
}

func totalsOf(l *cases.CaseLedger) map[cases.Payer]cases.PayerTotals {
	out := map[cases.Payer]cases.PayerTotals{}
	for _, t := range l.Totals {
		out[t.Payer] = t
	}
	return out
}

// TestLedger: a split plan approved on 3 November 2026 (enrolment 25
// October, so October is owed too), 50/50, 800 CNY a month, 1,650 CNY of
// one-off costs in the first month.
func TestLedger(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db)
		ledger := storage.NewLedgerService(db)
		c := e.mustReach(t, cases.StateFollowUp)
		worker := e.actor(e.Worker)

		l, payments, err := ledger.CaseLedger(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		tot := totalsOf(l)
		// October: 400 + 825 each; November: 400 each.
		if len(payments) != 0 || tot[cases.PayerFactory].Due != 40000*2+82500 || tot[cases.PayerBrand].Due != 40000*2+82500 {
			t.Fatalf("before any payment: %+v", l.Totals)
		}
		if l.UnpaidFrom == nil || *l.UnpaidFrom != (cases.Month{Year: 2026, Month: time.October}) || l.ArrearsSince != nil {
			t.Fatalf("unpaid from %v, arrears %v; want October, not late on 3 November", l.UnpaidFrom, l.ArrearsSince)
		}

		p, err := ledger.RecordPayment(ctx, worker, c.ID, e.payment(cases.PayerFactory, 122500, "2026-10", "BANK-001"))
		if err != nil {
			t.Fatal(err)
		}
		t.Run("ErrBadInput", func(t *testing.T) {
			for name, tt := range map[string]struct {
				in   cases.PaymentInput
				want string
				code string
			}{
				"same proof reference, same payer": {e.payment(cases.PayerFactory, 40000, "2026-11", "BANK-001"), "proof_ref", cases.ECONFLICT},
				"another currency": {func() cases.PaymentInput {
					p := e.payment(cases.PayerBrand, 100, "2026-11", "B-1")
					p.Currency = "USD"
					return p
				}(), "currency", cases.EINVALID},
				"a month before enrolment":     {e.payment(cases.PayerBrand, 100, "2026-09", "B-2"), "month", cases.EINVALID},
				"a month after the end date":   {e.payment(cases.PayerBrand, 100, "2028-08", "B-3"), "month", cases.EINVALID},
				"nothing":                      {e.payment(cases.PayerBrand, 0, "2026-11", "B-4"), "amount", cases.EINVALID},
				"a negative amount":            {e.payment(cases.PayerBrand, -100, "2026-11", "B-5"), "amount", cases.EINVALID},
				"more than the plan could owe": {e.payment(cases.PayerBrand, 9999999, "2026-11", "B-6"), "amount", cases.EINVALID},
				"a split payer":                {e.payment(cases.PayerSplit, 100, "2026-11", "B-7"), "payer", cases.EINVALID},
			} {
				before, _, _ := ledger.CaseLedger(ctx, c.ID)
				_, err := ledger.RecordPayment(ctx, worker, c.ID, tt.in)
				if cases.ErrorCode(err) != tt.code || !slices.Contains(failureNames(err), tt.want) {
					t.Errorf("%s: %v, want %s naming %s", name, err, tt.code, tt.want)
				}
				after, _, _ := ledger.CaseLedger(ctx, c.ID)
				if !slices.Equal(before.Lines, after.Lines) {
					t.Errorf("%s changed the ledger", name)
				}
			}
			if _, err := ledger.RecordPayment(ctx, e.actor(e.OtherWorker), c.ID, e.payment(cases.PayerBrand, 100, "2026-11", "B-8")); cases.ErrorCode(err) != cases.EFORBIDDEN {
				t.Errorf("another worker recorded a payment: %v", err)
			}
			planning := e.mustReach(t, cases.StatePlanning)
			if _, err := ledger.RecordPayment(ctx, worker, planning.ID, e.payment(cases.PayerBrand, 100, "2026-11", "B-9")); !slices.Equal(failureNames(err), []string{"case"}) {
				t.Errorf("a payment without an approved plan: %v", err)
			}
		})
		// The brand may use the reference the factory used: unique per payer.
		if _, err := ledger.RecordPayment(ctx, worker, c.ID, e.payment(cases.PayerBrand, 122500, "2026-10", "BANK-001")); err != nil {
			t.Fatal(err)
		}
		// A mistaken payment for November, then its reversal.
		wrong, err := ledger.RecordPayment(ctx, worker, c.ID, e.payment(cases.PayerBrand, 48000, "2026-11", "WX-77"))
		if err != nil {
			t.Fatal(err)
		}
		rev, err := ledger.ReversePayment(ctx, worker, c.ID, wrong.ID)
		if err != nil {
			t.Fatal(err)
		}
		if rev.Amount.Amount != -48000 || rev.ReversalOf.UUID != wrong.ID || rev.Payer != cases.PayerBrand {
			t.Fatalf("reversal %+v", rev)
		}
		for name, id := range map[string]uuid.UUID{"twice": wrong.ID, "a reversal": rev.ID} {
			if _, err := ledger.ReversePayment(ctx, worker, c.ID, id); cases.ErrorCode(err) != cases.ECONFLICT {
				t.Errorf("reversing %s: %v", name, err)
			}
		}
		if _, err := ledger.ReversePayment(ctx, worker, c.ID, uuid.New()); cases.ErrorCode(err) != cases.ENOTFOUND {
			t.Errorf("reversing nothing: %v", err)
		}
		l, payments, err = ledger.CaseLedger(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(payments) != 4 || !payments[2].ReversedBy.Valid {
			t.Fatalf("%d payments, the reversed one marked %v", len(payments), payments[2].ReversedBy)
		}
		tot = totalsOf(l)
		if tot[cases.PayerFactory].Paid != 122500 || tot[cases.PayerBrand].Paid != 122500 || tot[cases.PayerBrand].Balance() != 40000 {
			t.Fatalf("totals %+v", l.Totals)
		}
		if l.UnpaidFrom == nil || *l.UnpaidFrom != (cases.Month{Year: 2026, Month: time.November}) {
			t.Fatalf("unpaid from %v, want November", l.UnpaidFrom)
		}
		// November fell due on the day the plan was approved, 3 November.
		got, _ := e.cases.FindCase(ctx, c.ID)
		if got.UnpaidDueOn == nil || !got.UnpaidDueOn.Equal(time.Date(2026, 11, 3, 0, 0, 0, 0, time.UTC)) {
			t.Fatalf("the case keeps unpaid due on %v", got.UnpaidDueOn)
		}
		// On 20 November November is late: the case is in arrears.
		late := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
		if page, err := e.cases.ListCases(ctx, cases.CaseFilter{ArrearsAsOf: late}); err != nil || len(page.Cases) != 1 || !page.Cases[0].ArrearsAsOf(late, db.Zone, db.GraceDays) {
			t.Fatalf("arrears list: %v %v", page, err)
		}
		if page, _ := e.cases.ListCases(ctx, cases.CaseFilter{ArrearsAsOf: today}); len(page.Cases) != 0 {
			t.Fatal("in arrears on 3 November, within the grace days")
		}
		// Every entry is audited.
		var recorded, reversed int
		for _, a := range actions(t, db, c.ID) {
			switch a {
			case cases.ActionPaymentRecorded:
				recorded++
			case cases.ActionPaymentReversed:
				reversed++
			}
		}
		if recorded != 3 || reversed != 1 {
			t.Fatalf("audited %d payments and %d reversals, want 3 and 1", recorded, reversed)
		}
		_ = p
	})
}

// TestLedgerFollowsThePlan: a revised plan changes what is owed from its
// approval month, never the past; an alert stops the stipend until a
// supervisor decides; a follow-up's stipend becomes a ledger entry.
func TestLedgerFollowsThePlan(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db)
		ledger := storage.NewLedgerService(db)
		at := func(d time.Time) { db.Now = func() time.Time { return d } }
		c := e.mustReach(t, cases.StateFollowUp) // approved 3 November 2026, 800 a month split 50/50
		at(time.Date(2027, 1, 12, 8, 0, 0, 0, time.UTC))
		c = e.mustTransition(t, c, e.Worker, cases.TransitionRequest{Event: cases.EventRevisePlan})
		p := completePlan()
		p.MonthlyStipend, p.Payer, p.FactorySharePct = 100000, cases.PayerBrand, 0
		c, err := e.cases.PutPlan(ctx, e.actor(e.Worker), c.ID, c.Version, p)
		if err != nil {
			t.Fatal(err)
		}
		c = e.mustTransition(t, c, e.Supervisor, cases.TransitionRequest{Event: cases.EventApprovePlan})
		l, _, err := ledger.CaseLedger(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		due := map[string]int64{}
		for _, line := range l.Lines {
			due[line.Month.String()+" "+string(line.Payer)] = line.Due
		}
		if due["2026-12 factory"] != 40000 || due["2026-12 brand"] != 40000 || due["2027-01 brand"] != 100000 || due["2027-01 factory"] != 0 {
			t.Fatalf("due %v: December under the first plan, January under the revision", due)
		}

		// A child found working again on 5 February owes nothing from February.
		at(time.Date(2027, 2, 5, 8, 0, 0, 0, time.UTC))
		paid := cases.Date(db.Now())
		if _, err := e.cases.AddFollowUp(ctx, e.actor(e.Worker), c.ID, cases.FollowUpInput{Date: paid, Contact: "visit",
			WorkingAgain: true, StipendPaid: 100000, StipendPaidOn: &paid, StipendProofRef: "FU-JAN", StipendMethod: "wechat_pay"}); err != nil {
			t.Fatal(err)
		}
		l, payments, _ := ledger.CaseLedger(ctx, c.ID)
		last := payments[len(payments)-1]
		if !last.FollowUpID.Valid || last.Payer != cases.PayerBrand || last.Method != "wechat_pay" || last.Month != (cases.Month{Year: 2027, Month: time.February}) {
			t.Fatalf("the follow-up's stipend as a ledger entry: %+v", last)
		}
		for _, line := range l.Lines {
			if line.Month == (cases.Month{Year: 2027, Month: time.March}) && line.Due != 0 {
				t.Fatal("March is owed while the child works again")
			}
		}
		at(time.Date(2027, 3, 15, 8, 0, 0, 0, time.UTC))
		c, _ = e.cases.FindCase(ctx, c.ID)
		if _, err := e.cases.ResolveAlert(ctx, e.actor(e.Supervisor), c.ID, c.Version, cases.NewNote("Back at school.")); err != nil {
			t.Fatal(err)
		}
		l, _, _ = ledger.CaseLedger(ctx, c.ID)
		owed := map[cases.Month]bool{}
		for _, line := range l.Lines {
			if line.Due > 0 {
				owed[line.Month] = true
			}
		}
		if owed[cases.Month{Year: 2027, Month: time.February}] || !owed[cases.Month{Year: 2027, Month: time.March}] {
			t.Fatalf("owed after the decision: %v; want March again, February not", owed)
		}
		// A split plan's follow-up must say who paid.
		split := e.mustReach(t, cases.StateFollowUp)
		if _, err := e.cases.AddFollowUp(ctx, e.actor(e.Worker), split.ID, cases.FollowUpInput{Date: cases.Date(db.Now()), Contact: "phone",
			StipendPaid: 100, StipendPaidOn: &paid, StipendProofRef: "X"}); !slices.Equal(failureNames(err), []string{"stipend_payer"}) {
			t.Fatalf("a split plan's stipend without a payer: %v", err)
		}
	})
}

// TestPaymentsConcurrent: two payments with one proof reference at once:
// one is recorded, the other is a conflict.
func TestPaymentsConcurrent(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db)
		ledger := storage.NewLedgerService(db)
		c := e.mustReach(t, cases.StateFollowUp)
		for round := range 5 {
			var wg sync.WaitGroup
			errs := make([]error, 2)
			ref := "RACE-" + uuid.NewString()[:8]
			for i := range 2 {
				wg.Go(func() {
					_, errs[i] = ledger.RecordPayment(ctx, e.actor(e.Worker), c.ID, e.payment(cases.PayerFactory, 100, "2026-11", ref))
				})
			}
			wg.Wait()
			ok, conflict := 0, 0
			for _, err := range errs {
				switch cases.ErrorCode(err) {
				case "":
					ok++
				case cases.ECONFLICT:
					conflict++
				default:
					t.Fatalf("round %d: %v", round, err)
				}
			}
			if ok != 1 || conflict != 1 {
				t.Fatalf("round %d: %d recorded, %d conflicts", round, ok, conflict)
			}
		}
	})
}

func TestBrandLedger(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db)
		ledger := storage.NewLedgerService(db)
		a := e.mustReach(t, cases.StateFollowUp)
		b := e.mustReach(t, cases.StateFollowUp)
		e.mustReach(t, cases.StatePlanning) // no approved plan: not in the ledger
		if _, err := ledger.RecordPayment(ctx, e.actor(e.Worker), a.ID, e.payment(cases.PayerFactory, 40000, "2026-11", "A-NOV")); err != nil {
			t.Fatal(err)
		}
		f := cases.LedgerFilter{ClientID: e.Client.ID, From: cases.Month{Year: 2026, Month: time.October}, To: cases.Month{Year: 2026, Month: time.December}}
		bl, err := ledger.BrandLedger(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		if len(bl.Cases) != 0 || len(bl.Months) != 3 {
			t.Fatalf("%d cases' lines (none asked for), %d months", len(bl.Cases), len(bl.Months))
		}
		withLines := f
		withLines.WithLines = true
		wl, err := ledger.BrandLedger(ctx, withLines)
		if err != nil {
			t.Fatal(err)
		}
		if len(wl.Cases) != 2 || wl.Cases[0].Code > wl.Cases[1].Code || len(wl.Cases[0].Lines) != 6 {
			t.Fatalf("lines: %d cases, first with %d lines (3 months, 2 payers)", len(wl.Cases), len(wl.Cases[0].Lines))
		}
		var novFactory cases.LedgerLine
		for _, l := range bl.Months[1].Lines {
			if l.Payer == cases.PayerFactory {
				novFactory = l
			}
		}
		if novFactory.Due != 80000 || novFactory.Paid != 40000 {
			t.Fatalf("November, factory: %+v (two cases at 400, one paid)", novFactory)
		}
		_ = b
		if _, err := ledger.BrandLedger(ctx, cases.LedgerFilter{ClientID: e.Client.ID, From: f.To, To: f.From}); cases.ErrorCode(err) != cases.EINVALID {
			t.Fatalf("a range backwards: %v", err)
		}
		empty, err := ledger.BrandLedger(ctx, cases.LedgerFilter{ClientID: e.OtherClient.ID, From: f.From, To: f.To})
		if err != nil || len(empty.Cases) != 0 {
			t.Fatalf("another brand's ledger: %v, %v", empty, err)
		}
	})
}

// TestBrandLedgerAddsUp: after payments, a reversal, a revised plan, an
// alert and a closure, the brand's summary is exactly the sum of its cases'
// own ledgers, month by month and in total, arrears and credit included.
func TestBrandLedgerAddsUp(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db)
		ledger := storage.NewLedgerService(db)
		at := func(d time.Time) { db.Now = func() time.Time { return d } }
		worker := e.actor(e.Worker)
		a := e.mustReach(t, cases.StateFollowUp)
		b := e.mustReach(t, cases.StateFollowUp)
		c := e.mustReach(t, cases.StateFollowUp)
		pay := func(id uuid.UUID, p cases.PaymentInput) *cases.Payment {
			t.Helper()
			got, err := ledger.RecordPayment(ctx, worker, id, p)
			if err != nil {
				t.Fatal(err)
			}
			return got
		}
		pay(a.ID, e.payment(cases.PayerFactory, 122500, "2026-10", "A-1"))
		pay(a.ID, e.payment(cases.PayerBrand, 150000, "2026-10", "A-2")) // 27,500 too much
		wrong := pay(b.ID, e.payment(cases.PayerBrand, 40000, "2026-11", "B-1"))
		if _, err := ledger.ReversePayment(ctx, worker, b.ID, wrong.ID); err != nil {
			t.Fatal(err)
		}
		at(time.Date(2026, 12, 20, 8, 0, 0, 0, time.UTC))
		b = e.mustTransition(t, b, e.Worker, cases.TransitionRequest{Event: cases.EventRevisePlan})
		p := completePlan()
		p.MonthlyStipend = 90000
		b, err := e.cases.PutPlan(ctx, worker, b.ID, b.Version, p)
		if err != nil {
			t.Fatal(err)
		}
		e.mustTransition(t, b, e.Supervisor, cases.TransitionRequest{Event: cases.EventApprovePlan})
		if _, err := e.cases.AddFollowUp(ctx, worker, c.ID, cases.FollowUpInput{Date: cases.Date(db.Now()), Contact: "visit", WorkingAgain: true}); err != nil {
			t.Fatal(err)
		}
		a, _ = e.cases.FindCase(ctx, a.ID)
		e.mustTransition(t, a, e.Supervisor, cases.TransitionRequest{Event: cases.EventClose, Outcome: cases.OutcomeLostContact})

		at(time.Date(2027, 2, 15, 8, 0, 0, 0, time.UTC))
		f := cases.LedgerFilter{ClientID: e.Client.ID, From: cases.Month{Year: 2026, Month: time.October}, To: cases.Month{Year: 2027, Month: time.March}}
		bl, err := ledger.BrandLedger(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		wantMonths := map[string]int64{}
		wantTotals := map[string]int64{}
		var inArrears []string
		for _, c := range []*cases.Case{a, b, c} {
			l, _, err := ledger.CaseLedger(ctx, c.ID)
			if err != nil {
				t.Fatal(err)
			}
			for _, line := range l.Lines {
				if !line.Month.Before(f.From) && !f.To.Before(line.Month) {
					wantMonths[line.Month.String()+" "+string(line.Payer)+" due"] += line.Due
					wantMonths[line.Month.String()+" "+string(line.Payer)+" paid"] += line.Paid
				}
			}
			for _, tot := range l.Totals {
				for k, v := range map[string]int64{"due": tot.Due, "paid": tot.Paid, "arrears": tot.Arrears, "credit": tot.Credit} {
					wantTotals[string(tot.Payer)+" "+k] += v
				}
			}
			if l.ArrearsSince != nil {
				inArrears = append(inArrears, c.Code)
			}
		}
		gotMonths := map[string]int64{}
		for _, m := range bl.Months {
			for _, line := range m.Lines {
				gotMonths[line.Month.String()+" "+string(line.Payer)+" due"] += line.Due
				gotMonths[line.Month.String()+" "+string(line.Payer)+" paid"] += line.Paid
			}
		}
		gotTotals := map[string]int64{}
		for _, tot := range bl.Totals {
			for k, v := range map[string]int64{"due": tot.Due, "paid": tot.Paid, "arrears": tot.Arrears, "credit": tot.Credit} {
				gotTotals[string(tot.Payer)+" "+k] += v
			}
		}
		for k, v := range wantMonths {
			if gotMonths[k] != v {
				t.Errorf("month %s: summary %d, cases %d", k, gotMonths[k], v)
			}
		}
		for k, v := range wantTotals {
			if gotTotals[k] != v {
				t.Errorf("total %s: summary %d, cases %d", k, gotTotals[k], v)
			}
		}
		if wantTotals["brand credit"] == 0 || wantTotals["factory arrears"] == 0 {
			t.Fatalf("the scenario has no credit or no arrears to compare: %v", wantTotals)
		}
		var got []string
		for _, c := range bl.InArrears {
			got = append(got, c.Code)
		}
		slices.Sort(inArrears)
		if !slices.Equal(got, inArrears) {
			t.Fatalf("in arrears %v, the cases say %v", got, inArrears)
		}
	})
}

// TestPaymentsOfOneCaseAtOnce: payments recorded on one case at the same
// moment, with follow-ups that pay a stipend among them, all reach the
// case's stored ledger and its brand's summary: none refreshes the ledger
// from what it read before another committed.
func TestPaymentsOfOneCaseAtOnce(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db)
		ledger := storage.NewLedgerService(db)
		c := e.mustReach(t, cases.StateFollowUp)
		const n = 8
		paidOn := cases.Date(db.Now())
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				ref := "AT-ONCE-" + uuid.NewString()[:8]
				if i%2 == 0 {
					_, errs[i] = ledger.RecordPayment(ctx, e.actor(e.Worker), c.ID, e.payment(cases.PayerFactory, 1000, "2026-11", ref))
					return
				}
				_, errs[i] = e.cases.AddFollowUp(ctx, e.actor(e.Worker), c.ID, cases.FollowUpInput{Date: paidOn, Contact: "phone",
					StipendPaid: 1000, StipendPayer: cases.PayerFactory, StipendPaidOn: &paidOn, StipendProofRef: ref})
			})
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("writer %d: %v", i, err)
			}
		}
		computed, _, err := ledger.CaseLedger(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got := totalsOf(computed)[cases.PayerFactory].Paid; got != n*1000 {
			t.Fatalf("the payments add up to %d, want %d", got, n*1000)
		}
		bl, err := ledger.BrandLedger(ctx, cases.LedgerFilter{ClientID: e.Client.ID, WithLines: true,
			From: cases.Month{Year: 2026, Month: time.October}, To: cases.Month{Year: 2026, Month: time.December}})
		if err != nil {
			t.Fatal(err)
		}
		var summary int64
		for _, tot := range bl.Totals {
			if tot.Payer == cases.PayerFactory {
				summary += tot.Paid
			}
		}
		if summary != n*1000 {
			t.Errorf("the brand's summary has %d paid by the factory, want %d", summary, n*1000)
		}
		var stored int64
		for _, bc := range bl.Cases {
			for _, l := range bc.Lines {
				if l.Payer == cases.PayerFactory {
					stored += l.Paid
				}
			}
		}
		if stored != n*1000 {
			t.Errorf("the case's stored lines have %d paid by the factory, want %d", stored, n*1000)
		}
	})
}
