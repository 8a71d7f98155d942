package storage_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	cases "github.com/remedy-cases/remedy/case"
	"github.com/remedy-cases/remedy/storage"
	"github.com/remedy-cases/remedy/storage/storagetest"
)

var (
	ctx   = context.Background()
	today = time.Date(2026, 11, 3, 9, 30, 0, 0, time.UTC)
)

// env is one test's database with its fixture and services, at a fixed time.
type env struct {
	db    *storage.DB
	cases *storage.CaseService
	*storagetest.Fixture
}

func newEnv(t testing.TB, db *storage.DB) *env {
	t.Helper()
	db.Now = func() time.Time { return today }
	return &env{db: db, cases: storage.NewCaseService(db), Fixture: storagetest.NewFixture(t, db)}
}

func (e *env) actor(u *cases.User) cases.Actor { return u.Actor() }

// mustFile files a case found a month ago.
func (e *env) mustFile(t *testing.T) *cases.Case {
	t.Helper()
	c, err := e.cases.FileCase(ctx, e.actor(e.Auditor), e.Report(e.db.Now().AddDate(0, -1, 0)))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// mustReach walks a new case to state through the workflow, as the right people.
func (e *env) mustReach(t *testing.T, state cases.State) *cases.Case {
	t.Helper()
	c := e.mustFile(t)
	step := func(got *cases.Case, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("walking to %s: %v", state, err)
		}
		c = got
	}
	fire := func(actor *cases.User, req cases.TransitionRequest) {
		t.Helper()
		got, _, err := e.cases.Transition(ctx, e.actor(actor), c.ID, c.Version, req)
		step(got, err)
	}
	if state == cases.StateIntake {
		return c
	}
	step(e.cases.Assign(ctx, e.actor(e.Supervisor), c.ID, c.Version, e.Worker.ID))
	fire(e.Worker, cases.TransitionRequest{Event: cases.EventBeginVerification})
	if state == cases.StateVerification {
		return c
	}
	step(e.cases.RecordVerification(ctx, e.actor(e.Worker), c.ID, c.Version, cases.Verification{
		Method: "household_register", VerifiedBirthDate: time.Date(2011, 5, 17, 0, 0, 0, 0, time.UTC),
		GuardiansContacted: true, Notes: cases.NewNote("Mother confirmed by phone."),
	}))
	fire(e.Worker, cases.TransitionRequest{Event: cases.EventConfirmChildLabour})
	if state == cases.StatePlanning {
		return c
	}
	step(e.cases.PutPlan(ctx, e.actor(e.Worker), c.ID, c.Version, completePlan()))
	fire(e.Supervisor, cases.TransitionRequest{Event: cases.EventApprovePlan})
	if state == cases.StateFollowUp {
		return c
	}
	fire(e.Supervisor, cases.TransitionRequest{Event: cases.EventClose, Outcome: cases.OutcomeCompleted})
	return c
}

func completePlan() cases.PlanInput {
	consent := time.Date(2026, 10, 20, 0, 0, 0, 0, time.UTC)
	return cases.PlanInput{
		School: "Xinhua Middle School", Grade: "8", EnrolmentDate: time.Date(2026, 10, 25, 0, 0, 0, 0, time.UTC),
		Currency: "CNY", TuitionCost: 120000, TravelCost: 45000, MonthlyStipend: 80000,
		Payer: cases.PayerSplit, FactorySharePct: 50, GuardianConsent: true, ConsentDate: &consent,
	}
}

