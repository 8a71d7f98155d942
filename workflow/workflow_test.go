package workflow_test

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	cases "github.com/remedy-cases/remedy/case"
	"github.com/remedy-cases/remedy/workflow"
)

var (
	worker     = uuid.MustParse("00000000-0000-7000-8000-000000000001")
	supervisor = uuid.MustParse("00000000-0000-7000-8000-000000000002")
	other      = uuid.MustParse("00000000-0000-7000-8000-000000000003")
	now        = time.Date(2026, 11, 3, 9, 30, 0, 0, time.UTC)
)

// ready returns a case in state that satisfies every guard of every event,
// except that dismissal and confirmation need opposite facts: grounds picks
// which one the case has.
func ready(state cases.State, dismissable bool) cases.Case {
	age := 14
	presence := cases.PresenceEmployed
	if dismissable {
		presence = cases.PresenceAccompanying
	}
	var outcome cases.Outcome
	if state == cases.StateClosed {
		outcome = cases.OutcomeCompleted
		if dismissable {
			outcome = cases.OutcomeNotChildLabour
		}
	}
	return cases.Case{
		ID: uuid.Must(uuid.NewV7()), Code: "CL-2026-0001", State: state, Version: 3, Outcome: outcome,
		AssigneeID:      uuid.NullUUID{UUID: worker, Valid: true},
		RemovedFromWork: true, Presence: presence,
		VerificationMethod: "id_card", AgeAtFound: &age,
		Plan: &cases.Plan{
			School: "School", Grade: "7", EnrolmentDate: now, Currency: "CNY", MonthlyStipend: 80000,
			Payer: cases.PayerBrand, EndDate: now.AddDate(2, 0, 0), GuardianConsent: true,
			AuthoredBy: worker, ApprovedBy: uuid.NullUUID{UUID: other, Valid: true},
		},
	}
}

func actorFor(role cases.Role) cases.Actor {
	switch role {
	case cases.RoleCaseWorker:
		return cases.Actor{UserID: worker, Role: role}
	case cases.RoleSupervisor:
		return cases.Actor{UserID: supervisor, Role: role}
	}
	return cases.Actor{UserID: other, Role: role}
}

var request = cases.TransitionRequest{Reason: cases.NewNote("because"), Outcome: cases.OutcomeCompleted}

