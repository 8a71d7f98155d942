package web

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/google/uuid"

	cases "github.com/remedy-cases/remedy/case"
	"github.com/remedy-cases/remedy/workflow"
)

// searchView is the search page: by case code, by a part of a code or of a
// factory's name, or by the API's list filters (state, client, factory,
// assignee, unassigned, overdue, due to close, alert, arrears), a page at
// a time.
type searchView struct {
	Query     url.Values
	Code      string
	Rows      []caseRow
	Next      string // the query of the following page
	Searched  bool
	States    []cases.State
	Factories []*cases.Factory
	Clients   []*cases.Client
	Workers   []*cases.User
	CodeError string
	// QueryError explains a text search that cannot run.
	QueryError string
}

// maxQueryChars bounds the text searched for in codes and factory names.
const maxQueryChars = 100

func (h *Handler) search(q *request) error {
	if !staff(q.actor.Role) {
		return cases.Errorf(cases.ENOTFOUND, "No such page.")
	}
	ctx := q.r.Context()
	in := q.r.URL.Query()
	v := &searchView{Query: url.Values{}, States: cases.States}
	var err error
	if v.Factories, err = h.Factories.ListFactories(ctx); err != nil {
		return err
	}
	if v.Clients, err = h.Clients.ListClients(ctx); err != nil {
		return err
	}
	if q.actor.Role == cases.RoleSupervisor {
		users, err := h.Users.ListUsers(ctx)
		if err != nil {
			return err
		}
		for _, u := range users {
			if u.Role == cases.RoleCaseWorker {
				v.Workers = append(v.Workers, u)
			}
		}
	}
	rows, err := q.rowMaker(ctx)
	if err != nil {
		return err
	}
	if code := strings.ToUpper(strings.TrimSpace(in.Get("code"))); code != "" {
		v.Code, v.Searched = code, true
		v.Query.Set("code", code)
		if !cases.ValidCode(code) {
			v.CodeError = q.loc.T("search.code_invalid")
		} else if c, err := h.Cases.FindCaseByCode(ctx, code); err == nil && workflow.CanSee(q.actor, c) {
			v.Rows = append(v.Rows, rows.row(c))
		} else if err != nil && cases.ErrorCode(err) != cases.ENOTFOUND {
			return err
		}
		return q.renderSearch(v)
	}
	f := cases.CaseFilter{Limit: 25}
	keep := func(name string) string {
		s := strings.TrimSpace(in.Get(name))
		if s != "" {
			v.Query.Set(name, s)
		}
		return s
	}
	id := func(name string) uuid.NullUUID {
		u, err := uuid.Parse(keep(name))
		return uuid.NullUUID{UUID: u, Valid: err == nil}
	}
	if s := cases.State(keep("state")); s.Valid() {
		f.State = s
	}
	f.FactoryID, f.ClientID, f.AssigneeID = id("factory"), id("client"), id("assignee")
	if len([]rune(keep("q"))) > maxQueryChars {
		v.QueryError = q.loc.T("search.q_too_long")
		v.Searched = true
		return q.renderSearch(v)
	}
	f.Query = v.Query.Get("q")
	if keep("overdue") != "" {
		f.OverdueAsOf = h.Now()
	}
	if keep("due_to_close") != "" {
		f.DueToCloseAsOf = h.Now()
	}
	if keep("arrears") != "" {
		f.ArrearsAsOf = h.Now()
	}
	f.Alert = keep("alert") != ""
	f.Unassigned = keep("unassigned") != ""
	v.Searched = len(v.Query) > 0
	after := id("after")
	v.Query.Del("after")
	f.After = after
	f, some := workflow.Scope(q.actor, f)
	if some {
		page, err := h.Cases.ListCases(ctx, f)
		if err != nil {
			return err
		}
		for _, c := range page.Cases {
			if workflow.CanSee(q.actor, c) {
				v.Rows = append(v.Rows, rows.row(c))
			}
		}
		if page.Next.Valid {
			next := url.Values{}
			for k, vs := range v.Query {
				next[k] = vs
			}
			next.Set("after", page.Next.UUID.String())
			v.Next = "/cases?" + next.Encode()
		}
	}
	return q.renderSearch(v)
}

// renderSearch answers htmx with the results alone, a browser with the page.
func (q *request) renderSearch(v *searchView) error {
	if q.htmx && q.r.Header.Get("HX-Target") == "results" {
		return q.render(http.StatusOK, "search", "results", q.loc.T("search.title"), v)
	}
	return q.render(http.StatusOK, "search", "", q.loc.T("search.title"), v)
}
