package web

import (
	"context"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"time"

	"github.com/google/uuid"

	cases "github.com/remedy-cases/remedy/case"
	"github.com/remedy-cases/remedy/workflow"
)

// caseView is the case page: the facts, the next steps the workflow allows
// this user, the timeline, the plan, the stipends and the links. It holds
// no identity and no note: their presence only.
type caseView struct {
	Case     *cases.Case
	Client   string
	Factory  *cases.Factory
	Assignee string
	FiledBy  string
	Overdue  bool
	// DueToClose: the plan's end date passed; a supervisor closes it.
	DueToClose bool
	// Missed are the months of follow-up that went without one.
	Missed []cases.Month
	// CanResolve: a supervisor may decide on a working-again alert.
	CanResolve bool
	Today      time.Time
	Actions    []*actionView
	CanWork    bool
	CanAssign  bool
	CanReveal  bool
	Workers    []*cases.User
	Timeline   []timelineItem
	// PlanMissing names, translated, what the plan lacks for approval.
	PlanMissing []string
	Stipends    []stipendRow
	StipendPaid int64
	// Documents are the case's sealed files, by kind, never by name.
	Documents []documentView
	// Ledger is the stipend ledger, once a plan was approved.
	Ledger     *ledgerView
	Links      []linkView
	Forms      map[string]*formState
	Notice     string
	NoticeKind string // ok, error
	// The choices the forms offer.
	Methods      []cases.VerificationMethod
	Contacts     []cases.Contact
	Payers       []cases.Payer
	LedgerPayers []cases.Payer
	Presences    []cases.Presence
	Recruitments []cases.Recruitment
	Hazards      []string
}

func (v *caseView) notice() (string, string) { return v.Notice, v.NoticeKind }

// actionView is one event this user may fire from the case's state: its
// form, or the guards that refuse it now, in words.
type actionView struct {
	Event       cases.Event
	To          cases.State
	Blockers    []string
	NeedsReason bool
	Outcomes    []cases.Outcome
	Form        *formState
}

type timelineItem struct {
	At         time.Time
	Transition *transitionItem
	FollowUp   *followUpItem
}

type transitionItem struct {
	Event     cases.Event
	From, To  cases.State
	Actor     string
	Role      cases.Role
	Outcome   cases.Outcome
	HasReason bool
}

type followUpItem struct {
	Date            time.Time
	Contact         cases.Contact
	AttendingSchool bool
	AttendancePct   *int
	StipendPaid     cases.Money
	WorkingAgain    bool
	HasConcerns     bool
	RecordedBy      string
}

type stipendRow struct {
	Date   time.Time
	PaidOn *time.Time
	Amount cases.Money
	Payer  cases.Payer
	Proof  string
}

type linkView struct {
	ID        uuid.UUID
	Code      string
	MatchedOn string
	Visible   bool
}

// caseFor loads a case the user may see; any other answers exactly as a
// missing one.
func (q *request) caseFor(id string) (*cases.Case, error) {
	uid, err := uuid.Parse(id)
	if err != nil {
		return nil, cases.Errorf(cases.ENOTFOUND, "Case not found.")
	}
	c, err := q.h.Cases.FindCase(q.r.Context(), uid)
	if err != nil {
		return nil, err
	}
	if !workflow.CanSee(q.actor, c) || !staff(q.actor.Role) {
		return nil, cases.Errorf(cases.ENOTFOUND, "Case not found.")
	}
	return c, nil
}

// staff are the roles the case pages are for.
func staff(r cases.Role) bool { return r == cases.RoleCaseWorker || r == cases.RoleSupervisor }

func (h *Handler) casePage(q *request) error {
	c, err := q.caseFor(q.r.PathValue("id"))
	if err != nil {
		return err
	}
	v, err := q.caseView(c)
	if err != nil {
		return err
	}
	if done := q.r.URL.Query().Get("done"); done != "" && q.loc.Has("done."+done) {
		v.Notice, v.NoticeKind = q.loc.T("done."+done), "ok"
	}
	return q.render(http.StatusOK, "case", "", c.Code, v)
}

