// Package subset cuts a TrueType font down to the characters a document
// draws, for fpdf to read instead of the whole font.
//
// fpdf reads every character of a font's cmap, and the metrics and
// location of every glyph, when a font is added, and again when it writes
// the document: for a CJK font, most of what a short report allocates. A
// cut font maps only the codes asked for, and holds only their glyphs, so
// fpdf reads little; what fpdf then embeds (its own cut, by the codes
// drawn) is the same as from the whole font. (But for a font whose hmtx
// gives fewer advances than it has glyphs, into which fpdf v0.9.0 writes
// as it reads them, see typeset.Face.Bytes: the cut gives every glyph its
// own advance, and fpdf reads them as they are.)
//
// The cut keeps the glyphs it holds in their order: glyph 0, then the
// glyphs of the codes kept and the components of composite ones, by their
// ids in the font. fpdf numbers the glyphs it embeds in that order too, so
// it numbers them alike from either font. The cut holds the tables that
// fpdf reads or copies into what it embeds: cmap, glyf, loca and hmtx
// written anew, head, hhea and maxp with the number of glyphs and metrics
// and the loca format set, post as format 3 (no glyph names), and OS/2,
// name, cvt, fpgm, prep and gasp copied. Tables that fpdf neither reads nor
// embeds, many of them by glyph id (GSUB, GPOS, vmtx, kern, DSIG...), are
// left out. The cmap is one format 4 subtable (Windows, Unicode BMP), the
// one fpdf reads; codes are read from the source by the subtable fpdf
// reads: the first Windows Unicode BMP or Unicode platform subtable of
// format 4.
package subset

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
	"slices"
)

// Codes is a set of codes of the Basic Multilingual Plane, as fpdf draws
// them: 16-bit, equal to the characters' code points.
type Codes struct{ bits [0x10000 / 64]uint64 }

// Add adds code to the set; a code beyond the BMP is ignored.
func (c *Codes) Add(code rune) {
	if code >= 0 && code < 0x10000 {
		c.bits[code/64] |= 1 << (code % 64)
	}
}

// AddRange adds the codes from lo to hi, both included.
func (c *Codes) AddRange(lo, hi rune) {
	for r := max(lo, 0); r <= min(hi, 0xFFFF); r++ {
		c.Add(r)
	}
}

// Has tells whether code is in the set.
func (c *Codes) Has(code rune) bool {
	return code >= 0 && code < 0x10000 && c.bits[code/64]&(1<<(code%64)) != 0
}

// Missing returns the first code of d that c lacks, if any.
func (c *Codes) Missing(d *Codes) (rune, bool) {
	for i, w := range d.bits {
		if lack := w &^ c.bits[i]; lack != 0 {
			return rune(i*64 + bits.TrailingZeros64(lack)), true
		}
	}
	return 0, false
}

// Len is the number of codes in the set.
func (c *Codes) Len() int {
	n := 0
	for _, w := range c.bits {
		n += bits.OnesCount64(w)
	}
	return n
}

// each calls yield with every code of the set, in order.
func (c *Codes) each(yield func(rune)) {
	for i, w := range c.bits {
		for w != 0 {
			b := bits.TrailingZeros64(w)
			yield(rune(i*64 + b))
			w &^= 1 << b
		}
	}
}

var (
	errFormat   = errors.New("not a TrueType font")
	errNoCmap   = errors.New("no format 4 cmap for Unicode")
	errTooLarge = errors.New("the cut cmap does not fit in a format 4 subtable")
)

// font is a TrueType font's table directory, and what Cut reads of it.
type font struct {
	version uint32
	tables  map[string][]byte // by tag, each a slice of the font

	numGlyphs   int
	longLoca    bool
	loca, glyf  []byte
	hmtx        []byte
	numHMetrics int    // long metrics in hmtx; the glyphs after the last share its advance
	cmap4       []byte // the format 4 subtable fpdf reads, cut to its length
	segCount    int
}

