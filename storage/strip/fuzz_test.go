package strip_test

import (
	"bytes"
	"errors"
	"image/jpeg"
	"image/png"
	"io"
	"testing"

	"github.com/remedy-cases/remedy/storage/strip"
)

// fuzzLimit bounds the inputs the fuzzer tries: the walkers stream, so
// size teaches them nothing after a few segments.
const fuzzLimit = 64 << 10

// checkStripped holds for any input: the walker never panics; what it
// accepts comes out no longer than it went in (plus a bare Exif segment),
// and stripping its output again changes nothing; an image Go's decoder
// read before, it reads after with the same size.
func checkStripped(t *testing.T, in []byte, fn func(io.Writer, io.Reader) error, config func(io.Reader) (int, int, error)) {
	if len(in) > fuzzLimit {
		return
	}
	var out bytes.Buffer
	err := fn(&out, bytes.NewReader(in))
	if err != nil {
		if !errors.Is(err, strip.ErrMalformed) {
			t.Fatalf("an error that is not ErrMalformed: %v", err)
		}
		return
	}
	if out.Len() > len(in)+36 {
		t.Fatalf("%d bytes in, %d out", len(in), out.Len())
	}
	var again bytes.Buffer
	if err := fn(&again, bytes.NewReader(out.Bytes())); err != nil {
		t.Fatalf("the output is refused: %v", err)
	}
	if !bytes.Equal(again.Bytes(), out.Bytes()) {
		t.Fatal("stripping twice changed the output")
	}
	if w, h, err := config(bytes.NewReader(in)); err == nil {
		w2, h2, err := config(bytes.NewReader(out.Bytes()))
		if err != nil || w2 != w || h2 != h {
			t.Fatalf("decodable before (%d×%d), not after: %d×%d %v", w, h, w2, h2, err)
		}
	}
}

func jpegConfig(r io.Reader) (int, int, error) {
	c, err := jpeg.DecodeConfig(r)
	return c.Width, c.Height, err
}

func pngConfig(r io.Reader) (int, int, error) {
	c, err := png.DecodeConfig(r)
	return c.Width, c.Height, err
}

func FuzzJPEG(f *testing.F) {
	f.Add(read(f, "gps.jpg"))
	base := encodeJPEG(f)
	f.Add(base)
	f.Add(withSegments(base, segment(0xE0, "JFIF\x00\x01\x02\x01\x00\x48\x00\x48\x00\x00"), segment(0xEE, "Adobe\x00\x64\x80\x00\x00\x00\x01")))
	f.Add(withSegments(base, segment(0xE1, "Exif\x00\x00II\x2a\x00\x08\x00\x00\x00\x01\x00\x12\x01\x03\x00\x01\x00\x00\x00\x06\x00")))
	f.Add([]byte{0xFF, 0xD8, 0xFF, 0xFF, 0xD9})
	f.Fuzz(func(t *testing.T, in []byte) { checkStripped(t, in, strip.JPEG, jpegConfig) })
}

func FuzzPNG(f *testing.F) {
	f.Add(read(f, "gps.png"))
	f.Add(encodePNG(f))
	f.Add([]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\x00IEND"))
	f.Fuzz(func(t *testing.T, in []byte) { checkStripped(t, in, strip.PNG, pngConfig) })
}