func TestFileCase(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db)
		t.Run("OK", func(t *testing.T) {
			c := e.mustFile(t)
			if !cases.ValidCode(c.Code) || c.State != cases.StateIntake || c.Version != 1 || c.ClientID != e.Client.ID {
				t.Fatalf("filed %+v", c)
			}
			if c.ID.Version() != 7 {
				t.Fatalf("id version %d, want 7", c.ID.Version())
			}
			got, err := e.cases.FindCase(ctx, c.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.Code != c.Code || !got.FoundOn.Equal(c.FoundOn) || !slices.Equal(got.Hazards, []string{"machinery", "long_hours"}) ||
				got.MonthlyWage != (cases.Money{Amount: 280000, Currency: "CNY"}) || !got.CreatedAt.Equal(today) {
				t.Fatalf("read back %+v, filed %+v", got, c)
			}
			byCode, err := e.cases.FindCaseByCode(ctx, c.Code)
			if err != nil || byCode.ID != c.ID {
				t.Fatalf("FindCaseByCode = %v, %v", byCode, err)
			}
		})
		t.Run("OKConfidentialRoundTrip", func(t *testing.T) {
			r := e.Report(today)
			c, err := e.cases.FileCase(ctx, e.actor(e.Auditor), r)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := e.cases.Assign(ctx, e.actor(e.Supervisor), c.ID, c.Version, e.Worker.ID); err != nil {
				t.Fatal(err)
			}
			conf, err := e.cases.ReadIdentity(ctx, e.actor(e.Worker), c.ID, cases.ReadReason{Code: "contact_guardian"})
			if err != nil {
				t.Fatal(err)
			}
			if conf.Identity.FullName != r.Identity.FullName || conf.Identity.IDNumber != r.Identity.IDNumber ||
				!conf.Identity.ClaimedBirthDate.Equal(*r.Identity.ClaimedBirthDate) || conf.Narrative.Text() != r.Narrative.Text() {
				t.Fatal("the opened identity differs from the filed one")
			}
			if _, err := e.cases.ReadIdentity(ctx, e.actor(e.OtherWorker), c.ID, cases.ReadReason{Code: "contact_guardian"}); cases.ErrorCode(err) != cases.EFORBIDDEN {
				t.Fatalf("unassigned worker: err = %v, want EFORBIDDEN", err)
			}
			if _, err := e.cases.ReadIdentity(ctx, e.actor(e.Auditor), c.ID, cases.ReadReason{Code: "contact_guardian"}); cases.ErrorCode(err) != cases.EFORBIDDEN {
				t.Fatalf("auditor: err = %v, want EFORBIDDEN", err)
			}
		})
		t.Run("ErrInvalid", func(t *testing.T) {
			r := e.Report(today.AddDate(0, 0, 1)) // found tomorrow
			r.Gender, r.HoursPerWeek, r.Hazards = "x", 200, []string{"machinery", "machinery"}
			_, err := e.cases.FileCase(ctx, e.actor(e.Auditor), r)
			if cases.ErrorCode(err) != cases.EINVALID {
				t.Fatalf("err = %v", err)
			}
			if got, want := failureNames(err), []string{"found_on", "gender", "hazards", "hours_per_week"}; !slices.Equal(got, want) {
				t.Fatalf("failed = %v, want %v", got, want)
			}
		})
		t.Run("ErrUnknownClientAndFactory", func(t *testing.T) {
			r := e.Report(today)
			r.ClientID, r.FactoryID = uuid.Must(uuid.NewV7()), uuid.Must(uuid.NewV7())
			_, err := e.cases.FileCase(ctx, e.actor(e.Auditor), r)
			if got, want := failureNames(err), []string{"client_id", "factory_id"}; !slices.Equal(got, want) {
				t.Fatalf("failed = %v, want %v (err %v)", got, want, err)
			}
		})
		t.Run("ErrForbidden", func(t *testing.T) {
			_, err := e.cases.FileCase(ctx, e.actor(e.Worker), e.Report(today))
			if cases.ErrorCode(err) != cases.EFORBIDDEN {
				t.Fatalf("err = %v", err)
			}
		})
		t.Run("ErrNotFound", func(t *testing.T) {
			if _, err := e.cases.FindCase(ctx, uuid.Must(uuid.NewV7())); cases.ErrorCode(err) != cases.ENOTFOUND {
				t.Fatalf("err = %v", err)
			}
			if _, err := e.cases.FindCaseByCode(ctx, "CL-1999-0001"); cases.ErrorCode(err) != cases.ENOTFOUND {
				t.Fatalf("err = %v", err)
			}
		})
	})
}

