package web

import (
	"net/http"
	"strconv"
	"strings"

	cases "github.com/remedy-cases/remedy/case"
)

// maxGuardianRows is how many guardians the correction form offers.
const maxGuardianRows = 3

var identityFields = []string{"identity", "full_name", "other_names", "claimed_birth_date", "apparent_age", "id_document_type",
	"id_number", "id_suspected", "hometown", "address", "phone", "guardians", "verified_birth_date"}

// identityForm is the correction form of a revealed identity. It is shown
// on the reveal pages only: it holds the identity in the clear.
type identityForm struct {
	Form       *formState
	Guardians  []cases.Guardian
	Documents  []string
	Suspicions []string
}

func newIdentityForm(c *cases.Case, id cases.Identity) *identityForm {
	f := newForm("identity", identityFields...)
	v := f.Values
	v.Set("version", strconv.Itoa(c.Version))
	v.Set("full_name", id.FullName)
	v.Set("other_names", strings.Join(id.OtherNames, "\n"))
	if id.ClaimedBirthDate != nil {
		v.Set("claimed_birth_date", isoDate(*id.ClaimedBirthDate))
	}
	if id.ApparentAge > 0 {
		v.Set("apparent_age", strconv.Itoa(id.ApparentAge))
	}
	v.Set("id_document_type", id.IDDocumentType)
	v.Set("id_number", id.IDNumber)
	v.Set("id_suspected", id.IDSuspected)
	v.Set("hometown", id.Hometown)
	v.Set("address", id.Address)
	v.Set("phone", id.Phone)
	return &identityForm{Form: f, Guardians: guardianRows(id.Guardians), Documents: idDocuments, Suspicions: cases.IDSuspicions}
}

// guardianRows pads the guardians to the form's rows.
func guardianRows(gs []cases.Guardian) []cases.Guardian {
	out := append([]cases.Guardian(nil), gs...)
	for len(out) < maxGuardianRows {
		out = append(out, cases.Guardian{})
	}
	return out[:max(len(gs), maxGuardianRows)]
}

// correctView is the page of a refused correction: the reveal pages'
// kind, since it shows the identity the user typed.
type correctView struct {
	Case       *cases.Case
	Identity   *identityForm
	Notice     string
	NoticeKind string
}

func (v *correctView) notice() (string, string) { return v.Notice, v.NoticeKind }

// correctIdentity re-seals a corrected identity. The verified date of birth
// is not in the form: only a verification changes it.
func (h *Handler) correctIdentity(q *request) error {
	c, err := q.revealable()
	if err != nil {
		return err
	}
	f := newForm("identity", identityFields...)
	r := q.reader(f)
	version, verr := strconv.Atoi(r.Str("version"))
	if verr != nil {
		return cases.Errorf(cases.ENOTFOUND, "No such form.")
	}
	// The values come back on this page only if refused: read them in the
	// clear here, as the reveal page showed them.
	id := cases.Identity{FullName: r.Str("full_name"), ClaimedBirthDate: r.DatePtr("claimed_birth_date"),
		ApparentAge: r.Int("apparent_age"), IDDocumentType: r.Str("id_document_type"), IDNumber: r.Str("id_number"),
		IDSuspected: r.Str("id_suspected"), Hometown: r.Str("hometown"), Address: r.Str("address"), Phone: r.Str("phone")}
	for _, n := range strings.Split(r.Str("other_names"), "\n") {
		if n = strings.TrimSpace(n); n != "" {
			id.OtherNames = append(id.OtherNames, n)
		}
	}
	for i := range maxGuardianRows + 2 {
		suffix := strconv.Itoa(i)
		g := cases.Guardian{Name: r.Str("guardian_name_" + suffix), Relation: r.Str("guardian_relation_" + suffix),
			Phone: r.Str("guardian_phone_" + suffix)}
		if g != (cases.Guardian{}) {
			id.Guardians = append(id.Guardians, g)
		}
	}
	id.Normalize()
	if err := id.Validate(cases.Today(q.h.Now(), q.h.Zone)); err != nil || f.Failed() {
		f.addFailures(q.loc, cases.ErrorFailures(err))
		return q.refuseCorrection(c, id, f, http.StatusUnprocessableEntity, q.loc.T("form.fix"))
	}
	_, err = h.Cases.CorrectIdentity(q.r.Context(), q.actor, c.ID, version, id)
	switch cases.ErrorCode(err) {
	case "":
		q.redirect("/cases/" + c.ID.String() + "?done=identity")
		return nil
	case cases.EINVALID:
		f.addFailures(q.loc, cases.ErrorFailures(err))
		return q.refuseCorrection(c, id, f, http.StatusUnprocessableEntity, q.loc.T("form.fix"))
	case cases.ECONFLICT:
		// The fresh identity is one more read: the user reveals it again.
		return q.refuseCorrection(c, id, f, http.StatusConflict, q.loc.T("conflict.identity"))
	}
	return err
}

func (q *request) refuseCorrection(c *cases.Case, id cases.Identity, f *formState, status int, notice string) error {
	form := &identityForm{Form: f, Guardians: guardianRows(id.Guardians), Documents: idDocuments, Suspicions: cases.IDSuspicions}
	q.w.Header().Set("Cache-Control", "no-store, max-age=0")
	v := &correctView{Case: c, Identity: form, Notice: notice, NoticeKind: "error"}
	return q.render(status, "correct", "", q.loc.T("correct.title", "Code", c.Code), v)
}
