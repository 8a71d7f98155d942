package web

import (
	"net/http"
	"strconv"

	"github.com/google/uuid"

	cases "github.com/remedy-cases/remedy/case"
)

// The fields of each work form that can carry an error.
var (
	assignFields       = []string{"worker"}
	removalFields      = []string{"removed_from_work", "child_safe"}
	verificationFields = []string{"method", "verified_birth_date", "guardians_contacted", "notes"}
	planFields         = []string{"school", "grade", "enrolment_date", "currency", "tuition_cost", "travel_cost",
		"monthly_stipend", "payer", "factory_share_pct", "end_date", "guardian_consent", "consent_date"}
	factsFields = []string{"presence", "job", "hazards", "hours_per_week", "monthly_wage", "wage_currency", "recruitment",
		"other_children_found", "labour_agent", "factory_consent"}
	followUpFields = []string{"date", "contact", "attending_school", "attendance_pct", "stipend_paid",
		"stipend_paid_on", "stipend_proof_ref", "stipend_payer", "working_again", "concerns"}
)

// work runs one edit of a case from a form. Input that does not parse,
// or that the domain refuses, changes nothing and comes back beside its
// fields; a stale version shows the fresh case with "someone else changed
// this case"; success shows the case again.
func (q *request) work(f *formState, done string, edit func(c *cases.Case, r *reader, version int) error) error {
	c, err := q.caseFor(q.r.PathValue("id"))
	if err != nil {
		return err
	}
	r := q.reader(f)
	version, verr := strconv.Atoi(r.Str("version"))
	if verr != nil {
		return cases.Errorf(cases.ENOTFOUND, "No such form.")
	}
	if !f.Failed() {
		err = edit(c, r, version)
	}
	if !f.Failed() && err == nil {
		return q.afterEdit(c.ID, done)
	}
	status := http.StatusUnprocessableEntity
	switch cases.ErrorCode(err) {
	case "", cases.EINVALID:
		f.addFailures(q.loc, cases.ErrorFailures(err))
		if err != nil && len(cases.ErrorFailures(err)) == 0 {
			f.Summary = append(f.Summary, q.loc.T("fail.unknown"))
		}
		// Errors beside the fields are swapped in, and the inputs keep what
		// was typed; a refusal that no field explains (a guard) shows the
		// fresh case, where the step says in words why it is refused.
		if q.htmx && len(f.Summary) == 0 {
			q.w.Header().Set("HX-Reswap", "none")
			write(q.w, q.r, status, []byte(f.oob(q.loc)+oobNotice(q.loc.T("form.fix"))), true)
			return nil
		}
	case cases.ECONFLICT:
		status = http.StatusConflict
	case cases.EFORBIDDEN:
		f.Summary = append(f.Summary, q.loc.T("error.forbidden.text"))
		status = http.StatusForbidden
	default:
		return err
	}
	// Show the case as it is now, with this form as the user sent it.
	fresh, ferr := q.caseFor(c.ID.String())
	if ferr != nil {
		return ferr
	}
	v, verr2 := q.caseView(fresh)
	if verr2 != nil {
		return verr2
	}
	v.Forms[f.Name] = f
	for _, a := range v.Actions {
		if a.Form.Name == f.Name {
			a.Form = f
		}
	}
	q.defaultForms(fresh, v)
	v.NoticeKind = "error"
	switch {
	case status == http.StatusConflict && fresh.Version != version:
		v.Notice = q.loc.T("conflict.stale")
	case status == http.StatusConflict:
		v.Notice = q.loc.T("conflict.state")
	default:
		v.Notice = q.loc.T("form.fix")
	}
	if q.htmx {
		q.w.Header().Set("HX-Retarget", "#main")
		q.w.Header().Set("HX-Reswap", "outerHTML")
		return q.render(status, "case", "main", fresh.Code, v)
	}
	return q.render(status, "case", "", fresh.Code, v)
}

// afterEdit shows the case again: htmx swaps the page's main part in
// place; a plain form is redirected, so that a reload sends nothing twice.
func (q *request) afterEdit(id uuid.UUID, done string) error {
	if !q.htmx {
		q.redirect("/cases/" + id.String() + "?done=" + done)
		return nil
	}
	c, err := q.caseFor(id.String())
	if err != nil {
		return err
	}
	v, err := q.caseView(c)
	if err != nil {
		return err
	}
	v.Notice, v.NoticeKind = q.loc.T("done."+done), "ok"
	return q.render(http.StatusOK, "case", "main", c.Code, v)
}

func (h *Handler) assign(q *request) error {
	f := newForm("assign", assignFields...)
	return q.work(f, "assign", func(c *cases.Case, r *reader, version int) error {
		worker, err := uuid.Parse(r.Str("worker"))
		if err != nil {
			r.bad("worker", "fail.assignee_id")
			return nil
		}
		_, err = h.Cases.Assign(q.r.Context(), q.actor, c.ID, version, worker)
		if fs := cases.ErrorFailures(err); len(fs) == 1 && fs[0].Name == "assignee_id" {
			r.bad("worker", "fail.assignee_id")
			return nil
		}
		return err
	})
}

func (h *Handler) removal(q *request) error {
	f := newForm("removal", removalFields...)
	return q.work(f, "removal", func(c *cases.Case, r *reader, version int) error {
		_, err := h.Cases.ConfirmRemoval(q.r.Context(), q.actor, c.ID, version,
			cases.Removal{RemovedFromWork: r.Bool("removed_from_work"), ChildSafe: r.Bool("child_safe")})
		return err
	})
}

