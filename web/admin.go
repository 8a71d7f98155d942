package web

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/remedy-cases/remedy/auth"
	cases "github.com/remedy-cases/remedy/case"
)

// The admin's pages: users (create, disable, role and brand, a one-time
// password link), brands with their report contacts, factories (merge
// duplicates) and a read-only view of the audit trail with its
// verification. An admin sees no case and no identity: nothing here
// reads one.

func (h *Handler) routesAdmin() {
	m := h.mux
	m.Handle("GET /admin/users", h.private(h.adminUsers))
	m.Handle("POST /admin/users", h.private(h.adminCreateUser))
	m.Handle("POST /admin/users/{id}/access", h.private(h.adminUserAccess))
	m.Handle("POST /admin/users/{id}/disable", h.private(h.adminDisableUser))
	m.Handle("POST /admin/users/{id}/reset", h.private(h.adminResetLink))
	m.Handle("GET /admin/clients", h.private(h.adminClients))
	m.Handle("POST /admin/clients", h.private(h.adminCreateClient))
	m.Handle("POST /admin/clients/{id}/active", h.private(h.adminClientActive))
	m.Handle("GET /admin/clients/{id}", h.private(h.adminClient))
	m.Handle("POST /admin/clients/{id}/contacts", h.private(h.adminContacts))
	m.Handle("GET /admin/factories", h.private(h.adminFactories))
	m.Handle("POST /admin/factories/merge", h.private(h.adminMerge))
	m.Handle("GET /admin/audit", h.private(h.adminAudit))
	m.Handle("GET /reset/{token}", h.public(h.resetPage))
	m.Handle("POST /reset/{token}", h.public(h.reset))
}

// resetTTL is how long a password link works.
const resetTTL = 24 * time.Hour

// accounts is the service that changes access and issues reset links:
// Config's, or the user service's own.
func (h *Handler) accounts() cases.AccountService {
	if h.Accounts != nil {
		return h.Accounts
	}
	if a, ok := h.Users.(cases.AccountService); ok {
		return a
	}
	return nil
}

// adminOnly refuses anyone but an admin, as a missing page.
func (q *request) adminOnly() error {
	if q.actor.Role != cases.RoleAdmin || q.h.accounts() == nil || q.h.Reports == nil || q.h.Audit == nil {
		return cases.Errorf(cases.ENOTFOUND, "No such page.")
	}
	return nil
}

// adminView is the admin's home: what there is, and whether the audit
// trail verifies.
type adminView struct {
	Users, Clients, Factories int
	Audit                     auditCheck
}

// auditCheck is the audit trail's verification, as a page shows it.
type auditCheck struct {
	Entries int64
	OK      bool
	BreakAt int64
}

func (q *request) verifyAudit(ctx context.Context) (auditCheck, error) {
	n, err := q.h.Audit.Verify(ctx)
	if b, ok := err.(*cases.AuditBreak); ok {
		return auditCheck{Entries: n, BreakAt: b.Seq}, nil
	} else if err != nil {
		return auditCheck{}, err
	}
	return auditCheck{Entries: n, OK: true}, nil
}

func (h *Handler) adminHome(q *request) error {
	if err := q.adminOnly(); err != nil {
		return err
	}
	ctx := q.r.Context()
	users, err := h.Users.ListUsers(ctx)
	if err != nil {
		return err
	}
	clients, err := h.Clients.ListClients(ctx)
	if err != nil {
		return err
	}
	factories, err := h.Factories.ListFactories(ctx)
	if err != nil {
		return err
	}
	v := &adminView{Users: len(users), Clients: len(clients), Factories: len(factories)}
	if v.Audit, err = q.verifyAudit(ctx); err != nil {
		return err
	}
	return q.render(http.StatusOK, "admin_home", "", q.loc.T("admin.title"), v)
}

// usersView is the list of users with the form that creates one.
type usersView struct {
	Users   []*cases.User
	Clients []*cases.Client
	Names   map[uuid.UUID]string // brands by id
	Roles   []cases.Role
	Form    *formState
	Self    uuid.UUID
	Notice  string
	Kind    string
	// Row is the user whose access form was refused, RowErrors its
	// messages by field (role, client_id).
	Row       uuid.UUID
	RowErrors map[string]string
}

func (v *usersView) notice() (string, string) { return v.Notice, v.Kind }

var userFields = []string{"email", "name", "role", "client_id"}