func parse(ttf []byte) (*font, error) {
	if len(ttf) < 12 {
		return nil, errFormat
	}
	f := &font{version: binary.BigEndian.Uint32(ttf), tables: map[string][]byte{}}
	if f.version != 0x00010000 && f.version != 0x74727565 { // 'true'
		return nil, errFormat
	}
	n := int(binary.BigEndian.Uint16(ttf[4:]))
	if len(ttf) < 12+16*n {
		return nil, errFormat
	}
	for i := range n {
		rec := ttf[12+16*i:]
		tag := string(rec[:4])
		off, size := uint64(binary.BigEndian.Uint32(rec[8:])), uint64(binary.BigEndian.Uint32(rec[12:]))
		if off+size > uint64(len(ttf)) {
			return nil, fmt.Errorf("table %q lies beyond the end of the font", tag)
		}
		f.tables[tag] = ttf[off : off+size : off+size]
	}
	head, maxp := f.tables["head"], f.tables["maxp"]
	if len(head) < 54 || len(maxp) < 6 {
		return nil, errors.New("no head or maxp table")
	}
	f.numGlyphs = int(binary.BigEndian.Uint16(maxp[4:]))
	switch binary.BigEndian.Uint16(head[50:]) {
	case 0:
	case 1:
		f.longLoca = true
	default:
		return nil, errors.New("unknown loca format")
	}
	f.loca, f.glyf = f.tables["loca"], f.tables["glyf"]
	if len(f.loca) < (f.numGlyphs+1)*f.locaSize() {
		return nil, errors.New("loca is shorter than maxp says")
	}
	hhea := f.tables["hhea"]
	if len(hhea) < 36 {
		return nil, errors.New("no hhea table")
	}
	f.hmtx, f.numHMetrics = f.tables["hmtx"], int(binary.BigEndian.Uint16(hhea[34:]))
	if f.numHMetrics == 0 || f.numHMetrics > f.numGlyphs || len(f.hmtx) < 4*f.numHMetrics+2*(f.numGlyphs-f.numHMetrics) {
		return nil, errors.New("hmtx is shorter than hhea and maxp say")
	}
	if post := f.tables["post"]; len(post) < 32 {
		return nil, errors.New("no post table")
	}
	for g := range f.numGlyphs {
		start, end := f.glyphRange(g)
		if start > end || end > len(f.glyf) {
			return nil, fmt.Errorf("glyph %d lies beyond glyf", g)
		}
	}
	return f, f.findCmap4()
}

func (f *font) locaSize() int {
	if f.longLoca {
		return 4
	}
	return 2
}

// glyphRange is where glyph g lies in glyf, by loca; g < numGlyphs.
func (f *font) glyphRange(g int) (start, end int) {
	if f.longLoca {
		return int(binary.BigEndian.Uint32(f.loca[4*g:])), int(binary.BigEndian.Uint32(f.loca[4*g+4:]))
	}
	return 2 * int(binary.BigEndian.Uint16(f.loca[2*g:])), 2 * int(binary.BigEndian.Uint16(f.loca[2*g+2:]))
}

// findCmap4 finds the subtable fpdf reads: the first encoding record of
// platform 3 encoding 1, or of platform 0, whose subtable has format 4.
func (f *font) findCmap4() error {
	cmap := f.tables["cmap"]
	if len(cmap) < 4 {
		return errNoCmap
	}
	n := int(binary.BigEndian.Uint16(cmap[2:]))
	for i := range n {
		rec := cmap[min(4+8*i, len(cmap)):min(4+8*(i+1), len(cmap))]
		if len(rec) < 8 {
			return errNoCmap
		}
		platform, encoding := binary.BigEndian.Uint16(rec), binary.BigEndian.Uint16(rec[2:])
		if !(platform == 3 && encoding == 1 || platform == 0) {
			continue
		}
		off := int(binary.BigEndian.Uint32(rec[4:]))
		if off+4 > len(cmap) || binary.BigEndian.Uint16(cmap[off:]) != 4 {
			continue
		}
		sub := cmap[off:]
		length := int(binary.BigEndian.Uint16(sub[2:]))
		if length < 14 || length > len(sub) {
			return errNoCmap
		}
		sub = sub[:length]
		segCount := int(binary.BigEndian.Uint16(sub[6:])) / 2
		if 16+8*segCount > len(sub) {
			return errNoCmap
		}
		f.cmap4, f.segCount = sub, segCount
		return nil
	}
	return errNoCmap
}