// TestFileCaseConcurrentCodes files 200 cases at once: 200 distinct codes.
func TestFileCaseConcurrentCodes(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db)
		const n = 200
		codes := make([]string, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				c, err := e.cases.FileCase(ctx, e.actor(e.Auditor), e.Report(today))
				errs[i] = err
				if err == nil {
					codes[i] = c.Code
				}
			})
		}
		wg.Wait()
		seen := map[string]bool{}
		for i := range n {
			if errs[i] != nil {
				t.Fatalf("filing %d: %v", i, errs[i])
			}
			if seen[codes[i]] {
				t.Fatalf("code %s given twice", codes[i])
			}
			seen[codes[i]] = true
		}
		if len(seen) != n {
			t.Fatalf("%d distinct codes, want %d", len(seen), n)
		}
	})
}

// TestTransitionConcurrent fires two transitions from the same version at
// once: exactly one wins, the other gets ECONFLICT, the log holds one record.
func TestTransitionConcurrent(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db)
		for round := range 10 {
			c := e.mustReach(t, cases.StateFollowUp)
			var wg sync.WaitGroup
			errs := make([]error, 2)
			requests := []struct {
				who *cases.User
				req cases.TransitionRequest
			}{
				{e.Supervisor, cases.TransitionRequest{Event: cases.EventClose, Outcome: cases.OutcomeCompleted}},
				{e.OtherSupervisor, cases.TransitionRequest{Event: cases.EventRevisePlan}},
			}
			start := make(chan struct{})
			for i, r := range requests {
				wg.Go(func() {
					<-start
					_, _, errs[i] = e.cases.Transition(ctx, e.actor(r.who), c.ID, c.Version, r.req)
				})
			}
			close(start)
			wg.Wait()
			wins, conflicts := 0, 0
			for _, err := range errs {
				switch cases.ErrorCode(err) {
				case "":
					wins++
				case cases.ECONFLICT:
					conflicts++
				default:
					t.Fatalf("round %d: unexpected error %v", round, err)
				}
			}
			if wins != 1 || conflicts != 1 {
				t.Fatalf("round %d: %d wins, %d conflicts; want 1 and 1", round, wins, conflicts)
			}
			log, err := e.cases.Transitions(ctx, c.ID)
			if err != nil {
				t.Fatal(err)
			}
			after := 0
			for _, tr := range log {
				if tr.From == cases.StateFollowUp {
					after++
				}
			}
			if after != 1 {
				t.Fatalf("round %d: %d records leave follow_up, want 1", round, after)
			}
			got, _ := e.cases.FindCase(ctx, c.ID)
			if got.Version != c.Version+1 {
				t.Fatalf("round %d: version %d, want %d", round, got.Version, c.Version+1)
			}
		}
	})
}