// TestApplyEveryStateEventRole walks the whole product of states, events and
// roles against the table as DOMAIN.md draws it, written out independently.
func TestApplyEveryStateEventRole(t *testing.T) {
	type edge struct {
		from  cases.State
		event cases.Event
	}
	want := map[edge]cases.State{
		{cases.StateIntake, cases.EventBeginVerification}:        cases.StateVerification,
		{cases.StateVerification, cases.EventConfirmChildLabour}: cases.StatePlanning,
		{cases.StateIntake, cases.EventDismiss}:                  cases.StateClosed,
		{cases.StateVerification, cases.EventDismiss}:            cases.StateClosed,
		{cases.StatePlanning, cases.EventApprovePlan}:            cases.StateFollowUp,
		{cases.StateFollowUp, cases.EventRevisePlan}:             cases.StatePlanning,
		{cases.StateFollowUp, cases.EventClose}:                  cases.StateClosed,
		{cases.StatePlanning, cases.EventClose}:                  cases.StateClosed,
		{cases.StateClosed, cases.EventReopen}:                   cases.StateFollowUp,
		{cases.StateClosed, cases.EventReopenDismissed}:          cases.StateVerification,
	}
	allowed := map[cases.Event][]cases.Role{
		cases.EventBeginVerification:  {cases.RoleCaseWorker, cases.RoleSupervisor},
		cases.EventConfirmChildLabour: {cases.RoleCaseWorker, cases.RoleSupervisor},
		cases.EventDismiss:            {cases.RoleCaseWorker, cases.RoleSupervisor},
		cases.EventApprovePlan:        {cases.RoleSupervisor},
		cases.EventRevisePlan:         {cases.RoleCaseWorker, cases.RoleSupervisor},
		cases.EventClose:              {cases.RoleSupervisor},
		cases.EventReopen:             {cases.RoleSupervisor},
		cases.EventReopenDismissed:    {cases.RoleSupervisor},
	}
	walked := 0
	for _, state := range cases.States {
		for _, event := range cases.Events {
			for _, role := range cases.Roles {
				t.Run(fmt.Sprintf("%s/%s/%s", state, event, role), func(t *testing.T) {
					walked++
					c := ready(state, event == cases.EventDismiss || event == cases.EventReopenDismissed)
					req := request
					req.Event = event
					if state == cases.StatePlanning {
						req.Outcome = cases.OutcomeRefused
					}
					got, tr, err := workflow.Apply(c, actorFor(role), req, now)
					to, edgeExists := want[edge{state, event}]
					switch {
					case !slices.Contains(allowed[event], role):
						if code := cases.ErrorCode(err); code != cases.EFORBIDDEN {
							t.Fatalf("code = %q, want %q (err %v)", code, cases.EFORBIDDEN, err)
						}
					case !edgeExists:
						if code := cases.ErrorCode(err); code != cases.EINVALID || cases.ErrorFailures(err)[0].Name != "state" {
							t.Fatalf("err = %v, want EINVALID naming state", err)
						}
					default:
						if err != nil {
							t.Fatalf("Apply: %v", err)
						}
						if got.State != to || tr.From != state || tr.To != to || tr.Event != event {
							t.Fatalf("got state %s, record %s->%s by %s; want %s->%s", got.State, tr.From, tr.To, tr.Event, state, to)
						}
						if got.Version != c.Version+1 || tr.ActorID != actorFor(role).UserID || tr.ActorRole != role || !tr.At.Equal(now) || tr.CaseID != c.ID {
							t.Fatalf("record or version wrong: %+v, version %d", tr, got.Version)
						}
						return
					}
					if !reflect.DeepEqual(got, c) {
						t.Fatal("a refused event changed the case")
					}
				})
			}
		}
	}
	if want := len(cases.States) * len(cases.Events) * len(cases.Roles); walked != want {
		t.Fatalf("walked %d combinations, want %d", walked, want)
	}
}