// glyph is the glyph the format 4 subtable maps code to; 0 for none. It
// reads a segment's glyph id array as fpdf does: an id that lies beyond
// the subtable is 0.
func (f *font) glyph(code rune) int {
	sub, n := f.cmap4, f.segCount
	u16 := func(off int) int { return int(binary.BigEndian.Uint16(sub[off:])) }
	ends, starts, deltas, ranges := 14, 16+2*n, 16+4*n, 16+6*n
	// The first segment that ends at or after code.
	lo, hi := 0, n
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if rune(u16(ends+2*m)) < code {
			lo = m + 1
		} else {
			hi = m
		}
	}
	if lo == n || rune(u16(starts+2*lo)) > code {
		return 0
	}
	delta, rangeOffset := u16(deltas+2*lo), u16(ranges+2*lo)
	if rangeOffset == 0 {
		return (int(code) + delta) & 0xFFFF
	}
	at := ranges + 2*lo + rangeOffset + 2*(int(code)-u16(starts+2*lo))
	if at+2 > len(sub) {
		return 0
	}
	g := u16(at)
	if g == 0 {
		return 0
	}
	return (g + delta) & 0xFFFF
}

// metrics is glyph g's advance width and left side bearing, as hmtx
// holds them: 4 bytes.
func (f *font) metrics(g int) []byte {
	if g < f.numHMetrics {
		return f.hmtx[4*g : 4*g+4]
	}
	adv := f.hmtx[4*(f.numHMetrics-1):]
	lsb := f.hmtx[4*f.numHMetrics+2*(g-f.numHMetrics):]
	return []byte{adv[0], adv[1], lsb[0], lsb[1]}
}

// Composite glyph flags.
const (
	argsAreWords   = 0x0001
	haveScale      = 0x0008
	moreComponents = 0x0020
	haveXYScale    = 0x0040
	haveTwoByTwo   = 0x0080
)

// components calls add with each glyph that composite glyph g refers to.
func (f *font) components(g int, add func(int)) error {
	start, end := f.glyphRange(g)
	return eachComponent(f.glyf[start:end], func(id []byte) {
		add(int(binary.BigEndian.Uint16(id)))
	})
}

// eachComponent calls id with the 2 bytes of each component's glyph id, if
// data is a composite glyph.
func eachComponent(data []byte, id func([]byte)) error {
	if len(data) < 10 || int16(binary.BigEndian.Uint16(data)) >= 0 {
		return nil // empty, or simple
	}
	for at := 10; ; {
		if at+4 > len(data) {
			return errors.New("a composite glyph is cut short")
		}
		flags := binary.BigEndian.Uint16(data[at:])
		id(data[at+2 : at+4])
		at += 4
		if flags&argsAreWords != 0 {
			at += 4
		} else {
			at += 2
		}
		switch {
		case flags&haveScale != 0:
			at += 2
		case flags&haveXYScale != 0:
			at += 4
		case flags&haveTwoByTwo != 0:
			at += 8
		}
		if flags&moreComponents == 0 {
			return nil
		}
	}
}

