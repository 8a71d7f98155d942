// Package pdftext extracts the text of a PDF for tests, with
// github.com/ledongthuc/pdf reading the document.
//
// ledongthuc/pdf decodes a ToUnicode bfrange by adding to the last byte only,
// as the PDF specification requires of well-formed ranges. fpdf writes one
// range <0000> <FFFF> <0000> for its UTF-8 fonts, so that decoder turns every
// CJK character into garbage. Here the library parses the document, runs the
// content streams and reads each font's ToUnicode stream; this package only
// does the range arithmetic over the whole code.
package pdftext

import (
	"bytes"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf16"

	"github.com/ledongthuc/pdf"
)

// Pages returns the text of each page, one string a text-showing operator,
// joined by newlines.
func Pages(doc []byte) ([]string, error) {
	r, err := pdf.NewReader(bytes.NewReader(doc), int64(len(doc)))
	if err != nil {
		return nil, err
	}
	var pages []string
	for i := 1; i <= r.NumPage(); i++ {
		text, err := page(r.Page(i))
		if err != nil {
			return nil, fmt.Errorf("page %d: %w", i, err)
		}
		pages = append(pages, text)
	}
	return pages, nil
}

func page(p pdf.Page) (text string, err error) {
	defer func() {
		if r := recover(); r != nil { // the library panics on malformed streams
			err = fmt.Errorf("malformed content: %v", r)
		}
	}()
	maps := map[string]*cmap{}
	fonts := p.Resources().Key("Font")
	for _, name := range fonts.Keys() {
		m, err := readCMap(fonts.Key(name).Key("ToUnicode"))
		if err != nil {
			return "", fmt.Errorf("font %s: %w", name, err)
		}
		maps[name] = m
	}
	var b strings.Builder
	var font *cmap
	show := func(s string) {
		if font == nil {
			b.WriteString(s)
			return
		}
		b.WriteString(font.decode(s))
	}
	contents := p.V.Key("Contents")
	streams := []pdf.Value{contents}
	if contents.Kind() == pdf.Array {
		streams = streams[:0]
		for i := range contents.Len() {
			streams = append(streams, contents.Index(i))
		}
	}
	for _, strm := range streams {
		pdf.Interpret(strm, func(stk *pdf.Stack, op string) {
			n := stk.Len()
			args := make([]pdf.Value, n)
			for i := n - 1; i >= 0; i-- {
				args[i] = stk.Pop()
			}
			switch op {
			case "Tf":
				if n == 2 {
					font = maps[args[0].Name()]
				}
			case "Tj", "'":
				show(args[n-1].RawString())
				b.WriteString("\n")
			case "TJ":
				a := args[n-1]
				for i := range a.Len() {
					if a.Index(i).Kind() == pdf.String {
						show(a.Index(i).RawString())
					}
				}
				b.WriteString("\n")
			}
		})
	}
	return b.String(), nil
}

// cmap is a ToUnicode map of two-byte codes, enough for fpdf's fonts.
type cmap struct {
	ranges []bfrange
	chars  map[uint32]string
}

type bfrange struct {
	lo, hi uint32
	dst    []uint16 // UTF-16 of lo's text; later codes add to its last unit
}

var (
	rangeLine = regexp.MustCompile(`<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>`)
	charLine  = regexp.MustCompile(`<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>`)
)

func readCMap(v pdf.Value) (*cmap, error) {
	if v.Kind() != pdf.Stream {
		return nil, nil
	}
	rd := v.Reader()
	defer rd.Close()
	raw, err := io.ReadAll(rd)
	if err != nil {
		return nil, err
	}
	m := &cmap{chars: map[uint32]string{}}
	for _, sec := range strings.Split(string(raw), "beginbf")[1:] {
		body, _, _ := strings.Cut(sec, "endbf")
		switch {
		case strings.HasPrefix(body, "range"):
			for _, g := range rangeLine.FindAllStringSubmatch(body, -1) {
				lo, _ := strconv.ParseUint(g[1], 16, 32)
				hi, _ := strconv.ParseUint(g[2], 16, 32)
				m.ranges = append(m.ranges, bfrange{uint32(lo), uint32(hi), units(g[3])})
			}
		case strings.HasPrefix(body, "char"):
			for _, g := range charLine.FindAllStringSubmatch(body, -1) {
				code, _ := strconv.ParseUint(g[1], 16, 32)
				m.chars[uint32(code)] = string(utf16.Decode(units(g[2])))
			}
		}
	}
	return m, nil
}

func units(hex string) []uint16 {
	var u []uint16
	for i := 0; i+4 <= len(hex); i += 4 {
		n, _ := strconv.ParseUint(hex[i:i+4], 16, 16)
		u = append(u, uint16(n))
	}
	return u
}

func (m *cmap) decode(s string) string {
	var b strings.Builder
	for i := 0; i+1 < len(s); i += 2 {
		code := uint32(s[i])<<8 | uint32(s[i+1])
		if t, ok := m.chars[code]; ok {
			b.WriteString(t)
			continue
		}
		for _, r := range m.ranges {
			if code >= r.lo && code <= r.hi && len(r.dst) > 0 {
				u := append([]uint16(nil), r.dst...)
				u[len(u)-1] += uint16(code - r.lo)
				b.WriteString(string(utf16.Decode(u)))
				break
			}
		}
	}
	return b.String()
}
