package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"text/tabwriter"
	"time"

	"github.com/google/uuid"

	"github.com/remedy-cases/remedy/api"
	cases "github.com/remedy-cases/remedy/case"
	"github.com/remedy-cases/remedy/storage"
)

// The demo's people and places. Everything is invented.
var (
	demoClients   = []string{"Northwind Outfitters", "华彩童装集团 Huacai Kids Apparel"}
	demoFactories = []cases.NewFactory{
		{Name: "东莞华美制衣厂", NameEn: "Dongguan Huamei Garments", Province: "广东", City: "东莞"},
		{Name: "深圳新达电子厂", NameEn: "Shenzhen Xinda Electronics", Province: "广东", City: "深圳"},
		{Name: "苏州锦绣纺织有限公司", NameEn: "Suzhou Jinxiu Textiles Co., Ltd.", Province: "江苏", City: "苏州"},
		{Name: "无锡恒通玩具厂", NameEn: "Wuxi Hengtong Toys", Province: "江苏", City: "无锡"},
		{Name: "泉州鸿运鞋业有限公司", NameEn: "Quanzhou Hongyun Shoes Co., Ltd.", Province: "福建", City: "泉州"},
		{Name: "莆田安步制鞋厂", Province: "福建", City: "莆田"},
	}
	demoSurnames = []string{"王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周"}
	demoGiven    = []string{"小红", "明", "婷婷", "伟", "芳", "强", "丽", "军", "静", "磊", "雪", "浩"}
	demoSchools  = []string{"Xinhua Middle School", "Hongxing Junior High", "Yucai Middle School No. 2"}
)

// demoPlan is how far each demo case goes, and how it ends.
type demoPlan struct {
	state   cases.State
	outcome cases.Outcome // for closed cases
	// The paths of case work a newcomer should meet in the demo.
	fromPlanning bool // closed before its plan was approved
	reopened     bool // dismissed, then reopened into verification
	pastEnd      bool // in follow-up past its plan's end date: due to close
	missed       bool // a month in the middle went without a follow-up
	alert        bool // the last follow-up found the child working again
	lateContact  bool // first met more than 72 hours after the report
	arrears      bool // the stipend of the last two months is unpaid
	overpaid     bool // the brand paid more than its share one month
}