// Cut returns ttf, a TrueType font, with a cmap of only the codes of keep
// that ttf maps, and only glyph 0 and their glyphs, with the components of
// composite ones, in their order. It fails on a font it cannot read, and
// when the cmap it would write exceeds a format 4 subtable's 64 KB.
func Cut(ttf []byte, keep *Codes) ([]byte, error) {
	f, err := parse(ttf)
	if err != nil {
		return nil, err
	}

	// The codes kept, with their glyphs, and every glyph they need.
	type mapping struct{ code, glyph int }
	var mapped []mapping
	used := make([]bool, f.numGlyphs)
	var stack []int
	need := func(g int) {
		if g < len(used) && !used[g] {
			used[g] = true
			stack = append(stack, g)
		}
	}
	need(0)
	keep.each(func(code rune) {
		if code == 0xFFFF {
			return // the end of every format 4 subtable
		}
		if g := f.glyph(code); g != 0 && g < f.numGlyphs {
			mapped = append(mapped, mapping{int(code), g})
			need(g)
		}
	})
	for len(stack) > 0 {
		g := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if err := f.components(g, need); err != nil {
			return nil, fmt.Errorf("glyph %d: %w", g, err)
		}
	}
	// The glyphs kept, in order: a glyph's new id is its index.
	var kept []int
	size := 0
	for g, ok := range used {
		if ok {
			kept = append(kept, g)
			start, end := f.glyphRange(g)
			size += end - start
		}
	}
	newID := func(g int) int {
		i, found := slices.BinarySearch(kept, g)
		if !found {
			return 0 // a component beyond the font's glyphs
		}
		return i
	}

	// glyf, loca and hmtx: each glyph as it was, byte for byte, but for the
	// ids of a composite glyph's components; each glyph's metrics in full.
	// A glyph keeps its length, so offsets stay even (as short loca needs)
	// where they were.
	longLoca := f.longLoca || size/2 > 0xFFFF
	glyf := make([]byte, 0, size)
	loca := make([]byte, 0, (len(kept)+1)*4)
	hmtx := make([]byte, 0, 4*len(kept))
	putLoca := func(off int) {
		if longLoca {
			loca = binary.BigEndian.AppendUint32(loca, uint32(off))
		} else {
			loca = binary.BigEndian.AppendUint16(loca, uint16(off/2))
		}
	}
	for _, g := range kept {
		putLoca(len(glyf))
		start, end := f.glyphRange(g)
		at := len(glyf)
		glyf = append(glyf, f.glyf[start:end]...)
		if err := eachComponent(glyf[at:], func(id []byte) {
			binary.BigEndian.PutUint16(id, uint16(newID(int(binary.BigEndian.Uint16(id)))))
		}); err != nil {
			return nil, fmt.Errorf("glyph %d: %w", g, err)
		}
		hmtx = append(hmtx, f.metrics(g)...)
	}
	putLoca(len(glyf))
	if !longLoca && len(glyf)%2 != 0 {
		return nil, errors.New("a glyph of odd length in a font with short loca")
	}

	// cmap: one format 4 subtable, a segment for each run of consecutive
	// codes; where their glyphs are consecutive too, by idDelta alone, or
	// else by the glyph id array. The last segment maps 0xFFFF to glyph 0.
	type segment struct{ start, end, delta, glyphs int } // glyphs: index in the array, or -1
	var segs []segment
	var glyphIDs []int
	for i := range mapped {
		mapped[i].glyph = newID(mapped[i].glyph)
	}
	for i := 0; i < len(mapped); {
		j := i + 1
		for j < len(mapped) && mapped[j].code == mapped[j-1].code+1 {
			j++
		}
		run := mapped[i:j]
		delta := run[0].glyph - run[0].code
		byDelta := true
		for _, m := range run {
			byDelta = byDelta && m.glyph-m.code == delta
		}
		s := segment{start: run[0].code, end: run[len(run)-1].code, delta: delta & 0xFFFF, glyphs: -1}
		if !byDelta {
			s.delta, s.glyphs = 0, len(glyphIDs)
			for _, m := range run {
				glyphIDs = append(glyphIDs, m.glyph)
			}
		}
		segs = append(segs, s)
		i = j
	}
	segs = append(segs, segment{start: 0xFFFF, end: 0xFFFF, delta: 1, glyphs: -1})
	segCount := len(segs)
	length := 16 + 8*segCount + 2*len(glyphIDs)
	if length > 0xFFFF {
		return nil, errTooLarge
	}
	searchRange, entrySelector := searchParams(segCount, 2)
	cmap := make([]byte, 0, 12+length)
	u16 := func(v int) { cmap = binary.BigEndian.AppendUint16(cmap, uint16(v)) }
	u16(0) // version
	u16(1) // one encoding record
	u16(3) // Windows
	u16(1) // Unicode BMP
	cmap = binary.BigEndian.AppendUint32(cmap, 12)
	u16(4)
	u16(length)
	u16(0) // language
	u16(2 * segCount)
	u16(searchRange)
	u16(entrySelector)
	u16(2*segCount - searchRange)
	for _, s := range segs {
		u16(s.end)
	}
	u16(0) // reservedPad
	for _, s := range segs {
		u16(s.start)
	}
	for _, s := range segs {
		u16(s.delta)
	}
	for i, s := range segs {
		if s.glyphs < 0 {
			u16(0)
		} else {
			// From this idRangeOffset to the segment's first glyph id.
			u16(2*(segCount-i) + 2*s.glyphs)
		}
	}
	for _, g := range glyphIDs {
		u16(g)
	}

	head, hhea, maxp := slices.Clone(f.tables["head"]), slices.Clone(f.tables["hhea"]), slices.Clone(f.tables["maxp"])
	binary.BigEndian.PutUint16(head[50:], 0)
	if longLoca {
		binary.BigEndian.PutUint16(head[50:], 1)
	}
	binary.BigEndian.PutUint16(hhea[34:], uint16(len(kept)))
	binary.BigEndian.PutUint16(maxp[4:], uint16(len(kept)))
	// post format 3: the header of format 2 (italic angle, underline,
	// fixed pitch, memory use), without glyph names.
	post := append([]byte{0, 3, 0, 0}, f.tables["post"][4:32]...)
	tables := map[string][]byte{
		"cmap": cmap, "glyf": glyf, "loca": loca, "hmtx": hmtx,
		"head": head, "hhea": hhea, "maxp": maxp, "post": post,
	}
	for _, tag := range []string{"OS/2", "name", "cvt ", "fpgm", "prep", "gasp"} {
		if data, ok := f.tables[tag]; ok {
			tables[tag] = data
		}
	}
	return assemble(f.version, tables), nil
}

