package reports

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"unicode/utf16"

	"github.com/remedy-cases/remedy/reports/internal/typeset"
)

// mapAstral gives text extraction and copy the real characters of the codes
// drawn with faces that draw astral characters by Private Use Area codes.
//
// fpdf writes one ToUnicode map for every UTF-8 font, the identity from
// each code to the same code point, as an uncompressed stream, and has no
// way to write another. So doc, fpdf's output, is edited: the stream of
// each such font's ToUnicode map is replaced by one that maps each code
// drawn to its character, and the offsets of the cross-reference table and
// startxref that follow it are moved by the difference in length.
func mapAstral(doc []byte, drawn map[*typeset.Face]map[rune]bool) ([]byte, error) {
	faces := make([]*typeset.Face, 0, len(drawn))
	for f := range drawn {
		faces = append(faces, f)
	}
	slices.SortFunc(faces, func(a, b *typeset.Face) int { return cmp.Compare(a.Name(), b.Name()) })
	for _, f := range faces {
		codes := make([]rune, 0, len(drawn[f]))
		for c := range drawn[f] {
			codes = append(codes, c)
		}
		slices.Sort(codes)
		var err error
		if doc, err = replaceToUnicode(doc, f.Name(), toUnicode(f, codes)); err != nil {
			return nil, fmt.Errorf("font %s: %w", f.Name(), err)
		}
	}
	return doc, nil
}

// toUnicode is a ToUnicode CMap from codes, drawn with f, to the characters
// they stand for, in blocks of at most 100 as the PDF specification asks.
func toUnicode(f *typeset.Face, codes []rune) []byte {
	var b bytes.Buffer
	b.WriteString("/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n" +
		"/CIDSystemInfo\n<</Registry (Adobe)\n/Ordering (UCS)\n/Supplement 0\n>> def\n" +
		"/CMapName /Remedy-Astral-UCS def\n/CMapType 2 def\n" +
		"1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n")
	for block := range slices.Chunk(codes, 100) {
		fmt.Fprintf(&b, "%d beginbfchar\n", len(block))
		for _, code := range block {
			fmt.Fprintf(&b, "<%04X> <", code)
			for _, u := range utf16.Encode([]rune{f.Unicode(code)}) {
				fmt.Fprintf(&b, "%04X", u)
			}
			b.WriteString(">\n")
		}
		b.WriteString("endbfchar\n")
	}
	b.WriteString("endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend")
	return b.Bytes()
}

var errLayout = errors.New("the PDF is not laid out as fpdf writes it")

// replaceToUnicode replaces the ToUnicode stream of the UTF-8 font family
// in doc, a PDF as fpdf writes it: objects in order, then one
// cross-reference table of 20-byte entries, the trailer and startxref.
func replaceToUnicode(doc []byte, family string, cmap []byte) ([]byte, error) {
	// The Type0 font: <</Type /Font\n/Subtype /Type0\n/BaseFont /utf8NAME\n
	// /Encoding /Identity-H\n/DescendantFonts [n 0 R]\n/ToUnicode m 0 R>>
	font := bytes.Index(doc, []byte("/Subtype /Type0\n/BaseFont /utf8"+family+"\n"))
	if font < 0 {
		return nil, errLayout
	}
	_, after, ok := bytes.Cut(doc[font:], []byte("/ToUnicode "))
	if !ok {
		return nil, errLayout
	}
	num, _, ok := bytes.Cut(after, []byte(" 0 R>>"))
	obj, err := strconv.Atoi(string(num))
	if !ok || err != nil {
		return nil, errLayout
	}

	// The cross-reference table.
	i := bytes.LastIndex(doc, []byte("\nstartxref\n"))
	if i < 0 {
		return nil, errLayout
	}
	line, _, _ := bytes.Cut(doc[i+len("\nstartxref\n"):], []byte("\n"))
	xref, err := strconv.Atoi(string(line))
	if err != nil || xref <= 0 || xref >= i {
		return nil, errLayout
	}
	head := []byte("xref\n0 ")
	if !bytes.HasPrefix(doc[xref:], head) {
		return nil, errLayout
	}
	line, _, _ = bytes.Cut(doc[xref+len(head):], []byte("\n"))
	count, err := strconv.Atoi(string(line))
	table := xref + len(head) + len(line) + 1
	const entry = 20 // "0000001234 00000 n \n"
	if err != nil || obj <= 0 || obj >= count || table+count*entry > len(doc) {
		return nil, errLayout
	}
	offsetOf := func(n int) (int, error) {
		e := doc[table+n*entry : table+(n+1)*entry]
		if !bytes.HasSuffix(e, []byte(" 00000 n \n")) {
			return 0, errLayout
		}
		return strconv.Atoi(string(e[:10]))
	}

	// The object, which must be the stream fpdf wrote.
	start, err := offsetOf(obj)
	if err != nil || start >= xref {
		return nil, errLayout
	}
	prefix := fmt.Appendf(nil, "%d 0 obj\n<</Length ", obj)
	if !bytes.HasPrefix(doc[start:], prefix) {
		return nil, errLayout
	}
	end := bytes.Index(doc[start:xref], []byte("\nendstream\nendobj\n"))
	if end < 0 {
		return nil, errLayout
	}
	end += start + len("\nendstream\nendobj\n")
	repl := fmt.Appendf(nil, "%d 0 obj\n<</Length %d>>\nstream\n%s\nendstream\nendobj\n", obj, len(cmap), cmap)
	shift := len(repl) - (end - start)

	out := make([]byte, 0, len(doc)+shift)
	out = append(out, doc[:start]...)
	out = append(out, repl...)
	out = append(out, doc[end:table]...)
	for n := range count {
		e := doc[table+n*entry : table+(n+1)*entry]
		if n == 0 {
			out = append(out, e...)
			continue
		}
		off, err := offsetOf(n)
		if err != nil {
			return nil, err
		}
		if off > start {
			off += shift
		}
		out = fmt.Appendf(out, "%010d%s", off, e[10:])
	}
	rest := doc[table+count*entry:]
	tail := bytes.LastIndex(rest, []byte("\nstartxref\n"))
	if tail < 0 {
		return nil, errLayout
	}
	out = append(out, rest[:tail]...)
	out = fmt.Appendf(out, "\nstartxref\n%d\n%%%%EOF\n", xref+shift)
	return out, nil
}
