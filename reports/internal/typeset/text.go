package typeset

import (
	"iter"
	"unicode"
	"unicode/utf8"
)

// Replacement is drawn for a character that no face has, or that is not
// text: invalid UTF-8, a control character, a private-use code point.
const Replacement = '\uFFFD'

// Family is a font in its two weights; with Bold nil, Regular draws both.
type Family struct{ Regular, Bold *Face }

func (f Family) face(bold bool) *Face {
	if bold && f.Bold != nil {
		return f.Bold
	}
	return f.Regular
}

// Chain is the families text is set in, in order of preference: each
// character is drawn with the first that has it.
type Chain []Family

// Run is text that one face draws.
type Run struct {
	Face  *Face
	Text  string // the codes to draw, as UTF-8: all in the BMP
	Width int    // in thousandths of the font size
}

// Line is runs set side by side.
type Line struct {
	Runs  []Run
	Width int // in thousandths of the font size
}

// Join returns l followed by m.
func (l Line) Join(m Line) Line {
	return Line{Runs: append(l.Runs[:len(l.Runs):len(l.Runs)], m.Runs...), Width: l.Width + m.Width}
}

// Text is what the line draws, as the face's characters: what text
// extraction from a PDF gives back.
func (l Line) Text() string {
	var b []byte
	for _, r := range l.Runs {
		for _, code := range r.Text {
			b = utf8.AppendRune(b, r.Face.Unicode(code))
		}
	}
	return string(b)
}

// glyph is one character as set: the face and code that draw it.
type glyph struct {
	face       *Face
	code       rune
	width      int
	space      bool // a line may break here
	replaced   bool // drawn as Replacement: no face has it, or it is not text
	verbatim   bool // code is the source character itself
	start, end int  // the source bytes
}

// find returns the face and code that draw r at weight bold.
func (c Chain) find(r rune, bold bool) (*Face, rune, bool) {
	for _, fam := range c {
		f := fam.face(bold)
		if f == nil {
			continue
		}
		if code, ok := f.drawn(r); ok {
			return f, code, true
		}
	}
	return nil, 0, false
}

// next sets the character at s[i:], passing over what draws nothing (such
// as a zero-width joiner no face has); ok is false at the end of s.
func (c Chain) next(s string, i int, bold bool) (g glyph, ok bool) {
	for i < len(s) {
		r, n := utf8.DecodeRuneInString(s[i:])
		invalid := r == utf8.RuneError && n == 1
		if invalid {
			// One mark for a run of invalid bytes, as strings.ToValidUTF8.
			for n < len(s)-i {
				if r, m := utf8.DecodeRuneInString(s[i+n:]); r != utf8.RuneError || m != 1 {
					break
				}
				n++
			}
		}
		g = glyph{start: i, end: i + n}
		i += n
		switch {
		case invalid, unicode.IsControl(r), private(r), noncharacter(r):
			// not text
		default:
			if f, code, ok := c.find(r, bold); ok {
				g.face, g.code, g.verbatim = f, code, code == r
				g.width, g.space = f.Width(code), r == ' '
				return g, true
			}
			if ignorable(r) {
				continue
			}
			if unicode.In(r, unicode.Zs, unicode.Zl, unicode.Zp) {
				if f, code, ok := c.find(' ', bold); ok {
					g.face, g.code, g.width, g.space = f, code, f.Width(code), true
					return g, true
				}
			}
		}
		g.replaced = true
		if f, code, ok := c.find(Replacement, bold); ok {
			g.face, g.code, g.width = f, code, f.Width(code)
			return g, true
		}
		if f, code, ok := c.find('?', bold); ok {
			g.face, g.code, g.width = f, code, f.Width(code)
			return g, true
		}
		// A chain that draws neither: nothing to draw.
	}
	return glyph{}, false
}

// private tells the code points whose meaning is private: a font's glyph
// for one is no character anyone can read.
func private(r rune) bool {
	return r >= 0xE000 && r < 0xF900 || r >= 0xF0000
}

func noncharacter(r rune) bool {
	return r >= 0xFDD0 && r <= 0xFDEF || r&0xFFFE == 0xFFFE
}

// ignorable tells the characters that draw nothing when a font lacks them:
// format characters (joiners, direction marks, the soft hyphen), variation
// selectors and the other default-ignorable code points.
func ignorable(r rune) bool {
	return unicode.In(r, unicode.Cf, unicode.Variation_Selector, unicode.Other_Default_Ignorable_Code_Point)
}

// Missing counts the characters of s drawn as Replacement.
func (c Chain) Missing(s string) int {
	n := 0
	for i := 0; ; {
		g, ok := c.next(s, i, false)
		if !ok {
			return n
		}
		if g.replaced {
			n++
		}
		i = g.end
	}
}

