package reports

import (
	"embed"
	"encoding/json"
	"fmt"
	"slices"

	cases "github.com/remedy-cases/remedy/case"
)

// Every label of a report is in a message catalogue, one JSON file per
// language (fmt formats, with indexed verbs where Chinese orders the
// arguments differently); the tests fail on a key missing in either, on a
// Chinese term that differs from the web app's catalogue, and on a
// character the embedded fonts do not draw.
//
//go:embed locales/*.json
var catalogueFiles embed.FS

// Report languages: a client chooses English, Chinese or both (the report
// in English, then again in Chinese, in one PDF).
const (
	LanguageEnglish = "en"
	LanguageChinese = "zh-CN"
	LanguageBoth    = "both"
)

// Languages are the report languages a client may choose.
var Languages = cases.ReportLanguages

// catalogues holds each language's messages, read once at start.
var catalogues = func() map[string]map[string]string {
	out := map[string]map[string]string{}
	for _, code := range []string{LanguageEnglish, LanguageChinese} {
		data, err := catalogueFiles.ReadFile("locales/" + code + ".json")
		if err != nil {
			panic(err)
		}
		m := map[string]string{}
		if err := json.Unmarshal(data, &m); err != nil {
			panic(fmt.Sprintf("reports: catalogue %s: %v", code, err))
		}
		out[code] = m
	}
	return out
}()

// passes returns the languages a report in language is set in, in order;
// English for an unknown or empty one.
func passes(language string) []string {
	switch language {
	case LanguageChinese:
		return []string{LanguageChinese}
	case LanguageBoth:
		return []string{LanguageEnglish, LanguageChinese}
	}
	return []string{LanguageEnglish}
}

// ValidLanguage reports whether a client may choose language.
func ValidLanguage(language string) bool { return slices.Contains(Languages, language) }

// t returns the message key of the current language, formatted with args.
func (r *renderer) t(key string, args ...any) string {
	msg, ok := catalogues[r.lang][key]
	if !ok {
		msg = catalogues[LanguageEnglish][key]
	}
	if len(args) == 0 {
		return msg
	}
	return fmt.Sprintf(msg, args...)
}

// monthName is the month as a title names it: October 2026, 2026年10月.
func (r *renderer) monthName(m cases.Month) string {
	return r.t("month.full", r.t(fmt.Sprintf("month.%d", int(m.Month))), m.Year)
}
