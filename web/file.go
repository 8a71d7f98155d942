package web

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"sort"
	"strings"

	cases "github.com/remedy-cases/remedy/case"
)

// fileView is the report form: a supervisor (or an auditor) files a case.
type fileView struct {
	Form         *formState
	Clients      []*cases.Client
	Factories    []*cases.Factory
	Genders      []cases.Gender
	Presences    []cases.Presence
	Recruitments []cases.Recruitment
	Hazards      []string
	Suspicions   []string
	Documents    []string
}

var fileFields = []string{"client_id", "factory_id", "found_on", "gender", "presence", "job", "hazards", "hours_per_week",
	"monthly_wage", "wage_currency", "recruitment", "other_children_found", "labour_agent", "factory_consent", "removed_from_work", "child_safe", "identity", "full_name",
	"claimed_birth_date", "apparent_age", "id_document_type", "id_number", "id_suspected", "hometown", "address",
	"phone", "guardians", "narrative"}

// idDocuments are the ID documents the form offers.
var idDocuments = []string{"id_card", "household_register", "passport", "student_card", "none", "other"}

func canFile(r cases.Role) bool { return r == cases.RoleSupervisor || r == cases.RoleAuditor }

func (h *Handler) newCasePage(q *request) error {
	if !canFile(q.actor.Role) {
		return cases.Errorf(cases.ENOTFOUND, "No such page.")
	}
	f := newForm("file", fileFields...)
	f.Values.Set("wage_currency", "CNY")
	f.Values.Set("presence", string(cases.PresenceEmployed))
	f.Values.Set("labour_agent", string(cases.AnswerUnknown))
	f.Values.Set("factory_consent", string(cases.AnswerUnknown))
	return q.renderFile(http.StatusOK, f)
}

func (q *request) renderFile(status int, f *formState) error {
	ctx := q.r.Context()
	v := &fileView{Form: f, Genders: cases.Genders, Presences: cases.Presences, Recruitments: cases.Recruitments,
		Hazards: cases.Hazards, Suspicions: cases.IDSuspicions, Documents: idDocuments}
	clients, err := q.h.Clients.ListClients(ctx)
	if err != nil {
		return err
	}
	for _, c := range clients {
		if c.Active {
			v.Clients = append(v.Clients, c)
		}
	}
	if v.Factories, err = q.h.Factories.ListFactories(ctx); err != nil {
		return err
	}
	// A new key each time the form is shown: a retried submission of the
	// same form files the case once.
	if f.Values.Get("once") == "" {
		b := make([]byte, 18)
		_, _ = rand.Read(b)
		f.Values.Set("once", base64.RawURLEncoding.EncodeToString(b))
	}
	return q.render(status, "file", "", q.loc.T("file.title"), v)
}

// fileCase files the report once per form (the form's key), and shows
// the new case.
func (h *Handler) fileCase(q *request) error {
	if !canFile(q.actor.Role) {
		return cases.Errorf(cases.ENOTFOUND, "No such page.")
	}
	f := newForm("file", fileFields...)
	r := q.reader(f)
	rep := cases.Report{Gender: cases.Gender(r.Str("gender")), Presence: cases.Presence(r.Str("presence")),
		Job: r.Str("job"), HoursPerWeek: r.Int("hours_per_week"), FoundOn: r.Date("found_on"),
		MonthlyWage: cases.Money{Amount: r.Money("monthly_wage"), Currency: r.Str("wage_currency")},
		Recruitment: cases.Recruitment(r.Str("recruitment")), RemovedFromWork: r.Bool("removed_from_work"),
		ChildSafe: r.Bool("child_safe"), Narrative: cases.NewNote(r.Secret("narrative")),
		OtherChildrenFound: r.Int("other_children_found"), LabourAgent: cases.Answer(r.Str("labour_agent")),
		FactoryConsent: cases.Answer(r.Str("factory_consent"))}
	if rep.MonthlyWage.Amount == 0 {
		rep.MonthlyWage.Currency = ""
	}
	rep.ClientID, _ = parseUUID(r.Str("client_id"))
	rep.FactoryID, _ = parseUUID(r.Str("factory_id"))
	for _, hz := range q.r.PostForm["hazards"] {
		rep.Hazards = append(rep.Hazards, hz)
		f.Values.Add("hazards", hz)
	}
	id := cases.Identity{FullName: r.Secret("full_name"), ClaimedBirthDate: r.SecretDate("claimed_birth_date"),
		ApparentAge: r.SecretInt("apparent_age"), IDDocumentType: r.Str("id_document_type"),
		IDNumber: r.Secret("id_number"), IDSuspected: r.Str("id_suspected"), Hometown: r.Secret("hometown"),
		Address: r.Secret("address"), Phone: r.Secret("phone")}
	if g := (cases.Guardian{Name: r.Secret("guardian_name"), Relation: r.Str("guardian_relation"),
		Phone: r.Secret("guardian_phone")}); g.Name != "" || g.Phone != "" {
		id.Guardians = []cases.Guardian{g}
	}
	rep.Identity = id
	once := r.Str("once")
	now := h.Now()
	rep.Normalize()
	if err := rep.Validate(cases.Today(now, h.Zone)); err != nil || f.Failed() {
		f.addFailures(q.loc, cases.ErrorFailures(err))
		return q.refuseFile(f)
	}
	key := cases.IdempotencyKey{Key: "web-" + once, RequestHash: reportHash(q.r.PostForm)}
	c, _, err := h.Cases.FileCaseOnce(q.r.Context(), q.actor, key, rep)
	if cases.ErrorCode(err) == cases.EINVALID {
		f.addFailures(q.loc, cases.ErrorFailures(err))
		return q.refuseFile(f)
	} else if err != nil {
		return err
	}
	if q.actor.Role == cases.RoleAuditor {
		q.redirect("/?done=filed")
		return nil
	}
	q.redirect("/cases/" + c.ID.String() + "?done=filed")
	return nil
}

// refuseFile shows the report's errors: htmx swaps them in beside the
// inputs, which keep what was typed; a plain form is shown again without
// the sealed fields, which are never sent back.
func (q *request) refuseFile(f *formState) error {
	if q.htmx {
		q.w.Header().Set("HX-Reswap", "none")
		write(q.w, q.r, http.StatusUnprocessableEntity, []byte(f.oob(q.loc)+oobNotice(q.loc.T("form.fix"))), true)
		return nil
	}
	return q.renderFile(http.StatusUnprocessableEntity, f)
}

// reportHash is the SHA-256 of the submitted form, fields sorted, without
// the CSRF token, which changes with every page.
func reportHash(form map[string][]string) [32]byte {
	keys := make([]string, 0, len(form))
	for k := range form {
		if k != "csrf" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	h := sha256.New()
	for _, k := range keys {
		h.Write([]byte(k + "=" + strings.Join(form[k], "\x00") + "\n"))
	}
	var out [32]byte
	copy(out[:], h.Sum(nil))
	return out
}
