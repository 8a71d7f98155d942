package web

import (
	"errors"
	"html/template"
	"net/http"
	"strings"

	cases "github.com/remedy-cases/remedy/case"
)

// errorView is the page of a refused or failed request.
type errorView struct {
	Heading, Message string
}

// fail answers err: a case the user may not see is exactly a missing one
// (404); anything unexpected is logged by code and type, never its text,
// and shown as a general sentence.
func (h *Handler) fail(q *request, err error) {
	status, heading, message := http.StatusInternalServerError, "error.internal.title", "error.internal.text"
	switch {
	case errors.Is(err, errCSRF):
		status, heading, message = http.StatusForbidden, "error.csrf.title", "error.csrf.text"
	case cases.ErrorCode(err) == cases.ENOTFOUND:
		status, heading, message = http.StatusNotFound, "error.notfound.title", "error.notfound.text"
	case cases.ErrorCode(err) == cases.EFORBIDDEN:
		status, heading, message = http.StatusForbidden, "error.forbidden.title", "error.forbidden.text"
	default:
		h.logError(q.r.Context(), q.r, err)
	}
	if q.loc == nil {
		q.loc = h.i18n.locale(cases.Locales[0])
	}
	if q.csrf == "" && q.session != nil {
		q.csrf = maskToken(q.session.CSRFSecret)
	}
	v := errorView{Heading: q.loc.T(heading), Message: q.loc.T(message)}
	if q.htmx {
		// htmx swaps only the notice; the page the user was on stays.
		q.w.Header().Set("HX-Reswap", "none")
		q.w.Header().Set("Cache-Control", "no-store")
		write(q.w, q.r, status, []byte(oobNotice(v.Message)), false)
		return
	}
	if rerr := q.render(status, "error", "", v.Heading, v); rerr != nil {
		h.logError(q.r.Context(), q.r, rerr)
		http.Error(q.w, http.StatusText(status), status)
	}
}

func (h *Handler) notFound(q *request) error { return cases.Errorf(cases.ENOTFOUND, "No such page.") }

// oobNotice replaces the page's notice area through htmx.
func oobNotice(message string) string {
	return `<div id="notice" class="notice notice-error" role="alert" hx-swap-oob="true">` +
		template.HTMLEscapeString(message) + `</div>`
}

// errorElement is a field's error message, present even when empty so
// that an htmx answer can replace it out of band.
func errorElement(form, field, message string, oob bool) template.HTML {
	var b strings.Builder
	b.WriteString(`<p class="field-error" id="`)
	b.WriteString(fieldID(form, field))
	b.WriteString(`-error"`)
	if oob {
		b.WriteString(` hx-swap-oob="true"`)
	}
	b.WriteString(`>`)
	b.WriteString(template.HTMLEscapeString(message))
	b.WriteString(`</p>`)
	return template.HTML(b.String())
}