func (h *Handler) adminUsers(q *request) error {
	if err := q.adminOnly(); err != nil {
		return err
	}
	v := &usersView{Form: newForm("user", userFields...)}
	if done := q.r.URL.Query().Get("done"); done != "" && q.loc.Has("admin.done."+done) {
		v.Notice, v.Kind = q.loc.T("admin.done."+done), "ok"
	}
	return q.renderUsers(http.StatusOK, v)
}

func (q *request) renderUsers(status int, v *usersView) error {
	ctx := q.r.Context()
	var err error
	if v.Users, err = q.h.Users.ListUsers(ctx); err != nil {
		return err
	}
	if v.Clients, err = q.h.Clients.ListClients(ctx); err != nil {
		return err
	}
	v.Names = map[uuid.UUID]string{}
	for _, c := range v.Clients {
		v.Names[c.ID] = c.Name
	}
	v.Roles, v.Self = cases.Roles, q.actor.UserID
	return q.render(status, "admin_users", "", q.loc.T("admin.users.title"), v)
}

// readAccess reads a role and, for a brand's user, its brand.
func readAccess(r *reader) cases.UserAccess {
	a := cases.UserAccess{Role: cases.Role(r.Str("role"))}
	if s := r.Str("client_id"); s != "" && a.Role == cases.RoleClient {
		id, err := parseUUID(s)
		if err != nil {
			r.bad("client_id", "admin.bad_client")
		}
		a.ClientID = uuid.NullUUID{UUID: id, Valid: err == nil}
	}
	return a
}

func (h *Handler) adminCreateUser(q *request) error {
	if err := q.adminOnly(); err != nil {
		return err
	}
	f := newForm("user", userFields...)
	r := q.reader(f)
	n := cases.NewUser{Email: strings.ToLower(r.Str("email")), Name: r.Str("name")}
	a := readAccess(r)
	n.Role, n.ClientID = a.Role, a.ClientID
	err := n.Validate()
	if err == nil && !f.Failed() {
		_, err = h.Users.CreateUser(q.r.Context(), q.actor, n)
	}
	if err != nil || f.Failed() {
		switch cases.ErrorCode(err) {
		case cases.EINVALID, "":
			f.addFailures(q.loc, cases.ErrorFailures(err))
		case cases.ECONFLICT:
			f.Errors["email"] = q.loc.T("admin.email_taken")
		default:
			return err
		}
		return q.renderUsers(http.StatusUnprocessableEntity, &usersView{Form: f})
	}
	q.redirect("/admin/users?done=user_created")
	return nil
}

// pathUser reads the user of the path; a bad id is a missing user.
func (q *request) pathUser() (*cases.User, error) {
	id, err := uuid.Parse(q.r.PathValue("id"))
	if err != nil {
		return nil, cases.Errorf(cases.ENOTFOUND, "User not found.")
	}
	return q.h.Users.FindUserByID(q.r.Context(), id)
}

// refuseUsers shows the users page again with the refusal in words,
// beside the field of the user's row it is about (role or brand), and in
// the notice.
func (q *request) refuseUsers(err error, user uuid.UUID) error {
	if cases.ErrorCode(err) != cases.EINVALID {
		return err
	}
	v := &usersView{Form: newForm("user", userFields...), Kind: "error", Row: user, RowErrors: map[string]string{}}
	var msgs []string
	for _, f := range cases.ErrorFailures(err) {
		msg := q.loc.Failure(f)
		msgs = append(msgs, msg)
		field := "role"
		if f.Name == "client_id" {
			field = "client_id"
		}
		if v.RowErrors[field] == "" {
			v.RowErrors[field] = msg
		}
	}
	v.Notice = strings.Join(msgs, " ")
	return q.renderUsers(http.StatusUnprocessableEntity, v)
}

func (h *Handler) adminUserAccess(q *request) error {
	if err := q.adminOnly(); err != nil {
		return err
	}
	u, err := q.pathUser()
	if err != nil {
		return err
	}
	f := newForm("access", "role", "client_id")
	a := readAccess(q.reader(f))
	if f.Failed() {
		return q.refuseUsers(&cases.Error{Code: cases.EINVALID, Failed: []cases.Failure{{Name: "client_id"}}}, u.ID)
	}
	if u.ID == q.actor.UserID && a.Role != cases.RoleAdmin {
		// An admin who demoted itself could lock the organisation out.
		return q.refuseUsers(&cases.Error{Code: cases.EINVALID, Failed: []cases.Failure{{Name: "admin.self"}}}, u.ID)
	}
	if _, err := h.accounts().SetUserAccess(q.r.Context(), q.actor, u.ID, a); err != nil {
		return q.refuseUsers(err, u.ID)
	}
	q.redirect("/admin/users?done=access")
	return nil
}

