package api

import (
	"context"
	"crypto/sha256"
	"net/http"
	"time"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"
	openapi_types "github.com/oapi-codegen/runtime/types"

	"github.com/remedy-cases/remedy/api/jsondate"
	cases "github.com/remedy-cases/remedy/case"
	"github.com/remedy-cases/remedy/workflow"
)

var errCaseNotFound = cases.Errorf(cases.ENOTFOUND, "Case not found.")

// caseFor loads the case id if the caller may see it; a case it may not see
// answers exactly as one that does not exist.
func (h handlers) caseFor(c echo.Context, id uuid.UUID) (*cases.Case, error) {
	return h.visible(c, id, h.Cases.FindCase)
}

// factsFinder finds a case's own facts without its plan and links, in one
// query; storage's case service is one. (It belongs in cases.CaseService;
// until it is there, a service without it is asked for the whole case.)
type factsFinder interface {
	FindCaseFacts(ctx context.Context, id uuid.UUID) (*cases.Case, error)
}

// caseFactsFor is caseFor for a handler that needs only to know that the
// caller may see the case, and its facts: an edit, which loads the case
// again in its own transaction, or a read of sealed data.
func (h handlers) caseFactsFor(c echo.Context, id uuid.UUID) (*cases.Case, error) {
	if f, ok := h.Cases.(factsFinder); ok {
		return h.visible(c, id, f.FindCaseFacts)
	}
	return h.caseFor(c, id)
}

func (h handlers) visible(c echo.Context, id uuid.UUID, find func(context.Context, uuid.UUID) (*cases.Case, error)) (*cases.Case, error) {
	found, err := find(c.Request().Context(), id)
	if err != nil {
		return nil, err
	}
	if !workflow.CanSee(actorOf(c), found) {
		return nil, errCaseNotFound
	}
	return found, nil
}

func (h handlers) ListCases(c echo.Context, params ListCasesParams) error {
	a := actorOf(c)
	f := cases.CaseFilter{
		ClientID: nullUUID(params.ClientId), FactoryID: nullUUID(params.FactoryId),
		AssigneeID: nullUUID(params.AssigneeId), After: nullUUID(params.Cursor),
	}
	if params.State != nil {
		f.State = cases.State(*params.State)
	}
	if params.Limit != nil {
		f.Limit = *params.Limit
	}
	if params.Overdue != nil && *params.Overdue {
		f.OverdueAsOf = h.Now()
	}
	if params.DueToClose != nil && *params.DueToClose {
		f.DueToCloseAsOf = h.Now()
	}
	f.Alert = deref(params.Alert)
	if deref(params.Arrears) {
		f.ArrearsAsOf = h.Now()
	}
	f.Unassigned = deref(params.Unassigned)
	f.Code, f.Query = deref(params.Code), deref(params.Q)
	// Each role's scope is added to the filters; a filter outside the scope
	// selects nothing rather than widening it.
	empty := false
	switch a.Role {
	case cases.RoleClient:
		empty = f.ClientID.Valid && f.ClientID != a.ClientID
		f.ClientID = a.ClientID
		// An alert is about the child, not a fact a brand sees.
		empty = empty || f.Alert
	case cases.RoleCaseWorker:
		empty = f.AssigneeID.Valid && f.AssigneeID.UUID != a.UserID
		f.AssigneeID = uuid.NullUUID{UUID: a.UserID, Valid: true}
	case cases.RoleAuditor:
		f.FiledBy = uuid.NullUUID{UUID: a.UserID, Valid: true}
	}
	out := CaseList{Items: []Case{}}
	if empty {
		return c.JSON(http.StatusOK, out)
	}
	page, err := h.Cases.ListCases(c.Request().Context(), f)
	if err != nil {
		return err
	}
	names, err := h.pageFactoryNames(c, page.Cases)
	if err != nil {
		return err
	}
	out.Items = make([]Case, 0, len(page.Cases))
	for _, cs := range page.Cases {
		v, err := h.view(c, cs, names, nil)
		if err != nil {
			return err
		}
		out.Items = append(out.Items, v)
	}
	if page.Next.Valid {
		out.NextCursor = &page.Next.UUID
	}
	return c.JSON(http.StatusOK, out)
}

