// Package workflow is the pure state machine of a case: one transition table,
// the roles allowed to fire each event, and the guards that must hold. It
// reads no clock and touches no database: Apply takes everything it needs.
package workflow

import (
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"

	cases "github.com/remedy-cases/remedy/case"
)

// Guard is one condition of a rule, named so that a refusal can say which.
type Guard struct {
	Name    string
	Message string
	Holds   func(c *cases.Case, actor cases.Actor, req cases.TransitionRequest) bool
}

// Rule is one row of the transition table.
type Rule struct {
	Event  cases.Event
	From   []cases.State
	To     cases.State
	Roles  []cases.Role
	Guards []Guard
}

// The guards. Each is stated positively: Holds returns true when the case may go on.
var (
	guardAssigned = Guard{"assigned", "the case has no assigned case worker",
		func(c *cases.Case, _ cases.Actor, _ cases.TransitionRequest) bool { return c.AssigneeID.Valid }}
	guardActorIsAssignee = Guard{"actor_is_assignee", "a case worker may act only on a case assigned to them",
		func(c *cases.Case, a cases.Actor, _ cases.TransitionRequest) bool {
			return a.Role != cases.RoleCaseWorker || c.AssigneeID.Valid && c.AssigneeID.UUID == a.UserID
		}}
	guardRemoved = Guard{"removed_from_work", "the child's removal from work is not confirmed",
		func(c *cases.Case, _ cases.Actor, _ cases.TransitionRequest) bool { return c.RemovedFromWork }}
	guardVerified = Guard{"age_verified", "the age is not verified: record the method and the verified date of birth",
		func(c *cases.Case, _ cases.Actor, _ cases.TransitionRequest) bool {
			return c.VerificationMethod != "" && c.AgeAtFound != nil
		}}
	guardUnderAge = Guard{"under_legal_age", fmt.Sprintf("the verified age at the date found is not under %d", cases.LegalWorkingAge),
		func(c *cases.Case, _ cases.Actor, _ cases.TransitionRequest) bool {
			return c.AgeAtFound != nil && *c.AgeAtFound < cases.LegalWorkingAge
		}}
	guardEmployed = Guard{"employed", "the child was a worker's child present but not employed: dismiss instead",
		func(c *cases.Case, _ cases.Actor, _ cases.TransitionRequest) bool {
			return c.Presence == cases.PresenceEmployed
		}}
	guardDismissGrounds = Guard{"dismiss_grounds", fmt.Sprintf("a dismissal needs a verified age of %d or over, or a worker's child who was not employed", cases.LegalWorkingAge),
		func(c *cases.Case, _ cases.Actor, _ cases.TransitionRequest) bool {
			return c.Presence == cases.PresenceAccompanying || c.AgeAtFound != nil && *c.AgeAtFound >= cases.LegalWorkingAge
		}}
	guardReason = Guard{"reason", "a reason is required",
		func(_ *cases.Case, _ cases.Actor, r cases.TransitionRequest) bool {
			return strings.TrimSpace(r.Reason.Text()) != ""
		}}
	guardPlanComplete = Guard{"plan_complete", "the plan is incomplete",
		func(c *cases.Case, _ cases.Actor, _ cases.TransitionRequest) bool {
			return c.Plan != nil && len(c.Plan.Missing()) == 0
		}}
	guardConsent = Guard{"guardian_consent", "the guardian's consent is not recorded",
		func(c *cases.Case, _ cases.Actor, _ cases.TransitionRequest) bool {
			return c.Plan != nil && c.Plan.GuardianConsent
		}}
	guardNotAuthor = Guard{"approver_not_author", "the plan must be approved by a supervisor who did not write it",
		func(c *cases.Case, a cases.Actor, _ cases.TransitionRequest) bool {
			return c.Plan != nil && c.Plan.AuthoredBy != a.UserID
		}}
	guardCloseOutcome = Guard{"outcome", "close needs an outcome: completed, lost_contact, refused, returned_to_work or transferred in follow-up; refused, lost_contact or transferred in planning",
		func(c *cases.Case, _ cases.Actor, r cases.TransitionRequest) bool {
			for _, o := range CloseOutcomes[c.State] {
				if r.Outcome == o {
					return true
				}
			}
			return false
		}}
	guardPlanApproved = Guard{"plan_approved", "only a case that was in follow-up under an approved plan can be reopened",
		func(c *cases.Case, _ cases.Actor, _ cases.TransitionRequest) bool {
			return c.Plan != nil && c.Plan.ApprovedBy.Valid && c.Outcome != cases.OutcomeNotChildLabour
		}}
	guardDismissed = Guard{"dismissed", "only a dismissed case (not child labour) can be reopened into verification",
		func(c *cases.Case, _ cases.Actor, _ cases.TransitionRequest) bool {
			return c.Outcome == cases.OutcomeNotChildLabour
		}}
)

