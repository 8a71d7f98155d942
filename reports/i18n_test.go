package reports

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestCatalogues: both languages have every key, the embedded fonts draw
// every label, and a Chinese term the web app's catalogue also has is the
// same in both (DOMAIN.md's glossary).
func TestCatalogues(t *testing.T) {
	en, zh := catalogues[LanguageEnglish], catalogues[LanguageChinese]
	for k := range en {
		if _, ok := zh[k]; !ok {
			t.Errorf("zh-CN lacks %s", k)
		}
	}
	for k := range zh {
		if _, ok := en[k]; !ok {
			t.Errorf("en lacks %s", k)
		}
	}
	fonts := DefaultFonts()
	for _, cat := range []map[string]string{en, zh} {
		for k, v := range cat {
			if n := fonts.Missing(v); n > 0 {
				t.Errorf("%s: the fonts lack %d characters of %q", k, n, v)
			}
		}
	}
	data, err := os.ReadFile("../web/locales/zh-CN.json")
	if err != nil {
		t.Skip("no web catalogue")
	}
	var web map[string]string
	if err := json.Unmarshal(data, &web); err != nil {
		t.Fatal(err)
	}
	shared := 0
	for k, v := range zh {
		if w, ok := web[k]; ok {
			shared++
			if w != v {
				t.Errorf("%s: the report says %q, the web app %q", k, v, w)
			}
		}
	}
	if shared < 20 {
		t.Errorf("only %d terms shared with the web app's catalogue", shared)
	}
}

// TestRenderLanguages: the October report's text in each language is its
// golden file (go test ./reports -run TestRenderLanguages -update rewrites
// them); no English label is left in the Chinese report, and both holds both.
func TestRenderLanguages(t *testing.T) {
	f := Build("华南童安 Apparel", october, shanghai, october2026())
	texts := map[string]string{}
	for _, lang := range Languages {
		var buf bytes.Buffer
		if _, err := RenderAttested(&buf, f, DefaultFonts(), Attestation{Language: lang}); err != nil {
			t.Fatal(err)
		}
		text := strings.Join(pdfText(t, buf.Bytes()), "\n\f\n") + "\n"
		texts[lang] = text
		path := filepath.Join("testdata", "october-2026."+lang+".golden.txt")
		if *update {
			if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run go test ./reports -run TestRenderLanguages -update to write it)", err)
		}
		if string(want) != text {
			t.Errorf("%s differs from the report rendered now:\n%s", path, text)
		}
	}
	for _, want := range []string{"2026年10月", "新个案", "服务承诺", "个案编号", "回访", "第 1 页，共 2 页", "机密。"} {
		if !strings.Contains(texts[LanguageChinese], want) {
			t.Errorf("the Chinese report lacks %q", want)
		}
	}
	for _, gone := range []string{"Service promises", "new cases", "Page 1", "Confidential"} {
		if strings.Contains(texts[LanguageChinese], gone) {
			t.Errorf("the Chinese report says %q", gone)
		}
	}
	both := texts[LanguageBoth]
	if !strings.Contains(both, "Service promises") || !strings.Contains(both, "服务承诺") || !strings.Contains(both, "第 3 页，共 4 页") ||
		!strings.Contains(both, "第 4 页，共 4 页") || !strings.Contains(both, "Page 2 of 4") {
		t.Errorf("the bilingual report is not English then Chinese:\n%s", both)
	}
	for _, lang := range Languages {
		for _, gone := range []string{canaryName, canaryNote, canaryReason, canaryIDNumber} {
			if strings.Contains(texts[lang], gone) {
				t.Errorf("the %s report shows %q", lang, gone)
			}
		}
	}
	if !slices.Contains(Languages, LanguageBoth) || ValidLanguage("fr") {
		t.Error("languages")
	}
}