func TestLifecycle(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db)
		c := e.mustReach(t, cases.StateFollowUp)
		if c.AgeAtFound == nil || *c.AgeAtFound != 15 || c.VerificationMethod != "household_register" {
			t.Fatalf("verification not recorded: age %v, method %q", c.AgeAtFound, c.VerificationMethod)
		}
		if c.Plan == nil || c.Plan.ApprovedBy.UUID != e.Supervisor.ID || c.Plan.AuthoredBy != e.Worker.ID {
			t.Fatalf("plan %+v", c.Plan)
		}
		// Born 2011-05-17, enrolled in grade 8 on 2026-10-25: grade 9 ends on
		// 31 July 2028, after the 16th birthday (2027-05-17).
		if want := time.Date(2028, 7, 31, 0, 0, 0, 0, time.UTC); !c.Plan.EndDate.Equal(want) || !c.PlanEndOn.Equal(want) {
			t.Fatalf("plan end %v (case %v), want the end of compulsory schooling %v", c.Plan.EndDate, c.PlanEndOn, want)
		}
		pct := 95
		paid := today.AddDate(0, 0, -2)
		f, err := e.cases.AddFollowUp(ctx, e.actor(e.Worker), c.ID, cases.FollowUpInput{
			Date: today, Contact: "visit", AttendingSchool: true, AttendancePct: &pct,
			StipendPaid: 40000, StipendPaidOn: &paid, StipendProofRef: "TX-1", StipendPayer: cases.PayerFactory,
			Concerns: cases.NewNote("Sleeps badly."),
		})
		if err != nil {
			t.Fatal(err)
		}
		if f.StipendPaid != (cases.Money{Amount: 40000, Currency: "CNY"}) || f.StipendPayer != cases.PayerFactory {
			t.Fatalf("follow-up %+v", f)
		}
		fs, err := e.cases.FollowUps(ctx, c.ID)
		if err != nil || len(fs) != 1 || !fs[0].HasConcerns || *fs[0].AttendancePct != 95 {
			t.Fatalf("FollowUps = %v, %v", fs, err)
		}
		got, _ := e.cases.FindCase(ctx, c.ID)
		if got.LastFollowUp == nil || !got.LastFollowUp.Equal(cases.Date(today)) {
			t.Fatalf("last follow-up %v", got.LastFollowUp)
		}
		got, _, err = e.cases.Transition(ctx, e.actor(e.Supervisor), c.ID, got.Version,
			cases.TransitionRequest{Event: cases.EventClose, Outcome: cases.OutcomeLostContact})
		if err != nil || got.State != cases.StateClosed || got.Outcome != cases.OutcomeLostContact || got.ClosedAt == nil {
			t.Fatalf("close: %+v, %v", got, err)
		}
		if _, err := e.cases.AddFollowUp(ctx, e.actor(e.Worker), c.ID, cases.FollowUpInput{Date: today, Contact: "phone"}); cases.ErrorCode(err) != cases.ECONFLICT {
			t.Fatalf("follow-up on a closed case: %v", err)
		}
		got, _, err = e.cases.Transition(ctx, e.actor(e.Supervisor), c.ID, got.Version,
			cases.TransitionRequest{Event: cases.EventReopen, Reason: cases.NewNote("Family called back.")})
		if err != nil || got.State != cases.StateFollowUp || got.Outcome != "" || got.ClosedAt != nil {
			t.Fatalf("reopen: %+v, %v", got, err)
		}
		log, err := e.cases.Transitions(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		var events []cases.Event
		for _, tr := range log {
			events = append(events, tr.Event)
		}
		want := []cases.Event{cases.EventBeginVerification, cases.EventConfirmChildLabour, cases.EventApprovePlan, cases.EventClose, cases.EventReopen}
		if !slices.Equal(events, want) {
			t.Fatalf("log %v, want %v", events, want)
		}
		last := log[len(log)-1]
		if !last.HasReason || last.ActorID != e.Supervisor.ID || last.From != cases.StateClosed || !last.At.Equal(today) {
			t.Fatalf("reopen record %+v", last)
		}
	})
}

