package api

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	cases "github.com/remedy-cases/remedy/case"
	"github.com/remedy-cases/remedy/workflow"
)

// handlers implements the generated ServerInterface. Each handler reads its
// path ids from the generated parameters, never from a body.
type handlers struct{ *Server }

var _ ServerInterface = handlers{}

func (h handlers) GetHealth(c echo.Context) error {
	return c.JSON(http.StatusOK, Status{Status: "ok"})
}

func (h handlers) GetReady(c echo.Context) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), 2*time.Second)
	defer cancel()
	if err := h.DB.Ping(ctx); err != nil {
		h.Log.Warn("readiness check failed", "type", "database")
		return c.JSON(http.StatusServiceUnavailable, Status{Status: "database unreachable"})
	}
	return c.JSON(http.StatusOK, Status{Status: "ready"})
}

func (h handlers) GetMetrics(c echo.Context) error {
	h.metrics.handler.ServeHTTP(c.Response(), c.Request())
	return nil
}

func (h handlers) GetOpenAPI(c echo.Context) error {
	return c.Blob(http.StatusOK, "application/yaml", specYAML)
}

func (h handlers) GetJWKS(c echo.Context) error {
	c.Response().Header().Set("Cache-Control", "public, max-age=300")
	return c.JSON(http.StatusOK, h.tokens.jwks())
}

func (h handlers) CreateToken(c echo.Context) error { return h.signIn(c) }

func (h handlers) GetWorkflow(c echo.Context) error {
	var w Workflow
	for _, st := range cases.States {
		w.States = append(w.States, State(st))
	}
	for _, r := range workflow.Table {
		ev := struct {
			Event  Event     `json:"event"`
			From   []State   `json:"from"`
			Guards []Failure `json:"guards"`
			Roles  []Role    `json:"roles"`
			To     State     `json:"to"`
		}{Event: Event(r.Event), To: State(r.To), From: []State{}, Guards: []Failure{}, Roles: []Role{}}
		for _, f := range r.From {
			ev.From = append(ev.From, State(f))
		}
		for _, g := range r.Guards {
			ev.Guards = append(ev.Guards, Failure{Name: g.Name, Message: g.Message})
		}
		for _, role := range r.Roles {
			ev.Roles = append(ev.Roles, Role(role))
		}
		w.Events = append(w.Events, ev)
	}
	return c.JSON(http.StatusOK, w)
}

// Admin.

func (h handlers) ListClients(c echo.Context, params ListClientsParams) error {
	all, err := h.Clients.ListClients(c.Request().Context())
	if err != nil {
		return err
	}
	list, next, err := keysetPage(all, func(cl *cases.Client) string { return cl.Name + "\x00" + cl.ID.String() },
		false, params.Limit, params.Cursor)
	if err != nil {
		return err
	}
	out := ClientList{Items: make([]ClientOrg, len(list)), NextCursor: next}
	for i, cl := range list {
		out.Items[i] = clientView(cl)
	}
	return c.JSON(http.StatusOK, out)
}

func (h handlers) CreateClient(c echo.Context) error {
	var req NewClientOrg
	if err := decode(c, &req); err != nil {
		return err
	}
	n := cases.NewClient{Name: req.Name}
	if req.ReportLanguage != nil {
		n.ReportLanguage = string(*req.ReportLanguage)
	}
	cl, err := h.Clients.CreateClient(c.Request().Context(), actorOf(c), n)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, clientView(cl))
}

func (h handlers) DisableClient(c echo.Context, id EntityID) error {
	if err := h.Clients.SetClientActive(c.Request().Context(), actorOf(c), id, false); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

func (h handlers) ListFactories(c echo.Context, params ListFactoriesParams) error {
	all, err := h.Factories.ListFactories(c.Request().Context())
	if err != nil {
		return err
	}
	list, next, err := keysetPage(all, func(f *cases.Factory) string { return f.Name + "\x00" + f.ID.String() },
		false, params.Limit, params.Cursor)
	if err != nil {
		return err
	}
	out := FactoryList{Items: make([]Factory, len(list)), NextCursor: next}
	for i, f := range list {
		out.Items[i] = factoryView(f)
	}
	return c.JSON(http.StatusOK, out)
}

func factoryView(f *cases.Factory) Factory {
	return Factory{Id: f.ID, Name: f.Name, NameEn: f.NameEn, Province: f.Province, City: f.City,
		ClientIds: f.ClientIDs, CreatedAt: f.CreatedAt}
}

func (h handlers) CreateFactory(c echo.Context) error {
	var req NewFactory
	if err := decode(c, &req); err != nil {
		return err
	}
	f, err := h.Factories.CreateFactory(c.Request().Context(), actorOf(c),
		cases.NewFactory{Name: req.Name, NameEn: deref(req.NameEn), Province: req.Province, City: req.City, ClientIDs: deref(req.ClientIds)})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, factoryView(f))
}