func (h handlers) FileCase(c echo.Context, params FileCaseParams) error {
	var req NewCase
	if err := decode(c, &req); err != nil {
		return err
	}
	r := cases.Report{
		ClientID: req.ClientId, FactoryID: req.FactoryId, FoundOn: req.FoundOn.Time,
		Gender: cases.Gender(req.Gender), Presence: cases.Presence(req.Presence), Job: deref(req.Job),
		HoursPerWeek: deref(req.HoursPerWeek), Recruitment: cases.Recruitment(req.Recruitment),
		MonthlyWage:     cases.Money{Amount: deref(req.MonthlyWage), Currency: deref(req.WageCurrency)},
		RemovedFromWork: req.RemovedFromWork, ChildSafe: req.ChildSafe,
		OtherChildrenFound: deref(req.OtherChildrenFound), LabourAgent: cases.Answer(deref(req.LabourAgent)),
		FactoryConsent: cases.Answer(deref(req.FactoryConsent)),
		Narrative:      cases.NewNote(deref(req.Narrative)),
	}
	if req.Identity != nil {
		r.Identity = identityIn(*req.Identity)
	}
	if err := h.sealedReport(&req, params.IdempotencyKey, &r); err != nil {
		return err
	}
	if req.Hazards != nil {
		for _, hz := range *req.Hazards {
			r.Hazards = append(r.Hazards, string(hz))
		}
	}
	ctx, a := c.Request().Context(), actorOf(c)
	var (
		filed    *cases.Case
		replayed bool
		err      error
	)
	if params.IdempotencyKey != nil {
		body, _ := c.Get("body").([]byte)
		key := cases.IdempotencyKey{Key: *params.IdempotencyKey, RequestHash: sha256.Sum256(body)}
		filed, replayed, err = h.Cases.FileCaseOnce(ctx, a, key, r)
	} else {
		filed, err = h.Cases.FileCase(ctx, a, r)
	}
	if err != nil {
		return err
	}
	if replayed {
		c.Response().Header().Set("Idempotent-Replayed", "true")
	}
	c.Response().Header().Set(echo.HeaderLocation, "/v1/cases/"+filed.ID.String())
	return h.respondCase(c, http.StatusCreated, filed)
}

// GetCase answers one case with its follow-up schedule: the months that
// went without a follow-up, and whether this month still needs one.
func (h handlers) GetCase(c echo.Context, id CaseID) error {
	found, err := h.caseFor(c, id)
	if err != nil {
		return err
	}
	sched, err := h.Cases.Schedule(c.Request().Context(), id)
	if err != nil {
		return err
	}
	names, err := h.pageFactoryNames(c, []*cases.Case{found})
	if err != nil {
		return err
	}
	v, err := h.view(c, found, names, sched)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, v)
}

func (h handlers) TransitionCase(c echo.Context, id CaseID) error {
	var req TransitionRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	if _, err := h.caseFactsFor(c, id); err != nil {
		return err
	}
	tr := cases.TransitionRequest{Event: cases.Event(req.Event), Reason: cases.NewNote(deref(req.Reason))}
	if req.Outcome != nil {
		tr.Outcome = cases.Outcome(*req.Outcome)
	}
	next, t, err := h.Cases.Transition(c.Request().Context(), actorOf(c), id, req.Version, tr)
	if err != nil {
		return err
	}
	names, err := h.pageFactoryNames(c, []*cases.Case{next})
	if err != nil {
		return err
	}
	v, err := h.view(c, next, names, nil)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, TransitionResult{Case: v, Transition: transitionView(t, true)})
}

