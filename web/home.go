package web

import (
	"context"
	"net/http"
	"sort"
	"time"

	"github.com/google/uuid"

	cases "github.com/remedy-cases/remedy/case"
	"github.com/remedy-cases/remedy/workflow"
)

// caseRow is a case in a list: facts only.
type caseRow struct {
	ID           uuid.UUID
	Code         string
	State        cases.State
	Version      int
	Factory      string
	Client       string
	Assignee     string
	FoundOn      time.Time
	LastFollowUp *time.Time
	Overdue      bool
	Outcome      cases.Outcome
	// MissedSince is the first month of the follow-up period without a
	// follow-up, when overdue (later months may have one).
	MissedSince *cases.Month
	// EndOn is the plan's end date, when the case is due to close.
	EndOn *time.Time
	// Alert is the date of the follow-up that found the child working again.
	Alert *time.Time
	// ClosedAt is when a closed case was closed; Reopen the event that
	// reopens it (reopen, or reopen_dismissed for a dismissed case).
	ClosedAt *time.Time
	Reopen   cases.Event
	// Missing names, translated, what keeps a plan from approval.
	Missing []string
}

// bucket is one heading of a home page: what needs doing, with its count.
type bucket struct {
	Key   string // the catalogue key of its heading and hint: home.<key>
	Cases []caseRow
	// Action names the inline form each row carries on a supervisor's
	// home: assign, approve, close, reopen.
	Action string
}

// Count is the number of cases in the bucket.
func (b *bucket) Count() int { return len(b.Cases) }

// workerLoad is a case worker's open cases by state.
type workerLoad struct {
	User    *cases.User
	ByState map[cases.State]int
	Open    int
	Overdue int
	// Alerts counts the worker's cases with a working-again or arrears alert.
	Alerts int
}

// homeView is a home page.
type homeView struct {
	Role    cases.Role
	Buckets []*bucket
	Load    []*workerLoad
	Workers []*cases.User
	Open    int
	Filed   []caseRow // an auditor's own reports
	States  []cases.State
	Notice  string
}

func (v *homeView) notice() (string, string) { return v.Notice, "ok" }

func (h *Handler) home(q *request) error {
	v := &homeView{Role: q.actor.Role, States: []cases.State{cases.StateIntake, cases.StateVerification, cases.StatePlanning, cases.StateFollowUp}}
	var err error
	switch q.actor.Role {
	case cases.RoleCaseWorker:
		err = q.workerHome(v)
	case cases.RoleSupervisor:
		err = q.supervisorHome(v)
	case cases.RoleAuditor:
		err = q.auditorHome(v)
	}
	if err != nil {
		return err
	}
	if done := q.r.URL.Query().Get("done"); done != "" && q.loc.Has("done."+done) {
		v.Notice = q.loc.T("done." + done)
	}
	return q.render(http.StatusOK, "home", "", q.loc.T("home.title"), v)
}

// openCases lists every open case the user may see, each state's newest first.
func (q *request) openCases(ctx context.Context) ([]*cases.Case, error) {
	var out []*cases.Case
	for _, st := range []cases.State{cases.StateIntake, cases.StateVerification, cases.StatePlanning, cases.StateFollowUp} {
		list, err := q.listAll(ctx, cases.CaseFilter{State: st}, maxHomeCases)
		if err != nil {
			return nil, err
		}
		out = append(out, list...)
	}
	return out, nil
}

// maxHomeCases bounds what a home page reads of one state.
const maxHomeCases = 2000

// listAll pages through the cases f selects within the user's scope, up
// to max, keeping only those the user may see.
func (q *request) listAll(ctx context.Context, f cases.CaseFilter, max int) ([]*cases.Case, error) {
	f, some := workflow.Scope(q.actor, f)
	if !some {
		return nil, nil
	}
	f.Limit = 200
	var out []*cases.Case
	for {
		page, err := q.h.Cases.ListCases(ctx, f)
		if err != nil {
			return nil, err
		}
		for _, c := range page.Cases {
			if workflow.CanSee(q.actor, c) {
				out = append(out, c)
			}
		}
		if !page.Next.Valid || len(out) >= max {
			return out, nil
		}
		f.After = page.Next
	}
}

// rowMaker turns cases into rows, looking names up once per page.
type rowMaker struct {
	q         *request
	factories map[uuid.UUID]string
	clients   map[uuid.UUID]string
	users     map[uuid.UUID]string
	now       time.Time
}