// Glyphs yields the face and code of each glyph that Set(s, bold) draws,
// in order: what a document that sets s, or any part of it that Fit or
// Wrap cuts, draws with each face (Fit adds an ellipsis of its own).
func (c Chain) Glyphs(s string, bold bool) iter.Seq2[*Face, rune] {
	return func(yield func(*Face, rune) bool) {
		for i := 0; ; {
			g, ok := c.next(s, i, bold)
			if !ok || !yield(g.face, g.code) {
				return
			}
			i = g.end
		}
	}
}

// Set sets all of s on one line.
func (c Chain) Set(s string, bold bool) Line {
	st := setter{src: s}
	c.set(&st, s, bold)
	return st.line()
}

// set adds the glyphs of s, a beginning of st.src, to st.
func (c Chain) set(st *setter, s string, bold bool) {
	for i := 0; ; {
		g, ok := c.next(s, i, bold)
		if !ok {
			return
		}
		st.add(g)
		i = g.end
	}
}

// Fit sets s on one line at most max wide, in thousandths of the font
// size: all of s if it fits, or else the longest beginning of it that fits
// followed by an ellipsis. It reads s only as far as the line reaches.
func (c Chain) Fit(s string, bold bool, max float64) Line {
	end, whole := c.fit(s, bold, max)
	if whole {
		return c.Set(s, bold)
	}
	st := setter{src: s}
	c.set(&st, s[:end], bold)
	if f, code, ok := c.find('…', bold); ok {
		st.add(glyph{face: f, code: code, width: f.Width(code)}) // not from s: not verbatim
	}
	return st.line()
}

// fit returns where s must be cut for an ellipsis to follow within max, or
// whole if all of s fits.
func (c Chain) fit(s string, bold bool, max float64) (end int, whole bool) {
	ellipsis := 0
	if f, code, ok := c.find('…', bold); ok {
		ellipsis = f.Width(code)
	}
	w := 0
	for i := 0; ; {
		g, ok := c.next(s, i, bold)
		if !ok {
			return len(s), true
		}
		w += g.width
		if float64(w) > max {
			return end, false
		}
		if float64(w+ellipsis) <= max {
			end = g.end
		}
		i = g.end
	}
}

// Wrap sets s on lines at most max wide, breaking after a space where it
// can and anywhere between characters where it must (CJK text has no
// spaces). With lines > 0, the last line allowed ends with an ellipsis
// if s goes on. It returns one line at least.
func (c Chain) Wrap(s string, bold bool, max float64, lines int) []Line {
	var out []Line
	for i := 0; i < len(s) || len(out) == 0; {
		if lines > 0 && len(out) == lines-1 {
			return append(out, c.Fit(s[i:], bold, max))
		}
		end, next := c.lineBreak(s, i, bold, max)
		out = append(out, c.Set(s[i:end], bold))
		i = next
	}
	return out
}

// lineBreak finds where the line that starts at s[i:] ends, and where the
// next one starts.
func (c Chain) lineBreak(s string, i int, bold bool, max float64) (end, next int) {
	w, drawn := 0, false
	space := -1 // the last space on the line: its start, and spaceEnd its end
	spaceEnd := 0
	for {
		g, ok := c.next(s, i, bold)
		if !ok {
			return len(s), len(s)
		}
		if drawn && float64(w+g.width) > max {
			switch {
			case g.space:
				return g.start, g.end
			case space >= 0:
				return space, spaceEnd
			default:
				return g.start, g.start
			}
		}
		w += g.width
		drawn = true
		if g.space {
			space, spaceEnd = g.start, g.end
		}
		i = g.end
	}
}

// setter gathers glyphs into runs, one a face. A run whose codes are the
// source's own bytes is a substring of the source: no copy.
type setter struct {
	src   string
	runs  []Run
	width int

	face     *Face
	w        int
	verbatim bool
	from, to int    // the run's source bytes, while verbatim
	buf      []byte // the run's codes otherwise
}

func (st *setter) add(g glyph) {
	if g.face != st.face {
		st.flush()
		st.face, st.verbatim, st.from, st.to = g.face, true, g.start, g.start
	}
	if st.verbatim && g.verbatim && g.start == st.to {
		st.to = g.end
	} else {
		if st.verbatim {
			st.buf = append(st.buf[:0], st.src[st.from:st.to]...)
			st.verbatim = false
		}
		st.buf = utf8.AppendRune(st.buf, g.code)
	}
	st.w += g.width
	st.width += g.width
}

func (st *setter) flush() {
	if st.face == nil {
		return
	}
	text := st.src[st.from:st.to]
	if !st.verbatim {
		text = string(st.buf)
	}
	if text != "" {
		st.runs = append(st.runs, Run{Face: st.face, Text: text, Width: st.w})
	}
	st.face, st.w = nil, 0
}

func (st *setter) line() Line {
	st.flush()
	return Line{Runs: st.runs, Width: st.width}
}
