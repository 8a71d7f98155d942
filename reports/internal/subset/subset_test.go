package subset

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/go-pdf/fpdf"
	xfont "golang.org/x/image/font"
	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/font/sfnt"
	"golang.org/x/image/math/fixed"
)

// kai is the report's main font, as reports/fonts holds it.
func kai(tb testing.TB) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "fonts", "RemedyKai-Regular.ttf"))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// gunzip reads one of the gzipped fallback fonts.
func gunzip(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "fonts", name))
	if err != nil {
		tb.Fatal(err)
	}
	z, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		tb.Fatal(err)
	}
	b, err = io.ReadAll(z)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func codesOf(s string) *Codes {
	c := &Codes{}
	for _, r := range s {
		c.Add(r)
	}
	return c
}

func mustParse(tb testing.TB, ttf []byte) *sfnt.Font {
	tb.Helper()
	f, err := sfnt.Parse(ttf)
	if err != nil {
		tb.Fatalf("sfnt.Parse: %v", err)
	}
	return f
}

// glyphIndex is the glyph sfnt finds for r; 0 for none.
func glyphIndex(tb testing.TB, f *sfnt.Font, r rune) sfnt.GlyphIndex {
	tb.Helper()
	var b sfnt.Buffer
	g, err := f.GlyphIndex(&b, r)
	if err != nil {
		tb.Fatalf("GlyphIndex(%U): %v", r, err)
	}
	return g
}

// outline is glyph g as sfnt draws it, and its advance.
func outline(tb testing.TB, f *sfnt.Font, g sfnt.GlyphIndex) (sfnt.Segments, fixed.Int26_6) {
	tb.Helper()
	var b sfnt.Buffer
	segs, err := f.LoadGlyph(&b, g, fixed.I(1000), nil)
	if err != nil {
		tb.Fatalf("LoadGlyph(%d): %v", g, err)
	}
	adv, err := f.GlyphAdvance(&b, g, fixed.I(1000), xfont.HintingNone)
	if err != nil {
		tb.Fatalf("GlyphAdvance(%d): %v", g, err)
	}
	return slices.Clone(segs), adv
}

// The cut maps the codes kept to glyphs with the same outlines and
// advances, in the same order, and maps no other code.
func TestCutKeepsTheGlyphsOfItsCodes(t *testing.T) {
	for name, ttf := range map[string][]byte{"kai": kai(t), "goregular": goregular.TTF} {
		t.Run(name, func(t *testing.T) {
			keep := "Big Brand 大品牌 – Łódź … é 0123456789"
			cut, err := Cut(ttf, codesOf(keep))
			if err != nil {
				t.Fatal(err)
			}
			if len(cut) >= len(ttf)/5 {
				t.Errorf("the cut is %d bytes of the font's %d", len(cut), len(ttf))
			}
			full, part := mustParse(t, ttf), mustParse(t, cut)
			if n := part.NumGlyphs(); n > len([]rune(keep))+1 {
				t.Errorf("the cut has %d glyphs for %d characters", n, len([]rune(keep)))
			}
			newID := map[sfnt.GlyphIndex]sfnt.GlyphIndex{}
			for _, r := range keep {
				g, h := glyphIndex(t, full, r), glyphIndex(t, part, r)
				if (g == 0) != (h == 0) {
					t.Errorf("%q: glyph %d in the cut, %d in the font", r, h, g)
					continue
				}
				newID[g] = h
				if g == 0 {
					continue
				}
				wantSegs, wantAdv := outline(t, full, g)
				gotSegs, gotAdv := outline(t, part, h)
				if !slices.Equal(gotSegs, wantSegs) || gotAdv != wantAdv {
					t.Errorf("%q: the cut draws glyph %d otherwise than the font's %d", r, h, g)
				}
			}
			for g, h := range newID {
				for g2, h2 := range newID {
					if g < g2 && h >= h2 {
						t.Errorf("glyphs %d and %d of the font are %d and %d of the cut: out of order", g, g2, h, h2)
					}
				}
			}
			for _, r := range "xyzQ质工厂" {
				if glyphIndex(t, full, r) == 0 {
					continue
				}
				if g := glyphIndex(t, part, r); g != 0 {
					t.Errorf("%q, not kept, maps to glyph %d", r, g)
				}
			}
		})
	}
}