func (h *Handler) adminDisableUser(q *request) error {
	if err := q.adminOnly(); err != nil {
		return err
	}
	u, err := q.pathUser()
	if err != nil {
		return err
	}
	if u.ID == q.actor.UserID {
		return q.refuseUsers(&cases.Error{Code: cases.EINVALID, Failed: []cases.Failure{{Name: "admin.self"}}}, u.ID)
	}
	ctx := q.r.Context()
	if err := h.Users.DisableUser(ctx, q.actor, u.ID); err != nil {
		return err
	}
	if _, err := h.Sessions.DeleteUserSessions(ctx, q.actor, u.ID); err != nil {
		return err
	}
	q.redirect("/admin/users?done=disabled")
	return nil
}

// resetLinkView shows a new password link, this once.
type resetLinkView struct {
	User    *cases.User
	Link    string
	Expires time.Time
}

func (h *Handler) adminResetLink(q *request) error {
	if err := q.adminOnly(); err != nil {
		return err
	}
	u, err := q.pathUser()
	if err != nil {
		return err
	}
	token, expires, err := h.accounts().IssuePasswordReset(q.r.Context(), q.actor, u.ID, resetTTL)
	if err != nil {
		return q.refuseUsers(err, u.ID)
	}
	scheme := "http"
	if h.secure(q.r) {
		scheme = "https"
	}
	v := &resetLinkView{User: u, Link: scheme + "://" + q.r.Host + "/reset/" + token, Expires: expires}
	return q.render(http.StatusOK, "admin_reset_link", "", q.loc.T("admin.reset.title"), v)
}

// resetView is the page where a user sets a password with a link.
type resetView struct {
	Form  *formState
	Token string
}

func (h *Handler) resetPage(q *request) error {
	a := h.accounts()
	if a == nil {
		return cases.Errorf(cases.ENOTFOUND, "No such page.")
	}
	token := q.r.PathValue("token")
	if _, err := a.PasswordResetUser(q.r.Context(), token); err != nil {
		return err
	}
	return q.render(http.StatusOK, "reset", "", q.loc.T("reset.title"), &resetView{Form: newForm("reset", "password", "confirm"), Token: token})
}

func (h *Handler) reset(q *request) error {
	a := h.accounts()
	if a == nil {
		return cases.Errorf(cases.ENOTFOUND, "No such page.")
	}
	ctx := q.r.Context()
	token := q.r.PathValue("token")
	if _, err := a.PasswordResetUser(ctx, token); err != nil {
		return err
	}
	f := newForm("reset", "password", "confirm")
	r := q.reader(f)
	password, confirm := r.Secret("password"), r.Secret("confirm")
	switch {
	case len(password) < auth.MinPasswordLength:
		f.Errors["password"] = q.loc.T("reset.too_short", "Min", auth.MinPasswordLength)
	case password != confirm:
		f.Errors["confirm"] = q.loc.T("reset.mismatch")
	}
	if f.Failed() {
		return q.render(http.StatusUnprocessableEntity, "reset", "", q.loc.T("reset.title"), &resetView{Form: f, Token: token})
	}
	hash, err := auth.HashPassword(password)
	if err != nil {
		return err
	}
	u, err := a.ResetPassword(ctx, token, hash)
	if err != nil {
		return err
	}
	// A new password ends every session of the old one.
	if _, err := h.Sessions.DeleteUserSessions(ctx, u.Actor(), u.ID); err != nil {
		return err
	}
	q.redirect("/signin?done=reset")
	return nil
}

// clientsView lists the brands with the form that creates one.
type clientsView struct {
	Clients []*cases.Client
	Form    *formState
	Notice  string
}

func (v *clientsView) notice() (string, string) { return v.Notice, "ok" }

func (h *Handler) adminClients(q *request) error {
	if err := q.adminOnly(); err != nil {
		return err
	}
	v := &clientsView{Form: newForm("client", "name")}
	if done := q.r.URL.Query().Get("done"); done != "" && q.loc.Has("admin.done."+done) {
		v.Notice = q.loc.T("admin.done." + done)
	}
	return q.renderClients(http.StatusOK, v)
}

