package strip_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/remedy-cases/remedy/storage/strip"
)

// The fixtures in testdata/ are a 64×48 gradient encoded by Go's image/jpeg
// and image/png, then given metadata by exiftool 12.57, as a phone and a
// photo editor would:
//
//	exiftool -Make=CanaryMake-5f3a -Model=CanaryModel-5f3a \
//	  -DateTimeOriginal='2026:10:20 14:03:09' -GPSLatitude=23.0207 -GPSLatitudeRef=N \
//	  -GPSLongitude=113.7518 -GPSLongitudeRef=E -GPSAltitude=12 -Orientation#=6 \
//	  -ImageDescription='CanaryExif-5f3a Wang Fang at home' -UserComment=CanaryExif-5f3a \
//	  -XMP:GPSLatitude=23.0207 -XMP:GPSLongitude=113.7518 -XMP:Description=CanaryXMP-5f3a \
//	  -IPTC:Caption-Abstract=CanaryIPTC-5f3a -Comment=CanaryCOM-5f3a \
//	  '-ThumbnailImage<=plain.jpg' gps.jpg
//	exiftool -PNG:Comment=CanaryText-5f3a -XMP:Description=CanaryXMP-5f3a \
//	  -XMP:GPSLatitude=23.0207 -XMP:GPSLongitude=113.7518 -EXIF:GPSLatitude=23.0207 \
//	  -EXIF:GPSLatitudeRef=N -EXIF:Make=CanaryMake-5f3a \
//	  -PNG:CreationTime='2026:10:20 14:03:09' gps.png
//
// exiftool reads back from gps.jpg: GPS position 23°1'14.52" N,
// 113°45'6.48" E (in Exif and XMP), the device, the time, an Exif
// thumbnail, an IPTC caption, a comment; from gps.png the same GPS in eXIf
// and XMP (iTXt), a tEXt comment and a creation time.

// canary is in every piece of metadata of the fixtures, and nowhere else.
const canary = "5f3a"

func read(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// leaks names what of the fixtures' metadata survives in out.
func leaks(out []byte) []string {
	var found []string
	for _, s := range []string{canary, "Canary", "GPS", "Exif\x00\x00II", "http://ns.adobe.com/xap", "Photoshop",
		"2026:10:20", "eXIf", "tEXt", "iTXt", "zTXt", "tIME"} {
		if bytes.Contains(out, []byte(s)) {
			found = append(found, s)
		}
	}
	return found
}

// segments lists the markers of a JPEG's headers, up to the first scan.
func segments(t *testing.T, data []byte) (markers []byte, payloads [][]byte) {
	t.Helper()
	i := 2
	for i+4 <= len(data) {
		if data[i] != 0xFF {
			t.Fatalf("no marker at %d", i)
		}
		m := data[i+1]
		n := int(binary.BigEndian.Uint16(data[i+2:]))
		markers = append(markers, m)
		payloads = append(payloads, data[i+4:i+2+n])
		if m == 0xDA {
			break
		}
		i += 2 + n
	}
	return markers, payloads
}

// imageStart is the offset of a JPEG's first segment that is neither an
// application segment nor a comment.
func imageStart(t *testing.T, data []byte) int {
	t.Helper()
	i := 2
	for i+4 <= len(data) {
		if m := data[i+1]; !(m >= 0xE0 && m <= 0xEF || m == 0xFE) {
			return i
		}
		i += 2 + int(binary.BigEndian.Uint16(data[i+2:]))
	}
	t.Fatal("no image segment")
	return 0
}

func decode(t *testing.T, data []byte) image.Image {
	t.Helper()
	img, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("the output does not decode: %v", err)
	}
	return img
}

func samePixels(a, b image.Image) bool {
	if a.Bounds() != b.Bounds() {
		return false
	}
	for y := a.Bounds().Min.Y; y < a.Bounds().Max.Y; y++ {
		for x := a.Bounds().Min.X; x < a.Bounds().Max.X; x++ {
			if a.At(x, y) != b.At(x, y) {
				return false
			}
		}
	}
	return true
}