// CloseOutcomes are the outcomes a case may be closed with, by the state it
// is closed from: before a plan is approved, a family that refuses, contact
// lost or a transfer ends the case; in follow-up also its completion and a
// child back at work.
var CloseOutcomes = map[cases.State][]cases.Outcome{
	cases.StatePlanning: {cases.OutcomeRefused, cases.OutcomeLostContact, cases.OutcomeTransferred},
	cases.StateFollowUp: {cases.OutcomeCompleted, cases.OutcomeLostContact, cases.OutcomeRefused,
		cases.OutcomeReturnedToWork, cases.OutcomeTransferred},
}

var (
	workers     = []cases.Role{cases.RoleCaseWorker, cases.RoleSupervisor}
	supervisors = []cases.Role{cases.RoleSupervisor}
)

// Table is the workflow. DOMAIN.md draws it; Diagram renders it.
var Table = []Rule{
	{cases.EventBeginVerification, []cases.State{cases.StateIntake}, cases.StateVerification, workers,
		[]Guard{guardAssigned, guardActorIsAssignee, guardRemoved}},
	{cases.EventConfirmChildLabour, []cases.State{cases.StateVerification}, cases.StatePlanning, workers,
		[]Guard{guardActorIsAssignee, guardVerified, guardUnderAge, guardEmployed}},
	{cases.EventDismiss, []cases.State{cases.StateIntake, cases.StateVerification}, cases.StateClosed, workers,
		[]Guard{guardActorIsAssignee, guardDismissGrounds, guardReason}},
	{cases.EventApprovePlan, []cases.State{cases.StatePlanning}, cases.StateFollowUp, supervisors,
		[]Guard{guardPlanComplete, guardConsent, guardNotAuthor}},
	{cases.EventRevisePlan, []cases.State{cases.StateFollowUp}, cases.StatePlanning, workers,
		[]Guard{guardActorIsAssignee}},
	{cases.EventClose, []cases.State{cases.StatePlanning, cases.StateFollowUp}, cases.StateClosed, supervisors,
		[]Guard{guardCloseOutcome}},
	{cases.EventReopen, []cases.State{cases.StateClosed}, cases.StateFollowUp, supervisors,
		[]Guard{guardReason, guardPlanApproved}},
	{cases.EventReopenDismissed, []cases.State{cases.StateClosed}, cases.StateVerification, supervisors,
		[]Guard{guardReason, guardDismissed}},
}

// RuleFor returns the rule of event, or nil for an unknown event.
func RuleFor(event cases.Event) *Rule {
	for i := range Table {
		if Table[i].Event == event {
			return &Table[i]
		}
	}
	return nil
}

// Allows reports whether role may fire the rule's event.
func (r *Rule) Allows(role cases.Role) bool {
	for _, allowed := range r.Roles {
		if role == allowed {
			return true
		}
	}
	return false
}

func (r *Rule) leaves(s cases.State) bool {
	for _, from := range r.From {
		if s == from {
			return true
		}
	}
	return false
}