func (q *request) renderClients(status int, v *clientsView) error {
	var err error
	if v.Clients, err = q.h.Clients.ListClients(q.r.Context()); err != nil {
		return err
	}
	return q.render(status, "admin_clients", "", q.loc.T("admin.clients.title"), v)
}

func (h *Handler) adminCreateClient(q *request) error {
	if err := q.adminOnly(); err != nil {
		return err
	}
	f := newForm("client", "name")
	n := cases.NewClient{Name: q.reader(f).Str("name")}
	_, err := h.Clients.CreateClient(q.r.Context(), q.actor, n)
	switch cases.ErrorCode(err) {
	case "":
		q.redirect("/admin/clients?done=client_created")
		return nil
	case cases.EINVALID:
		f.addFailures(q.loc, cases.ErrorFailures(err))
	case cases.ECONFLICT:
		f.Errors["name"] = q.loc.T("admin.name_taken")
	default:
		return err
	}
	return q.renderClients(http.StatusUnprocessableEntity, &clientsView{Form: f})
}

func (q *request) pathClient() (*cases.Client, error) {
	id, err := uuid.Parse(q.r.PathValue("id"))
	if err != nil {
		return nil, cases.Errorf(cases.ENOTFOUND, "Client not found.")
	}
	return q.h.Clients.FindClientByID(q.r.Context(), id)
}

func (h *Handler) adminClientActive(q *request) error {
	if err := q.adminOnly(); err != nil {
		return err
	}
	c, err := q.pathClient()
	if err != nil {
		return err
	}
	f := newForm("active", "active")
	active := q.reader(f).Str("active") == "true"
	if err := h.Clients.SetClientActive(q.r.Context(), q.actor, c.ID, active); err != nil {
		return err
	}
	q.redirect("/admin/clients?done=active")
	return nil
}

// clientView is one brand with its report contacts.
type clientView struct {
	Client *cases.Client
	Form   *formState
	Notice string
}

func (v *clientView) notice() (string, string) { return v.Notice, "ok" }

func (h *Handler) adminClient(q *request) error {
	if err := q.adminOnly(); err != nil {
		return err
	}
	c, err := q.pathClient()
	if err != nil {
		return err
	}
	emails, err := h.Reports.ReportContacts(q.r.Context(), c.ID)
	if err != nil {
		return err
	}
	f := newForm("contacts", "emails")
	f.Values.Set("emails", strings.Join(emails, "\n"))
	v := &clientView{Client: c, Form: f}
	if q.r.URL.Query().Get("done") == "contacts" {
		v.Notice = q.loc.T("admin.done.contacts")
	}
	return q.render(http.StatusOK, "admin_client", "", c.Name, v)
}

func (h *Handler) adminContacts(q *request) error {
	if err := q.adminOnly(); err != nil {
		return err
	}
	c, err := q.pathClient()
	if err != nil {
		return err
	}
	f := newForm("contacts", "emails")
	var emails []string
	for _, line := range strings.FieldsFunc(q.reader(f).Str("emails"), func(r rune) bool { return r == '\n' || r == ',' || r == ';' || r == '\r' }) {
		if e := strings.TrimSpace(line); e != "" {
			emails = append(emails, e)
		}
	}
	err = h.Reports.SetReportContacts(q.r.Context(), q.actor, c.ID, emails)
	if cases.ErrorCode(err) == cases.EINVALID {
		for _, fl := range cases.ErrorFailures(err) {
			msg := q.loc.T("admin.contacts.bad")
			if i := strings.Index(fl.Name, "["); i > 0 {
				if n, perr := strconv.Atoi(strings.TrimSuffix(fl.Name[i+1:], "]")); perr == nil && n < len(emails) {
					msg = q.loc.T("admin.contacts.bad_one", "Email", emails[n])
				}
			}
			if f.Errors["emails"] == "" {
				f.Errors["emails"] = msg
			} else {
				f.Errors["emails"] += " " + msg
			}
		}
		return q.render(http.StatusUnprocessableEntity, "admin_client", "", c.Name, &clientView{Client: c, Form: f})
	} else if err != nil {
		return err
	}
	q.redirect("/admin/clients/" + c.ID.String() + "?done=contacts")
	return nil
}