func TestApplyGuards(t *testing.T) {
	tests := []struct {
		name   string
		state  cases.State
		event  cases.Event
		actor  cases.Actor
		break_ func(c *cases.Case, r *cases.TransitionRequest)
		want   []string
	}{
		{"assigned", cases.StateIntake, cases.EventBeginVerification, actorFor(cases.RoleSupervisor),
			func(c *cases.Case, _ *cases.TransitionRequest) { c.AssigneeID = uuid.NullUUID{} }, []string{"assigned"}},
		{"actor_is_assignee", cases.StateIntake, cases.EventBeginVerification, cases.Actor{UserID: other, Role: cases.RoleCaseWorker},
			func(*cases.Case, *cases.TransitionRequest) {}, []string{"actor_is_assignee"}},
		{"removed_from_work", cases.StateIntake, cases.EventBeginVerification, actorFor(cases.RoleCaseWorker),
			func(c *cases.Case, _ *cases.TransitionRequest) { c.RemovedFromWork = false }, []string{"removed_from_work"}},
		{"age_verified", cases.StateVerification, cases.EventConfirmChildLabour, actorFor(cases.RoleCaseWorker),
			func(c *cases.Case, _ *cases.TransitionRequest) { c.VerificationMethod = "" }, []string{"age_verified"}},
		{"under_legal_age", cases.StateVerification, cases.EventConfirmChildLabour, actorFor(cases.RoleCaseWorker),
			func(c *cases.Case, _ *cases.TransitionRequest) { sixteen := 16; c.AgeAtFound = &sixteen }, []string{"under_legal_age"}},
		{"no age at all", cases.StateVerification, cases.EventConfirmChildLabour, actorFor(cases.RoleCaseWorker),
			func(c *cases.Case, _ *cases.TransitionRequest) { c.AgeAtFound = nil }, []string{"age_verified", "under_legal_age"}},
		{"employed", cases.StateVerification, cases.EventConfirmChildLabour, actorFor(cases.RoleSupervisor),
			func(c *cases.Case, _ *cases.TransitionRequest) { c.Presence = cases.PresenceAccompanying }, []string{"employed"}},
		{"dismiss_grounds", cases.StateVerification, cases.EventDismiss, actorFor(cases.RoleCaseWorker),
			func(c *cases.Case, _ *cases.TransitionRequest) { c.Presence = cases.PresenceEmployed }, []string{"dismiss_grounds"}},
		{"dismiss reason", cases.StateIntake, cases.EventDismiss, actorFor(cases.RoleSupervisor),
			func(_ *cases.Case, r *cases.TransitionRequest) { r.Reason = cases.NewNote("  ") }, []string{"reason"}},
		{"dismiss everything", cases.StateIntake, cases.EventDismiss, cases.Actor{UserID: other, Role: cases.RoleCaseWorker},
			func(c *cases.Case, r *cases.TransitionRequest) {
				c.Presence = cases.PresenceEmployed
				r.Reason = cases.Note{}
			},
			[]string{"actor_is_assignee", "dismiss_grounds", "reason"}},
		{"plan_complete", cases.StatePlanning, cases.EventApprovePlan, actorFor(cases.RoleSupervisor),
			func(c *cases.Case, _ *cases.TransitionRequest) { c.Plan.School = "" }, []string{"plan_complete"}},
		{"no plan", cases.StatePlanning, cases.EventApprovePlan, actorFor(cases.RoleSupervisor),
			func(c *cases.Case, _ *cases.TransitionRequest) { c.Plan = nil }, []string{"plan_complete", "guardian_consent", "approver_not_author"}},
		{"guardian_consent", cases.StatePlanning, cases.EventApprovePlan, actorFor(cases.RoleSupervisor),
			func(c *cases.Case, _ *cases.TransitionRequest) { c.Plan.GuardianConsent = false }, []string{"guardian_consent"}},
		{"approver_not_author", cases.StatePlanning, cases.EventApprovePlan, actorFor(cases.RoleSupervisor),
			func(c *cases.Case, _ *cases.TransitionRequest) { c.Plan.AuthoredBy = supervisor }, []string{"approver_not_author"}},
		{"revise by another worker", cases.StateFollowUp, cases.EventRevisePlan, cases.Actor{UserID: other, Role: cases.RoleCaseWorker},
			func(*cases.Case, *cases.TransitionRequest) {}, []string{"actor_is_assignee"}},
		{"close outcome missing", cases.StateFollowUp, cases.EventClose, actorFor(cases.RoleSupervisor),
			func(_ *cases.Case, r *cases.TransitionRequest) { r.Outcome = "" }, []string{"outcome"}},
		{"close as not_child_labour", cases.StateFollowUp, cases.EventClose, actorFor(cases.RoleSupervisor),
			func(_ *cases.Case, r *cases.TransitionRequest) { r.Outcome = cases.OutcomeNotChildLabour }, []string{"outcome"}},
		{"reopen reason", cases.StateClosed, cases.EventReopen, actorFor(cases.RoleSupervisor),
			func(_ *cases.Case, r *cases.TransitionRequest) { r.Reason = cases.Note{} }, []string{"reason"}},
		{"reopen without an approved plan", cases.StateClosed, cases.EventReopen, actorFor(cases.RoleSupervisor),
			func(c *cases.Case, _ *cases.TransitionRequest) { c.Plan.ApprovedBy = uuid.NullUUID{} }, []string{"plan_approved"}},
		{"reopen a dismissal into follow-up", cases.StateClosed, cases.EventReopen, actorFor(cases.RoleSupervisor),
			func(c *cases.Case, _ *cases.TransitionRequest) { c.Outcome = cases.OutcomeNotChildLabour }, []string{"plan_approved"}},
		{"close from planning as completed", cases.StatePlanning, cases.EventClose, actorFor(cases.RoleSupervisor),
			func(_ *cases.Case, r *cases.TransitionRequest) { r.Outcome = cases.OutcomeCompleted }, []string{"outcome"}},
		{"close from planning as returned to work", cases.StatePlanning, cases.EventClose, actorFor(cases.RoleSupervisor),
			func(_ *cases.Case, r *cases.TransitionRequest) { r.Outcome = cases.OutcomeReturnedToWork }, []string{"outcome"}},
		{"reopen_dismissed of a completed case", cases.StateClosed, cases.EventReopenDismissed, actorFor(cases.RoleSupervisor),
			func(c *cases.Case, _ *cases.TransitionRequest) { c.Outcome = cases.OutcomeCompleted }, []string{"dismissed"}},
		{"reopen_dismissed without a reason", cases.StateClosed, cases.EventReopenDismissed, actorFor(cases.RoleSupervisor),
			func(c *cases.Case, r *cases.TransitionRequest) {
				c.Outcome = cases.OutcomeNotChildLabour
				r.Reason = cases.NewNote(" ")
			}, []string{"reason"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := ready(tt.state, tt.event == cases.EventDismiss)
			req := request
			req.Event = tt.event
			tt.break_(&c, &req)
			before := c
			got, _, err := workflow.Apply(c, tt.actor, req, now)
			if code := cases.ErrorCode(err); code != cases.EINVALID {
				t.Fatalf("code = %q, want %q (err %v)", code, cases.EINVALID, err)
			}
			var names []string
			for _, f := range cases.ErrorFailures(err) {
				names = append(names, f.Name)
			}
			if !slices.Equal(names, tt.want) {
				t.Fatalf("failed guards = %v, want %v", names, tt.want)
			}
			if !reflect.DeepEqual(got, before) {
				t.Fatal("a refused event changed the case")
			}
		})
	}
}

