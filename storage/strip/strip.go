// Package strip removes the metadata of JPEG and PNG files while copying
// them, segment by segment and chunk by chunk, without decoding or
// recompressing the image: the pixels that come out are the pixels that
// went in. It keeps one segment (at most 64 KiB) in memory at a time.
//
// A photo taken on a phone carries where it was taken (GPS), on what device,
// when, and often a thumbnail; a scan or an edit may carry captions,
// comments, the editing software and its history. None of it is needed to
// show the picture, and all of it can name a family's home.
package strip

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// ErrMalformed means the input is not a well-formed file of its type; the
// wrapped message names the structure that is wrong, never its content.
var ErrMalformed = errors.New("strip: malformed file")

func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrMalformed, fmt.Sprintf(format, args...))
}

// eof turns an end of input inside a structure into ErrMalformed.
func eof(err error, what string) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return malformed("truncated in %s", what)
	}
	return err
}

// JPEG markers this package treats specially.
const (
	markerSOI   = 0xD8
	markerEOI   = 0xD9
	markerSOS   = 0xDA
	markerAPP0  = 0xE0
	markerAPP1  = 0xE1
	markerAPP14 = 0xEE
	markerCOM   = 0xFE
	markerTEM   = 0x01
)

// JPEG copies a JPEG from r to w without its metadata:
//
//   - APP1 (Exif with GPS, device, times, thumbnail; XMP; extended XMP) is
//     dropped; when the Exif held an orientation, a minimal Exif segment with
//     that one tag takes its place, so that a portrait photo still shows
//     upright.
//   - APP0 is kept only as a bare JFIF header (version and pixel density),
//     without its thumbnail; JFXX and other APP0 segments are dropped.
//   - APP14 is kept only as Adobe's fixed 12-byte colour-transform header,
//     which decoders need for CMYK and YCCK images.
//   - Every other APPn (ICC profiles and MPF in APP2, IPTC and Photoshop in
//     APP13, vendors' segments) and every comment (COM) is dropped.
//   - Whatever follows the end-of-image marker (phones append videos,
//     depth maps and second images there) is not copied.
//
// Tables, frame and scan headers and the entropy-coded data are copied
// byte for byte. r is read only up to the end-of-image marker.
func JPEG(w io.Writer, r io.Reader) error {
	br := bufio.NewReaderSize(r, 32<<10)
	var soi [2]byte
	if _, err := io.ReadFull(br, soi[:]); err != nil {
		return eof(err, "the start of image")
	}
	if soi[0] != 0xFF || soi[1] != markerSOI {
		return malformed("no start-of-image marker")
	}
	if _, err := w.Write(soi[:]); err != nil {
		return err
	}
	seg := make([]byte, 0, 1<<16)
	var (
		exifDone, frame, scan bool
		marker                byte
		pending               bool // marker was read at the end of a scan
	)
	for {
		if !pending {
			m, err := readMarker(br)
			if err != nil {
				return err
			}
			marker = m
		}
		pending = false
		switch {
		case marker == markerEOI:
			if !frame || !scan {
				return malformed("no frame or no scan before the end of image")
			}
			_, err := w.Write([]byte{0xFF, markerEOI})
			return err
		case marker == markerSOI:
			return malformed("a second start-of-image marker")
		case marker == markerTEM || marker >= 0xD0 && marker <= 0xD7:
			// Standalone markers without a length (restarts outside a scan
			// are odd, but harmless).
			if _, err := w.Write([]byte{0xFF, marker}); err != nil {
				return err
			}
			continue
		}
		var lb [2]byte
		if _, err := io.ReadFull(br, lb[:]); err != nil {
			return eof(err, "a segment's length")
		}
		length := int(binary.BigEndian.Uint16(lb[:]))
		if length < 2 {
			return malformed("a segment length below 2")
		}
		n := length - 2
		switch {
		case marker == markerAPP0 || marker == markerAPP1 || marker == markerAPP14:
			seg = seg[:n]
			if _, err := io.ReadFull(br, seg); err != nil {
				return eof(err, "an application segment")
			}
			var out []byte
			switch marker {
			case markerAPP0:
				out = bareJFIF(seg)
			case markerAPP1:
				if !exifDone && bytes.HasPrefix(seg, []byte("Exif\x00\x00")) {
					exifDone = true
					if o := exifOrientation(seg[6:]); o >= 2 && o <= 8 {
						out = orientationExif(o)
					}
				}
			case markerAPP14:
				if n == 12 && bytes.HasPrefix(seg, []byte("Adobe")) {
					out = append([]byte{0xFF, markerAPP14}, lb[0], lb[1])
					out = append(out, seg...)
				}
			}
			if out != nil {
				if _, err := w.Write(out); err != nil {
					return err
				}
			}
		case marker >= 0xE2 && marker <= 0xEF || marker == markerCOM:
			if _, err := br.Discard(n); err != nil {
				return eof(err, "a dropped segment")
			}
		default:
			// DQT, DHT, SOFn, DRI, SOS, DAC, DNL, EXP, JPGn: kept as they are.
			if marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC {
				frame = true
			}
			if _, err := w.Write([]byte{0xFF, marker, lb[0], lb[1]}); err != nil {
				return err
			}
			if copied, err := io.CopyBuffer(w, io.LimitReader(br, int64(n)), seg[:cap(seg)]); err != nil {
				return err
			} else if copied < int64(n) {
				return malformed("truncated in a segment")
			}
			if marker == markerSOS {
				if !frame {
					return malformed("a scan before the frame header")
				}
				scan = true
				m, err := copyScan(w, br)
				if err != nil {
					return err
				}
				marker, pending = m, true
			}
		}
	}
}

