package reports

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/remedy-cases/remedy/internal/pdftext"
)

// pdfText extracts the text of every page, in page order.
func pdfText(t *testing.T, doc []byte) []string {
	t.Helper()
	pages, err := pdftext.Pages(doc)
	if err != nil {
		t.Fatalf("read PDF: %v", err)
	}
	return pages
}

func render(t testing.TB, f *Figures) []byte {
	t.Helper()
	var buf bytes.Buffer
	if _, err := Render(&buf, f, DefaultFonts()); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestRenderShowsCodesChineseNamesAndFigures(t *testing.T) {
	f := Build("华南童安 Apparel", october, shanghai, october2026())
	doc := render(t, f)
	if dir := os.Getenv("REMEDY_REPORT_SAMPLE_DIR"); dir != "" {
		os.WriteFile(filepath.Join(dir, "october-2026.pdf"), doc, 0o644)
	}
	pages := pdfText(t, doc)
	if len(pages) != 2 {
		t.Fatalf("%d pages, want a summary and one table page", len(pages))
	}
	all := strings.Join(pages, "\n")
	for _, want := range []string{
		"华南童安 Apparel", "October 2026", "东莞市华达电子厂", "苏州丰利纺织有限公司",
		"CL-2025-0107", "CL-2026-0001", "CL-2026-0012",
		"follow-ups done, of 4", "66%", "1,550.00 CNY", "775.00 CNY", "3,175.00 CNY", "Page 1 of 2", "Page 2 of 2",
		"Service promises", "1 met, median 18 h; 1 missed", "1 met, median 22 days; 1 missed", "Stipends due and paid",
		"Confidential.",
	} {
		if !strings.Contains(all, want) {
			t.Errorf("the PDF's text lacks %q", want)
		}
	}
	for _, gone := range []string{"CL-2026-0002", "CL-2026-0013", canaryName, canaryNote, canaryReason, canaryIDNumber} {
		if strings.Contains(all, gone) {
			t.Errorf("the PDF shows %q", gone)
		}
	}
}

func TestRenderIsByteIdentical(t *testing.T) {
	f := Build("华南童安 Apparel", october, shanghai, october2026())
	a, b := render(t, f), render(t, f)
	if !bytes.Equal(a, b) {
		t.Fatalf("two renderings of the same figures differ (%d and %d bytes)", len(a), len(b))
	}
	if !bytes.Contains(a, []byte("/CreationDate (D:20261101")) {
		t.Errorf("the creation date is not the month's end")
	}
}

// Every page of a long table starts with the column headers and ends with
// the confidentiality footer and its number.
func TestRenderRepeatsTableHeaderOnEveryPage(t *testing.T) {
	f := Build("Big Brand", october, shanghai, manyCases(300))
	pages := pdfText(t, render(t, f))
	if len(pages) < 5 {
		t.Fatalf("%d pages for %d rows, want a table over several pages", len(pages), len(f.Rows))
	}
	seen := 0
	for i, page := range pages {
		if !strings.Contains(page, "Confidential.") || !strings.Contains(page, "of "+itoa(len(pages))) {
			t.Errorf("page %d lacks the footer", i+1)
		}
		if i == 0 {
			continue
		}
		if !strings.Contains(page, "Case\nFactory\nAge\nGender\n") {
			t.Errorf("table page %d lacks the column headers", i+1)
		}
		seen += strings.Count(page, "CL-")
	}
	if seen != len(f.Rows) {
		t.Errorf("the table shows %d cases, want %d", seen, len(f.Rows))
	}
}

func TestLoadFontRefusesWhatFpdfCannotRead(t *testing.T) {
	dir := t.TempDir()
	for name, head := range map[string]string{"a.ttc": "ttcf", "b.otf": "OTTO", "c.txt": "hello"} {
		path := filepath.Join(dir, name)
		os.WriteFile(path, []byte(head+strings.Repeat("\x00", 64)), 0o644)
		if _, err := LoadFont(path); err == nil {
			t.Errorf("LoadFont(%s) accepted it", name)
		}
	}
	path := filepath.Join(dir, "kai.ttf")
	os.WriteFile(path, kaiRegular, 0o644)
	if _, err := LoadFont(path); err != nil {
		t.Errorf("LoadFont(the embedded font) = %v", err)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
