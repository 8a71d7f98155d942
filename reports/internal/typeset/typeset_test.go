package typeset_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/go-pdf/fpdf"
	"golang.org/x/image/font/gofont/goregular"

	"github.com/remedy-cases/remedy/reports/internal/typeset"
)

// The report's own fonts, read from reports/fonts as the reports package
// embeds them.
var faces = sync.OnceValue(func() map[string]*typeset.Face {
	file := func(name string) func() ([]byte, error) {
		return func() ([]byte, error) {
			b, err := os.ReadFile(filepath.Join("..", "..", "fonts", name))
			if err != nil || !strings.HasSuffix(name, ".gz") {
				return b, err
			}
			z, err := gzip.NewReader(bytes.NewReader(b))
			if err != nil {
				return nil, err
			}
			return io.ReadAll(z)
		}
	}
	return map[string]*typeset.Face{
		"kai":       typeset.NewFace("kai", file("RemedyKai-Regular.ttf")),
		"kaibold":   typeset.NewFace("kaibold", file("RemedyKai-Bold.ttf")),
		"kaiextra":  typeset.NewFace("kaiextra", file("RemedyKaiExtra-Regular.ttf.gz")),
		"kaiastral": typeset.NewFace("kaiastral", file("RemedyKaiAstral-Regular.ttf.gz"), typeset.AstralInPUA),
		"hangul":    typeset.NewFace("hangul", file("RemedyHangul-Regular.ttf.gz")),
		"sans":      typeset.NewFace("sans", file("RemedySans-Regular.ttf.gz")),
		"ming":      typeset.NewFace("ming", file("RemedyMing-Regular.ttf.gz")),
	}
})

// chain is the report's default chain.
func chain(tb testing.TB) typeset.Chain {
	tb.Helper()
	f := faces()
	for name, face := range f {
		if err := face.Err(); err != nil {
			tb.Fatalf("%s: %v", name, err)
		}
	}
	return typeset.Chain{
		{Regular: f["kai"], Bold: f["kaibold"]},
		{Regular: f["kaiextra"]}, {Regular: f["kaiastral"]}, {Regular: f["hangul"]},
		{Regular: f["sans"]}, {Regular: f["ming"]},
	}
}

// drawn is what the chain draws for s, as characters, and what it misses.
func drawn(c typeset.Chain, s string) (string, int) {
	return c.Set(s, false).Text(), c.Missing(s)
}

func TestChainDrawsNamesInEveryScriptItCovers(t *testing.T) {
	c := chain(t)
	for _, name := range []string{
		"东莞市华达电子厂", "Shenzhen Bright Toys Co.", "喆达纺织", "𠮷野家", "鴻海精密工業",
		"Công ty May Việt Tiến", "Şahin Tekstil", "Łódź", "Фабрика «Заря»", "Ελληνική",
		"한국섬유 주식회사", "شركة النسيج", "מפעל טקסטיל", "โรงงานสิ่งทอ", "ភាសាខ្មែរ", "မြန်မာ",
		"हिंदी", "বাংলা", "தமிழ்", "සිංහල", "ქართული", "Հայերեն", "አማርኛ", "ひらがな カタカナ",
		"㐀䶵", "龥鿿", "U+FFFD is \uFFFD itself",
	} {
		got, missing := drawn(c, name)
		if got != name || missing != 0 {
			t.Errorf("the chain draws %q as %q with %d missing, want all of it", name, got, missing)
		}
	}
}