// seedDemo fills an empty database with two brands, six factories, one user
// of each role (two case workers) and 40 cases in every state, with plans
// and months of follow-ups. It walks each case through the real services at
// past times, so the data obeys every rule a live case does.
func (m *Main) seedDemo(ctx context.Context, db *storage.DB, password string) error {
	clients := storage.NewClientService(db)
	existing, err := clients.ListClients(ctx)
	if err != nil {
		return err
	}
	if len(existing) > 0 {
		fmt.Fprintln(m.Stdout, "demo: the database is not empty; nothing seeded")
		return nil
	}
	realNow := db.Now
	defer func() { db.Now = realNow }()
	today := realNow().UTC()
	rng := rand.New(rand.NewPCG(2026, 11))
	sys := cases.SystemActor

	var brands []*cases.Client
	for _, name := range demoClients {
		c, err := clients.CreateClient(ctx, sys, cases.NewClient{Name: name})
		if err != nil {
			return err
		}
		contact := fmt.Sprintf("compliance@brand%d.demo.remedy", len(brands)+1)
		if err := storage.NewReportService(db).SetReportContacts(ctx, sys, c.ID, []string{contact}); err != nil {
			return err
		}
		brands = append(brands, c)
	}
	var factories []*cases.Factory
	for i, f := range demoFactories {
		// Every factory supplies the first brand; every other one the second too.
		f.ClientIDs = []uuid.UUID{brands[0].ID}
		if i%2 == 0 {
			f.ClientIDs = append(f.ClientIDs, brands[1].ID)
		}
		fac, err := storage.NewFactoryService(db).CreateFactory(ctx, sys, f)
		if err != nil {
			return err
		}
		factories = append(factories, fac)
	}

	users := storage.NewUserService(db)
	type login struct{ email, password string }
	var logins []login
	user := func(role cases.Role, email, name string, client *cases.Client) (*cases.User, error) {
		pw := password
		if pw == "" {
			pw = api.NewPassword()
		}
		hash, err := api.HashPassword(pw)
		if err != nil {
			return nil, err
		}
		n := cases.NewUser{Email: email, Name: name, Role: role, PasswordHash: hash}
		if client != nil {
			n.ClientID.UUID, n.ClientID.Valid = client.ID, true
		}
		u, err := users.CreateUser(ctx, sys, n)
		if err == nil {
			logins = append(logins, login{email, pw})
		}
		return u, err
	}
	admin, err := user(cases.RoleAdmin, "admin@demo.remedy", "Demo Admin", nil)
	if err != nil {
		return err
	}
	_ = admin
	auditor, err := user(cases.RoleAuditor, "auditor@demo.remedy", "Demo Auditor", nil)
	if err != nil {
		return err
	}
	supervisor, err := user(cases.RoleSupervisor, "supervisor@demo.remedy", "Demo Supervisor", nil)
	if err != nil {
		return err
	}
	var workers []*cases.User
	for i := 1; i <= 2; i++ {
		w, err := user(cases.RoleCaseWorker, fmt.Sprintf("caseworker%d@demo.remedy", i), fmt.Sprintf("Demo Case Worker %d", i), nil)
		if err != nil {
			return err
		}
		workers = append(workers, w)
	}
	for i, b := range brands {
		if _, err := user(cases.RoleClient, fmt.Sprintf("brand%d@demo.remedy", i+1), "Compliance, "+b.Name, b); err != nil {
			return err
		}
	}

	var plans []demoPlan
	add := func(n int, p demoPlan) {
		for range n {
			plans = append(plans, p)
		}
	}
	add(5, demoPlan{state: cases.StateIntake})
	add(3, demoPlan{state: cases.StateVerification})
	add(1, demoPlan{state: cases.StateVerification, reopened: true})
	add(1, demoPlan{state: cases.StateVerification, lateContact: true})
	add(5, demoPlan{state: cases.StatePlanning})
	add(1, demoPlan{state: cases.StateClosed, outcome: cases.OutcomeRefused, fromPlanning: true})
	add(7, demoPlan{state: cases.StateFollowUp})
	add(2, demoPlan{state: cases.StateFollowUp, arrears: true})
	add(1, demoPlan{state: cases.StateFollowUp, overpaid: true})
	add(2, demoPlan{state: cases.StateFollowUp, missed: true})
	add(1, demoPlan{state: cases.StateFollowUp, pastEnd: true})
	add(1, demoPlan{state: cases.StateFollowUp, alert: true})
	add(4, demoPlan{state: cases.StateClosed, outcome: cases.OutcomeCompleted})
	add(3, demoPlan{state: cases.StateClosed, outcome: cases.OutcomeNotChildLabour})
	add(2, demoPlan{state: cases.StateClosed, outcome: cases.OutcomeLostContact})
	add(1, demoPlan{state: cases.StateClosed, outcome: cases.OutcomeReturnedToWork})
	rng.Shuffle(len(plans), func(i, j int) { plans[i], plans[j] = plans[j], plans[i] })

	svc := storage.NewCaseService(db)
	w := demoWalk{svc: svc, ledger: storage.NewLedgerService(db), db: db, rng: rng, today: today, auditor: auditor, supervisor: supervisor, factories: factories}
	for i, p := range plans {
		worker := workers[i%len(workers)]
		if err := w.walk(ctx, p, brands[i%len(brands)], factories[rng.IntN(len(factories))], worker); err != nil {
			return fmt.Errorf("demo case %d: %w", i+1, err)
		}
	}

	tw := tabwriter.NewWriter(m.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "demo: seeded %d brands, %d factories, %d cases. Sign in as:\n", len(brands), len(factories), len(plans))
	for _, l := range logins {
		fmt.Fprintf(tw, "  %s\t%s\n", l.email, l.password)
	}
	fmt.Fprintln(tw, "(passwords are shown once)")
	return tw.Flush()
}

// demoWalk moves one demo case through the workflow at simulated past times.
type demoWalk struct {
	svc                 *storage.CaseService
	ledger              *storage.LedgerService
	db                  *storage.DB
	rng                 *rand.Rand
	intakes             int // cases left in intake so far: every other one is assigned
	today               time.Time
	auditor, supervisor *cases.User
	factories           []*cases.Factory
}