// A composite glyph keeps the glyphs it is made of, which no code maps.
func TestCutKeepsTheComponentsOfCompositeGlyphs(t *testing.T) {
	for name, ttf := range map[string][]byte{"kai": kai(t), "sans": gunzip(t, "RemedySans-Regular.ttf.gz")} {
		f, err := parse(ttf)
		if err != nil {
			t.Fatal(err)
		}
		full := mustParse(t, ttf)
		checked := 0
		for r := rune(0x20); r < 0x10000 && checked < 5; r++ {
			g := f.glyph(r)
			var parts []int
			if g == 0 || f.components(g, func(c int) { parts = append(parts, c) }) != nil || len(parts) == 0 {
				continue
			}
			cut, err := Cut(ttf, codesOf(string(r)))
			if err != nil {
				t.Fatal(err)
			}
			part := mustParse(t, cut)
			wantSegs, _ := outline(t, full, sfnt.GlyphIndex(g))
			gotSegs, _ := outline(t, part, glyphIndex(t, part, r))
			if len(wantSegs) == 0 || !slices.Equal(gotSegs, wantSegs) {
				t.Errorf("%s %q: composite glyph %d of %v drawn with %d segments, want %d", name, r, g, parts, len(gotSegs), len(wantSegs))
			}
			cf, err := parse(cut)
			if err != nil {
				t.Fatal(err)
			}
			var cutParts []int
			if err := cf.components(cf.glyph(r), func(c int) { cutParts = append(cutParts, c) }); err != nil || len(cutParts) != len(parts) {
				t.Errorf("%s %q: components %v in the cut (%v), %v in the font", name, r, cutParts, err, parts)
			}
			for _, c := range cutParts {
				if start, end := cf.glyphRange(c); c == 0 || start == end {
					t.Errorf("%s %q: component glyph %d is empty in the cut", name, r, c)
				}
			}
			checked++
		}
		if checked == 0 {
			t.Errorf("%s has no composite glyph: pick another test font", name)
		}
	}
}

// The table directory is sorted, each table lies at a multiple of four
// with its checksum, and the font sums to 0xB1B0AFBA.
func TestCutChecksums(t *testing.T) {
	cut, err := Cut(kai(t), codesOf("Remedy 报告"))
	if err != nil {
		t.Fatal(err)
	}
	n := int(binary.BigEndian.Uint16(cut[4:]))
	searchRange, entrySelector := searchParams(n, 16)
	if got := binary.BigEndian.Uint16(cut[6:]); int(got) != searchRange || searchRange > 16*n || 2*searchRange <= 16*n {
		t.Errorf("searchRange %d for %d tables", got, n)
	}
	if got := binary.BigEndian.Uint16(cut[8:]); int(got) != entrySelector || 16<<entrySelector != searchRange {
		t.Errorf("entrySelector %d for %d tables", got, n)
	}
	var tags []string
	for i := range n {
		rec := cut[12+16*i:]
		tag := string(rec[:4])
		tags = append(tags, tag)
		sum, off, size := binary.BigEndian.Uint32(rec[4:]), binary.BigEndian.Uint32(rec[8:]), binary.BigEndian.Uint32(rec[12:])
		if off%4 != 0 {
			t.Errorf("%s at offset %d", tag, off)
		}
		data := slices.Clone(cut[off : off+size])
		if tag == "head" {
			binary.BigEndian.PutUint32(data[8:], 0)
		}
		if got := checksum(data); got != sum {
			t.Errorf("%s: checksum %08x, the directory says %08x", tag, got, sum)
		}
	}
	if !slices.IsSorted(tags) || slices.Contains(tags, "DSIG") {
		t.Errorf("tables %v", tags)
	}
	if len(cut)%4 != 0 || checksum(cut) != 0xB1B0AFBA {
		t.Errorf("the font sums to %08x, want B1B0AFBA", checksum(cut))
	}
}

// What fpdf embeds, its own cut by the codes drawn, is the same from the
// cut as from the whole font: the reason for cutting.
func TestFpdfCutsTheCutAsTheFont(t *testing.T) {
	for name, ttf := range map[string][]byte{"kai": kai(t), "goregular": goregular.TTF} {
		drawn := "Page 1 of 2 · 东莞市华达电子厂 – 1,550.00 CNY … Łódź é"
		keep := codesOf(drawn)
		keep.AddRange(0, 0xFF)
		cut, err := Cut(ttf, keep)
		if err != nil {
			t.Fatal(err)
		}
		if want, got := fpdf.UTF8CutFont(ttf, drawn), fpdf.UTF8CutFont(cut, drawn); len(want) < 1000 || !bytes.Equal(got, want) {
			t.Errorf("%s: fpdf cuts %d bytes from the cut, %d from the font", name, len(got), len(want))
		}
	}
}

