// Package typeset sets text for fpdf in a chain of TrueType fonts: each
// character is drawn with the first font that has it, any string at all is
// drawn (what no font has, or what is not text, becomes a visible U+FFFD),
// and text is measured, fitted and wrapped in time linear in its length.
//
// fpdf draws a UTF-8 font's characters as 16-bit codes equal to their code
// points and reads only a font's format 4 cmap, so it can draw the Basic
// Multilingual Plane only. A font marked [AstralInPUA] carries characters
// beyond it at Private Use Area code points, mapped from their real code
// points in the same font's format 12 cmap: the chain draws them by those
// codes, and [Face.Unicode] tells the character of each, for the PDF's
// ToUnicode map that gives the real characters back to copy and text
// extraction.
package typeset

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"sync"

	"golang.org/x/image/font"
	"golang.org/x/image/font/sfnt"
	"golang.org/x/image/math/fixed"
)

// Face is one TrueType font as fpdf draws it: the BMP characters its cmap
// maps, with their advance widths rounded to thousandths of the font size,
// as fpdf rounds them. A Face is loaded the first time it is asked about,
// then only read: it is safe for concurrent use.
type Face struct {
	name      string
	astralPUA bool
	load      func() ([]byte, error)

	once         sync.Once
	err          error
	data         []byte
	foldsMetrics bool // fpdf writes into data
	cover        [0x10000 / 64]uint64
	width        []uint16      // by code, for covered codes
	astral       map[rune]rune // character beyond the BMP -> the code that draws it
	back         map[rune]rune // that code -> the character
}

// Option changes how a face is read.
type Option func(*Face)

// AstralInPUA marks a face whose Private Use Area glyphs draw the characters
// beyond the BMP that map to the same glyphs. Only such a face draws them.
func AstralInPUA(f *Face) { f.astralPUA = true }

// NewFace returns the face named name (the family fpdf knows it by: lower
// case letters, unique in a document) whose TrueType bytes load returns,
// called once, when the face is first needed.
func NewFace(name string, load func() ([]byte, error), opts ...Option) *Face {
	f := &Face{name: name, load: load}
	for _, o := range opts {
		o(f)
	}
	return f
}

// Parse reads a TrueType font now, for a caller that wants its error at once.
func Parse(name string, ttf []byte, opts ...Option) (*Face, error) {
	f := NewFace(name, func() ([]byte, error) { return ttf, nil }, opts...)
	if err := f.Err(); err != nil {
		return nil, err
	}
	return f, nil
}

// Name is the family fpdf knows the face by.
func (f *Face) Name() string { return f.name }

// Bytes are the font's TrueType bytes, for fpdf.AddUTF8FontFromBytes: a
// copy for each call when fpdf would write into them. fpdf v0.9.0, cutting
// a font that gives fewer advances than it has glyphs (hhea's
// numberOfHMetrics below maxp's numGlyphs, as most fonts do), writes past
// the slice it reads a glyph's advance from, into the font's bytes; the
// embedded fonts give every glyph its own advance and are shared.
func (f *Face) Bytes() []byte {
	f.once.Do(f.init)
	if f.foldsMetrics {
		return bytes.Clone(f.data)
	}
	return f.data
}

// foldsMetrics tells whether a TrueType font gives fewer advances than it
// has glyphs, or cannot tell.
func foldsMetrics(ttf []byte) bool {
	table := func(tag string) []byte {
		if len(ttf) < 12 {
			return nil
		}
		n := int(binary.BigEndian.Uint16(ttf[4:]))
		for i := range n {
			rec := ttf[min(12+16*i, len(ttf)):min(12+16*(i+1), len(ttf))]
			if len(rec) == 16 && string(rec[:4]) == tag {
				off, size := int64(binary.BigEndian.Uint32(rec[8:])), int64(binary.BigEndian.Uint32(rec[12:]))
				if off+size <= int64(len(ttf)) {
					return ttf[off : off+size]
				}
			}
		}
		return nil
	}
	hhea, maxp := table("hhea"), table("maxp")
	if len(hhea) < 36 || len(maxp) < 6 {
		return true
	}
	return binary.BigEndian.Uint16(hhea[34:]) < binary.BigEndian.Uint16(maxp[4:])
}

