package reports_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"golang.org/x/image/font/gofont/goregular"

	cases "github.com/remedy-cases/remedy/case"
	"github.com/remedy-cases/remedy/internal/pdftext"
	"github.com/remedy-cases/remedy/reports"
)

// figures is a month of a client with one case a factory name.
func figures(client string, factories ...string) *reports.Figures {
	f := &reports.Figures{Client: client, Month: "2026-10", Zone: "Asia/Shanghai"}
	for _, s := range cases.States {
		f.ByState = append(f.ByState, reports.StateCount{State: s, Count: 1})
	}
	for m := (cases.Month{Year: 2025, Month: time.November}); !(cases.Month{Year: 2026, Month: time.October}).Before(m); m = m.Add(1) {
		f.NewPerMonth = append(f.NewPerMonth, reports.MonthCount{Month: m.String(), Count: 1})
	}
	for i, name := range factories {
		age := 14
		f.Rows = append(f.Rows, reports.Row{
			Code: fmt.Sprintf("CL-2026-%04d", i+1), FactoryID: factoryID(name), Factory: name, Age: &age,
			Gender: cases.GenderFemale, State: cases.StateFollowUp, DaysOpen: 30, Currency: "CNY", StipendPaid: 80000,
		})
	}
	return f
}

func factoryID(name string) uuid.UUID { return uuid.NewSHA1(uuid.NameSpaceURL, []byte(name)) }

func render(t testing.TB, f *reports.Figures) ([]byte, reports.Missing) {
	t.Helper()
	var buf bytes.Buffer
	missing, err := reports.Render(&buf, f, reports.DefaultFonts())
	if err != nil {
		t.Fatalf("Render: %v", err)
	}
	return buf.Bytes(), missing
}

// text is the text of every page, each text-showing operator's joined to
// the next: a name drawn in several fonts is found whole.
func text(t testing.TB, doc []byte) string {
	t.Helper()
	pages, err := pdftext.Pages(doc)
	if err != nil {
		t.Fatalf("read the PDF: %v", err)
	}
	return strings.ReplaceAll(strings.Join(pages, ""), "\n", "")
}