// The format 4 subtable is read as fpdf and sfnt read it, code by code.
func TestGlyphIsTheCmaps(t *testing.T) {
	ttf := kai(t)
	f, err := parse(ttf)
	if err != nil {
		t.Fatal(err)
	}
	full := mustParse(t, ttf)
	all := &Codes{}
	n := 0
	for r := rune(0); r < 0x10000; r++ {
		if r >= 0xD800 && r < 0xE000 {
			continue
		}
		if got, want := f.glyph(r), int(glyphIndex(t, full, r)); got != want {
			t.Fatalf("%U: glyph %d, sfnt says %d", r, got, want)
		}
		if f.glyph(r) != 0 {
			n++
			all.Add(r)
		}
	}
	// Cut to everything it maps, it still maps everything, to the same
	// glyphs in the same order.
	cut, err := Cut(ttf, all)
	if err != nil {
		t.Fatal(err)
	}
	part, err := parse(cut)
	if err != nil {
		t.Fatal(err)
	}
	newID := map[int]int{}
	for r := rune(0); r < 0xFFFF; r++ {
		g, h := f.glyph(r), part.glyph(r)
		if (g == 0) != (h == 0) {
			t.Fatalf("%U: glyph %d in the cut, %d in the font", r, h, g)
		}
		if prev, ok := newID[g]; ok && prev != h {
			t.Fatalf("glyph %d of the font is both %d and %d of the cut", g, prev, h)
		}
		newID[g] = h
	}
	olds := slices.Sorted(maps.Keys(newID))
	for i := 1; i < len(olds); i++ {
		if newID[olds[i]] <= newID[olds[i-1]] {
			t.Fatalf("glyphs %d and %d of the font are %d and %d of the cut: out of order", olds[i-1], olds[i], newID[olds[i-1]], newID[olds[i]])
		}
	}
	if n < 7000 {
		t.Errorf("the font maps %d codes", n)
	}
}

func TestCutRefusesWhatIsNoTrueTypeFont(t *testing.T) {
	ttf := kai(t)
	for name, b := range map[string][]byte{
		"empty":     nil,
		"otf":       append([]byte("OTTO"), ttf[4:]...),
		"truncated": ttf[:1000],
	} {
		if _, err := Cut(b, codesOf("a")); err == nil {
			t.Errorf("%s: Cut accepted it", name)
		}
	}
}

func TestCodes(t *testing.T) {
	var c, d Codes
	c.AddRange(0x20, 0x7E)
	c.Add(0x10000) // beyond the BMP: ignored
	c.Add(-1)
	if c.Len() != 95 || !c.Has(' ') || !c.Has('~') || c.Has(0x7F) || c.Has(0x10000) {
		t.Errorf("codes 0x20 to 0x7E: %d codes", c.Len())
	}
	d.Add('a')
	if r, ok := c.Missing(&d); ok {
		t.Errorf("c lacks %q of d", r)
	}
	d.Add('大')
	d.Add('…')
	if r, ok := c.Missing(&d); !ok || r != '…' {
		t.Errorf("Missing = %q, %v; want '…', the first code c lacks", r, ok)
	}
}

// A glyph after hhea's long metrics has the last one's advance and its own
// side bearing, and the cut gives it both in full.
func TestMetricsOfGlyphsAfterTheLongMetrics(t *testing.T) {
	f := &font{numGlyphs: 4, numHMetrics: 2, hmtx: []byte{
		0x01, 0xF4, 0x00, 0x0A, // glyph 0: advance 500, lsb 10
		0x02, 0x58, 0x00, 0x14, // glyph 1: advance 600, lsb 20
		0x00, 0x1E, // glyph 2: lsb 30
		0xFF, 0xD8, // glyph 3: lsb -40
	}}
	for g, want := range [][]byte{{0x01, 0xF4, 0x00, 0x0A}, {0x02, 0x58, 0x00, 0x14}, {0x02, 0x58, 0x00, 0x1E}, {0x02, 0x58, 0xFF, 0xD8}} {
		if got := f.metrics(g); !bytes.Equal(got, want) {
			t.Errorf("metrics(%d) = % X, want % X", g, got, want)
		}
	}
}