// TestGuardsChangeNothing makes every guard fail through storage: the case
// and its log stay as they were, and the error names the guard.
func TestGuardsChangeNothing(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db)
		type attempt struct {
			name  string
			setup func(t *testing.T) *cases.Case
			who   func() *cases.User
			req   cases.TransitionRequest
			want  []string
		}
		notRemoved := func(t *testing.T) *cases.Case {
			c := e.mustFile(t)
			c, err := e.cases.Assign(ctx, e.actor(e.Supervisor), c.ID, c.Version, e.Worker.ID)
			if err != nil {
				t.Fatal(err)
			}
			c, err = e.cases.ConfirmRemoval(ctx, e.actor(e.Worker), c.ID, c.Version, cases.Removal{})
			if err != nil {
				t.Fatal(err)
			}
			return c
		}
		authoredBySupervisor := func(t *testing.T) *cases.Case {
			c := e.mustReach(t, cases.StatePlanning)
			c, err := e.cases.PutPlan(ctx, e.actor(e.Supervisor), c.ID, c.Version, completePlan())
			if err != nil {
				t.Fatal(err)
			}
			return c
		}
		noConsent := func(t *testing.T) *cases.Case {
			c := e.mustReach(t, cases.StatePlanning)
			p := completePlan()
			p.GuardianConsent, p.ConsentDate, p.School = false, nil, ""
			c, err := e.cases.PutPlan(ctx, e.actor(e.Worker), c.ID, c.Version, p)
			if err != nil {
				t.Fatal(err)
			}
			return c
		}
		attempts := []attempt{
			{"assigned", e.mustFile, func() *cases.User { return e.Supervisor }, cases.TransitionRequest{Event: cases.EventBeginVerification}, []string{"assigned"}},
			{"removed_from_work", notRemoved, func() *cases.User { return e.Worker }, cases.TransitionRequest{Event: cases.EventBeginVerification}, []string{"removed_from_work"}},
			{"actor_is_assignee", notRemoved, func() *cases.User { return e.OtherWorker }, cases.TransitionRequest{Event: cases.EventBeginVerification}, []string{"actor_is_assignee", "removed_from_work"}},
			{"age_verified", func(t *testing.T) *cases.Case { return e.mustReach(t, cases.StateVerification) }, func() *cases.User { return e.Worker },
				cases.TransitionRequest{Event: cases.EventConfirmChildLabour}, []string{"age_verified", "under_legal_age"}},
			{"dismiss_grounds", func(t *testing.T) *cases.Case { return e.mustReach(t, cases.StateVerification) }, func() *cases.User { return e.Worker },
				cases.TransitionRequest{Event: cases.EventDismiss}, []string{"dismiss_grounds", "reason"}},
			{"approver_not_author", authoredBySupervisor, func() *cases.User { return e.Supervisor },
				cases.TransitionRequest{Event: cases.EventApprovePlan}, []string{"approver_not_author"}},
			{"plan_complete", noConsent, func() *cases.User { return e.Supervisor },
				cases.TransitionRequest{Event: cases.EventApprovePlan}, []string{"plan_complete", "guardian_consent"}},
			{"outcome", func(t *testing.T) *cases.Case { return e.mustReach(t, cases.StateFollowUp) }, func() *cases.User { return e.Supervisor },
				cases.TransitionRequest{Event: cases.EventClose}, []string{"outcome"}},
			{"reason", func(t *testing.T) *cases.Case { return e.mustReach(t, cases.StateClosed) }, func() *cases.User { return e.Supervisor },
				cases.TransitionRequest{Event: cases.EventReopen}, []string{"reason"}},
			{"state", e.mustFile, func() *cases.User { return e.Supervisor },
				cases.TransitionRequest{Event: cases.EventClose, Outcome: cases.OutcomeCompleted}, []string{"state"}},
		}
		for _, a := range attempts {
			t.Run(a.name, func(t *testing.T) {
				c := a.setup(t)
				before, _ := e.cases.FindCase(ctx, c.ID)
				logBefore, _ := e.cases.Transitions(ctx, c.ID)
				_, _, err := e.cases.Transition(ctx, e.actor(a.who()), c.ID, c.Version, a.req)
				if cases.ErrorCode(err) != cases.EINVALID {
					t.Fatalf("err = %v, want EINVALID", err)
				}
				if got := failureNames(err); !slices.Equal(got, a.want) {
					t.Fatalf("failed = %v, want %v", got, a.want)
				}
				after, _ := e.cases.FindCase(ctx, c.ID)
				logAfter, _ := e.cases.Transitions(ctx, c.ID)
				if after.Version != before.Version || after.State != before.State || !after.UpdatedAt.Equal(before.UpdatedAt) || len(logAfter) != len(logBefore) {
					t.Fatalf("a refused transition changed the case or its log")
				}
			})
		}
		t.Run("ErrStaleVersion", func(t *testing.T) {
			c := e.mustReach(t, cases.StateFollowUp)
			_, _, err := e.cases.Transition(ctx, e.actor(e.Supervisor), c.ID, c.Version-1,
				cases.TransitionRequest{Event: cases.EventClose, Outcome: cases.OutcomeCompleted})
			if cases.ErrorCode(err) != cases.ECONFLICT {
				t.Fatalf("err = %v, want ECONFLICT", err)
			}
		})
		t.Run("ErrForbiddenRole", func(t *testing.T) {
			c := e.mustReach(t, cases.StateFollowUp)
			_, _, err := e.cases.Transition(ctx, e.actor(e.Worker), c.ID, c.Version,
				cases.TransitionRequest{Event: cases.EventClose, Outcome: cases.OutcomeCompleted})
			if cases.ErrorCode(err) != cases.EFORBIDDEN {
				t.Fatalf("err = %v, want EFORBIDDEN", err)
			}
		})
	})
}

func failureNames(err error) []string {
	var names []string
	for _, f := range cases.ErrorFailures(err) {
		names = append(names, f.Name)
	}
	return names
}