func (h handlers) MergeFactory(c echo.Context, id EntityID) error {
	var req FactoryMerge
	if err := decode(c, &req); err != nil {
		return err
	}
	f, err := h.Factories.MergeFactories(c.Request().Context(), actorOf(c), id, req.Into)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, factoryView(f))
}

// ListAuditEntries reads the audit trail, newest first.
func (h handlers) ListAuditEntries(c echo.Context, params ListAuditEntriesParams) error {
	f := cases.AuditFilter{CaseID: nullUUID(params.CaseId), ActorID: nullUUID(params.ActorId), Action: deref(params.Action),
		Limit: deref(params.Limit), Before: deref(params.Cursor)}
	if params.Since != nil {
		f.Since = *params.Since
	}
	if params.Until != nil {
		f.Until = *params.Until
	}
	page, err := h.Audit.ListEntries(c.Request().Context(), f)
	if err != nil {
		return err
	}
	out := AuditList{Items: make([]AuditEntry, len(page.Entries))}
	for i, e := range page.Entries {
		out.Items[i] = AuditEntry{Seq: e.Seq, At: e.At, ActorRole: AuditEntryActorRole(e.ActorRole), Action: e.Action,
			Subject: e.Subject, Details: e.Details}
		if e.ActorID.Valid {
			out.Items[i].ActorId = &e.ActorID.UUID
		}
		if e.CaseID.Valid {
			out.Items[i].CaseId = &e.CaseID.UUID
		}
		if out.Items[i].Details == nil {
			out.Items[i].Details = map[string]string{}
		}
	}
	if page.Next > 0 {
		out.NextCursor = &page.Next
	}
	return c.JSON(http.StatusOK, out)
}

func (h handlers) ListUsers(c echo.Context, params ListUsersParams) error {
	all, err := h.Users.ListUsers(c.Request().Context())
	if err != nil {
		return err
	}
	list, next, err := keysetPage(all, func(u *cases.User) string { return u.Email }, false, params.Limit, params.Cursor)
	if err != nil {
		return err
	}
	out := UserList{Items: make([]User, len(list)), NextCursor: next}
	for i, u := range list {
		out.Items[i] = userView(u)
	}
	return c.JSON(http.StatusOK, out)
}

func (h handlers) CreateUser(c echo.Context) error {
	var req NewUser
	if err := decode(c, &req); err != nil {
		return err
	}
	n := cases.NewUser{Email: req.Email, Name: req.Name, Role: cases.Role(req.Role)}
	if req.ClientId != nil {
		n.ClientID.UUID, n.ClientID.Valid = *req.ClientId, true
	}
	password := NewPassword()
	hash, err := HashPassword(password)
	if err != nil {
		return err
	}
	n.PasswordHash = hash
	u, err := h.Users.CreateUser(c.Request().Context(), actorOf(c), n)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, CreatedUser{User: userView(u), Password: password})
}

func (h handlers) DisableUser(c echo.Context, id EntityID) error {
	if err := h.Users.DisableUser(c.Request().Context(), actorOf(c), id); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// NewPassword returns a random password of 20 URL-safe characters (120 bits).
func NewPassword() string {
	b := make([]byte, 15)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func clientView(cl *cases.Client) ClientOrg {
	return ClientOrg{Id: cl.ID, Name: cl.Name, Active: cl.Active, CreatedAt: cl.CreatedAt, ReportLanguage: ReportLanguage(cl.ReportLanguage)}
}

func (h handlers) PutReportLanguage(c echo.Context, id EntityID) error {
	var req ReportLanguageRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	ctx := c.Request().Context()
	if err := h.Clients.SetReportLanguage(ctx, actorOf(c), id, string(req.ReportLanguage)); err != nil {
		return err
	}
	cl, err := h.Clients.FindClientByID(ctx, id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, clientView(cl))
}

func userView(u *cases.User) User {
	v := User{Id: u.ID, Email: u.Email, Name: u.Name, Role: Role(u.Role), Disabled: u.Disabled, CreatedAt: u.CreatedAt}
	if u.ClientID.Valid {
		id := u.ClientID.UUID
		v.ClientId = &id
	}
	return v
}