// caseView gathers everything the case page shows.
func (q *request) caseView(c *cases.Case) (*caseView, error) {
	ctx := q.r.Context()
	now := q.h.Now()
	v := &caseView{Case: c, Overdue: c.OverdueAsOf(now, q.h.Zone), Today: cases.Date(now.In(q.h.Zone)), Forms: map[string]*formState{},
		Methods: cases.VerificationMethods, Contacts: cases.Contacts, Payers: cases.Payers, LedgerPayers: cases.LedgerPayers,
		Presences: cases.Presences, Recruitments: cases.Recruitments, Hazards: cases.Hazards}
	users, err := q.h.Users.ListUsers(ctx)
	if err != nil {
		return nil, err
	}
	names := map[uuid.UUID]string{}
	for _, u := range users {
		names[u.ID] = u.Name
		if u.Role == cases.RoleCaseWorker && !u.Disabled {
			v.Workers = append(v.Workers, u)
		}
	}
	if c.AssigneeID.Valid {
		v.Assignee = names[c.AssigneeID.UUID]
	}
	v.FiledBy = names[c.FiledBy]
	client, err := q.h.Clients.FindClientByID(ctx, c.ClientID)
	if err != nil {
		return nil, err
	}
	v.Client = client.Name
	if v.Factory, err = q.h.Factories.FindFactoryByID(ctx, c.FactoryID); err != nil {
		return nil, err
	}
	v.CanWork = workflow.CanWork(c, q.actor) == nil
	v.CanAssign = workflow.CanAssign(q.actor) == nil && c.State != cases.StateClosed
	v.CanReveal = workflow.CanReadIdentity(c, q.actor) == nil && c.ErasedAt == nil
	v.Actions = q.actions(c, now)
	v.DueToClose = c.DueToCloseAsOf(now, q.h.Zone)
	v.CanResolve = c.Alert() && q.actor.Role == cases.RoleSupervisor
	if c.State == cases.StateFollowUp {
		s, err := q.h.Cases.Schedule(ctx, c.ID)
		if err != nil {
			return nil, err
		}
		v.Missed = s.Missed
	}
	if c.Plan != nil {
		for _, f := range c.Plan.Missing() {
			v.PlanMissing = append(v.PlanMissing, q.loc.Failure(f))
		}
	}
	if err := q.timeline(ctx, c, v, names); err != nil {
		return nil, err
	}
	if v.Ledger, err = q.ledger(c, names); err != nil {
		return nil, err
	}
	if v.Documents, err = q.documents(c, names); err != nil {
		return nil, err
	}
	for _, l := range c.Links {
		lv := linkView{ID: l.CaseID, Code: l.Code, MatchedOn: l.MatchedOn}
		if other, err := q.h.Cases.FindCase(ctx, l.CaseID); err == nil {
			lv.Visible = workflow.CanSee(q.actor, other)
		} else if cases.ErrorCode(err) != cases.ENOTFOUND {
			return nil, err
		}
		v.Links = append(v.Links, lv)
	}
	q.defaultForms(c, v)
	return v, nil
}

// actions dry-runs the pure workflow for every event that leaves the
// case's state and that the user's role may fire: what Apply refuses even
// with a reason and the best outcome are the blockers, shown in words; a
// reason or an outcome that Apply asks for becomes a field of the form.
func (q *request) actions(c *cases.Case, now time.Time) []*actionView {
	var out []*actionView
	failures := func(req cases.TransitionRequest) []cases.Failure {
		_, _, err := workflow.Apply(*c, q.actor, req, now)
		return cases.ErrorFailures(err)
	}
	for _, rule := range workflow.Table {
		if !rule.Allows(q.actor.Role) || !slices.Contains(rule.From, c.State) {
			continue
		}
		a := &actionView{Event: rule.Event, To: rule.To}
		filled := cases.TransitionRequest{Event: rule.Event, Reason: cases.NewNote("-")}
		best := failures(filled)
		byOutcome := map[cases.Outcome][]cases.Failure{}
		fewest := len(best)
		for _, o := range cases.Outcomes {
			filled.Outcome = o
			byOutcome[o] = failures(filled)
			fewest = min(fewest, len(byOutcome[o]))
		}
		if fewest < len(best) {
			for _, o := range cases.Outcomes {
				if len(byOutcome[o]) == fewest {
					a.Outcomes = append(a.Outcomes, o)
				}
			}
			best = byOutcome[a.Outcomes[0]]
		}
		empty := cases.TransitionRequest{Event: rule.Event}
		if len(a.Outcomes) > 0 {
			empty.Outcome = a.Outcomes[0]
		}
		a.NeedsReason = len(failures(empty)) > len(best)
		for _, f := range best {
			a.Blockers = append(a.Blockers, q.loc.Failure(f))
		}
		a.Form = newForm("t-"+string(rule.Event), "reason", "outcome")
		out = append(out, a)
	}
	return out
}

