package web

import (
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"strings"
	"sync"
	"time"

	"github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
	"golang.org/x/text/number"

	cases "github.com/remedy-cases/remedy/case"
)

// Every visible string is in a catalogue, one JSON file per locale; the
// tests fail on a key missing in either.
//
//go:embed locales/*.json
var catalogues embed.FS

// translator holds the catalogues and one locale per supported language.
type translator struct {
	bundle  *i18n.Bundle
	matcher language.Matcher
	locales map[string]*locale
}

// locale formats and translates for one language.
type locale struct {
	Code    string // zh-CN or en, as cases.Locales
	loc     *i18n.Localizer
	printer *message.Printer
	zone    *time.Location
	missing func(locale, id string)
	cache   sync.Map // message id -> string, for messages without arguments
}

var supported = []language.Tag{language.MustParse("zh-CN"), language.English}

func newTranslator(zone *time.Location, missing func(locale, id string)) (*translator, error) {
	b := i18n.NewBundle(language.English)
	b.RegisterUnmarshalFunc("json", json.Unmarshal)
	t := &translator{bundle: b, matcher: language.NewMatcher(supported), locales: map[string]*locale{}}
	for i, code := range cases.Locales {
		if _, err := b.LoadMessageFileFS(catalogues, "locales/"+code+".json"); err != nil {
			return nil, fmt.Errorf("web: catalogue %s: %w", code, err)
		}
		// Further catalogues of the same language, such as part2.en.json.
		more, _ := fs.Glob(catalogues, "locales/*."+code+".json")
		for _, file := range more {
			if _, err := b.LoadMessageFileFS(catalogues, file); err != nil {
				return nil, fmt.Errorf("web: catalogue %s: %w", file, err)
			}
		}
		// Only this language: a missing message is reported, not hidden
		// behind another language's.
		t.locales[code] = &locale{Code: code, loc: i18n.NewLocalizer(b, code), printer: message.NewPrinter(supported[i]),
			zone: zone, missing: missing}
	}
	return t, nil
}

// negotiate picks the best supported language for an Accept-Language
// header; Chinese when nothing matches, as staff screens come first in it.
func (t *translator) negotiate(accept string) string {
	tags, _, err := language.ParseAcceptLanguage(accept)
	if err != nil || len(tags) == 0 {
		return cases.Locales[0]
	}
	_, i, conf := t.matcher.Match(tags...)
	if conf == language.No {
		return cases.Locales[0]
	}
	return cases.Locales[i]
}

func (t *translator) locale(code string) *locale {
	if l, ok := t.locales[code]; ok {
		return l
	}
	return t.locales[cases.Locales[0]]
}

// T translates id. args are name, value pairs for the message's template;
// a "Count" argument also selects the plural form.
func (l *locale) T(id string, args ...any) string {
	if len(args) == 0 {
		if s, ok := l.cache.Load(id); ok {
			return s.(string)
		}
	}
	cfg := &i18n.LocalizeConfig{MessageID: id}
	if len(args) > 0 {
		data := make(map[string]any, len(args)/2)
		for i := 0; i+1 < len(args); i += 2 {
			name, _ := args[i].(string)
			if p, ok := args[i+1].(*int); ok && p != nil {
				args[i+1] = *p
			}
			data[name] = args[i+1]
			if name == "Count" {
				cfg.PluralCount = args[i+1]
			}
		}
		cfg.TemplateData = data
	}
	s, err := l.loc.Localize(cfg)
	if err != nil || s == "" {
		if l.missing != nil {
			l.missing(l.Code, id)
		}
		return id
	}
	if len(args) == 0 {
		l.cache.Store(id, s)
	}
	return s
}

// Has reports whether the catalogue has id.
func (l *locale) Has(id string) bool {
	_, err := l.loc.Localize(&i18n.LocalizeConfig{MessageID: id})
	return err == nil
}

// Failure translates a refused condition by its stable name, never by the
// domain's English message; an unknown name gets a general sentence.
func (l *locale) Failure(f cases.Failure) string {
	if l.Has("fail." + f.Name) {
		return l.T("fail." + f.Name)
	}
	return l.T("fail.unknown")
}

// Date formats a calendar date (midnight UTC in the domain).
func (l *locale) Date(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(l.T("format.date"))
}

// Month formats a calendar month, such as 2026年11月 or Nov 2026.
func (l *locale) Month(m cases.Month) string {
	return m.Start().Format(l.T("format.month"))
}

// DateP formats a date that may be missing.
func (l *locale) DateP(t *time.Time) string {
	if t == nil {
		return l.T("value.none")
	}
	return l.Date(*t)
}

// Time formats an instant in the organisation's time zone.
func (l *locale) Time(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(l.zone).Format(l.T("format.datetime"))
}

// Number formats an integer with the language's grouping.
func (l *locale) Number(n int64) string { return l.printer.Sprint(number.Decimal(n)) }

// Money formats minor units of currency, such as 80000 CNY as ¥800.00.
func (l *locale) Money(amount int64, currency string) string {
	if currency == "" {
		currency = "CNY"
	}
	sign := ""
	if amount < 0 {
		sign, amount = "-", -amount
	}
	value := l.printer.Sprint(number.Decimal(float64(amount)/100, number.Scale(2)))
	return l.T("format.money", "Sign", sign, "Amount", value, "Currency", currency, "Symbol", currencySymbol(currency))
}

func currencySymbol(c string) string {
	switch c {
	case "CNY":
		return "¥"
	case "USD":
		return "$"
	case "EUR":
		return "€"
	}
	return c + " "
}

// Enum translates a domain value of a kind, such as state.follow_up.
func (l *locale) Enum(kind string, value any) string {
	return l.T(kind + "." + strings.TrimSpace(fmt.Sprint(value)))
}

// missing reports a message id a catalogue lacks: to the test hook, or
// once per id to the log (an id is a key, never input).
func (h *Handler) missing(locale, id string) {
	if h.MissingMessage != nil {
		h.MissingMessage(locale, id)
		return
	}
	if _, seen := h.reported.LoadOrStore(locale+" "+id, true); !seen {
		h.Log.Warn("missing message", "locale", locale, "id", id)
	}
}