func (h handlers) AssignCase(c echo.Context, id CaseID) error {
	var req Assignment
	if err := decode(c, &req); err != nil {
		return err
	}
	if _, err := h.caseFactsFor(c, id); err != nil {
		return err
	}
	return h.respondEdit(c)(h.Cases.Assign(c.Request().Context(), actorOf(c), id, req.Version, req.CaseworkerId))
}

func (h handlers) ConfirmRemoval(c echo.Context, id CaseID) error {
	var req Removal
	if err := decode(c, &req); err != nil {
		return err
	}
	if _, err := h.caseFactsFor(c, id); err != nil {
		return err
	}
	return h.respondEdit(c)(h.Cases.ConfirmRemoval(c.Request().Context(), actorOf(c), id, req.Version,
		cases.Removal{RemovedFromWork: req.RemovedFromWork, ChildSafe: req.ChildSafe, ChildContactedAt: req.ChildContactedAt}))
}

func (h handlers) CorrectFacts(c echo.Context, id CaseID) error {
	var req Facts
	if err := decode(c, &req); err != nil {
		return err
	}
	if _, err := h.caseFactsFor(c, id); err != nil {
		return err
	}
	f := cases.Facts{
		Presence: cases.Presence(req.Presence), Job: deref(req.Job), HoursPerWeek: deref(req.HoursPerWeek),
		MonthlyWage: cases.Money{Amount: deref(req.MonthlyWage), Currency: deref(req.WageCurrency)},
		Recruitment: cases.Recruitment(req.Recruitment), OtherChildrenFound: deref(req.OtherChildrenFound),
		LabourAgent: cases.Answer(deref(req.LabourAgent)), FactoryConsent: cases.Answer(deref(req.FactoryConsent)),
	}
	if req.Hazards != nil {
		for _, hz := range *req.Hazards {
			f.Hazards = append(f.Hazards, string(hz))
		}
	}
	return h.respondEdit(c)(h.Cases.CorrectFacts(c.Request().Context(), actorOf(c), id, req.Version, f))
}

func (h handlers) ResolveAlert(c echo.Context, id CaseID) error {
	var req AlertDecision
	if err := decode(c, &req); err != nil {
		return err
	}
	if _, err := h.caseFactsFor(c, id); err != nil {
		return err
	}
	return h.respondEdit(c)(h.Cases.ResolveAlert(c.Request().Context(), actorOf(c), id, req.Version, cases.NewNote(req.Reason)))
}

func (h handlers) RecordVerification(c echo.Context, id CaseID) error {
	var req Verification
	if err := decode(c, &req); err != nil {
		return err
	}
	if _, err := h.caseFactsFor(c, id); err != nil {
		return err
	}
	v := cases.Verification{
		Method: cases.VerificationMethod(req.Method), VerifiedBirthDate: req.VerifiedBirthDate.Time,
		GuardiansContacted: deref(req.GuardiansContacted), GuardiansContactedOn: datePtrIn(req.GuardiansContactedOn),
		Notes: cases.NewNote(deref(req.Notes)), ChildWishes: cases.NewNote(deref(req.ChildWishes)),
	}
	if req.GuardiansContactMethod != nil {
		v.GuardiansContactMethod = string(*req.GuardiansContactMethod)
	}
	return h.respondEdit(c)(h.Cases.RecordVerification(c.Request().Context(), actorOf(c), id, req.Version, v))
}

func (h handlers) PutPlan(c echo.Context, id CaseID) error {
	var req PlanInput
	if err := decode(c, &req); err != nil {
		return err
	}
	if _, err := h.caseFactsFor(c, id); err != nil {
		return err
	}
	p := cases.PlanInput{
		School: deref(req.School), Grade: deref(req.Grade), EnrolmentDate: dateIn(req.EnrolmentDate),
		Currency: deref(req.Currency), TuitionCost: deref(req.TuitionCost), TravelCost: deref(req.TravelCost),
		MonthlyStipend: deref(req.MonthlyStipend), FactorySharePct: deref(req.FactorySharePct),
		EndDate: dateIn(req.EndDate), GuardianConsent: deref(req.GuardianConsent), ConsentDate: datePtrIn(req.ConsentDate),
	}
	if req.Payer != nil {
		p.Payer = cases.Payer(*req.Payer)
	}
	return h.respondEdit(c)(h.Cases.PutPlan(c.Request().Context(), actorOf(c), id, req.Version, p))
}