func (q *request) timeline(ctx context.Context, c *cases.Case, v *caseView, names map[uuid.UUID]string) error {
	transitions, err := q.h.Cases.Transitions(ctx, c.ID)
	if err != nil {
		return err
	}
	followUps, err := q.h.Cases.FollowUps(ctx, c.ID)
	if err != nil {
		return err
	}
	// The opened reasons and concerns go no further than these booleans.
	for _, t := range transitions {
		v.Timeline = append(v.Timeline, timelineItem{At: t.At, Transition: &transitionItem{Event: t.Event, From: t.From,
			To: t.To, Actor: names[t.ActorID], Role: t.ActorRole, Outcome: t.Outcome, HasReason: t.HasReason}})
	}
	for _, f := range followUps {
		v.Timeline = append(v.Timeline, timelineItem{At: f.Date, FollowUp: &followUpItem{Date: f.Date, Contact: f.Contact,
			AttendingSchool: f.AttendingSchool, AttendancePct: f.AttendancePct, StipendPaid: f.StipendPaid,
			WorkingAgain: f.WorkingAgain, HasConcerns: f.HasConcerns, RecordedBy: names[f.RecordedBy]}})
		if f.StipendPaid.Amount > 0 {
			v.Stipends = append(v.Stipends, stipendRow{Date: f.Date, PaidOn: f.StipendPaidOn, Amount: f.StipendPaid,
				Payer: f.StipendPayer, Proof: f.StipendProofRef})
			v.StipendPaid += f.StipendPaid.Amount
		}
	}
	// Newest first: the latest step is what a worker looks for.
	sort.SliceStable(v.Timeline, func(i, j int) bool { return v.Timeline[i].At.After(v.Timeline[j].At) })
	return nil
}

// defaultForms fills each work form with the case as it stands; a form
// already set (a refused submission) keeps what the user sent.
func (q *request) defaultForms(c *cases.Case, v *caseView) {
	set := func(f *formState) *formState {
		if old, ok := v.Forms[f.Name]; ok {
			return old
		}
		v.Forms[f.Name] = f
		return f
	}
	version := strconv.Itoa(c.Version)
	a := set(newForm("assign", assignFields...))
	if c.AssigneeID.Valid {
		a.Values.Set("worker", c.AssigneeID.UUID.String())
	}
	if fa := set(newForm("facts", factsFields...)); !fa.Failed() {
		fa.Values.Set("presence", string(c.Presence))
		fa.Values.Set("job", c.Job)
		fa.Values["hazards"] = append([]string(nil), c.Hazards...)
		if c.HoursPerWeek > 0 {
			fa.Values.Set("hours_per_week", strconv.Itoa(c.HoursPerWeek))
		}
		fa.Values.Set("monthly_wage", formatYuan(c.MonthlyWage.Amount))
		fa.Values.Set("wage_currency", c.MonthlyWage.Currency)
		if c.MonthlyWage.Currency == "" {
			fa.Values.Set("wage_currency", "CNY")
		}
		fa.Values.Set("recruitment", string(c.Recruitment))
		fa.Values.Set("other_children_found", strconv.Itoa(c.OtherChildrenFound))
		fa.Values.Set("labour_agent", string(c.LabourAgent))
		fa.Values.Set("factory_consent", string(c.FactoryConsent))
	}
	r := set(newForm("removal", removalFields...))
	if c.RemovedFromWork {
		r.Values.Set("removed_from_work", "on")
	}
	if c.ChildSafe {
		r.Values.Set("child_safe", "on")
	}
	vf := set(newForm("verification", verificationFields...))
	if c.VerificationMethod != "" {
		vf.Values.Set("method", string(c.VerificationMethod))
	}
	p := set(newForm("plan", planFields...))
	if pl := c.Plan; pl != nil && p.Values.Get("school") == "" && !p.Failed() {
		p.Values.Set("school", pl.School)
		p.Values.Set("grade", pl.Grade)
		p.Values.Set("enrolment_date", isoDate(pl.EnrolmentDate))
		p.Values.Set("currency", pl.Currency)
		p.Values.Set("tuition_cost", formatYuan(pl.TuitionCost))
		p.Values.Set("travel_cost", formatYuan(pl.TravelCost))
		p.Values.Set("monthly_stipend", formatYuan(pl.MonthlyStipend))
		p.Values.Set("payer", string(pl.Payer))
		if pl.FactorySharePct > 0 {
			p.Values.Set("factory_share_pct", strconv.Itoa(pl.FactorySharePct))
		}
		p.Values.Set("end_date", isoDate(pl.EndDate))
		if pl.GuardianConsent {
			p.Values.Set("guardian_consent", "on")
		}
		if pl.ConsentDate != nil {
			p.Values.Set("consent_date", isoDate(*pl.ConsentDate))
		}
	}
	if p.Values.Get("currency") == "" {
		p.Values.Set("currency", "CNY")
	}
	set(newForm("alert", "reason"))
	fu := set(newForm("follow-up", followUpFields...))
	if fu.Values.Get("date") == "" {
		fu.Values.Set("date", isoDate(v.Today))
	}
	defaultPayment(set(newForm("payment", paymentFields...)), c, v.Today)
	for _, f := range v.Forms {
		f.Values.Set("version", version)
	}
	for _, a := range v.Actions {
		if old, ok := v.Forms[a.Form.Name]; ok {
			a.Form = old
		}
		a.Form.Values.Set("version", version)
	}
}