// qpdfCheck runs qpdf --check where qpdf is installed.
func qpdfCheck(t *testing.T, doc []byte) {
	t.Helper()
	if _, err := exec.LookPath("qpdf"); err != nil {
		t.Log("qpdf is not installed: only the PDF parser checks the file")
		return
	}
	path := filepath.Join(t.TempDir(), "report.pdf")
	if err := os.WriteFile(path, doc, 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("qpdf", "--check", path).CombinedOutput(); err != nil {
		t.Errorf("qpdf --check: %v\n%s", err, out)
	}
}

const longName = 10000

func TestRenderDrawsEveryName(t *testing.T) {
	fonts := reports.DefaultFonts()
	client := "华南童安 Apparel 😀 𠮷"
	factories := []string{
		"Sunrise Toys 😀",     // the fuzzer's crash: an emoji
		"𠮷野家玩具厂",             // beyond the BMP, drawn
		"喆达纺织有限公司",           // outside GB 2312
		"한국섬유 주식회사",          // Hangul
		"شركة النسيج العربي", // Arabic, unshaped
		"NUL\x00Factory",     // a control character
		"Trunc \xe4\xb8",     // the fuzzer's other crash: truncated UTF-8
		strings.Repeat("长", longName),
	}
	doc, missing := render(t, figures(client, factories...))
	qpdfCheck(t, doc)
	all := text(t, doc)

	for _, name := range append([]string{client}, factories...) {
		want := fonts.Drawn(name)
		if len(name) > 1000 {
			// Cut to its cell with an ellipsis.
			if !regexp.MustCompile(`(长){8,}…`).MatchString(all) {
				t.Errorf("the PDF's text lacks the start of the %d-character name", longName)
			}
			continue
		}
		if !strings.Contains(all, want) {
			t.Errorf("the PDF's text lacks %q (for %q)", want, name)
		}
	}
	for _, want := range []string{"𠮷野家玩具厂", "Sunrise Toys \uFFFD", "NUL\uFFFDFactory", "Trunc \uFFFD"} {
		if !strings.Contains(all, want) {
			t.Errorf("the PDF's text lacks %q", want)
		}
	}

	wantMissing := map[uuid.UUID]int{
		factoryID("Sunrise Toys 😀"): 1, factoryID("NUL\x00Factory"): 1, factoryID("Trunc \xe4\xb8"): 1,
	}
	if missing.Client != 1 || fmt.Sprint(missing.Factories) != fmt.Sprint(wantMissing) {
		t.Errorf("missing = %+v, want the client's emoji and %v", missing, wantMissing)
	}
}

// A report that needs every font maps the codes that draw 𠮷 back to it,
// and is byte for byte the same render after render: fpdf writes into no
// font that documents share.
func TestRenderWithEveryFontIsReproducible(t *testing.T) {
	// U+2123D is of the Table of General Standard Chinese Characters.
	f := figures("𠮷 Brand", "𠮷野家", "𡈽 Ltd", "한국섬유", "شركة", "㐀䶵 Ming", "喆达", "Łódź Ţară")
	a, _ := render(t, f)
	for _, font := range []string{"kai", "kaibold", "kaiextra", "kaiastral", "hangul", "sans", "ming"} {
		if !bytes.Contains(a, []byte("/BaseFont /utf8"+font+"\n")) {
			t.Errorf("the report does not use font %s", font)
		}
	}
	for range 2 {
		if b, _ := render(t, f); !bytes.Equal(a, b) {
			t.Fatalf("two renderings of the same figures differ (%d and %d bytes)", len(a), len(b))
		}
	}
	if !bytes.Contains(a, []byte("/CMapName /Remedy-Astral-UCS")) {
		t.Errorf("the PDF has no ToUnicode map for its astral characters")
	}
	all := text(t, a)
	for _, want := range []string{"𠮷 Brand", "𠮷野家", "𡈽 Ltd", "한국섬유", "شركة", "㐀䶵 Ming", "喆达", "Łódź Ţară"} {
		if !strings.Contains(all, want) {
			t.Errorf("the PDF's text lacks %q", want)
		}
	}
	qpdfCheck(t, a)

	plain, _ := render(t, figures("Plain Brand", "东莞市华达电子厂"))
	if bytes.Contains(plain, []byte("Remedy-Astral")) {
		t.Errorf("a PDF without astral characters was edited")
	}
}

// With REMEDY_REPORT_FONT set to a Latin font, the embedded fonts still
// draw what it lacks.
func TestLoadedFontKeepsTheFallbacks(t *testing.T) {
	path := filepath.Join(t.TempDir(), "Go-Regular.ttf")
	if err := os.WriteFile(path, goregular.TTF, 0o644); err != nil {
		t.Fatal(err)
	}
	fonts, err := reports.LoadFont(path)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	missing, err := reports.Render(&buf, figures("Go Brand 华南 한국 𠮷", "喆达 Ltd", "东莞市华达电子厂"), fonts)
	if err != nil {
		t.Fatal(err)
	}
	all := text(t, buf.Bytes())
	for _, want := range []string{"Go Brand 华南 한국 𠮷", "喆达 Ltd", "东莞市华达电子厂"} {
		if !strings.Contains(all, want) {
			t.Errorf("with Go Regular as the main font, the PDF's text lacks %q", want)
		}
	}
	if missing.Client != 0 || len(missing.Factories) != 0 {
		t.Errorf("missing = %+v, want none", missing)
	}
	if !bytes.Contains(buf.Bytes(), []byte("/BaseFont /utf8main")) || !bytes.Contains(buf.Bytes(), []byte("/BaseFont /utf8kai\n")) {
		t.Errorf("the PDF does not use both the loaded font and the embedded one")
	}
}

// The generator logs the names with missing characters by id, never by name.
func TestGeneratorLogsMissingGlyphsByID(t *testing.T) {
	client := &cases.Client{ID: uuid.New(), Name: "Secret Brand 😀", Active: true}
	factory := uuid.New()
	hist := &cases.CaseHistory{
		Case: &cases.Case{ID: uuid.New(), Code: "CL-2026-0001", FactoryID: factory, State: cases.StateIntake,
			CreatedAt: time.Date(2026, 10, 3, 2, 0, 0, 0, time.UTC)},
		Factory: "Hidden Factory \x00😀😀",
	}
	var logs bytes.Buffer
	shanghai, _ := time.LoadLocation("Asia/Shanghai")
	g := &reports.Generator{
		Reports: fakeReports{h: hist}, Clients: fakeClients{c: client}, Fonts: reports.DefaultFonts(), Zone: shanghai,
		Now: func() time.Time { return time.Date(2026, 11, 1, 6, 0, 0, 0, shanghai) },
		Log: slog.New(slog.NewJSONHandler(&logs, nil)),
	}
	if _, _, err := g.Render(context.Background(), client.ID, cases.Month{Year: 2026, Month: time.October}); err != nil {
		t.Fatal(err)
	}
	var got []map[string]any
	for _, line := range bytes.Split(bytes.TrimSpace(logs.Bytes()), []byte("\n")) {
		var m map[string]any
		if err := json.Unmarshal(line, &m); err != nil {
			t.Fatalf("log line %s: %v", line, err)
		}
		delete(m, "time")
		got = append(got, m)
	}
	want := []map[string]any{
		{"level": "WARN", "msg": "report glyphs missing", "client_id": client.ID.String(), "month": "2026-10", "count": 1.0},
		{"level": "WARN", "msg": "report glyphs missing", "client_id": client.ID.String(), "month": "2026-10",
			"factory_id": factory.String(), "count": 3.0},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("logs = %v, want %v", got, want)
	}
	for _, name := range []string{"Secret", "Hidden"} {
		if bytes.Contains(logs.Bytes(), []byte(name)) {
			t.Errorf("the log names %q", name)
		}
	}
}

type fakeClients struct {
	cases.ClientService
	c *cases.Client
}

func (f fakeClients) FindClientByID(_ context.Context, id uuid.UUID) (*cases.Client, error) {
	if id != f.c.ID {
		return nil, cases.Errorf(cases.ENOTFOUND, "Client not found.")
	}
	return f.c, nil
}

type fakeReports struct {
	cases.ReportService
	h *cases.CaseHistory
}

func (f fakeReports) CaseHistories(context.Context, uuid.UUID, time.Time) ([]*cases.CaseHistory, error) {
	return []*cases.CaseHistory{f.h}, nil
}

// FuzzRender renders a report whose client and factory hold any strings:
// it never fails, never panics, gives a PDF that parses, and counts in
// Missing what no font draws.
//
//	go test ./reports -run '^$' -fuzz FuzzRender -fuzztime 5m
func FuzzRender(f *testing.F) {
	f.Add("华南童安 Apparel", "东莞市华达电子厂")
	f.Fuzz(func(t *testing.T, client, factory string) {
		fonts := reports.DefaultFonts()
		var buf bytes.Buffer
		missing, err := reports.Render(&buf, figures(client, factory), fonts)
		if err != nil {
			t.Fatalf("Render(%.40q, %.40q): %v", client, factory, err)
		}
		if _, err := pdftext.Pages(buf.Bytes()); err != nil {
			t.Fatalf("Render(%.40q, %.40q) wrote a PDF that does not parse: %v", client, factory, err)
		}
		if want := fonts.Missing(client); missing.Client != want {
			t.Errorf("missing.Client = %d, want %d", missing.Client, want)
		}
		if want := fonts.Missing(factory); missing.Factories[factoryID(factory)] != want {
			t.Errorf("missing.Factories = %v, want %d", missing.Factories, want)
		}
	})
}

// BenchmarkRenderLongName renders a report with a 10,000-character factory
// name, which the table cuts to its cell.
func BenchmarkRenderLongName(b *testing.B) {
	f := figures("Brand", strings.Repeat("长", longName))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := reports.Render(io.Discard, f, reports.DefaultFonts()); err != nil {
			b.Fatal(err)
		}
	}
}