// Apply fires req.Event on c for actor at time at. It returns the changed
// case, with its version bumped, and the transition record; c itself is not
// modified. The error is EINVALID for an unknown event, an event that does not
// leave c's state, or failed guards (every one is named); EFORBIDDEN if the
// actor's role may not fire the event.
func Apply(c cases.Case, actor cases.Actor, req cases.TransitionRequest, at time.Time) (cases.Case, cases.Transition, error) {
	rule := RuleFor(req.Event)
	if rule == nil {
		return c, cases.Transition{}, cases.Errorf(cases.EINVALID, "Unknown event %q.", req.Event)
	}
	if !rule.Allows(actor.Role) {
		return c, cases.Transition{}, cases.Errorf(cases.EFORBIDDEN, "The role %s may not %s a case.", actor.Role, req.Event)
	}
	if !rule.leaves(c.State) {
		return c, cases.Transition{}, &cases.Error{Code: cases.EINVALID,
			Message: fmt.Sprintf("The event %s does not apply to a case in %s.", req.Event, c.State),
			Failed:  []cases.Failure{{Name: "state", Message: fmt.Sprintf("the case is in %s", c.State)}}}
	}
	var failed []cases.Failure
	for _, g := range rule.Guards {
		if !g.Holds(&c, actor, req) {
			failed = append(failed, cases.Failure{Name: g.Name, Message: g.Message})
		}
	}
	if len(failed) > 0 {
		return c, cases.Transition{}, &cases.Error{Code: cases.EINVALID,
			Message: fmt.Sprintf("The case cannot %s yet.", req.Event), Failed: failed}
	}

	next := c
	next.State = rule.To
	next.Version = c.Version + 1
	next.UpdatedAt = at
	switch req.Event {
	case cases.EventDismiss:
		next.Outcome = cases.OutcomeNotChildLabour
		next.ClosedAt = &at
	case cases.EventClose:
		next.Outcome = req.Outcome
		next.ClosedAt = &at
		next.UncoveredFrom, next.PlanEndOn = nil, nil
		// A closed case owes nothing: an alert it had is answered by its closure.
		next.WorkingAgainSince = nil
	case cases.EventApprovePlan:
		plan := *c.Plan
		plan.ApprovedBy = uuid.NullUUID{UUID: actor.UserID, Valid: true}
		plan.ApprovedAt = &at
		next.Plan = &plan
		next.FollowUpSince = &at
		end := plan.EndDate
		next.PlanEndOn = &end
		if c.FirstPlanApprovedAt == nil {
			next.FirstPlanApprovedAt = &at
		}
	case cases.EventRevisePlan:
		if c.Plan != nil {
			plan := *c.Plan
			plan.ApprovedBy, plan.ApprovedAt = uuid.NullUUID{}, nil
			next.Plan = &plan
		}
		next.FollowUpSince, next.UncoveredFrom, next.PlanEndOn = nil, nil, nil
	case cases.EventReopen:
		next.Outcome = ""
		next.ClosedAt = nil
		next.FollowUpSince = &at
		end := c.Plan.EndDate
		next.PlanEndOn = &end
	case cases.EventReopenDismissed:
		next.Outcome = ""
		next.ClosedAt = nil
	}
	t := cases.Transition{
		ID:        uuid.Must(uuid.NewV7()),
		CaseID:    c.ID,
		Event:     req.Event,
		From:      c.State,
		To:        rule.To,
		ActorID:   actor.UserID,
		ActorRole: actor.Role,
		At:        at,
		Reason:    req.Reason,
		Outcome:   next.Outcome,
	}
	return next, t, nil
}

// Diagram renders the table as a Mermaid state diagram.
func Diagram() string {
	var b strings.Builder
	b.WriteString("stateDiagram-v2\n")
	fmt.Fprintf(&b, "    [*] --> %s\n", cases.StateIntake)
	for _, r := range Table {
		for _, from := range r.From {
			fmt.Fprintf(&b, "    %s --> %s: %s (%s)\n", from, r.To, r.Event, roleList(r.Roles))
		}
	}
	fmt.Fprintf(&b, "    %s --> [*]\n", cases.StateClosed)
	return b.String()
}

func roleList(roles []cases.Role) string {
	s := make([]string, len(roles))
	for i, r := range roles {
		s[i] = string(r)
	}
	return strings.Join(s, ", ")
}
