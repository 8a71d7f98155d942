package reports

import (
	"bytes"
	"fmt"
	"regexp"
	"slices"
	"testing"

	cases "github.com/remedy-cases/remedy/case"
	"github.com/remedy-cases/remedy/reports/internal/subset"
	"github.com/remedy-cases/remedy/reports/internal/typeset"
)

type cutCase struct {
	f *Figures
	a Attestation
}

// cutCases are reports of every kind: each language, signed with a
// checkpoint, a long table, no case at all, and names that need every font.
func cutCases() map[string]cutCase {
	cp := "remedy/audit-chain\n42\nq83vEjuN8lmq0SVJwSFSxoP6Yp4Ggt0nGVmIMOXS7dI=\n\n— remedy-reports+1a2b3c4d AAAA\n"
	oct := Build("华南童安 Apparel", october, shanghai, october2026())
	names := Build("𠮷 Brand 😀", october, shanghai, nil)
	for _, name := range []string{"𠮷野家", "𡈽 Ltd", "한국섬유", "شركة", "㐀䶵 Ming", "喆达", "Łódź Ţară", "NUL\x00Factory", "Trunc \xe4\xb8"} {
		names.Rows = append(names.Rows, Row{Code: "CL-2026-0001", Factory: name, State: "follow_up"})
	}
	return map[string]cutCase{
		"en":    {oct, Attestation{Language: LanguageEnglish}},
		"zh-CN": {oct, Attestation{Language: LanguageChinese}},
		"both":  {oct, Attestation{Language: LanguageBoth, KeyID: "remedy-reports+1a2b3c4d", Checkpoint: cp}},
		"long":  {Build("Big Brand 大品牌", october, shanghai, manyCases(300)), Attestation{}},
		"empty": {Build("Big Brand 大品牌", october, shanghai, nil), Attestation{Language: LanguageChinese}},
		"names": {names, Attestation{}},
	}
}

// fontID is how fpdf names a font in a page's resources and content: a
// hash of what it read of the font, which differs between a cut and the
// whole font.
var (
	fontID    = regexp.MustCompile(`/F[0-9a-f]{40}\b`)
	fontRef   = regexp.MustCompile(`/F([0-9a-f]{40}) (\d+) 0 R\n`)
	fontsDict = regexp.MustCompile(`/Font <<\n(?:/F[0-9a-f]{40} \d+ 0 R\n)*>>`)
)

// fontsByObject names each font of doc, a PDF as fpdf writes it without
// compression, by its object's number rather than by fpdf's hash, and
// lists the fonts of a page's resources in the order of their objects (as
// fpdf lists them by name): the same length, the same text.
func fontsByObject(doc []byte) []byte {
	names := map[string][]byte{}
	for _, m := range fontRef.FindAllSubmatch(doc, -1) {
		names[string(m[1])] = fmt.Appendf(nil, "/F%040s", m[2])
	}
	doc = fontID.ReplaceAllFunc(doc, func(id []byte) []byte { return names[string(id[2:])] })
	return fontsDict.ReplaceAllFunc(doc, func(dict []byte) []byte {
		lines := bytes.SplitAfter(dict, []byte("\n"))
		fonts := lines[1 : len(lines)-1]
		slices.SortFunc(fonts, bytes.Compare)
		return bytes.Join(lines, nil)
	})
}

// rawDocument is fpdf's output of a report laid out with plan, before its
// pages are compressed, and its renderer.
func rawDocument(t *testing.T, c cutCase, plan map[*typeset.Face]*subset.Codes) ([]byte, *renderer) {
	t.Helper()
	month, err := cases.ParseMonth(c.f.Month)
	if err != nil {
		t.Fatal(err)
	}
	r, err := layout(c.f, month, DefaultFonts().chain, c.a, plan)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := r.pdf.Output(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), r
}

// Laid out with the cut fonts, a report is byte for byte the document laid
// out with the whole fonts, but for the fonts' names: the same glyphs
// embedded, the same widths, the same text at the same places.
func TestCutFontsLayOutTheSameDocument(t *testing.T) {
	for name, c := range cutCases() {
		t.Run(name, func(t *testing.T) {
			whole, _ := rawDocument(t, c, nil)
			cutDoc, r := rawDocument(t, c, planCuts(c.f, DefaultFonts().chain, c.a))
			if len(r.cut) != len(r.added) {
				t.Errorf("%d faces of %d were cut", len(r.cut), len(r.added))
			}
			if name == "names" && len(r.cut) != 7 {
				t.Errorf("%d faces cut, want all seven", len(r.cut))
			}
			if bytes.Equal(cutDoc, whole) {
				t.Fatal("the fonts' names are the same: the test compares nothing it must hide")
			}
			if !bytes.Equal(fontsByObject(cutDoc), fontsByObject(whole)) {
				t.Errorf("the report laid out with the cut fonts differs (%d bytes, %d with the whole fonts)", len(cutDoc), len(whole))
			}
		})
	}
}

// Every report is set in the cut fonts, not set again with the whole ones.
func TestRenderTakesTheCutFonts(t *testing.T) {
	for name, c := range cutCases() {
		t.Run(name, func(t *testing.T) {
			var buf bytes.Buffer
			_, whole, err := renderCut(&buf, c.f, DefaultFonts(), c.a, planCuts(c.f, DefaultFonts().chain, c.a))
			if err != nil {
				t.Fatal(err)
			}
			if whole {
				t.Error("the report drew a code that planCuts did not foresee: it was set again with the whole fonts")
			}
		})
	}
}

// A report that draws a code its cut lacks is set again with the whole
// fonts: the same PDF as one never cut.
func TestRenderSetsAgainWhatACutLacks(t *testing.T) {
	f := Build("Big Brand 大品牌", october, shanghai, october2026())
	a := Attestation{Language: LanguageBoth}
	// A plan for another client: it lacks 大品牌.
	plan := planCuts(Build("Big Brand", october, shanghai, october2026()), DefaultFonts().chain, a)
	var got, want bytes.Buffer
	_, whole, err := renderCut(&got, f, DefaultFonts(), a, plan)
	if err != nil {
		t.Fatal(err)
	}
	if !whole {
		t.Error("the report drew 大品牌 with fonts cut without it")
	}
	if _, _, err := renderCut(&want, f, DefaultFonts(), a, nil); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Bytes(), want.Bytes()) {
		t.Errorf("set again, the report differs from one set with the whole fonts (%d bytes, want %d)", got.Len(), want.Len())
	}
}