// TestJPEGPhotoWithGPS: a phone photo's GPS position, device, time,
// thumbnail, XMP, IPTC caption and comment are gone; its orientation stays
// in a minimal Exif of one tag; the tables and the compressed image are
// the same bytes, so the pixels are the same pixels.
func TestJPEGPhotoWithGPS(t *testing.T) {
	in := read(t, "gps.jpg")
	if got := leaks(in); len(got) < 5 {
		t.Fatalf("the fixture lost its metadata: only %v", got)
	}
	var out bytes.Buffer
	if err := strip.JPEG(&out, bytes.NewReader(in)); err != nil {
		t.Fatal(err)
	}
	if got := leaks(out.Bytes()); len(got) > 0 {
		t.Errorf("metadata survived: %q", got)
	}
	markers, payloads := segments(t, out.Bytes())
	for i, m := range markers {
		switch {
		case m == 0xE1:
			if want := "Exif\x00\x00MM\x00\x2a\x00\x00\x00\x08\x00\x01\x01\x12\x00\x03\x00\x00\x00\x01\x00\x06\x00\x00\x00\x00\x00\x00"; string(payloads[i]) != want {
				t.Errorf("APP1 is not the bare orientation: %q", payloads[i])
			}
		case m >= 0xE0 && m <= 0xEF || m == 0xFE:
			t.Errorf("segment %#x survived", m)
		}
	}
	if !slices.Contains(markers, 0xE1) {
		t.Error("the orientation was lost: a portrait photo would show sideways")
	}
	// Everything from the first table on is copied byte for byte.
	if !bytes.Equal(in[imageStart(t, in):], out.Bytes()[imageStart(t, out.Bytes()):]) {
		t.Error("the tables or the compressed image changed")
	}
	if !samePixels(decode(t, in), decode(t, out.Bytes())) {
		t.Error("the pixels changed")
	}
}

// TestPNGWithGPS: eXIf, XMP (iTXt), tEXt and the creation time are gone;
// IHDR and IDAT are copied byte for byte.
func TestPNGWithGPS(t *testing.T) {
	in := read(t, "gps.png")
	if got := leaks(in); len(got) < 4 {
		t.Fatalf("the fixture lost its metadata: only %v", got)
	}
	var out bytes.Buffer
	if err := strip.PNG(&out, bytes.NewReader(in)); err != nil {
		t.Fatal(err)
	}
	if got := leaks(out.Bytes()); len(got) > 0 {
		t.Errorf("metadata survived: %q", got)
	}
	var types []string
	for i := 8; i < out.Len(); {
		n := int(binary.BigEndian.Uint32(out.Bytes()[i:]))
		types = append(types, string(out.Bytes()[i+4:i+8]))
		i += 12 + n
	}
	if types[0] != "IHDR" || types[len(types)-1] != "IEND" || !slices.Contains(types, "IDAT") {
		t.Errorf("chunks %v", types)
	}
	for _, typ := range types {
		if !slices.Contains([]string{"IHDR", "IDAT", "IEND", "PLTE", "tRNS", "gAMA", "sRGB", "pHYs"}, typ) {
			t.Errorf("chunk %s survived", typ)
		}
	}
	idat := func(b []byte) []byte { return b[bytes.Index(b, []byte("IDAT"))-4 : bytes.Index(b, []byte("IEND"))-4] }
	if !bytes.Equal(idat(in), idat(out.Bytes())) {
		t.Error("the image data changed")
	}
	if !samePixels(decode(t, in), decode(t, out.Bytes())) {
		t.Error("the pixels changed")
	}
}

// gradient is a small image to encode.
func gradient() image.Image {
	img := image.NewRGBA(image.Rect(0, 0, 40, 24))
	for y := range 24 {
		for x := range 40 {
			img.Set(x, y, color.RGBA{uint8(x * 6), uint8(y * 10), 90, 255})
		}
	}
	return img
}