// readMarker reads a marker: 0xFF, any fill bytes 0xFF, then its code.
func readMarker(br *bufio.Reader) (byte, error) {
	b, err := br.ReadByte()
	if err != nil {
		return 0, eof(err, "a marker")
	}
	if b != 0xFF {
		return 0, malformed("data where a marker belongs")
	}
	for {
		b, err = br.ReadByte()
		if err != nil {
			return 0, eof(err, "a marker")
		}
		if b != 0xFF {
			break
		}
	}
	if b == 0x00 {
		return 0, malformed("a stuffed zero outside a scan")
	}
	return b, nil
}

// twoBytes holds 0xFF followed by each byte: a stuffed zero or a restart
// marker is written from here, not from a new slice (a 20 MB photo has
// some 80,000 of them).
var twoBytes = func() (t [256][2]byte) {
	for i := range t {
		t[i] = [2]byte{0xFF, byte(i)}
	}
	return t
}()

// copyScan copies entropy-coded data up to the next marker that is not a
// stuffed zero or a restart, and returns that marker's code, unwritten.
func copyScan(w io.Writer, br *bufio.Reader) (byte, error) {
	for {
		chunk, err := br.ReadSlice(0xFF)
		switch {
		case errors.Is(err, bufio.ErrBufferFull):
			if _, err := w.Write(chunk); err != nil {
				return 0, err
			}
			continue
		case err != nil:
			return 0, eof(err, "the entropy-coded data")
		}
		// chunk ends with the 0xFF; the byte after it says what it is.
		if _, err := w.Write(chunk[:len(chunk)-1]); err != nil {
			return 0, err
		}
		b, err := br.ReadByte()
		if err != nil {
			return 0, eof(err, "the entropy-coded data")
		}
		for b == 0xFF { // fill bytes before a marker
			if b, err = br.ReadByte(); err != nil {
				return 0, eof(err, "the entropy-coded data")
			}
		}
		if b == 0x00 || b >= 0xD0 && b <= 0xD7 {
			if _, err := w.Write(twoBytes[b][:]); err != nil {
				return 0, err
			}
			continue
		}
		return b, nil
	}
}

// bareJFIF returns a JFIF APP0 segment with seg's version and density and
// no thumbnail, or nil if seg is not a JFIF header.
func bareJFIF(seg []byte) []byte {
	if len(seg) < 14 || !bytes.HasPrefix(seg, []byte("JFIF\x00")) {
		return nil
	}
	out := []byte{0xFF, markerAPP0, 0, 16}
	out = append(out, seg[:12]...) // identifier, version, units, densities
	return append(out, 0, 0)       // no thumbnail
}