func (w *demoWalk) walk(ctx context.Context, p demoPlan, brand *cases.Client, factory *cases.Factory, worker *cases.User) error {
	if !slices.Contains(factory.ClientIDs, brand.ID) {
		factory = w.factories[0] // the first factory supplies every brand
	}
	rng := w.rng
	// The further the case goes, the earlier it was found.
	monthsAgo := map[cases.State]int{cases.StateIntake: 0, cases.StateVerification: 0, cases.StatePlanning: 1,
		cases.StateFollowUp: 2 + rng.IntN(9), cases.StateClosed: 3 + rng.IntN(9)}[p.state]
	if p.reopened || p.fromPlanning {
		monthsAgo = 2
	}
	if p.pastEnd || p.missed {
		monthsAgo = 6 + rng.IntN(3)
	}
	found := cases.Date(w.today.AddDate(0, -monthsAgo, -1-rng.IntN(20)))
	at := found
	clock := func(days int) {
		at = at.Add(time.Duration(days)*24*time.Hour + time.Duration(8+rng.IntN(9))*time.Hour)
		if at.After(w.today) {
			at = w.today
		}
		w.db.Now = func() time.Time { return at }
	}
	clock(0)

	ageAtFound := 13 + rng.IntN(3)
	if p.outcome == cases.OutcomeNotChildLabour {
		ageAtFound = 16
	}
	if p.missed || p.alert || p.arrears || p.overpaid {
		ageAtFound = 13 // years of follow-up ahead: not past the end date
	}
	presence := cases.PresenceEmployed
	if p.reopened {
		presence = cases.PresenceAccompanying // filed as a worker's child, found on the payroll later
	}
	birth := found.AddDate(-ageAtFound, -rng.IntN(11), -rng.IntN(27))
	claimed := birth.AddDate(-2, 0, 0) // a borrowed card claims an adult
	name := demoSurnames[rng.IntN(len(demoSurnames))] + demoGiven[rng.IntN(len(demoGiven))]
	c, err := w.svc.FileCase(ctx, w.auditor.Actor(), cases.Report{
		ClientID: brand.ID, FactoryID: factory.ID, FoundOn: found,
		Gender: []cases.Gender{cases.GenderFemale, cases.GenderMale}[rng.IntN(2)], Presence: presence,
		Job:     []string{"thread trimming", "packing", "sole gluing", "quality check"}[rng.IntN(4)],
		Hazards: []string{"long_hours", "machinery"}, HoursPerWeek: 55 + rng.IntN(20),
		MonthlyWage: cases.Money{Amount: int64(250000 + rng.IntN(80000)), Currency: "CNY"},
		Recruitment: "borrowed_id", RemovedFromWork: true, ChildSafe: true,
		OtherChildrenFound: rng.IntN(3), LabourAgent: []cases.Answer{cases.AnswerYes, cases.AnswerNo, cases.AnswerUnknown}[rng.IntN(3)],
		FactoryConsent: cases.AnswerYes,
		Identity: cases.Identity{FullName: name, ClaimedBirthDate: &claimed, IDDocumentType: "id_card",
			IDNumber: fmt.Sprintf("3505%014d", rng.Int64N(1e14)), IDSuspected: "borrowed", Hometown: "四川省 凉山州",
			Guardians: []cases.Guardian{{Name: demoSurnames[rng.IntN(len(demoSurnames))] + "某", Relation: "mother", Phone: "139" + fmt.Sprintf("%08d", rng.IntN(1e8))}}},
		Narrative: cases.NewNote("Found during the audit; the ID card shown belongs to an older cousin."),
	})
	if err != nil {
		return err
	}
	step := func(next *cases.Case, err error) error {
		if err == nil {
			c = next
		}
		return err
	}
	fire := func(u *cases.User, req cases.TransitionRequest) error {
		next, _, err := w.svc.Transition(ctx, u.Actor(), c.ID, c.Version, req)
		return step(next, err)
	}
	if p.state == cases.StateIntake {
		// Every other one, not a random draw: the draws before depend on
		// today's date, and the demo must always have unassigned cases.
		if w.intakes++; w.intakes%2 == 0 {
			clock(1)
			return step(w.svc.Assign(ctx, w.supervisor.Actor(), c.ID, c.Version, worker.ID))
		}
		return nil
	}
	clock(1)
	if err := step(w.svc.Assign(ctx, w.supervisor.Actor(), c.ID, c.Version, worker.ID)); err != nil {
		return err
	}
	// The case worker meets the child within a day of the assignment, or,
	// for one case, four days after the report: a breach of the 72 hours.
	contacted := at.Add(time.Duration(2+rng.IntN(10)) * time.Hour)
	if p.lateContact {
		contacted = c.CreatedAt.Add(96 * time.Hour)
	}
	clock(1)
	if contacted.After(at) {
		at = contacted
	}
	if err := step(w.svc.ConfirmRemoval(ctx, worker.Actor(), c.ID, c.Version,
		cases.Removal{RemovedFromWork: true, ChildSafe: true, ChildContactedAt: &contacted})); err != nil {
		return err
	}
	if err := fire(worker, cases.TransitionRequest{Event: cases.EventBeginVerification}); err != nil {
		return err
	}
	if p.reopened {
		clock(2)
		if err := fire(worker, cases.TransitionRequest{Event: cases.EventDismiss,
			Reason: cases.NewNote("Her mother works on the line; she was waiting for her after school.")}); err != nil {
			return err
		}
		clock(9)
		return fire(w.supervisor, cases.TransitionRequest{Event: cases.EventReopenDismissed,
			Reason: cases.NewNote("The factory's payroll lists her since June: she was employed.")})
	}
	if p.state == cases.StateVerification {
		return nil
	}
	clock(5)
	contactedOn := cases.Date(at.AddDate(0, 0, -1))
	err = step(w.svc.RecordVerification(ctx, worker.Actor(), c.ID, c.Version, cases.Verification{
		Method: "household_register", VerifiedBirthDate: birth, GuardiansContacted: true,
		GuardiansContactedOn: &contactedOn, GuardiansContactMethod: []string{"visit", "phone"}[rng.IntN(2)],
		Notes:       cases.NewNote("The household register confirms the date of birth; the mother was reached by phone."),
		ChildWishes: cases.NewNote("Wants to go back to school near her grandmother and finish junior middle school."),
	}))
	if err != nil {
		return err
	}
	clock(1)
	if p.outcome == cases.OutcomeNotChildLabour {
		return fire(worker, cases.TransitionRequest{Event: cases.EventDismiss, Reason: cases.NewNote("Verified as 16 at the date found.")})
	}
	if err := fire(worker, cases.TransitionRequest{Event: cases.EventConfirmChildLabour}); err != nil {
		return err
	}
	clock(4)
	consent := cases.Date(at)
	payer := []cases.Payer{cases.PayerFactory, cases.PayerBrand, cases.PayerSplit}[rng.IntN(3)]
	share := 0
	if payer == cases.PayerSplit {
		share = 50
	}
	enrolment := cases.Date(at.AddDate(0, 0, 7))
	var end time.Time // the default: 16th birthday or the end of grade 9
	if p.pastEnd {
		end = cases.MinEndDate(enrolment).AddDate(0, 3, 0)
	}
	err = step(w.svc.PutPlan(ctx, worker.Actor(), c.ID, c.Version, cases.PlanInput{
		School: demoSchools[rng.IntN(len(demoSchools))], Grade: fmt.Sprint(6 + ageAtFound - 12),
		EnrolmentDate: enrolment, Currency: "CNY", TuitionCost: 120000, TravelCost: 45000,
		MonthlyStipend: int64(80000 + 10000*rng.IntN(4)), Payer: payer, FactorySharePct: share,
		GuardianConsent: true, ConsentDate: &consent, EndDate: end,
	}))
	if err != nil || p.state == cases.StatePlanning {
		return err
	}
	if p.fromPlanning {
		clock(10)
		return fire(w.supervisor, cases.TransitionRequest{Event: cases.EventClose, Outcome: p.outcome,
			Reason: cases.NewNote("The family took her back to Guizhou and declined the plan.")})
	}
	clock(2)
	if err := fire(w.supervisor, cases.TransitionRequest{Event: cases.EventApprovePlan}); err != nil {
		return err
	}
	// A follow-up in every month from the approval's on, a few days into
	// the month (or after the approval), until today; cases that "missed"
	// skip their third month, and cases past their end date stop at it.
	approved := cases.Today(at, w.db.Zone)
	months := 0
	for m := cases.MonthOf(approved); !cases.MonthOf(w.today).Before(m); m = m.Add(1) {
		months++
		day := m.Start().AddDate(0, 0, 2+rng.IntN(10))
		if day.Before(approved) {
			day = approved
		}
		if day.After(w.today) {
			day = cases.Date(w.today)
		}
		if p.pastEnd && day.After(*c.PlanEndOn) {
			break
		}
		if p.missed && months == 3 {
			continue
		}
		if p.state == cases.StateClosed && day.After(w.today.AddDate(0, -1, 0)) {
			break
		}
		last := m == cases.MonthOf(w.today)
		at = day.Add(10 * time.Hour)
		w.db.Now = func() time.Time { return at }
		paidOn := day
		concerns := "No concerns; the child says school is going well."
		if p.alert && last {
			concerns = "Seen at a workshop in the same district on a school day; her uncle found her the job."
		}
		// The stipend of a month from enrolment on, with the one-off costs
		// in the first: recorded with the follow-up when one payer pays it
		// all, as entries of their own when the plan splits it.
		factoryShare, brandShare := cases.Split(c.Plan.MonthlyStipend, c.Plan.Payer, c.Plan.FactorySharePct)
		if m == cases.MonthOf(c.Plan.EnrolmentDate) {
			f, b := cases.Split(c.Plan.TuitionCost+c.Plan.TravelCost, c.Plan.Payer, c.Plan.FactorySharePct)
			factoryShare, brandShare = factoryShare+f, brandShare+b
		}
		if p.overpaid && months == 2 {
			brandShare += 20000 // a transfer typed with one zero too many, partly
		}
		pays := !m.Before(cases.MonthOf(c.Plan.EnrolmentDate)) && !cases.MonthOf(c.Plan.EndDate).Before(m) &&
			!(p.arrears && !m.Before(cases.MonthOf(w.today).Add(-1)))
		in := cases.FollowUpInput{
			Date: day, Contact: []cases.Contact{"visit", "phone", "video"}[rng.IntN(3)],
			AttendingSchool: p.outcome != cases.OutcomeReturnedToWork && !(p.alert && last), AttendancePct: ptr(85 + rng.IntN(16)),
			WorkingAgain: p.alert && last, Concerns: cases.NewNote(concerns),
		}
		if pays && c.Plan.Payer != cases.PayerSplit {
			in.StipendPaid, in.StipendPaidOn = factoryShare+brandShare, &paidOn
			in.StipendProofRef, in.StipendMethod = fmt.Sprintf("TX-%06d", rng.IntN(1e6)), "bank_transfer"
		}
		if _, err := w.svc.AddFollowUp(ctx, worker.Actor(), c.ID, in); err != nil {
			return err
		}
		if pays && c.Plan.Payer == cases.PayerSplit {
			for _, share := range []struct {
				payer  cases.Payer
				amount int64
			}{{cases.PayerFactory, factoryShare}, {cases.PayerBrand, brandShare}} {
				_, err := w.ledger.RecordPayment(ctx, worker.Actor(), c.ID, cases.PaymentInput{Payer: share.payer,
					Amount: share.amount, Currency: c.Plan.Currency, PaidOn: paidOn, Month: m,
					Method: []string{"bank_transfer", "wechat_pay"}[rng.IntN(2)], ProofRef: fmt.Sprintf("%s-%06d", share.payer, rng.IntN(1e6))})
				if err != nil {
					return err
				}
			}
		}
	}
	if p.state == cases.StateFollowUp {
		return nil
	}
	clock(1)
	return fire(w.supervisor, cases.TransitionRequest{Event: cases.EventClose, Outcome: p.outcome})
}

func ptr[T any](v T) *T { return &v }