func encodeJPEG(t testing.TB) []byte {
	var b bytes.Buffer
	if err := jpeg.Encode(&b, gradient(), &jpeg.Options{Quality: 85}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func encodePNG(t testing.TB) []byte {
	var b bytes.Buffer
	if err := png.Encode(&b, gradient()); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func segment(marker byte, payload string) []byte {
	return append([]byte{0xFF, marker, byte((len(payload) + 2) >> 8), byte(len(payload) + 2)}, payload...)
}

// withSegments puts segments right after a JPEG's start of image.
func withSegments(jpg []byte, segs ...[]byte) []byte {
	out := append([]byte{}, jpg[:2]...)
	for _, s := range segs {
		out = append(out, s...)
	}
	return append(out, jpg[2:]...)
}

// TestJPEGSegments: what each kind of application segment becomes.
func TestJPEGSegments(t *testing.T) {
	base := encodeJPEG(t)
	jfif := "JFIF\x00\x01\x02\x01\x00\x48\x00\x48\x02\x01" + "canary-thumb" // a 2×1 thumbnail (6 bytes) and more
	adobe := "Adobe\x00\x64\x80\x00\x00\x00\x01"
	in := withSegments(base,
		segment(0xE0, jfif),
		segment(0xE0, "JFXX\x00\x10canary-jfxx"),
		segment(0xE2, "ICC_PROFILE\x00\x01\x01canary-icc-device"),
		segment(0xE2, "MPF\x00canary-mpf"),
		segment(0xEE, adobe),
		segment(0xEE, "Adobe\x00canary-long-adobe-segment"),
		segment(0xED, "Photoshop 3.0\x00canary-iptc"),
		segment(0xEF, "canary-vendor"),
		segment(0xFE, "canary-comment"),
		segment(0xE1, "http://ns.adobe.com/xap/1.0/\x00<x:xmpmeta>canary-xmp</x:xmpmeta>"),
		segment(0xE1, "Exif\x00\x00II\x2a\x00\x08\x00\x00\x00\x01\x00\x12\x01\x03\x00\x01\x00\x00\x00\x03\x00canary-exif"),
	)
	in = append(in, []byte("trailing canary-motion-photo video")...)
	var out bytes.Buffer
	if err := strip.JPEG(&out, bytes.NewReader(in)); err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(out.Bytes(), []byte("canary")) {
		t.Errorf("a segment survived: %q", out.Bytes()[:200])
	}
	markers, payloads := segments(t, out.Bytes())
	want := map[byte]string{
		0xE0: "JFIF\x00\x01\x02\x01\x00\x48\x00\x48\x00\x00", // the thumbnail is gone
		0xEE: adobe,
		0xE1: "Exif\x00\x00MM\x00\x2a\x00\x00\x00\x08\x00\x01\x01\x12\x00\x03\x00\x00\x00\x01\x00\x03\x00\x00\x00\x00\x00\x00",
	}
	seen := map[byte]int{}
	for i, m := range markers {
		if m >= 0xE0 && m <= 0xEF || m == 0xFE {
			seen[m]++
			if string(payloads[i]) != want[m] {
				t.Errorf("segment %#x: %q, want %q", m, payloads[i], want[m])
			}
		}
	}
	if seen[0xE0] != 1 || seen[0xEE] != 1 || seen[0xE1] != 1 || len(seen) != 3 {
		t.Errorf("kept %v", seen)
	}
	if !bytes.HasSuffix(out.Bytes(), []byte{0xFF, 0xD9}) {
		t.Error("the output does not end at the end of image")
	}
	if !samePixels(decode(t, base), decode(t, out.Bytes())) {
		t.Error("the pixels changed")
	}
}

// TestJPEGWithoutOrientation: an Exif without an orientation (or with the
// normal one) leaves no Exif at all.
func TestJPEGWithoutOrientation(t *testing.T) {
	for name, exif := range map[string]string{
		"none":   "Exif\x00\x00MM\x00\x2a\x00\x00\x00\x08\x00\x00",
		"normal": "Exif\x00\x00MM\x00\x2a\x00\x00\x00\x08\x00\x01\x01\x12\x00\x03\x00\x00\x00\x01\x00\x01\x00\x00",
		"broken": "Exif\x00\x00MM\x00\x2a\xff\xff\xff\xff",
	} {
		var out bytes.Buffer
		if err := strip.JPEG(&out, bytes.NewReader(withSegments(encodeJPEG(t), segment(0xE1, exif)))); err != nil {
			t.Fatal(name, err)
		}
		if markers, _ := segments(t, out.Bytes()); slices.Contains(markers, 0xE1) {
			t.Errorf("%s: an Exif segment was written", name)
		}
	}
}

// TestPNGChunks: text, time, Exif, ICC and private chunks go; trailing
// data is not copied; an unknown critical chunk is malformed.
func TestPNGChunks(t *testing.T) {
	base := encodePNG(t)
	chunk := func(typ, data string) []byte {
		out := binary.BigEndian.AppendUint32(nil, uint32(len(data)))
		out = append(out, typ...)
		out = append(out, data...)
		return binary.BigEndian.AppendUint32(out, crc32.ChecksumIEEE(append([]byte(typ), data...)))
	}
	ihdrEnd := 8 + 12 + 13
	var in []byte
	in = append(in, base[:ihdrEnd]...)
	for _, c := range [][]byte{chunk("tEXt", "Author\x00canary"), chunk("zTXt", "c\x00\x00canary"), chunk("iTXt", "XML:com.adobe.xmp\x00\x00\x00\x00\x00canary"),
		chunk("eXIf", "MM\x00\x2acanary"), chunk("tIME", "canary!"), chunk("iCCP", "canary\x00\x00"), chunk("prVt", "canary"),
		chunk("gAMA", "\x00\x00\xb1\x8f")} {
		in = append(in, c...)
	}
	in = append(in, base[ihdrEnd:]...)
	in = append(in, "canary after IEND"...)
	var out bytes.Buffer
	if err := strip.PNG(&out, bytes.NewReader(in)); err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(out.Bytes(), []byte("canary")) {
		t.Error("a chunk survived")
	}
	if !bytes.Contains(out.Bytes(), []byte("gAMA")) {
		t.Error("gAMA was dropped")
	}
	if !samePixels(decode(t, base), decode(t, out.Bytes())) {
		t.Error("the pixels changed")
	}
	bad := append(append([]byte{}, base[:ihdrEnd]...), chunk("ABCD", "x")...)
	bad = append(bad, base[ihdrEnd:]...)
	if err := strip.PNG(io.Discard, bytes.NewReader(bad)); !errors.Is(err, strip.ErrMalformed) {
		t.Errorf("an unknown critical chunk: %v", err)
	}
}

// TestMalformed: truncated or foreign input is refused with ErrMalformed,
// never copied half.
func TestMalformed(t *testing.T) {
	jpg, pngData := encodeJPEG(t), encodePNG(t)
	for name, c := range map[string]struct {
		fn func(io.Writer, io.Reader) error
		in []byte
	}{
		"jpeg empty":             {strip.JPEG, nil},
		"jpeg not a jpeg":        {strip.JPEG, []byte("%PDF-1.7")},
		"jpeg truncated header":  {strip.JPEG, jpg[:40]},
		"jpeg truncated scan":    {strip.JPEG, jpg[:len(jpg)-10]},
		"jpeg no end":            {strip.JPEG, jpg[:len(jpg)-2]},
		"jpeg no frame":          {strip.JPEG, []byte{0xFF, 0xD8, 0xFF, 0xD9}},
		"jpeg short length":      {strip.JPEG, []byte{0xFF, 0xD8, 0xFF, 0xDB, 0x00, 0x01}},
		"jpeg data for a marker": {strip.JPEG, []byte{0xFF, 0xD8, 0x12, 0x34}},
		"jpeg second SOI":        {strip.JPEG, []byte{0xFF, 0xD8, 0xFF, 0xD8}},
		"jpeg app1 truncated":    {strip.JPEG, []byte{0xFF, 0xD8, 0xFF, 0xE1, 0x10, 0x00, 'E'}},
		"png empty":              {strip.PNG, nil},
		"png not a png":          {strip.PNG, jpg},
		"png truncated":          {strip.PNG, pngData[:len(pngData)-5]},
		"png no IHDR first":      {strip.PNG, append([]byte("\x89PNG\r\n\x1a\n"), 0, 0, 0, 0, 'I', 'E', 'N', 'D', 0, 0, 0, 0)},
		"png bad type":           {strip.PNG, append([]byte("\x89PNG\r\n\x1a\n"), 0, 0, 0, 0, 'I', 'H', 0, 'R')},
		"png huge length":        {strip.PNG, append([]byte("\x89PNG\r\n\x1a\n"), 0xFF, 0xFF, 0xFF, 0xFF, 'I', 'H', 'D', 'R')},
	} {
		if err := c.fn(io.Discard, bytes.NewReader(c.in)); !errors.Is(err, strip.ErrMalformed) {
			t.Errorf("%s: %v, want ErrMalformed", name, err)
		} else if strings.Contains(err.Error(), "canary") {
			t.Errorf("%s: the error quotes the input", name)
		}
	}
}

// TestReadsOnlyToTheEnd: the reader is left just past the end of image,
// so that a caller can count (and discard) what followed.
func TestReadsOnlyToTheEnd(t *testing.T) {
	jpg := encodeJPEG(t)
	r := bytes.NewReader(append(append([]byte{}, jpg...), make([]byte, 1<<20)...))
	if err := strip.JPEG(io.Discard, r); err != nil {
		t.Fatal(err)
	}
	// bufio reads ahead at most its buffer.
	if r.Len() < 1<<20-32<<10 {
		t.Errorf("read %d bytes past the end", 1<<20-r.Len())
	}
}