func (h handlers) AddFollowUp(c echo.Context, id CaseID) error {
	var req FollowUpInput
	if err := decode(c, &req); err != nil {
		return err
	}
	if _, err := h.caseFactsFor(c, id); err != nil {
		return err
	}
	f, err := h.Cases.AddFollowUp(c.Request().Context(), actorOf(c), id, cases.FollowUpInput{
		Date: req.Date.Time, Contact: cases.Contact(req.Contact), AttendingSchool: req.AttendingSchool,
		AttendancePct: req.AttendancePct, StipendPaid: deref(req.StipendPaid), StipendPaidOn: datePtrIn(req.StipendPaidOn),
		StipendProofRef: deref(req.StipendProofRef), WorkingAgain: req.WorkingAgain, Concerns: cases.NewNote(deref(req.Concerns)),
		StipendPayer: cases.Payer(deref(req.StipendPayer)), StipendMethod: string(deref(req.StipendMethod)),
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, followUpView(f, true))
}

func (h handlers) ListCaseEvents(c echo.Context, id CaseID, params ListCaseEventsParams) error {
	if _, err := h.caseFactsFor(c, id); err != nil {
		return err
	}
	ctx := c.Request().Context()
	staff := actorOf(c).Role != cases.RoleClient
	transitions, err := h.Cases.Transitions(ctx, id)
	if err != nil {
		return err
	}
	followUps, err := h.Cases.FollowUps(ctx, id)
	if err != nil {
		return err
	}
	out := EventList{Items: []CaseEvent{}}
	for _, t := range transitions {
		v := transitionView(t, staff)
		out.Items = append(out.Items, CaseEvent{Type: CaseEventTypeTransition, At: t.At, Transition: &v})
	}
	for _, f := range followUps {
		v := followUpView(f, staff)
		out.Items = append(out.Items, CaseEvent{Type: CaseEventTypeFollowUp, At: f.Date, FollowUp: &v})
	}
	// Oldest first; at the same instant a transition before a follow-up.
	page, next, err := keysetPage(out.Items, func(e CaseEvent) string {
		kind, id := "1", ""
		if e.Transition != nil {
			kind, id = "0", e.Transition.Id.String()
		} else if e.FollowUp != nil {
			id = e.FollowUp.Id.String()
		}
		return e.At.UTC().Format("2006-01-02T15:04:05.000000000") + "\x00" + kind + "\x00" + id
	}, false, params.Limit, params.Cursor)
	if err != nil {
		return err
	}
	out.Items, out.NextCursor = page, next
	return c.JSON(http.StatusOK, out)
}

func (h handlers) ReadIdentity(c echo.Context, id CaseID, params ReadIdentityParams) error {
	found, err := h.caseFactsFor(c, id)
	if err != nil {
		return err
	}
	conf, err := h.Cases.ReadIdentity(c.Request().Context(), actorOf(c), id, cases.ReadReason{Code: string(params.Reason)})
	if err != nil {
		return err
	}
	out := Confidential{CaseId: id, Code: found.Code, Identity: identityOut(conf.Identity)}
	if !conf.Narrative.Empty() {
		n := conf.Narrative.Text()
		out.Narrative = &n
	}
	if !conf.VerificationNotes.Empty() {
		n := conf.VerificationNotes.Text()
		out.VerificationNotes = &n
	}
	return c.JSON(http.StatusOK, out)
}

// ReadNotes opens every note of a case, audited with its reason.
func (h handlers) ReadNotes(c echo.Context, id CaseID, params ReadNotesParams) error {
	found, err := h.caseFactsFor(c, id)
	if err != nil {
		return err
	}
	notes, err := h.Cases.ReadNotes(c.Request().Context(), actorOf(c), id, cases.ReadReason{Code: string(params.Reason)})
	if err != nil {
		return err
	}
	out := CaseNotes{CaseId: id, Code: found.Code, Narrative: noteText(notes.Narrative),
		VerificationNotes: noteText(notes.VerificationNotes), ChildWishes: noteText(notes.ChildWishes)}
	out.FollowUps = make([]struct {
		Concerns   string             `json:"concerns"`
		Date       jsondate.Date      `json:"date"`
		FollowUpId openapi_types.UUID `json:"follow_up_id"`
	}, len(notes.FollowUps))
	for i, f := range notes.FollowUps {
		out.FollowUps[i].Concerns, out.FollowUps[i].Date, out.FollowUps[i].FollowUpId = f.Concerns.Text(), date(f.Date), f.FollowUpID
	}
	out.Transitions = make([]struct {
		At           time.Time          `json:"at"`
		Event        Event              `json:"event"`
		Reason       string             `json:"reason"`
		TransitionId openapi_types.UUID `json:"transition_id"`
	}, len(notes.Transitions))
	for i, t := range notes.Transitions {
		out.Transitions[i].At, out.Transitions[i].Event, out.Transitions[i].Reason, out.Transitions[i].TransitionId =
			t.At, Event(t.Event), t.Reason.Text(), t.TransitionID
	}
	out.Details = make([]struct {
		Action string    `json:"action"`
		At     time.Time `json:"at"`
		Detail string    `json:"detail"`
		Seq    int64     `json:"seq"`
	}, len(notes.Details))
	for i, d := range notes.Details {
		out.Details[i].Action, out.Details[i].At, out.Details[i].Detail, out.Details[i].Seq = d.Action, d.At, d.Detail.Text(), d.Seq
	}
	return c.JSON(http.StatusOK, out)
}

func noteText(n cases.Note) *string {
	if n.Empty() {
		return nil
	}
	t := n.Text()
	return &t
}

func (h handlers) CorrectIdentity(c echo.Context, id CaseID) error {
	var req IdentityCorrection
	if err := decode(c, &req); err != nil {
		return err
	}
	if _, err := h.caseFactsFor(c, id); err != nil {
		return err
	}
	return h.respondEdit(c)(h.Cases.CorrectIdentity(c.Request().Context(), actorOf(c), id, req.Version, identityIn(req.Identity)))
}

// respondEdit answers the case an edit returned.
func (h handlers) respondEdit(c echo.Context) func(*cases.Case, error) error {
	return func(edited *cases.Case, err error) error {
		if err != nil {
			return err
		}
		return h.respondCase(c, http.StatusOK, edited)
	}
}

func (h handlers) respondCase(c echo.Context, status int, cs *cases.Case) error {
	names, err := h.pageFactoryNames(c, []*cases.Case{cs})
	if err != nil {
		return err
	}
	v, err := h.view(c, cs, names, nil)
	if err != nil {
		return err
	}
	return c.JSON(status, v)
}

// factoryNamer names many factories in one query; storage's factory
// service is one. (It belongs in cases.FactoryService; until it is there,
// a service without it is asked factory by factory.)
type factoryNamer interface {
	FactoryNames(ctx context.Context, ids []uuid.UUID) (map[uuid.UUID]string, error)
}

// pageFactoryNames looks up the factory names of a page of cases at once.
func (h handlers) pageFactoryNames(c echo.Context, page []*cases.Case) (func(uuid.UUID) (string, error), error) {
	namer, ok := h.Factories.(factoryNamer)
	if !ok || len(page) == 0 {
		return h.factoryNames(c), nil
	}
	ids := make([]uuid.UUID, 0, len(page))
	seen := make(map[uuid.UUID]bool, len(page))
	for _, cs := range page {
		if !seen[cs.FactoryID] {
			seen[cs.FactoryID] = true
			ids = append(ids, cs.FactoryID)
		}
	}
	names, err := namer.FactoryNames(c.Request().Context(), ids)
	if err != nil {
		return nil, err
	}
	return func(id uuid.UUID) (string, error) {
		if n, ok := names[id]; ok {
			return n, nil
		}
		return "", cases.Errorf(cases.ENOTFOUND, "Factory not found.")
	}, nil
}

// factoryNames looks factory names up once per request.
func (h handlers) factoryNames(c echo.Context) func(uuid.UUID) (string, error) {
	names := map[uuid.UUID]string{}
	return func(id uuid.UUID) (string, error) {
		if n, ok := names[id]; ok {
			return n, nil
		}
		f, err := h.Factories.FindFactoryByID(c.Request().Context(), id)
		if err != nil {
			return "", err
		}
		names[id] = f.Name
		return f.Name, nil
	}
}

// view shapes a case for the caller's role. A client user gets the fields
// DOMAIN.md allows a brand; an auditor also the facts it reported; case
// workers and supervisors everything but the sealed identity and notes.
// sched, when given, adds the follow-up schedule (a single case's answer).
func (h handlers) view(c echo.Context, cs *cases.Case, factoryName func(uuid.UUID) (string, error), sched *cases.Schedule) (Case, error) {
	name, err := factoryName(cs.FactoryID)
	if err != nil {
		return Case{}, err
	}
	now := h.Now()
	end := now
	if cs.ClosedAt != nil {
		end = *cs.ClosedAt
	}
	v := Case{
		Id: cs.ID, Code: cs.Code, ClientId: cs.ClientID, FactoryId: cs.FactoryID, FactoryName: name,
		State: State(cs.State), Gender: Gender(cs.Gender), AgeYears: cs.AgeAtFound,
		OpenedOn: date(cs.CreatedAt), DaysOpen: int(cases.Date(end).Sub(cases.Date(cs.CreatedAt)).Hours() / 24),
		ClosedOn: datePtr(cs.ClosedAt), LastFollowUp: datePtr(cs.LastFollowUp), Overdue: cs.OverdueAsOf(now, h.Zone),
		DueToClose: cs.DueToCloseAsOf(now, h.Zone), Arrears: cs.ArrearsAsOf(now, h.Zone, h.ArrearsDays),
	}
	if sched != nil {
		missed := make([]Month, len(sched.Missed))
		for i, m := range sched.Missed {
			missed[i] = m.String()
		}
		v.MissedMonths = &missed
	}
	if cs.Outcome != "" {
		o := Outcome(cs.Outcome)
		v.Outcome = &o
	}
	if p := cs.Plan; p != nil {
		v.MonthlyStipend, v.StipendCurrency = &p.MonthlyStipend, &p.Currency
		if p.Payer != "" {
			payer := Payer(p.Payer)
			v.Payer = &payer
		}
	}
	role := actorOf(c).Role
	if role == cases.RoleClient {
		return v, nil
	}
	if sched != nil {
		v.DueThisMonth = &sched.DueThisMonth
	}
	// What the auditor reported.
	hazards := make([]CaseHazards, len(cs.Hazards))
	for i, hz := range cs.Hazards {
		hazards[i] = CaseHazards(hz)
	}
	v.FiledBy, v.FoundOn = ptr(cs.FiledBy), ptr(date(cs.FoundOn))
	v.Presence, v.Job, v.Hazards = ptr(CasePresence(cs.Presence)), &cs.Job, &hazards
	v.HoursPerWeek, v.MonthlyWage, v.WageCurrency = &cs.HoursPerWeek, &cs.MonthlyWage.Amount, &cs.MonthlyWage.Currency
	v.Recruitment, v.RemovedFromWork, v.ChildSafe = ptr(CaseRecruitment(cs.Recruitment)), &cs.RemovedFromWork, &cs.ChildSafe
	v.OtherChildrenFound, v.LabourAgent, v.FactoryConsent = &cs.OtherChildrenFound, ptr(Answer(cs.LabourAgent)), ptr(Answer(cs.FactoryConsent))
	v.Version = &cs.Version
	if role == cases.RoleAuditor {
		return v, nil
	}
	if cs.AssigneeID.Valid {
		v.AssigneeId = &cs.AssigneeID.UUID
	}
	if cs.VerificationMethod != "" {
		v.VerificationMethod = ptr(CaseVerificationMethod(cs.VerificationMethod))
	}
	v.IdChecksumValid = cs.IDChecksumValid
	v.GuardiansContacted, v.GuardiansContactedOn = &cs.GuardiansContacted, datePtr(cs.GuardiansContactedOn)
	if cs.GuardiansContactMethod != "" {
		v.GuardiansContactMethod = ptr(CaseGuardiansContactMethod(cs.GuardiansContactMethod))
	}
	v.FollowUpSince = cs.FollowUpSince
	v.Alert, v.WorkingAgainSince = ptr(cs.Alert()), datePtr(cs.WorkingAgainSince)
	v.UnpaidDueOn = datePtr(cs.UnpaidDueOn)
	clocks := cs.ClocksAsOf(now)
	v.Clocks = &Clocks{FirstContact: clockView(clocks.FirstContact), PlanApproved: clockView(clocks.PlanApproved)}
	v.Erased = ptr(cs.ErasedAt != nil)
	links := make([]CaseLink, len(cs.Links))
	for i, l := range cs.Links {
		links[i] = CaseLink{CaseId: l.CaseID, Code: l.Code, MatchedOn: CaseLinkMatchedOn(l.MatchedOn)}
	}
	v.Links = &links
	if p := cs.Plan; p != nil {
		v.Plan = planView(p)
	}
	return v, nil
}

func clockView(k cases.Clock) Clock {
	return Clock{LimitHours: int(k.Limit.Hours()), ElapsedHours: int(k.Elapsed.Hours()), Done: k.Done,
		Running: k.Running, Breached: k.Breached}
}

func planView(p *cases.Plan) *Plan {
	missing := []Failure{}
	for _, f := range p.Missing() {
		missing = append(missing, Failure{Name: f.Name, Message: f.Message})
	}
	v := &Plan{
		School: p.School, Grade: p.Grade, EnrolmentDate: dateOrNil(p.EnrolmentDate), Currency: p.Currency,
		TuitionCost: p.TuitionCost, TravelCost: p.TravelCost, MonthlyStipend: p.MonthlyStipend,
		FactorySharePct: &p.FactorySharePct, EndDate: dateOrNil(p.EndDate), GuardianConsent: p.GuardianConsent,
		ConsentDate: datePtr(p.ConsentDate), AuthoredBy: p.AuthoredBy, ApprovedAt: p.ApprovedAt, Missing: missing,
	}
	if p.Payer != "" {
		payer := Payer(p.Payer)
		v.Payer = &payer
	}
	if p.ApprovedBy.Valid {
		v.ApprovedBy = &p.ApprovedBy.UUID
	}
	return v
}

// transitionView leaves out who acted unless the caller is staff; the
// reason is a sealed note and only its presence is told.
func transitionView(t *cases.Transition, staff bool) Transition {
	v := Transition{Id: t.ID, Event: Event(t.Event), From: State(t.From), To: State(t.To), At: t.At}
	if t.Outcome != "" {
		o := Outcome(t.Outcome)
		v.Outcome = &o
	}
	if staff {
		v.ActorId, v.ActorRole, v.HasReason = &t.ActorID, ptr(TransitionActorRole(t.ActorRole)), ptr(t.HasReason)
	}
	return v
}

// followUpView gives a client the follow-up and stipend facts only.
func followUpView(f *cases.FollowUp, staff bool) FollowUp {
	v := FollowUp{
		Id: f.ID, Date: date(f.Date), Contact: FollowUpContact(f.Contact), AttendingSchool: f.AttendingSchool,
		AttendancePct: f.AttendancePct, StipendPaid: f.StipendPaid.Amount, StipendPaidOn: datePtr(f.StipendPaidOn),
		WorkingAgain: f.WorkingAgain, Month: f.Month().String(), Extra: f.Extra,
	}
	if f.StipendPaid.Currency != "" {
		v.StipendCurrency = &f.StipendPaid.Currency
	}
	if f.StipendPayer != "" {
		v.StipendPayer = ptr(FollowUpStipendPayer(f.StipendPayer))
	}
	if staff {
		v.StipendProofRef, v.RecordedBy, v.HasConcerns = &f.StipendProofRef, &f.RecordedBy, ptr(f.HasConcerns)
	}
	return v
}

func identityIn(in Identity) cases.Identity {
	id := cases.Identity{
		FullName: deref(in.FullName), ClaimedBirthDate: datePtrIn(in.ClaimedBirthDate), ApparentAge: deref(in.ApparentAge),
		VerifiedBirthDate: datePtrIn(in.VerifiedBirthDate), IDDocumentType: deref(in.IdDocumentType),
		IDNumber: deref(in.IdNumber), Hometown: deref(in.Hometown), Address: deref(in.Address), Phone: deref(in.Phone),
	}
	if in.IdSuspected != nil {
		id.IDSuspected = string(*in.IdSuspected)
	}
	if in.OtherNames != nil {
		id.OtherNames = *in.OtherNames
	}
	if in.Guardians != nil {
		for _, g := range *in.Guardians {
			id.Guardians = append(id.Guardians, cases.Guardian{Name: g.Name, Relation: deref(g.Relation), Phone: deref(g.Phone)})
		}
	}
	return id
}

func identityOut(id cases.Identity) Identity {
	out := Identity{
		FullName: nonEmpty(id.FullName), ClaimedBirthDate: datePtr(id.ClaimedBirthDate),
		VerifiedBirthDate: datePtr(id.VerifiedBirthDate), IdDocumentType: nonEmpty(id.IDDocumentType),
		IdNumber: nonEmpty(id.IDNumber), Hometown: nonEmpty(id.Hometown), Address: nonEmpty(id.Address), Phone: nonEmpty(id.Phone),
	}
	if id.ApparentAge > 0 {
		out.ApparentAge = &id.ApparentAge
	}
	if id.IDSuspected != "" {
		s := IdentityIdSuspected(id.IDSuspected)
		out.IdSuspected = &s
	}
	if len(id.OtherNames) > 0 {
		out.OtherNames = &id.OtherNames
	}
	if len(id.Guardians) > 0 {
		gs := make([]Guardian, len(id.Guardians))
		for i, g := range id.Guardians {
			gs[i] = Guardian{Name: g.Name, Relation: nonEmpty(g.Relation), Phone: nonEmpty(g.Phone)}
		}
		out.Guardians = &gs
	}
	return out
}

func ptr[T any](v T) *T { return &v }

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

func nonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func nullUUID(p *openapi_types.UUID) uuid.NullUUID {
	if p == nil {
		return uuid.NullUUID{}
	}
	return uuid.NullUUID{UUID: *p, Valid: true}
}

func date(t time.Time) jsondate.Date { return jsondate.Date{Time: cases.Date(t)} }

func datePtr(t *time.Time) *jsondate.Date {
	if t == nil {
		return nil
	}
	return ptr(date(*t))
}

func dateOrNil(t time.Time) *jsondate.Date {
	if t.IsZero() {
		return nil
	}
	return ptr(date(t))
}

func dateIn(d *jsondate.Date) time.Time {
	if d == nil {
		return time.Time{}
	}
	return d.Time
}

func datePtrIn(d *jsondate.Date) *time.Time {
	if d == nil {
		return nil
	}
	t := d.Time
	return &t
}
