package reports

import (
	"fmt"
	"time"

	"github.com/google/uuid"

	cases "github.com/remedy-cases/remedy/case"
)

// Canaries: identity and note values that must never reach figures or a PDF.
// The histories below carry them where storage could have put them.
const (
	canaryName     = "CANARY-NAME-李小明"
	canaryNote     = "CANARY-NOTE-worked nights"
	canaryReason   = "CANARY-REASON-father moved"
	canaryIDNumber = "CANARY-440101201201010011"
)

var shanghai = mustZone("Asia/Shanghai")

func mustZone(name string) *time.Location {
	z, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return z
}

func date(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return t
}

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

// history builds a case's history step by step, as the workflow would.
type history struct{ h *cases.CaseHistory }

func newCase(code, factory, filed string, gender cases.Gender, age int) *history {
	a := age
	c := &cases.Case{
		ID: uuid.NewSHA1(uuid.NameSpaceOID, []byte(code)), Code: code, State: cases.StateIntake,
		FactoryID: uuid.NewSHA1(uuid.NameSpaceOID, []byte(factory)),
		Gender:    gender, AgeAtFound: &a, CreatedAt: at(filed), FoundOn: cases.Date(at(filed)),
	}
	return &history{&cases.CaseHistory{Case: c, Factory: factory}}
}

func (b *history) to(event cases.Event, state cases.State, when string, outcome cases.Outcome) *history {
	t := &cases.Transition{Event: event, From: b.h.Case.State, To: state, At: at(when), Outcome: outcome,
		Reason: cases.NewNote(canaryReason)}
	b.h.Transitions = append(b.h.Transitions, t)
	b.h.Case.State, b.h.Case.Outcome = state, outcome
	if event == cases.EventApprovePlan && b.h.Case.FirstPlanApprovedAt == nil {
		approved := at(when)
		b.h.Case.FirstPlanApprovedAt = &approved
	}
	if state == cases.StateClosed {
		closed := at(when)
		b.h.Case.ClosedAt = &closed
	}
	return b
}

// contacted records the first contact with the child.
func (b *history) contacted(when string) *history {
	c := at(when)
	b.h.Case.FirstContactAt = &c
	return b
}

// followUpFrom walks a case into follow-up on day, with a plan enrolling
// that day, its stipend owed from that month (a split is 50/50).
func (b *history) followUpFrom(when string, payer cases.Payer, stipend int64) *history {
	b.h.Case.Plan = &cases.Plan{Currency: "CNY", MonthlyStipend: stipend, Payer: payer, School: canaryNote}
	share := 0
	if payer == cases.PayerSplit {
		share = 50
	}
	b.h.Ledger = &cases.LedgerInput{Versions: []cases.PlanVersion{{ApprovedAt: at(when), EnrolmentDate: cases.Date(at(when)),
		EndDate: date("2028-07-31"), Currency: "CNY", MonthlyStipend: stipend, Payer: payer, FactorySharePct: share}}}
	return b.to(cases.EventBeginVerification, cases.StateVerification, when, "").
		to(cases.EventConfirmChildLabour, cases.StatePlanning, when, "").
		to(cases.EventApprovePlan, cases.StateFollowUp, when, "")
}

func (b *history) visit(on string, attending bool, paid int64) *history {
	c := b.h.Case
	fu := &cases.FollowUp{CaseID: c.ID, Date: date(on), Contact: "visit", AttendingSchool: attending,
		Concerns: cases.NewNote(canaryNote)}
	if paid > 0 {
		paidOn := date(on)
		fu.StipendPaid = cases.Money{Amount: paid, Currency: c.Plan.Currency}
		fu.StipendPayer = c.Plan.Payer
		fu.StipendPaidOn = &paidOn
		// The ledger's entries: a split plan's payment is both payers' shares.
		v := b.h.Ledger.Versions[0]
		factory, brand := cases.Split(paid, v.Payer, v.FactorySharePct)
		for _, share := range []struct {
			payer  cases.Payer
			amount int64
		}{{cases.PayerFactory, factory}, {cases.PayerBrand, brand}} {
			if share.amount > 0 {
				b.h.Ledger.Payments = append(b.h.Ledger.Payments, &cases.Payment{CaseID: c.ID, Payer: share.payer,
					Amount: cases.Money{Amount: share.amount, Currency: "CNY"}, PaidOn: paidOn, Month: cases.MonthOf(paidOn),
					ProofRef: canaryNote})
			}
		}
	}
	b.h.FollowUps = append(b.h.FollowUps, fu)
	last := fu.Date
	c.LastFollowUp = &last
	return b
}

