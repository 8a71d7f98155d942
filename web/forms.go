package web

import (
	"html/template"
	"math"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	cases "github.com/remedy-cases/remedy/case"
)

// formState is one form's values and errors as a page shows them. Values
// never hold a sealed field (an identity or a note): those are not sent
// back to the browser, which keeps them in its own inputs when htmx swaps
// only the errors.
type formState struct {
	Name    string
	Fields  []string // every field that can carry an error, for htmx to clear
	Values  url.Values
	Errors  map[string]string
	Summary []string
	// FailPrefix, when set, is tried before fail.<name> to translate a
	// refusal: a field name such as method means another thing here.
	FailPrefix string
}

func newForm(name string, fields ...string) *formState {
	return &formState{Name: name, Fields: fields, Values: url.Values{}, Errors: map[string]string{}}
}

// V is a field's value.
func (f *formState) V(name string) string { return f.Values.Get(name) }

// On reports whether a checkbox is ticked.
func (f *formState) On(name string) bool { return f.Values.Get(name) == "on" }

// Err is the field's error element (empty when the field is fine).
func (f *formState) Err(name string) template.HTML {
	return errorElement(f.Name, name, f.Errors[name], false)
}

// Invalid reports whether name has an error, for aria-invalid.
func (f *formState) Invalid(name string) bool { return f.Errors[name] != "" }

// ID is the HTML id of a field.
func (f *formState) ID(name string) string { return fieldID(f.Name, name) }

// Failed reports whether any field or the form has an error.
func (f *formState) Failed() bool { return len(f.Errors) > 0 || len(f.Summary) > 0 }

func (f *formState) hasField(name string) bool {
	for _, n := range f.Fields {
		if n == name {
			return true
		}
	}
	return false
}

// addFailures places the domain's refusals beside their fields, translated
// by name; the rest goes to the form's summary.
func (f *formState) addFailures(loc *locale, failed []cases.Failure) {
	for _, fl := range failed {
		msg := loc.Failure(fl)
		if f.FailPrefix != "" && loc.Has(f.FailPrefix+fl.Name) {
			msg = loc.T(f.FailPrefix + fl.Name)
		}
		name := fl.Name
		if !f.hasField(name) {
			name = strings.TrimPrefix(name, "identity.")
		}
		switch {
		case f.hasField(name) && f.Errors[name] == "":
			f.Errors[name] = msg
		case f.hasField(name):
		default:
			f.Summary = append(f.Summary, msg)
		}
	}
}

// oob renders the form's errors for htmx to swap out of band: every field's
// error element, cleared where the field is now fine, and the summary.
func (f *formState) oob(loc *locale) string {
	var b strings.Builder
	for _, name := range f.Fields {
		b.WriteString(string(errorElement(f.Name, name, f.Errors[name], true)))
	}
	b.WriteString(`<div id="` + fieldID(f.Name, "summary") + `" class="form-summary" role="alert" hx-swap-oob="true">`)
	if f.Failed() {
		b.WriteString(`<p>` + template.HTMLEscapeString(loc.T("form.fix")) + `</p>`)
	}
	if len(f.Summary) > 0 {
		b.WriteString("<ul>")
		for _, s := range f.Summary {
			b.WriteString("<li>" + template.HTMLEscapeString(s) + "</li>")
		}
		b.WriteString("</ul>")
	}
	b.WriteString("</div>")
	return b.String()
}

// reader reads a submitted form, collecting a translated error per field
// that does not parse. Sealed fields are read with Secret, which never
// copies them into the values shown again.
type reader struct {
	v    url.Values
	f    *formState
	loc  *locale
	zone *time.Location
}

func (q *request) reader(f *formState) *reader {
	_ = q.r.ParseForm() // checkCSRF parsed it, bounded
	return &reader{v: q.r.PostForm, f: f, loc: q.loc, zone: q.h.Zone}
}

func (r *reader) bad(name, key string) {
	if r.f.Errors[name] == "" {
		r.f.Errors[name] = r.loc.T(key)
	}
}

// Str reads a plain field, trimmed, and keeps it to show again.
func (r *reader) Str(name string) string {
	s := strings.TrimSpace(r.v.Get(name))
	r.f.Values.Set(name, s)
	return s
}

// Secret reads a sealed field; it is not shown again.
func (r *reader) Secret(name string) string { return strings.TrimSpace(r.v.Get(name)) }

// Bool reads a checkbox.
func (r *reader) Bool(name string) bool {
	on := r.v.Get(name) != ""
	if on {
		r.f.Values.Set(name, "on")
	}
	return on
}

// Date reads a yyyy-mm-dd date; empty gives the zero time.
func (r *reader) Date(name string) time.Time {
	s := r.Str(name)
	if s == "" {
		return time.Time{}
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		r.bad(name, "parse.date")
	}
	return t
}

// DatePtr reads an optional date.
func (r *reader) DatePtr(name string) *time.Time {
	t := r.Date(name)
	if t.IsZero() {
		return nil
	}
	return &t
}

// SecretDate reads a sealed date, such as a date of birth.
func (r *reader) SecretDate(name string) *time.Time {
	s := r.Secret(name)
	if s == "" {
		return nil
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		r.bad(name, "parse.date")
		return nil
	}
	return &t
}

// Int reads a whole number; empty gives 0.
func (r *reader) Int(name string) int {
	s := r.Str(name)
	if s == "" {
		return 0
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		r.bad(name, "parse.int")
	}
	return n
}

// IntPtr reads an optional whole number.
func (r *reader) IntPtr(name string) *int {
	if strings.TrimSpace(r.v.Get(name)) == "" {
		r.f.Values.Del(name)
		return nil
	}
	n := r.Int(name)
	return &n
}

// SecretInt reads a sealed whole number, such as an apparent age.
func (r *reader) SecretInt(name string) int {
	s := r.Secret(name)
	if s == "" {
		return 0
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		r.bad(name, "parse.int")
	}
	return n
}

// Money reads an amount in yuan (or the currency's major unit) with at
// most two decimals, as minor units.
func (r *reader) Money(name string) int64 {
	s := strings.ReplaceAll(r.Str(name), ",", "")
	if s == "" {
		return 0
	}
	n, err := parseMinor(s)
	if err != nil {
		r.bad(name, "parse.money")
	}
	return n
}

func parseMinor(s string) (int64, error) {
	whole, frac, hasFrac := strings.Cut(s, ".")
	if whole == "" || len(frac) > 2 || hasFrac && frac == "" {
		return 0, strconv.ErrSyntax
	}
	w, err := strconv.ParseInt(whole, 10, 64)
	if err != nil || w < 0 || w > math.MaxInt64/100-1 {
		return 0, strconv.ErrSyntax
	}
	for len(frac) < 2 {
		frac += "0"
	}
	f, err := strconv.ParseInt(frac, 10, 64)
	if err != nil || f < 0 {
		return 0, strconv.ErrSyntax
	}
	return w*100 + f, nil
}

// formatYuan writes minor units as a plain decimal for an input's value.
func formatYuan(minor int64) string {
	if minor == 0 {
		return ""
	}
	return strconv.FormatInt(minor/100, 10) + "." + strconv.FormatInt(100+minor%100, 10)[1:]
}

func parseUUID(s string) (uuid.UUID, error) { return uuid.Parse(s) }
