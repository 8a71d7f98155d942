package web

import (
	"net/http"
	"sort"
	"time"

	cases "github.com/remedy-cases/remedy/case"
	"github.com/remedy-cases/remedy/workflow"
)

// revealView asks for a reason before anything is opened.
type revealView struct {
	Case    *cases.Case
	Reasons []string
	Form    *formState
}

// revealedView is the one page that shows a child's identity and the
// case's notes. It is answered to a POST only, never stored by a browser
// or a proxy (no-store), never compressed, and its title and URL name the
// case by code only.
type revealedView struct {
	Case         *cases.Case
	Reason       string
	Identity     cases.Identity
	Narrative    string
	Verification string
	Reasons      []revealedNote
	Concerns     []revealedNote
	// Correct is the correction form, for those who may work on the case.
	Correct *identityForm
}

type revealedNote struct {
	At    time.Time
	Event cases.Event
	Text  string
}

func (h *Handler) revealPage(q *request) error {
	c, err := q.revealable()
	if err != nil {
		return err
	}
	v := &revealView{Case: c, Reasons: cases.ReadReasons, Form: newForm("reveal", "reason")}
	return q.render(http.StatusOK, "reveal", "", q.loc.T("reveal.title", "Code", c.Code), v)
}

// revealable loads a case whose identity the user may read.
func (q *request) revealable() (*cases.Case, error) {
	c, err := q.caseFor(q.r.PathValue("id"))
	if err != nil {
		return nil, err
	}
	if err := workflow.CanReadIdentity(c, q.actor); err != nil {
		return nil, err
	}
	return c, nil
}

// reveal opens the identity and notes for the reason picked from the list:
// the domain audits the read in its transaction before anything is shown.
func (h *Handler) reveal(q *request) error {
	c, err := q.revealable()
	if err != nil {
		return err
	}
	reason := q.r.PostFormValue("reason")
	ctx := q.r.Context()
	conf, err := h.Cases.ReadIdentity(ctx, q.actor, c.ID, cases.ReadReason{Code: reason})
	if cases.ErrorCode(err) == cases.EINVALID {
		v := &revealView{Case: c, Reasons: cases.ReadReasons, Form: newForm("reveal", "reason")}
		v.Form.addFailures(q.loc, cases.ErrorFailures(err))
		return q.render(http.StatusUnprocessableEntity, "reveal", "", q.loc.T("reveal.title", "Code", c.Code), v)
	} else if err != nil {
		return err
	}
	// The reasons of transitions and the concerns of follow-ups are notes
	// too: opened by a notes read, audited with the same reason, shown here
	// and nowhere else.
	notes, err := h.Cases.ReadNotes(ctx, q.actor, c.ID, cases.ReadReason{Code: reason})
	if err != nil {
		return err
	}
	v := &revealedView{Case: c, Reason: reason, Identity: conf.Identity, Narrative: conf.Narrative.Text(),
		Verification: conf.VerificationNotes.Text()}
	if workflow.CanWork(c, q.actor) == nil && c.ErasedAt == nil {
		v.Correct = newIdentityForm(c, conf.Identity)
	}
	for _, t := range notes.Transitions {
		v.Reasons = append(v.Reasons, revealedNote{At: t.At, Event: t.Event, Text: t.Reason.Text()})
	}
	for _, f := range notes.FollowUps {
		v.Concerns = append(v.Concerns, revealedNote{At: f.Date, Text: f.Concerns.Text()})
	}
	sort.SliceStable(v.Concerns, func(i, j int) bool { return v.Concerns[i].At.After(v.Concerns[j].At) })
	q.w.Header().Set("Cache-Control", "no-store, max-age=0")
	q.w.Header().Set("Pragma", "no-cache")
	return q.render(http.StatusOK, "revealed", "", q.loc.T("revealed.title", "Code", c.Code), v)
}