// factoriesView lists the factories with the form that merges two.
type factoriesView struct {
	Factories []*cases.Factory
	Names     map[uuid.UUID]string // brands by id
	Form      *formState
	Notice    string
}

func (v *factoriesView) notice() (string, string) { return v.Notice, "ok" }

func (h *Handler) adminFactories(q *request) error {
	if err := q.adminOnly(); err != nil {
		return err
	}
	v := &factoriesView{Form: newForm("merge", "from", "into")}
	if q.r.URL.Query().Get("done") == "merged" {
		v.Notice = q.loc.T("admin.done.merged")
	}
	return q.renderFactories(http.StatusOK, v)
}

func (q *request) renderFactories(status int, v *factoriesView) error {
	ctx := q.r.Context()
	var err error
	if v.Factories, err = q.h.Factories.ListFactories(ctx); err != nil {
		return err
	}
	clients, err := q.h.Clients.ListClients(ctx)
	if err != nil {
		return err
	}
	v.Names = map[uuid.UUID]string{}
	for _, c := range clients {
		v.Names[c.ID] = c.Name
	}
	return q.render(status, "admin_factories", "", q.loc.T("admin.factories.title"), v)
}

func (h *Handler) adminMerge(q *request) error {
	if err := q.adminOnly(); err != nil {
		return err
	}
	f := newForm("merge", "from", "into")
	r := q.reader(f)
	from, errFrom := parseUUID(r.Str("from"))
	into, errInto := parseUUID(r.Str("into"))
	if errFrom != nil {
		f.Errors["from"] = q.loc.T("admin.merge.choose")
	}
	if errInto != nil {
		f.Errors["into"] = q.loc.T("admin.merge.choose")
	}
	if errFrom == nil && errInto == nil && from == into {
		f.Errors["into"] = q.loc.T("admin.merge.same")
	}
	if !f.Failed() {
		_, err := h.Factories.MergeFactories(q.r.Context(), q.actor, from, into)
		switch cases.ErrorCode(err) {
		case "":
			q.redirect("/admin/factories?done=merged")
			return nil
		case cases.ENOTFOUND, cases.EINVALID:
			f.Errors["from"] = q.loc.T("admin.merge.choose")
		default:
			return err
		}
	}
	return q.renderFactories(http.StatusUnprocessableEntity, &factoriesView{Form: f})
}

// auditView is a page of the audit trail, newest first, with the chain's
// verification.
type auditView struct {
	Entries []*cases.AuditEntry
	Names   map[uuid.UUID]string // users by id
	Next    int64
	Action  string
	Actions []string
	Check   auditCheck
}

// auditActions are the actions the filter offers.
var auditActions = []string{cases.ActionCaseFiled, cases.ActionCaseAssigned, cases.ActionTransition, cases.ActionIdentityRead,
	cases.ActionNotesRead, cases.ActionFollowUpAdded, cases.ActionPaymentRecorded, cases.ActionReportDownloaded,
	cases.ActionLedgerExported, cases.ActionSignIn, cases.ActionSignInFailed, cases.ActionUserCreated, cases.ActionUserDisabled,
	cases.ActionUserAccessSet, cases.ActionPasswordResetIssued, cases.ActionPasswordSet, cases.ActionClientCreated,
	cases.ActionFactoriesMerged, cases.ActionReportContacts}

func (h *Handler) adminAudit(q *request) error {
	if err := q.adminOnly(); err != nil {
		return err
	}
	ctx := q.r.Context()
	f := cases.AuditFilter{Limit: 50}
	v := &auditView{Actions: auditActions}
	qs := q.r.URL.Query()
	for _, a := range auditActions {
		if qs.Get("action") == a {
			f.Action, v.Action = a, a
		}
	}
	if b, err := strconv.ParseInt(qs.Get("before"), 10, 64); err == nil && b > 0 {
		f.Before = b
	}
	page, err := h.Audit.ListEntries(ctx, f)
	if err != nil {
		return err
	}
	v.Entries, v.Next = page.Entries, page.Next
	users, err := h.Users.ListUsers(ctx)
	if err != nil {
		return err
	}
	v.Names = map[uuid.UUID]string{}
	for _, u := range users {
		v.Names[u.ID] = u.Name
	}
	if v.Check, err = q.verifyAudit(ctx); err != nil {
		return err
	}
	return q.render(http.StatusOK, "admin_audit", "", q.loc.T("admin.audit.title"), v)
}