func (h *Handler) verification(q *request) error {
	f := newForm("verification", verificationFields...)
	return q.work(f, "verification", func(c *cases.Case, r *reader, version int) error {
		v := cases.Verification{Method: cases.VerificationMethod(r.Str("method")),
			GuardiansContacted: r.Bool("guardians_contacted"), Notes: cases.NewNote(r.Secret("notes"))}
		if born := r.SecretDate("verified_birth_date"); born != nil {
			v.VerifiedBirthDate = *born
		}
		// The pure check first, so that every field's error shows at once.
		v.Normalize()
		if err := v.Validate(c.FoundOn, cases.Today(q.h.Now(), q.h.Zone)); err != nil || len(f.Errors) > 0 {
			f.addFailures(q.loc, cases.ErrorFailures(err))
			return nil
		}
		_, err := h.Cases.RecordVerification(q.r.Context(), q.actor, c.ID, version, v)
		return err
	})
}

func (h *Handler) plan(q *request) error {
	f := newForm("plan", planFields...)
	return q.work(f, "plan", func(c *cases.Case, r *reader, version int) error {
		p := cases.PlanInput{School: r.Str("school"), Grade: r.Str("grade"), EnrolmentDate: r.Date("enrolment_date"),
			Currency: r.Str("currency"), TuitionCost: r.Money("tuition_cost"), TravelCost: r.Money("travel_cost"),
			MonthlyStipend: r.Money("monthly_stipend"), Payer: cases.Payer(r.Str("payer")),
			FactorySharePct: r.Int("factory_share_pct"), EndDate: r.Date("end_date"),
			GuardianConsent: r.Bool("guardian_consent"), ConsentDate: r.DatePtr("consent_date")}
		p.Normalize()
		if err := p.Validate(); err != nil || len(f.Errors) > 0 {
			f.addFailures(q.loc, cases.ErrorFailures(err))
			return nil
		}
		_, err := h.Cases.PutPlan(q.r.Context(), q.actor, c.ID, version, p)
		return err
	})
}

func (h *Handler) followUp(q *request) error {
	f := newForm("follow-up", followUpFields...)
	return q.work(f, "follow_up", func(c *cases.Case, r *reader, _ int) error {
		in := cases.FollowUpInput{Date: r.Date("date"), Contact: cases.Contact(r.Str("contact")),
			AttendingSchool: r.Bool("attending_school"), AttendancePct: r.IntPtr("attendance_pct"),
			StipendPaid: r.Money("stipend_paid"), StipendPaidOn: r.DatePtr("stipend_paid_on"),
			StipendProofRef: r.Str("stipend_proof_ref"), StipendPayer: cases.Payer(r.Str("stipend_payer")), WorkingAgain: r.Bool("working_again"),
			Concerns: cases.NewNote(r.Secret("concerns"))}
		in.Normalize()
		if err := in.Validate(cases.Today(h.Now(), h.Zone)); err != nil || len(f.Errors) > 0 {
			f.addFailures(q.loc, cases.ErrorFailures(err))
			return nil
		}
		_, err := h.Cases.AddFollowUp(q.r.Context(), q.actor, c.ID, in)
		return err
	})
}

// facts corrects the facts filed at intake, in intake and verification: a
// child filed as employed may prove a worker's child.
func (h *Handler) facts(q *request) error {
	f := newForm("facts", factsFields...)
	return q.work(f, "facts", func(c *cases.Case, r *reader, version int) error {
		in := cases.Facts{Presence: cases.Presence(r.Str("presence")), Job: r.Str("job"), HoursPerWeek: r.Int("hours_per_week"),
			MonthlyWage: cases.Money{Amount: r.Money("monthly_wage"), Currency: r.Str("wage_currency")},
			Recruitment: cases.Recruitment(r.Str("recruitment")), OtherChildrenFound: r.Int("other_children_found"),
			LabourAgent: cases.Answer(r.Str("labour_agent")), FactoryConsent: cases.Answer(r.Str("factory_consent"))}
		if in.MonthlyWage.Amount == 0 {
			in.MonthlyWage.Currency = ""
		}
		for _, hz := range q.r.PostForm["hazards"] {
			in.Hazards = append(in.Hazards, hz)
			f.Values.Add("hazards", hz)
		}
		in.Normalize()
		if err := in.Validate(); err != nil || len(f.Errors) > 0 {
			f.addFailures(q.loc, cases.ErrorFailures(err))
			return nil
		}
		_, err := h.Cases.CorrectFacts(q.r.Context(), q.actor, c.ID, version, in)
		return err
	})
}

// resolveAlert records a supervisor's decision on a child found working
// again: the stipend is owed again from now on.
func (h *Handler) resolveAlert(q *request) error {
	f := newForm("alert", "reason")
	return q.work(f, "alert", func(c *cases.Case, r *reader, version int) error {
		_, err := h.Cases.ResolveAlert(q.r.Context(), q.actor, c.ID, version, cases.NewNote(r.Secret("reason")))
		return err
	})
}

func (h *Handler) transition(q *request) error {
	event := cases.Event(q.r.PostFormValue("event"))
	if !event.Valid() {
		return cases.Errorf(cases.ENOTFOUND, "No such form.")
	}
	f := newForm("t-"+string(event), "reason", "outcome")
	return q.work(f, string(event), func(c *cases.Case, r *reader, version int) error {
		req := cases.TransitionRequest{Event: event, Reason: cases.NewNote(r.Secret("reason")),
			Outcome: cases.Outcome(r.Str("outcome"))}
		_, _, err := h.Cases.Transition(q.r.Context(), q.actor, c.ID, version, req)
		return err
	})
}