func (q *request) rowMaker(ctx context.Context) (*rowMaker, error) {
	m := &rowMaker{q: q, factories: map[uuid.UUID]string{}, clients: map[uuid.UUID]string{}, users: map[uuid.UUID]string{}, now: q.h.Now()}
	fs, err := q.h.Factories.ListFactories(ctx)
	if err != nil {
		return nil, err
	}
	for _, f := range fs {
		m.factories[f.ID] = f.Name
	}
	cs, err := q.h.Clients.ListClients(ctx)
	if err != nil {
		return nil, err
	}
	for _, c := range cs {
		m.clients[c.ID] = c.Name
	}
	if q.actor.Role == cases.RoleSupervisor {
		us, err := q.h.Users.ListUsers(ctx)
		if err != nil {
			return nil, err
		}
		for _, u := range us {
			m.users[u.ID] = u.Name
		}
	}
	return m, nil
}

func (m *rowMaker) row(c *cases.Case) caseRow {
	r := caseRow{ID: c.ID, Code: c.Code, State: c.State, Version: c.Version, Factory: m.factories[c.FactoryID],
		Client: m.clients[c.ClientID], FoundOn: c.FoundOn, LastFollowUp: c.LastFollowUp,
		Overdue: c.OverdueAsOf(m.now, m.q.h.Zone), Outcome: c.Outcome}
	if c.AssigneeID.Valid {
		r.Assignee = m.users[c.AssigneeID.UUID]
	}
	if r.Overdue && c.UncoveredFrom != nil {
		missed := cases.MonthOf(*c.UncoveredFrom)
		r.MissedSince = &missed
	}
	if c.DueToCloseAsOf(m.now, m.q.h.Zone) {
		r.EndOn = c.PlanEndOn
	}
	if c.Alert() {
		r.Alert = c.WorkingAgainSince
	}
	if c.State == cases.StateClosed {
		r.ClosedAt = c.ClosedAt
		r.Reopen = cases.EventReopen
		if c.Outcome == cases.OutcomeNotChildLabour {
			r.Reopen = cases.EventReopenDismissed
		}
	}
	return r
}

// inArrears lists the cases in the user's scope whose first unpaid month
// is late, by the storage's grace days: the ledger's own answer.
func (q *request) inArrears(ctx context.Context) (map[uuid.UUID]bool, error) {
	list, err := q.listAll(ctx, cases.CaseFilter{ArrearsAsOf: q.h.Now()}, maxHomeCases)
	if err != nil {
		return nil, err
	}
	out := make(map[uuid.UUID]bool, len(list))
	for _, c := range list {
		if c.State != cases.StateClosed {
			out[c.ID] = true
		}
	}
	return out, nil
}

// recentlyClosed lists the cases closed within reopenWindow, newest
// closure first: those a supervisor may still want to reopen.
func (q *request) recentlyClosed(ctx context.Context) ([]*cases.Case, error) {
	out, err := q.listAll(ctx, cases.CaseFilter{ClosedSince: q.h.Now().Add(-reopenWindow)}, maxHomeCases)
	if err != nil {
		return nil, err
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].ClosedAt.After(*out[j].ClosedAt) })
	return out, nil
}

// reopenWindow is how far back a supervisor's home lists closed cases.
const reopenWindow = 31 * 24 * time.Hour

// approvable reports whether actor could approve c's plan now, and what
// refuses it otherwise, by asking the workflow itself.
func approvable(c *cases.Case, actor cases.Actor, now time.Time) (bool, []cases.Failure) {
	_, _, err := workflow.Apply(*c, actor, cases.TransitionRequest{Event: cases.EventApprovePlan}, now)
	return err == nil, cases.ErrorFailures(err)
}

// planReady reports whether the plan lacks nothing but a supervisor's
// approval: the workflow is asked as a supervisor who did not write it.
func planReady(c *cases.Case, now time.Time) (bool, []cases.Failure) {
	return approvable(c, cases.Actor{Role: cases.RoleSupervisor}, now)
}