func TestChainCoversTheHanziOfNames(t *testing.T) {
	c := chain(t)
	count := func(lo, hi rune) (covered, all int) {
		for r := lo; r <= hi; r++ {
			if unicode.Is(unicode.Ideographic, r) {
				all++
				if _, missing := drawn(c, string(r)); missing == 0 {
					covered++
				}
			}
		}
		return covered, all
	}
	// Unicode 15.0's CJK Unified Ideographs end at U+9FFF; extension A is
	// U+3400 to U+4DBF.
	for _, block := range []struct {
		name   string
		lo, hi rune
	}{{"CJK Unified Ideographs", 0x4E00, 0x9FFF}, {"extension A", 0x3400, 0x4DBF}} {
		if covered, all := count(block.lo, block.hi); covered != all {
			t.Errorf("the chain draws %d of the %d characters of %s", covered, all, block.name)
		}
	}

	f, err := os.Open("testdata/tgh-astral.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	n := 0
	for sc := bufio.NewScanner(f); sc.Scan(); {
		fields := strings.Fields(sc.Text())
		if len(fields) != 3 || fields[0] == "#" {
			continue
		}
		cp, err := strconv.ParseUint(strings.TrimPrefix(fields[0], "U+"), 16, 32)
		if err != nil {
			t.Fatal(err)
		}
		n++
		r := rune(cp)
		if got, missing := drawn(c, string(r)); got != string(r) || missing != 0 {
			t.Errorf("the chain draws %U %s as %q with %d missing", r, string(r), got, missing)
		}
	}
	if n != 196 {
		t.Errorf("read %d characters of the Table of General Standard Chinese Characters beyond the BMP, want 196", n)
	}
}

func TestChainReplacesWhatIsNotDrawable(t *testing.T) {
	c := chain(t)
	for _, tc := range []struct {
		in, want string
		missing  int
	}{
		{"Sunrise Toys 😀", "Sunrise Toys \uFFFD", 1},
		{"truncated \xe4\xb8", "truncated \uFFFD", 1}, // one mark for a run of bad bytes
		{"\xff\xfe\xfd!", "\uFFFD!", 1},
		{"a\x00b", "a\uFFFDb", 1},
		{"tab\tnew\nline\r", "tab\uFFFDnew\uFFFDline\uFFFD", 3},
		{"\u0085\u009f", "\uFFFD\uFFFD", 2},                     // C1 controls
		{"private \uE000\U000F0000", "private \uFFFD\uFFFD", 2}, // the astral font's codes are not input
		{"\uFFFF\uFDD0", "\uFFFD\uFFFD", 2},                     // noncharacters
		{"\U0001F1E8\U0001F1F3", "\uFFFD\uFFFD", 2},             // a flag: no font draws it
		{"tag\U000E0041ged", "tagged", 0},                       // default-ignorable: dropped
		{"", "", 0},
	} {
		got, missing := drawn(c, tc.in)
		if got != tc.want || missing != tc.missing {
			t.Errorf("drawn(%q) = %q, %d missing; want %q, %d", tc.in, got, missing, tc.want, tc.missing)
		}
	}
}

// Every run holds only codes its face draws, in the BMP, as valid UTF-8,
// with their widths; the line's width is the runs'.
func checkLine(t *testing.T, s string, l typeset.Line) {
	t.Helper()
	total := 0
	for i, run := range l.Runs {
		if run.Text == "" || !utf8.ValidString(run.Text) {
			t.Fatalf("%.20q: run %d is %.20q", s, i, run.Text)
		}
		if i > 0 && l.Runs[i-1].Face == run.Face {
			t.Errorf("%.20q: runs %d and %d share face %s", s, i-1, i, run.Face.Name())
		}
		w := 0
		for _, code := range run.Text {
			if code > 0xFFFF || !run.Face.Covers(code) && !run.Face.Covers(run.Face.Unicode(code)) {
				t.Fatalf("%.20q: run %d draws %U, which face %s lacks", s, i, code, run.Face.Name())
			}
			w += run.Face.Width(code)
		}
		if w != run.Width {
			t.Errorf("%.20q: run %d is %d wide, its codes %d", s, i, run.Width, w)
		}
		total += run.Width
	}
	if total != l.Width {
		t.Errorf("%.20q: the line is %d wide, its runs %d", s, l.Width, total)
	}
}

func TestFitCutsWithAnEllipsisOnlyWhatDoesNotFit(t *testing.T) {
	c := chain(t)
	for _, s := range []string{
		"Shenzhen Bright Toys Co.", "东莞市华达电子厂", "𠮷野家 Sunrise 😀 한국 شركة",
		strings.Repeat("长", 10000), "a\x00b\xe4\xb8c",
	} {
		whole := c.Set(s, false)
		checkLine(t, s, whole)
		for _, max := range []float64{0, 400, 1000, 2500, 5000, float64(whole.Width) - 1, float64(whole.Width)} {
			got := c.Fit(s, false, max)
			checkLine(t, s, got)
			text := got.Text()
			if float64(whole.Width) <= max {
				if text != whole.Text() {
					t.Errorf("Fit(%.20q, %v) = %.20q, want all of it", s, max, text)
				}
				continue
			}
			prefix, ok := strings.CutSuffix(text, "…")
			if !ok || !strings.HasPrefix(whole.Text(), prefix) {
				t.Errorf("Fit(%.20q, %v) = %.20q, want a beginning and an ellipsis", s, max, text)
				continue
			}
			if float64(got.Width) > max && prefix != "" {
				t.Errorf("Fit(%.20q, %v) is %d wide", s, max, got.Width)
			}
			// One character more would not have fitted.
			next, _ := utf8.DecodeRuneInString(whole.Text()[len(prefix):])
			longer := c.Set(prefix+string(next)+"…", false)
			if float64(longer.Width) <= max {
				t.Errorf("Fit(%.20q, %v) = %.20q, but %.20q fits", s, max, text, longer.Text())
			}
		}
	}
}

func TestWrapBreaksAtSpacesThenAnywhere(t *testing.T) {
	c := chain(t)
	one := func(s string) float64 { return float64(c.Set(s, false).Width) }
	texts := func(ls []typeset.Line) []string {
		var out []string
		for _, l := range ls {
			out = append(out, l.Text())
		}
		return out
	}
	for _, tc := range []struct {
		s     string
		max   float64
		lines int
		want  []string
	}{
		{"Sunrise Toys Company", one("Sunrise Toys "), 0, []string{"Sunrise Toys", "Company"}},
		{"东莞市华达电子厂", one("东莞市"), 0, []string{"东莞市", "华达电", "子厂"}},
		{"Sunrise Toys Company Limited", one("Sunrise Toys "), 2,
			[]string{"Sunrise Toys", c.Fit("Company Limited", false, one("Sunrise Toys ")).Text()}},
		{"", 1000, 3, []string{""}},
		{"东", 1, 0, []string{"东"}}, // a character wider than the line still gets one
	} {
		got := texts(c.Wrap(tc.s, false, tc.max, tc.lines))
		if strings.Join(got, "|") != strings.Join(tc.want, "|") {
			t.Errorf("Wrap(%q, %v, %d) = %q, want %q", tc.s, tc.max, tc.lines, got, tc.want)
		}
	}
	long := strings.Repeat("长 Long name ", 2000)
	for _, l := range c.Wrap(long, true, 8000, 0) {
		checkLine(t, long, l)
		if l.Width > 8000 {
			t.Fatalf("a line of %.20q is %d wide", l.Text(), l.Width)
		}
	}
}

// The chain measures as fpdf does: a face's width of every code it draws
// is the width fpdf gives that code in the same font.
func TestFaceWidthsAreFpdfs(t *testing.T) {
	for name, face := range faces() {
		pdf := fpdf.New("P", "mm", "A4", "")
		pdf.AddUTF8FontFromBytes(name, "", face.Bytes())
		pdf.SetFont(name, "", 10)
		if pdf.Err() {
			t.Fatalf("%s: %v", name, pdf.Error())
		}
		checked := 0
		for r := rune(0x20); r < 0x10000; r++ {
			if r >= 0xD800 && r < 0xE000 || !face.Covers(face.Unicode(r)) {
				continue
			}
			if got, want := face.Width(r), pdf.GetStringSymbolWidth(string(r)); got != want {
				t.Errorf("%s: %U is %d wide, %d for fpdf", name, r, got, want)
			}
			checked++
		}
		if checked < 100 {
			t.Errorf("%s: compared %d widths", name, checked)
		}
	}
}

func TestAstralFaceMapsBack(t *testing.T) {
	c := chain(t)
	l := c.Set("𠮷", false)
	if len(l.Runs) != 1 || !l.Runs[0].Face.Astral() {
		t.Fatalf("𠮷 is set as %+v, want one run in the astral face", l.Runs)
	}
	code, _ := utf8.DecodeRuneInString(l.Runs[0].Text)
	if code < 0xE000 || code > 0xF8FF {
		t.Errorf("𠮷 is drawn as %U, want a Private Use Area code", code)
	}
	if got := l.Runs[0].Face.Unicode(code); got != '𠮷' {
		t.Errorf("%U stands for %U, want U+20BB7", code, got)
	}
	if f := faces()["kai"]; f.Astral() || f.Covers('𠮷') {
		t.Errorf("the main font claims 𠮷, which fpdf cannot draw from it")
	}
}

// fpdf writes into a font whose hmtx folds the advances of its last glyphs:
// the embedded fonts fold none and are shared; another font is copied.
func TestFaceBytesAreSafeToShare(t *testing.T) {
	for name, face := range faces() {
		if a, b := face.Bytes(), face.Bytes(); &a[0] != &b[0] {
			t.Errorf("%s: Bytes copies the font, which fpdf would not write into", name)
		}
	}
	goFont, err := typeset.Parse("go", goregular.TTF)
	if err != nil {
		t.Fatal(err)
	}
	a, b := goFont.Bytes(), goFont.Bytes()
	if &a[0] == &b[0] || &a[0] == &goregular.TTF[0] {
		t.Errorf("Bytes shares Go Regular, whose advances fpdf would write over")
	}
	if !bytes.Equal(a, goregular.TTF) {
		t.Errorf("Bytes changed Go Regular")
	}
}

// BenchmarkFitLongName fits a 10,000-character name into a 40 mm table
// cell at 8.5 pt (about 13,000 thousandths of an em).
func BenchmarkFitLongName(b *testing.B) {
	c := chain(b)
	name := strings.Repeat("长", 10000)
	b.ReportAllocs()
	for b.Loop() {
		if l := c.Fit(name, false, 13000); l.Width > 13000 {
			b.Fatalf("fitted to %d", l.Width)
		}
	}
}

// Glyphs yields, face by face, the codes that Set's runs draw.
func TestGlyphsAreWhatSetDraws(t *testing.T) {
	c := chain(t)
	for _, s := range []string{
		"", "华南童安 Apparel", "𠮷野家 한국 شركة 㐀 Łódź", "NUL\x00Factory 😀", "Trunc \xe4\xb8", "a\u200db\u00a0c\ue000",
	} {
		for _, bold := range []bool{false, true} {
			var want []string
			for _, run := range c.Set(s, bold).Runs {
				for _, code := range run.Text {
					want = append(want, run.Face.Name()+":"+string(code))
				}
			}
			var got []string
			for face, code := range c.Glyphs(s, bold) {
				got = append(got, face.Name()+":"+string(code))
			}
			if strings.Join(got, " ") != strings.Join(want, " ") {
				t.Errorf("Glyphs(%q, %v) = %v, want %v", s, bold, got, want)
			}
		}
	}
}
