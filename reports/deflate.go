package reports

import (
	"bytes"
	"compress/zlib"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"unicode/utf16"
)

// deflatePages compresses the content stream of every page of doc, a PDF
// as fpdf writes it with compression off and no alias for the number of
// pages, and writes the result to w: the bytes fpdf itself writes with
// compression on and AliasNbPages(alias).
//
// fpdf replaces an alias by copying every page into a string, twice (for
// text in one-byte and in UTF-16 fonts); here each page is copied only if
// it holds the alias, into one buffer for all pages. The alias is replaced
// as fpdf does it: as is, then as UTF-16BE.
//
// fpdf compresses each stream with a zlib writer of its own, about a
// megabyte of compressor state each, made anew for every page: most of
// what a long report allocates. Here one writer does every page. It
// compresses at the level fpdf uses, BestSpeed, so the output is the same.
//
// doc is laid out as replaceToUnicode expects: objects in order, then one
// cross-reference table. Each page object, <</Type /Page ..., names its
// content stream with /Contents n 0 R>>; that object is <</Length l>>, then
// the stream of l bytes. Its offset and those of the objects after it are
// moved by what compression saves.
func deflatePages(w io.Writer, doc []byte, alias string) error {
	x, err := readXref(doc)
	if err != nil {
		return err
	}
	type stream struct {
		obj        int
		start, end int // of the object, in doc
		data       []byte
	}
	var streams []stream
	for n := 1; n < x.count; n++ {
		start, err := x.offset(doc, n)
		if err != nil {
			return err
		}
		head := fmt.Appendf(nil, "%d 0 obj\n", n)
		if !bytes.HasPrefix(doc[start:], head) {
			return errLayout
		}
		body := doc[start+len(head):]
		if !bytes.HasPrefix(body, []byte("<</Type /Page\n")) {
			continue
		}
		// A page object has no stream: its dictionary ends at endobj.
		dict, _, ok := bytes.Cut(body, []byte("\nendobj\n"))
		if !ok {
			return errLayout
		}
		_, after, ok := bytes.Cut(dict, []byte("/Contents "))
		if !ok {
			return errLayout
		}
		num, _, ok := bytes.Cut(after, []byte(" 0 R>>"))
		c, err := strconv.Atoi(string(num))
		if !ok || err != nil || c <= 0 || c >= x.count {
			return errLayout
		}
		s, err := x.offset(doc, c)
		if err != nil {
			return err
		}
		prefix := fmt.Appendf(nil, "%d 0 obj\n<</Length ", c)
		if !bytes.HasPrefix(doc[s:], prefix) {
			return errLayout
		}
		lenText, _, ok := bytes.Cut(doc[s+len(prefix):], []byte(">>\nstream\n"))
		l, err := strconv.Atoi(string(lenText))
		data := s + len(prefix) + len(lenText) + len(">>\nstream\n")
		tail := []byte("\nendstream\nendobj\n")
		if !ok || err != nil || l < 0 || data+l > x.xref || !bytes.HasPrefix(doc[data+l:], tail) {
			return errLayout
		}
		streams = append(streams, stream{obj: c, start: s, end: data + l + len(tail), data: doc[data : data+l]})
	}
	slices.SortFunc(streams, func(a, b stream) int { return a.start - b.start })

	// Each stream compressed, and the shift of the objects after it.
	d := getDeflater()
	defer putDeflater(d)
	z, zw, scratch := &d.z, d.zw, &d.scratch
	nb := []byte(strconv.Itoa(len(streams)))
	aliases := [][2][]byte{{[]byte(alias), nb}, {utf16BE(alias), utf16BE(string(nb))}}
	var (
		out     = d.out[:0]
		shifts  = make([]int, len(streams)) // total shift after each stream
		shift   = 0
		written = 0
	)
	defer func() { d.out = out[:0] }()
	flush := func(b []byte) error {
		_, err := w.Write(b)
		return err
	}
	for i, s := range streams {
		if s.start < written {
			return errLayout
		}
		z.Reset()
		zw.Reset(z)
		data := s.data
		for i, a := range aliases {
			if alias != "" && bytes.Contains(data, a[0]) {
				scratch[i] = replaceAll(scratch[i][:0], data, a[0], a[1])
				data = scratch[i]
			}
		}
		if _, err := zw.Write(data); err != nil {
			return err
		}
		if err := zw.Close(); err != nil {
			return err
		}
		if err := flush(doc[written:s.start]); err != nil {
			return err
		}
		out = fmt.Appendf(out[:0], "%d 0 obj\n<</Filter /FlateDecode /Length %d>>\nstream\n", s.obj, z.Len())
		out = append(out, z.Bytes()...)
		out = append(out, "\nendstream\nendobj\n"...)
		if err := flush(out); err != nil {
			return err
		}
		shift += len(out) - (s.end - s.start)
		shifts[i] = shift
		written = s.end
	}
	if err := flush(doc[written:x.table]); err != nil {
		return err
	}
	// The cross-reference table, each offset moved by the streams before it.
	out = out[:0]
	for n := range x.count {
		e := doc[x.table+n*xrefEntry : x.table+(n+1)*xrefEntry]
		if n == 0 {
			out = append(out, e...)
			continue
		}
		off, err := x.offset(doc, n)
		if err != nil {
			return err
		}
		i, _ := slices.BinarySearchFunc(streams, off, func(s stream, off int) int { return s.start - off })
		if i > 0 {
			off += shifts[i-1]
		}
		out = fmt.Appendf(out, "%010d%s", off, e[10:])
	}
	rest := doc[x.table+x.count*xrefEntry:]
	end := bytes.LastIndex(rest, []byte("\nstartxref\n"))
	if end < 0 {
		return errLayout
	}
	out = append(out, rest[:end]...)
	out = fmt.Appendf(out, "\nstartxref\n%d\n%%%%EOF\n", x.xref+shift)
	return flush(out)
}