// workerHome: my cases by what needs doing now, in the order of the
// workflow: intake to begin, verification to do, plans to write or
// awaiting approval, follow-ups due this month, missed months, due to
// close, and the alerts (working again, arrears).
func (q *request) workerHome(v *homeView) error {
	ctx := q.r.Context()
	open, err := q.openCases(ctx)
	if err != nil {
		return err
	}
	arrears, err := q.inArrears(ctx)
	if err != nil {
		return err
	}
	rows, err := q.rowMaker(ctx)
	if err != nil {
		return err
	}
	now := q.h.Now()
	month := cases.MonthStart(now.In(q.h.Zone))
	begin, verify, plan, waiting := &bucket{Key: "begin"}, &bucket{Key: "verify"}, &bucket{Key: "plan"}, &bucket{Key: "waiting"}
	due, missed, closing := &bucket{Key: "due"}, &bucket{Key: "missed"}, &bucket{Key: "due_to_close"}
	working, late := &bucket{Key: "working_again"}, &bucket{Key: "arrears"}
	for _, c := range open {
		r := rows.row(c)
		switch c.State {
		case cases.StateIntake:
			begin.Cases = append(begin.Cases, r)
		case cases.StateVerification:
			verify.Cases = append(verify.Cases, r)
		case cases.StatePlanning:
			if ok, failed := planReady(c, now); ok {
				waiting.Cases = append(waiting.Cases, r)
			} else {
				for _, f := range failed {
					r.Missing = append(r.Missing, q.loc.Failure(f))
				}
				plan.Cases = append(plan.Cases, r)
			}
		case cases.StateFollowUp:
			// A case with a missed month still owes this month's
			// follow-up: it is in both buckets. One due to close owes none.
			if r.EndOn != nil {
				closing.Cases = append(closing.Cases, r)
				break
			}
			if r.Overdue {
				missed.Cases = append(missed.Cases, r)
			}
			if c.LastFollowUp == nil || c.LastFollowUp.Before(month) {
				due.Cases = append(due.Cases, r)
			}
		}
		if r.Alert != nil {
			working.Cases = append(working.Cases, r)
		}
		if arrears[c.ID] {
			late.Cases = append(late.Cases, r)
		}
		v.Open++
	}
	v.Buckets = []*bucket{begin, verify, plan, waiting, due, missed, closing, working, late}
	return nil
}

// supervisorHome: what waits for a supervisor (cases to assign, plans to
// approve that someone else wrote, missed months, cases due to close,
// alerts, recent closures to reopen), and each worker's load.
func (q *request) supervisorHome(v *homeView) error {
	ctx := q.r.Context()
	open, err := q.openCases(ctx)
	if err != nil {
		return err
	}
	arrears, err := q.inArrears(ctx)
	if err != nil {
		return err
	}
	closed, err := q.recentlyClosed(ctx)
	if err != nil {
		return err
	}
	rows, err := q.rowMaker(ctx)
	if err != nil {
		return err
	}
	users, err := q.h.Users.ListUsers(ctx)
	if err != nil {
		return err
	}
	loads := map[uuid.UUID]*workerLoad{}
	for _, u := range users {
		if u.Role == cases.RoleCaseWorker && !u.Disabled {
			l := &workerLoad{User: u, ByState: map[cases.State]int{}}
			loads[u.ID] = l
			v.Load = append(v.Load, l)
			v.Workers = append(v.Workers, u)
		}
	}
	now := q.h.Now()
	unassigned, approve := &bucket{Key: "unassigned", Action: "assign"}, &bucket{Key: "approve", Action: "approve"}
	missed, closing := &bucket{Key: "missed"}, &bucket{Key: "due_to_close", Action: "close"}
	working, late := &bucket{Key: "working_again"}, &bucket{Key: "arrears"}
	reopen := &bucket{Key: "reopen", Action: "reopen"}
	for _, c := range open {
		r := rows.row(c)
		v.Open++
		l := loads[c.AssigneeID.UUID]
		if !c.AssigneeID.Valid {
			unassigned.Cases = append(unassigned.Cases, r)
		} else if l != nil {
			l.ByState[c.State]++
			l.Open++
			if r.Overdue {
				l.Overdue++
			}
			if r.Alert != nil || arrears[c.ID] {
				l.Alerts++
			}
		}
		if c.State == cases.StatePlanning {
			if ok, _ := approvable(c, q.actor, now); ok {
				approve.Cases = append(approve.Cases, r)
			}
		}
		if r.Overdue {
			missed.Cases = append(missed.Cases, r)
		}
		if r.EndOn != nil {
			closing.Cases = append(closing.Cases, r)
		}
		if r.Alert != nil {
			working.Cases = append(working.Cases, r)
		}
		if arrears[c.ID] {
			late.Cases = append(late.Cases, r)
		}
	}
	for _, c := range closed {
		reopen.Cases = append(reopen.Cases, rows.row(c))
	}
	sort.SliceStable(v.Load, func(i, j int) bool { return v.Load[i].Open > v.Load[j].Open })
	v.Buckets = []*bucket{unassigned, approve, missed, closing, working, late, reopen}
	return nil
}

// auditorHome: the reports this auditor filed, newest first.
func (q *request) auditorHome(v *homeView) error {
	ctx := q.r.Context()
	list, err := q.listAll(ctx, cases.CaseFilter{}, 50)
	if err != nil {
		return err
	}
	rows, err := q.rowMaker(ctx)
	if err != nil {
		return err
	}
	for _, c := range list {
		v.Filed = append(v.Filed, rows.row(c))
	}
	return nil
}