// searchParams are a binary search header's searchRange and entrySelector
// for n entries of size bytes: the largest power of two at most n, times
// size, and its base 2 logarithm.
func searchParams(n, size int) (searchRange, entrySelector int) {
	if n <= 0 {
		return 0, 0
	}
	entrySelector = bits.Len(uint(n)) - 1
	return size << entrySelector, entrySelector
}

// assemble writes a font of tables: the table directory, sorted by tag,
// then the tables, each at an offset that is a multiple of four and padded
// with zeros to one; head's checkSumAdjustment makes the whole font sum to
// 0xB1B0AFBA.
func assemble(version uint32, tables map[string][]byte) []byte {
	tags := make([]string, 0, len(tables))
	size := 12 + 16*len(tables)
	for tag, data := range tables {
		tags = append(tags, tag)
		size += (len(data) + 3) &^ 3
	}
	slices.Sort(tags)
	out := make([]byte, 0, size)
	out = binary.BigEndian.AppendUint32(out, version)
	searchRange, entrySelector := searchParams(len(tags), 16)
	out = binary.BigEndian.AppendUint16(out, uint16(len(tags)))
	out = binary.BigEndian.AppendUint16(out, uint16(searchRange))
	out = binary.BigEndian.AppendUint16(out, uint16(entrySelector))
	out = binary.BigEndian.AppendUint16(out, uint16(16*len(tags)-searchRange))
	off := 12 + 16*len(tags)
	for _, tag := range tags {
		out = append(out, tag...)
		out = binary.BigEndian.AppendUint32(out, 0) // the checksum, below
		out = binary.BigEndian.AppendUint32(out, uint32(off))
		out = binary.BigEndian.AppendUint32(out, uint32(len(tables[tag])))
		off += (len(tables[tag]) + 3) &^ 3
	}
	head := -1
	for i, tag := range tags {
		start := len(out)
		out = append(out, tables[tag]...)
		for len(out)%4 != 0 {
			out = append(out, 0)
		}
		if tag == "head" {
			head = start
			binary.BigEndian.PutUint32(out[start+8:], 0)
		}
		binary.BigEndian.PutUint32(out[12+16*i+4:], checksum(out[start:]))
	}
	if head >= 0 {
		binary.BigEndian.PutUint32(out[head+8:], 0xB1B0AFBA-checksum(out))
	}
	return out
}

// checksum is the sum of b as big-endian 32-bit words, b padded with
// zeros to a multiple of four bytes.
func checksum(b []byte) uint32 {
	var sum uint32
	for len(b) >= 4 {
		sum += binary.BigEndian.Uint32(b)
		b = b[4:]
	}
	if len(b) > 0 {
		var last [4]byte
		copy(last[:], b)
		sum += binary.BigEndian.Uint32(last[:])
	}
	return sum
}