// pageDeflater is what deflatePages needs besides the document: a zlib
// writer and buffers, kept from one report to the next, as a
// writer's state is about a megabyte. Reset, a writer writes exactly what a
// new one would.
type pageDeflater struct {
	z       bytes.Buffer // a compressed stream
	zw      *zlib.Writer
	scratch [2][]byte // a page with its number of pages set
	out     []byte    // an object, and the cross-reference table
}

// deflaters keeps a few pageDeflaters for the next reports. Not a
// sync.Pool: a long report collects garbage more than once, and a pool
// empties in two collections.
var deflaters = make(chan *pageDeflater, 2)

func getDeflater() *pageDeflater {
	select {
	case d := <-deflaters:
		return d
	default:
	}
	d := &pageDeflater{}
	zw, err := zlib.NewWriterLevel(&d.z, zlib.BestSpeed)
	if err != nil {
		panic(err) // only for a bad level
	}
	d.zw = zw
	return d
}

func putDeflater(d *pageDeflater) {
	select {
	case deflaters <- d:
	default:
	}
}

// replaceAll appends s to dst with every old replaced by repl.
func replaceAll(dst, s, old, repl []byte) []byte {
	for {
		before, after, found := bytes.Cut(s, old)
		dst = append(dst, before...)
		if !found {
			return dst
		}
		dst = append(dst, repl...)
		s = after
	}
}

// utf16BE is s in UTF-16BE, as fpdf writes text in a UTF-8 font.
func utf16BE(s string) []byte {
	var b []byte
	for _, u := range utf16.Encode([]rune(s)) {
		b = append(b, byte(u>>8), byte(u))
	}
	return b
}

// xrefEntry is the length of an entry of the cross-reference table:
// "0000001234 00000 n \n".
const xrefEntry = 20

// xrefTable is where the cross-reference table of a PDF lies.
type xrefTable struct {
	xref  int // offset of "xref"
	table int // offset of the first entry
	count int // of entries, object 0 included
}

// readXref finds the cross-reference table of doc, a PDF as fpdf writes it.
func readXref(doc []byte) (xrefTable, error) {
	i := bytes.LastIndex(doc, []byte("\nstartxref\n"))
	if i < 0 {
		return xrefTable{}, errLayout
	}
	line, _, _ := bytes.Cut(doc[i+len("\nstartxref\n"):], []byte("\n"))
	xref, err := strconv.Atoi(string(line))
	if err != nil || xref <= 0 || xref >= i {
		return xrefTable{}, errLayout
	}
	head := []byte("xref\n0 ")
	if !bytes.HasPrefix(doc[xref:], head) {
		return xrefTable{}, errLayout
	}
	line, _, _ = bytes.Cut(doc[xref+len(head):], []byte("\n"))
	count, err := strconv.Atoi(string(line))
	table := xref + len(head) + len(line) + 1
	if err != nil || count <= 0 || table+count*xrefEntry > len(doc) {
		return xrefTable{}, errLayout
	}
	return xrefTable{xref: xref, table: table, count: count}, nil
}

// offset is where object n begins, by the table.
func (x xrefTable) offset(doc []byte, n int) (int, error) {
	e := doc[x.table+n*xrefEntry : x.table+(n+1)*xrefEntry]
	if !bytes.HasSuffix(e, []byte(" 00000 n \n")) {
		return 0, errLayout
	}
	off, err := strconv.Atoi(string(e[:10]))
	if err != nil || off <= 0 || off >= x.xref {
		return 0, errLayout
	}
	return off, nil
}

// deflater is the writer fpdf's Output writes its document to, in one
// piece (its buffer's WriteTo): it passes it on to w with the pages
// numbered and compressed.
type deflater struct {
	w     io.Writer
	alias string // for the number of pages
	done  bool
}

func (d *deflater) Write(doc []byte) (int, error) {
	if d.done {
		return 0, errors.New("fpdf wrote its document in more than one piece")
	}
	d.done = true
	if err := deflatePages(d.w, doc, d.alias); err != nil {
		return 0, err
	}
	return len(doc), nil
}