func TestApplyEffects(t *testing.T) {
	t.Run("OKApprovePlanStartsFollowUp", func(t *testing.T) {
		c := ready(cases.StatePlanning, false)
		c.Plan.ApprovedBy = uuid.NullUUID{}
		got, _, err := workflow.Apply(c, actorFor(cases.RoleSupervisor), cases.TransitionRequest{Event: cases.EventApprovePlan}, now)
		if err != nil {
			t.Fatal(err)
		}
		if got.Plan.ApprovedBy.UUID != supervisor || got.FollowUpSince == nil || !got.FollowUpSince.Equal(now) {
			t.Fatalf("plan approval not recorded: %+v", got.Plan)
		}
		if c.Plan.ApprovedBy.Valid {
			t.Fatal("Apply modified the input's plan")
		}
	})
	t.Run("OKDismissSetsOutcome", func(t *testing.T) {
		c := ready(cases.StateIntake, true)
		got, tr, err := workflow.Apply(c, actorFor(cases.RoleSupervisor), cases.TransitionRequest{Event: cases.EventDismiss, Reason: cases.NewNote("worker's child")}, now)
		if err != nil {
			t.Fatal(err)
		}
		if got.Outcome != cases.OutcomeNotChildLabour || tr.Outcome != cases.OutcomeNotChildLabour || got.ClosedAt == nil {
			t.Fatalf("outcome %q, closed at %v", got.Outcome, got.ClosedAt)
		}
	})
	t.Run("OKReopenClearsOutcome", func(t *testing.T) {
		c := ready(cases.StateClosed, false)
		c.Outcome, c.ClosedAt = cases.OutcomeLostContact, &now
		got, _, err := workflow.Apply(c, actorFor(cases.RoleSupervisor), cases.TransitionRequest{Event: cases.EventReopen, Reason: cases.NewNote("found again")}, now.Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if got.Outcome != "" || got.ClosedAt != nil || !got.FollowUpSince.Equal(now.Add(time.Hour)) {
			t.Fatalf("reopen left outcome %q, closed at %v", got.Outcome, got.ClosedAt)
		}
	})
	t.Run("OKCloseFromPlanning", func(t *testing.T) {
		for _, o := range []cases.Outcome{cases.OutcomeRefused, cases.OutcomeLostContact, cases.OutcomeTransferred} {
			c := ready(cases.StatePlanning, false)
			c.Plan.ApprovedBy = uuid.NullUUID{}
			got, tr, err := workflow.Apply(c, actorFor(cases.RoleSupervisor), cases.TransitionRequest{Event: cases.EventClose, Outcome: o}, now)
			if err != nil {
				t.Fatal(err)
			}
			if got.State != cases.StateClosed || got.Outcome != o || tr.Outcome != o || got.ClosedAt == nil {
				t.Fatalf("closed from planning as %s: %+v", o, got)
			}
		}
	})
	t.Run("OKReopenDismissedIntoVerification", func(t *testing.T) {
		c := ready(cases.StateClosed, true)
		c.ClosedAt = &now
		got, tr, err := workflow.Apply(c, actorFor(cases.RoleSupervisor), cases.TransitionRequest{Event: cases.EventReopenDismissed, Reason: cases.NewNote("the ID was borrowed")}, now.Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if got.State != cases.StateVerification || got.Outcome != "" || got.ClosedAt != nil || tr.To != cases.StateVerification {
			t.Fatalf("reopened dismissal: %+v", got)
		}
	})
	t.Run("OKApprovalSetsClockAndEnd", func(t *testing.T) {
		c := ready(cases.StatePlanning, false)
		c.Plan.ApprovedBy = uuid.NullUUID{}
		got, _, err := workflow.Apply(c, actorFor(cases.RoleSupervisor), cases.TransitionRequest{Event: cases.EventApprovePlan}, now)
		if err != nil {
			t.Fatal(err)
		}
		if got.FirstPlanApprovedAt == nil || !got.FirstPlanApprovedAt.Equal(now) || got.PlanEndOn == nil || !got.PlanEndOn.Equal(c.Plan.EndDate) {
			t.Fatalf("approval: first approved %v, end %v", got.FirstPlanApprovedAt, got.PlanEndOn)
		}
		earlier := now.AddDate(0, -2, 0)
		c.FirstPlanApprovedAt = &earlier
		got, _, _ = workflow.Apply(c, actorFor(cases.RoleSupervisor), cases.TransitionRequest{Event: cases.EventApprovePlan}, now)
		if !got.FirstPlanApprovedAt.Equal(earlier) {
			t.Fatal("a second approval moved the service clock's end")
		}
	})
	t.Run("OKCloseAnswersAlert", func(t *testing.T) {
		c := ready(cases.StateFollowUp, false)
		c.WorkingAgainSince = &now
		got, _, err := workflow.Apply(c, actorFor(cases.RoleSupervisor), cases.TransitionRequest{Event: cases.EventClose, Outcome: cases.OutcomeReturnedToWork}, now)
		if err != nil {
			t.Fatal(err)
		}
		if got.WorkingAgainSince != nil || got.Alert() {
			t.Fatal("a closed case still has its alert")
		}
	})
	t.Run("ErrUnknownEvent", func(t *testing.T) {
		_, _, err := workflow.Apply(ready(cases.StateIntake, false), actorFor(cases.RoleSupervisor), cases.TransitionRequest{Event: "escalate"}, now)
		if cases.ErrorCode(err) != cases.EINVALID {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestDiagramCoversTable(t *testing.T) {
	d := workflow.Diagram()
	for _, r := range workflow.Table {
		for _, from := range r.From {
			if !strings.Contains(d, fmt.Sprintf("\n    %s --> %s: %s (", from, r.To, r.Event)) {
				t.Errorf("diagram lacks %s --> %s: %s", from, r.To, r.Event)
			}
		}
	}
}

func TestPolicy(t *testing.T) {
	c := ready(cases.StateIntake, false)
	for _, role := range cases.Roles {
		err := workflow.CanAssign(actorFor(role))
		if (role == cases.RoleSupervisor) != (err == nil) {
			t.Errorf("CanAssign(%s) = %v", role, err)
		}
		err = workflow.CanWork(&c, actorFor(role))
		if allowed := role == cases.RoleSupervisor || role == cases.RoleCaseWorker; allowed != (err == nil) {
			t.Errorf("CanWork(%s) = %v", role, err)
		}
	}
	if err := workflow.CanWork(&c, cases.Actor{UserID: other, Role: cases.RoleCaseWorker}); cases.ErrorCode(err) != cases.EFORBIDDEN {
		t.Errorf("CanWork(unassigned worker) = %v, want EFORBIDDEN", err)
	}
}
