package web

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/google/uuid"

	cases "github.com/remedy-cases/remedy/case"
)

//go:embed templates
var templateFS embed.FS

// pageSet is every page's template for one locale: each page is the layout
// and the partials with the page's own file, so that a fragment htmx swaps
// is the same template the full page includes.
type pageSet struct {
	pages map[string]*template.Template
}

func (h *Handler) parsePages() (map[string]*pageSet, error) {
	pageFiles, err := fs.Glob(templateFS, "templates/pages/*.html")
	if err != nil {
		return nil, err
	}
	out := map[string]*pageSet{}
	for _, code := range cases.Locales {
		loc := h.i18n.locale(code)
		set := &pageSet{pages: map[string]*template.Template{}}
		for _, file := range pageFiles {
			name := strings.TrimSuffix(path.Base(file), ".html")
			t, err := template.New(name).Funcs(h.funcs(loc)).ParseFS(templateFS, "templates/layout.html", "templates/partials/*.html", file)
			if err != nil {
				return nil, fmt.Errorf("web: template %s: %w", name, err)
			}
			set.pages[name] = t
		}
		out[code] = set
	}
	return out, nil
}

// funcs are the template functions of one locale.
func (h *Handler) funcs(loc *locale) template.FuncMap {
	return template.FuncMap{
		"t":     loc.T,
		"enum":  loc.Enum,
		"fail":  loc.Failure,
		"date":  loc.Date,
		"dateP": loc.DateP,
		"time":  loc.Time,
		"num":   func(n int) string { return loc.Number(int64(n)) },
		"money": loc.Money,
		"month": loc.Month,
		"asset": h.assets.url,
		"yuan":  formatYuan,
		"iso":   func(t time.Time) string { return isoDate(t) },
		"isoP": func(t *time.Time) string {
			if t == nil {
				return ""
			}
			return isoDate(*t)
		},
		"fieldID": fieldID,
		"inc":     func(i int) int { return i + 1 },
		"identityData": func(csrf string, c *cases.Case, f *identityForm) identityData {
			return identityData{CSRF: csrf, Case: c, Identity: f}
		},
		"receiptData": func(csrf string, caseID, paymentID uuid.UUID) receiptData {
			return receiptData{CSRF: csrf, Case: caseID, Payment: paymentID}
		},
		"answers": func() []cases.Answer { return cases.Answers },
		"has": func(list []string, v string) bool {
			for _, s := range list {
				if s == v {
					return true
				}
			}
			return false
		},
	}
}

func isoDate(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.DateOnly)
}

// fieldID is the HTML id of a form's field; domain names may hold dots.
func fieldID(form, field string) string {
	return "f-" + form + "-" + strings.NewReplacer(".", "-", "[", "-", "]", "").Replace(field)
}

// layoutData is what the layout shows around every page.
type layoutData struct {
	Title      string
	Lang       string
	User       *cases.User
	CSRF       string
	Nav        string
	Notice     string // a translated message shown above the page
	NoticeKind string // ok or error
	Back       string // where switching the language returns to
	// Bare pages load no htmx: the reveal pages, which must leave nothing
	// in browser storage (htmx keeps the current path in sessionStorage).
	Bare bool
	// Manifest links the offline intake's web app manifest (auditor.go).
	Manifest bool
	Page     any
}

// render writes page with its view v, within the layout, or the named
// fragment alone.
func (q *request) render(status int, page, fragment, title string, v any) error {
	set := q.h.pages[q.loc.Code]
	t, ok := set.pages[page]
	if !ok {
		return fmt.Errorf("web: no page %s", page)
	}
	data := layoutData{Title: title, Lang: q.loc.Code, User: q.user, CSRF: q.csrf, Page: v, Back: q.back(), Bare: secretPage(page),
		Manifest: page == "auditor_intake"}
	if n, ok := v.(interface{ notice() (string, string) }); ok {
		data.Notice, data.NoticeKind = n.notice()
	}
	name := "layout"
	if fragment != "" {
		name = fragment
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, name, data); err != nil {
		return err
	}
	q.w.Header().Add("Vary", "HX-Request")
	write(q.w, q.r, status, buf.Bytes(), !secretPage(page))
	return nil
}

// back is the page to return to after switching the language: this one
// for a GET, the case for a form posted about a case, else home.
func (q *request) back() string {
	if q.r.Method == http.MethodGet && localPath(q.r.URL.RequestURI()) {
		return q.r.URL.RequestURI()
	}
	if id := q.r.PathValue("id"); id != "" {
		if _, err := uuid.Parse(id); err == nil {
			return "/cases/" + id
		}
	}
	return "/"
}

// secretPage reports whether a page may show an identity or a note: it is
// never compressed (BREACH) and loads no htmx (nothing in browser storage).
func secretPage(page string) bool {
	return page == "reveal" || page == "revealed" || page == "correct" || page == "admin_reset_link" || page == "reset"
}

// identityData is what the identity correction form needs.
type identityData struct {
	CSRF     string
	Case     *cases.Case
	Identity *identityForm
}

// receiptData is what a payment's receipt form needs.
type receiptData struct {
	CSRF          string
	Case, Payment uuid.UUID
}
