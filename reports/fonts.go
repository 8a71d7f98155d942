package reports

import (
	"bytes"
	"compress/gzip"
	"embed"
	"fmt"
	"io"
	"os"
	"time"

	cases "github.com/remedy-cases/remedy/case"
	"github.com/remedy-cases/remedy/reports/internal/typeset"
)

// The main font: a subset of LXGW WenKai (Latin, Greek, Cyrillic and the
// hanzi of GB 2312) in two weights, renamed as the OFL asks of a modified
// version. fonts/subset.sh cuts it.
var (
	//go:embed fonts/RemedyKai-Regular.ttf
	kaiRegular []byte
	//go:embed fonts/RemedyKai-Bold.ttf
	kaiBold []byte
)

// The fallbacks, gzipped, which fonts/fallbacks.py cuts: each is
// decompressed and read the first time a name needs a character that the
// fonts before it lack, once for the process.
//
//go:embed fonts/*.ttf.gz
var fallbackFiles embed.FS

var (
	kai = typeset.Family{
		Regular: typeset.NewFace("kai", func() ([]byte, error) { return kaiRegular, nil }),
		Bold:    typeset.NewFace("kaibold", func() ([]byte, error) { return kaiBold, nil }),
	}
	fallbacks = typeset.Chain{
		{Regular: typeset.NewFace("kaiextra", gunzip("RemedyKaiExtra-Regular.ttf.gz"))},
		{Regular: typeset.NewFace("kaiastral", gunzip("RemedyKaiAstral-Regular.ttf.gz"), typeset.AstralInPUA)},
		{Regular: typeset.NewFace("hangul", gunzip("RemedyHangul-Regular.ttf.gz"))},
		{Regular: typeset.NewFace("sans", gunzip("RemedySans-Regular.ttf.gz"))},
		{Regular: typeset.NewFace("ming", gunzip("RemedyMing-Regular.ttf.gz"))},
	}
)

func gunzip(name string) func() ([]byte, error) {
	return func() ([]byte, error) {
		f, err := fallbackFiles.Open("fonts/" + name)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		z, err := gzip.NewReader(f)
		if err != nil {
			return nil, err
		}
		return io.ReadAll(z)
	}
}

// Fonts are the fonts a report is set in: a main font, then fallbacks for
// the characters it lacks. Every character of a name is drawn with the
// first font that has it; what none has is drawn as U+FFFD and counted.
type Fonts struct{ chain typeset.Chain }

// Missing counts the characters of s that no font has, which a report
// draws as U+FFFD: also invalid UTF-8, control and private-use characters.
func (f Fonts) Missing(s string) int { return f.chain.Missing(s) }

// Drawn is the text a report draws for s, as its characters: what copy and
// text extraction give back from the PDF when all of s fits.
func (f Fonts) Drawn(s string) string { return f.chain.Set(s, false).Text() }

// DefaultFonts returns the embedded fonts: Remedy Kai (Latin, Greek,
// Cyrillic and the hanzi of GB 2312, regular and bold), then the rest of
// the CJK Unified Ideographs and their extension A, the ideographs of names
// beyond the BMP (GB 18030-2022's level 2 among them), Hangul, the other
// living scripts of the BMP (Arabic, Hebrew, Thai, Indic...), and U+FFFD.
func DefaultFonts() Fonts {
	return Fonts{chain: append(typeset.Chain{kai}, fallbacks...)}
}

// LoadFont reads a TrueType font file to use as the main font, for both
// weights; the embedded fonts remain its fallbacks. fpdf reads only
// TrueType outlines: a collection (.ttc) or a CFF-based OpenType file (.otf
// such as Noto Sans CJK) is refused here rather than at the first report.
func LoadFont(path string) (Fonts, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Fonts{}, fmt.Errorf("report font: %w", err)
	}
	switch {
	case bytes.HasPrefix(b, []byte("ttcf")):
		return Fonts{}, fmt.Errorf("report font %s is a font collection (.ttc); extract one TrueType font from it", path)
	case bytes.HasPrefix(b, []byte("OTTO")):
		return Fonts{}, fmt.Errorf("report font %s has CFF outlines (.otf); fpdf needs a TrueType (.ttf) font", path)
	case !bytes.HasPrefix(b, []byte{0, 1, 0, 0}) && !bytes.HasPrefix(b, []byte("true")):
		return Fonts{}, fmt.Errorf("report font %s is not a TrueType font", path)
	}
	face, err := typeset.Parse("main", b)
	if err != nil {
		return Fonts{}, fmt.Errorf("report font %s: %w", path, err)
	}
	f := Fonts{chain: append(typeset.Chain{{Regular: face}, kai}, fallbacks...)}
	if _, err := Render(io.Discard, Build("Probe 探测", cases.Month{Year: 2026, Month: 1}, time.UTC, nil), f); err != nil {
		return Fonts{}, fmt.Errorf("report font %s: %w", path, err)
	}
	return f, nil
}