// exifOrientation reads the Orientation tag (0x0112) of IFD0 of a TIFF
// structure, or 0 if there is none or the structure is malformed.
func exifOrientation(tiff []byte) int {
	if len(tiff) < 8 {
		return 0
	}
	var order binary.ByteOrder
	switch string(tiff[:2]) {
	case "II":
		order = binary.LittleEndian
	case "MM":
		order = binary.BigEndian
	default:
		return 0
	}
	if order.Uint16(tiff[2:]) != 42 {
		return 0
	}
	off := int64(order.Uint32(tiff[4:]))
	if off < 8 || off+2 > int64(len(tiff)) {
		return 0
	}
	count := int64(order.Uint16(tiff[off:]))
	for i := range count {
		e := off + 2 + 12*i
		if e+12 > int64(len(tiff)) {
			return 0
		}
		entry := tiff[e : e+12]
		if order.Uint16(entry) != 0x0112 {
			continue
		}
		if order.Uint16(entry[2:]) != 3 || order.Uint32(entry[4:]) != 1 { // one SHORT
			return 0
		}
		return int(order.Uint16(entry[8:]))
	}
	return 0
}

// orientationExif returns an APP1 segment whose Exif holds the orientation
// o and nothing else: a big-endian TIFF header and an IFD0 of one entry.
func orientationExif(o int) []byte {
	out := []byte{0xFF, markerAPP1, 0, 34}
	out = append(out, "Exif\x00\x00MM\x00\x2a\x00\x00\x00\x08"...)
	out = append(out, 0, 1)                         // one entry
	out = append(out, 0x01, 0x12, 0, 3, 0, 0, 0, 1) // Orientation, SHORT, count 1
	out = append(out, 0, byte(o), 0, 0)             // its value, left-justified
	return append(out, 0, 0, 0, 0)                  // no next IFD
}

// pngSignature starts every PNG.
const pngSignature = "\x89PNG\r\n\x1a\n"

// pngKeep lists the chunks a PNG keeps: the critical ones, transparency,
// colour space and gamma, pixel size, background, and APNG's animation.
// Everything else is dropped: text (tEXt, zTXt, iTXt, with captions,
// authors and software), Exif (eXIf), the time of last change (tIME), ICC
// profiles (iCCP, named freely), suggested palettes (sPLT, named freely),
// signatures and every private chunk.
var pngKeep = map[string]bool{
	"IHDR": true, "PLTE": true, "IDAT": true, "IEND": true,
	"tRNS": true, "gAMA": true, "cHRM": true, "sRGB": true, "sBIT": true, "bKGD": true, "pHYs": true,
	"cICP": true, "mDCV": true, "cLLI": true,
	"acTL": true, "fcTL": true, "fdAT": true,
}

// maxPNGChunk is the largest length the PNG specification allows.
const maxPNGChunk = 1<<31 - 1

// PNG copies a PNG from r to w with only the chunks that show the image
// (pngKeep); the image data is copied byte for byte, with its CRCs.
// Whatever follows the IEND chunk is not copied. An unknown critical chunk
// (a type starting with an upper-case letter) makes the file malformed, as
// it would for a decoder. r is read only up to the end of IEND.
func PNG(w io.Writer, r io.Reader) error {
	var sig [8]byte
	if _, err := io.ReadFull(r, sig[:]); err != nil {
		return eof(err, "the signature")
	}
	if string(sig[:]) != pngSignature {
		return malformed("no PNG signature")
	}
	if _, err := w.Write(sig[:]); err != nil {
		return err
	}
	buf := make([]byte, 32<<10)
	for first := true; ; first = false {
		var hdr [8]byte
		if _, err := io.ReadFull(r, hdr[:]); err != nil {
			return eof(err, "a chunk header")
		}
		length := int64(binary.BigEndian.Uint32(hdr[:4]))
		typ := string(hdr[4:])
		if length > maxPNGChunk {
			return malformed("a chunk longer than 2^31-1 bytes")
		}
		for _, c := range hdr[4:] {
			if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z') {
				return malformed("a chunk type that is not four letters")
			}
		}
		if first != (typ == "IHDR") {
			return malformed("IHDR is not the first chunk")
		}
		keep := pngKeep[typ]
		if !keep && hdr[4] >= 'A' && hdr[4] <= 'Z' {
			return malformed("an unknown critical chunk")
		}
		if keep {
			if _, err := w.Write(hdr[:]); err != nil {
				return err
			}
			// The data and the CRC, through one buffer for the whole file.
			if n, err := io.CopyBuffer(w, io.LimitReader(r, length+4), buf); err != nil {
				return err
			} else if n < length+4 {
				return malformed("truncated in a chunk")
			}
		} else if _, err := io.CopyN(io.Discard, r, length+4); err != nil {
			return eof(err, "a dropped chunk")
		}
		if typ == "IEND" {
			return nil
		}
	}
}