// Reports render at once share the fonts' bytes: with -race, a write into
// them by fpdf fails this test; and every rendering is the same.
func TestRenderConcurrently(t *testing.T) {
	f := figures("𠮷 한국 Brand", "喆达", "شركة", "㐀 Ming", "Łódź")
	want, _ := render(t, f)
	docs := make(chan []byte, 4)
	for range cap(docs) {
		go func() {
			var buf bytes.Buffer
			if _, err := reports.Render(&buf, f, reports.DefaultFonts()); err != nil {
				t.Error(err)
			}
			docs <- buf.Bytes()
		}()
	}
	for range cap(docs) {
		if got := <-docs; !bytes.Equal(got, want) {
			t.Errorf("a report rendered alongside others differs (%d bytes, want %d)", len(got), len(want))
		}
	}
}

// BenchmarkRenderEveryFont renders a report whose names need every
// fallback font, each added to the document, as well as the main font.
func BenchmarkRenderEveryFont(b *testing.B) {
	f := figures("𠮷 Brand", "𠮷野家", "𡈽 Ltd", "한국섬유", "شركة", "㐀䶵 Ming", "喆达", "Łódź Ţară")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := reports.Render(io.Discard, f, reports.DefaultFonts()); err != nil {
			b.Fatal(err)
		}
	}
}