// Err tells why the face could not be read; a face that cannot be read
// covers nothing.
func (f *Face) Err() error {
	f.once.Do(f.init)
	return f.err
}

// Astral tells whether the face draws characters beyond the BMP by Private
// Use Area codes: text drawn with it needs [ToUnicode].
func (f *Face) Astral() bool { return f.astralPUA }

func (f *Face) init() {
	data, err := f.load()
	if err == nil {
		err = f.read(data)
	}
	if err != nil {
		f.err = fmt.Errorf("font %s: %w", f.name, err)
		f.cover = [len(f.cover)]uint64{}
		f.astral, f.back = nil, nil
		return
	}
	f.data = data
	f.foldsMetrics = foldsMetrics(data)
}

var errNoGlyphs = errors.New("maps no character of the Basic Multilingual Plane")

func (f *Face) read(data []byte) error {
	sf, err := sfnt.Parse(data)
	if err != nil {
		return err
	}
	var b sfnt.Buffer
	upem := sf.UnitsPerEm()
	if upem == 0 {
		return errors.New("no units per em")
	}
	f.width = make([]uint16, 0x10000)
	byGlyph := map[sfnt.GlyphIndex]rune{}
	n := 0
	for r := rune(0); r < 0x10000; r++ {
		if r >= 0xD800 && r < 0xE000 {
			continue // surrogates: no character
		}
		g, err := sf.GlyphIndex(&b, r)
		if err != nil || g == 0 {
			continue
		}
		// With ppem equal to the units per em, the advance comes back in
		// font units; fpdf rounds 1000/unitsPerEm times it.
		adv, err := sf.GlyphAdvance(&b, g, fixed.Int26_6(upem), font.HintingNone)
		if err != nil {
			continue
		}
		w := math.Round(1000 / float64(upem) * float64(adv))
		f.cover[r/64] |= 1 << (r % 64)
		f.width[r] = uint16(min(max(w, 0), math.MaxUint16-1))
		n++
		if f.astralPUA && r >= 0xE000 && r < 0xF900 {
			byGlyph[g] = r
		}
	}
	if n == 0 {
		return errNoGlyphs
	}
	if f.astralPUA {
		f.astral, f.back = map[rune]rune{}, map[rune]rune{}
		for r := rune(0x10000); r <= 0x3FFFF; r++ {
			g, err := sf.GlyphIndex(&b, r)
			if err != nil || g == 0 {
				continue
			}
			if code, ok := byGlyph[g]; ok {
				if _, taken := f.back[code]; !taken {
					f.astral[r], f.back[code] = code, r
				}
			}
		}
	}
	return nil
}

// has tells whether the face draws BMP code r.
func (f *Face) has(r rune) bool {
	f.once.Do(f.init)
	return r >= 0 && r < 0x10000 && f.cover[r/64]&(1<<(r%64)) != 0
}

// drawn returns the code that draws r in this face, if any: r itself in the
// BMP, a Private Use Area code for a character beyond it.
func (f *Face) drawn(r rune) (rune, bool) {
	if r < 0x10000 {
		if r >= 0xE000 && r < 0xF900 {
			return 0, false // private use: not text anyone can read
		}
		return r, f.has(r)
	}
	if !f.astralPUA {
		return 0, false
	}
	f.once.Do(f.init)
	code, ok := f.astral[r]
	return code, ok
}

// Width is the advance of code, in thousandths of the font size; 0 for a
// code the face lacks.
func (f *Face) Width(code rune) int {
	if !f.has(code) {
		return 0
	}
	return int(f.width[code])
}

// Covers tells whether the face draws r, a character in the BMP or beyond.
func (f *Face) Covers(r rune) bool {
	_, ok := f.drawn(r)
	return ok
}

// Unicode returns the character a code drawn with this face stands for.
func (f *Face) Unicode(code rune) rune {
	f.once.Do(f.init)
	if r, ok := f.back[code]; ok {
		return r
	}
	return code
}