// october2026 is a brand's October 2026: a case of every kind the figures
// distinguish, and one filed after the month.
func october2026() []*cases.CaseHistory {
	const (
		dongguan = "东莞市华达电子厂"
		suzhou   = "苏州丰利纺织有限公司"
	)
	hs := []*history{
		// In follow-up since March, seen in October, paid by the brand.
		newCase("CL-2025-0107", dongguan, "2025-12-05T02:00:00Z", cases.GenderFemale, 14).
			followUpFrom("2026-03-01T03:00:00Z", cases.PayerBrand, 80000).
			visit("2026-08-10", true, 80000).visit("2026-09-09", true, 80000).visit("2026-10-08", true, 80000),
		// In follow-up since August, not seen in October: overdue.
		newCase("CL-2026-0003", suzhou, "2026-07-01T02:00:00Z", cases.GenderMale, 15).
			followUpFrom("2026-08-03T03:00:00Z", cases.PayerFactory, 60000).
			visit("2026-09-12", false, 60000),
		// Closed completed on 20 October after a last visit, paid by the factory.
		newCase("CL-2026-0001", dongguan, "2026-01-04T02:00:00Z", cases.GenderMale, 15).
			followUpFrom("2026-06-01T03:00:00Z", cases.PayerFactory, 60000).
			visit("2026-09-05", true, 60000).visit("2026-10-05", true, 60000).
			to(cases.EventClose, cases.StateClosed, "2026-10-20T08:00:00Z", cases.OutcomeCompleted),
		// Dismissed in October: 16 at the date found. Met 18 hours after the report.
		newCase("CL-2026-0011", suzhou, "2026-10-02T02:00:00Z", cases.GenderFemale, 16).contacted("2026-10-02T20:00:00Z").
			to(cases.EventBeginVerification, cases.StateVerification, "2026-10-03T02:00:00Z", "").
			to(cases.EventDismiss, cases.StateClosed, "2026-10-09T02:00:00Z", cases.OutcomeNotChildLabour),
		// Filed in October, still in intake, never met: its 72 hours ran out on 18 October.
		newCase("CL-2026-0012", dongguan, "2026-10-15T02:00:00Z", cases.GenderUnknown, 13),
		// Filed on 31 October 23:30 UTC, which is 1 November in Shanghai: not this month.
		newCase("CL-2026-0013", dongguan, "2026-10-31T23:30:00Z", cases.GenderMale, 12),
		// Closed in August: counted as closed, absent from the table.
		newCase("CL-2026-0002", suzhou, "2026-02-01T02:00:00Z", cases.GenderFemale, 13).
			to(cases.EventBeginVerification, cases.StateVerification, "2026-02-02T02:00:00Z", "").
			to(cases.EventDismiss, cases.StateClosed, "2026-08-15T02:00:00Z", cases.OutcomeNotChildLabour),
		// Entered follow-up on 12 October: due this month (from the month of
		// approval), its plan approved 22 days after the report; a planning
		// case whose approval came on 1 November Shanghai time, after its
		// 30 days ran out on 25 October.
		newCase("CL-2026-0009", suzhou, "2026-09-20T02:00:00Z", cases.GenderMale, 14).
			followUpFrom("2026-10-12T03:00:00Z", cases.PayerSplit, 70000).
			visit("2026-10-25", false, 35000),
		newCase("CL-2026-0010", dongguan, "2026-09-25T02:00:00Z", cases.GenderFemale, 14).
			to(cases.EventBeginVerification, cases.StateVerification, "2026-09-26T02:00:00Z", "").
			to(cases.EventConfirmChildLabour, cases.StatePlanning, "2026-10-01T02:00:00Z", "").
			to(cases.EventApprovePlan, cases.StateFollowUp, "2026-10-31T16:30:00Z", ""),
	}
	return histories(hs)
}

// histories finishes the builders: a ledger knows its case's closures.
func histories(hs []*history) []*cases.CaseHistory {
	out := make([]*cases.CaseHistory, len(hs))
	for i, h := range hs {
		if h.h.Ledger != nil {
			h.h.Ledger.Transitions = h.h.Transitions
		}
		out[i] = h.h
	}
	return out
}

// manyCases is a brand with n cases over two years, for benchmarks and the
// page-break test.
func manyCases(n int) []*cases.CaseHistory {
	factories := []string{"东莞市华达电子厂", "苏州丰利纺织有限公司", "泉州鸿运鞋业有限公司", "Shenzhen Bright Toys Co."}
	out := make([]*cases.CaseHistory, 0, n)
	start := at("2024-11-01T02:00:00Z")
	for i := range n {
		filed := start.Add(time.Duration(i) * 700 * time.Hour / time.Duration(max(n/24, 1)))
		b := newCase(fmt.Sprintf("CL-%d-%04d", filed.Year(), i+1), factories[i%len(factories)],
			filed.Format(time.RFC3339), cases.Genders[i%2], 12+i%4)
		if i%5 != 0 && filed.Before(at("2026-09-01T00:00:00Z")) {
			b.followUpFrom(filed.AddDate(0, 0, 20).Format(time.RFC3339), cases.Payers[i%3], 50000+int64(i%7)*5000)
			for m := cases.MonthOf(filed).Add(2); m.Before(cases.Month{Year: 2026, Month: time.November}); m = m.Add(1) {
				if (i+int(m.Month))%9 != 0 {
					b.visit(m.Start().AddDate(0, 0, 9).Format(time.DateOnly), i%6 != 0, b.h.Case.Plan.MonthlyStipend)
				}
			}
			if i%7 == 0 {
				b.to(cases.EventClose, cases.StateClosed, "2026-10-21T05:00:00Z", cases.Outcomes[i%len(cases.Outcomes)])
			}
		}
		if b.h.Ledger != nil {
			b.h.Ledger.Transitions = b.h.Transitions
		}
		out = append(out, b.h)
	}
	return out
}
