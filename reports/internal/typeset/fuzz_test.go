package typeset_test

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzFit sets any string, fits it and wraps it, and checks what the
// report relies on: no panic; runs of BMP codes their faces draw, as valid
// UTF-8, with their widths; a fitted line within its width, a beginning of
// the whole followed by an ellipsis when cut; wrapped lines within theirs;
// and a replacement mark for each character counted missing.
//
//	go test ./reports/internal/typeset -run '^$' -fuzz FuzzFit -fuzztime 5m
func FuzzFit(f *testing.F) {
	f.Add("东莞市华达电子厂", uint16(5000), false)
	f.Add("Sunrise Toys 😀", uint16(4000), true)
	f.Add("𠮷野家 喆 한국 شركة מפעל", uint16(3000), false)
	f.Add("trunc\xe4\xb8", uint16(2000), false)
	f.Add("nul\x00tab\t\uE000\uFFFF", uint16(2000), true)
	f.Add(strings.Repeat("长name ", 50), uint16(40000), false)
	f.Fuzz(func(t *testing.T, s string, max uint16, bold bool) {
		c := chain(t)
		whole := c.Set(s, bold)
		checkLine(t, s, whole)

		marks, literal := strings.Count(whole.Text(), "\uFFFD"), 0
		for i := 0; i < len(s); {
			r, n := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && n == 3 {
				literal++
			}
			i += n
		}
		if missing := c.Missing(s); marks != missing+literal {
			t.Errorf("%.20q: %d marks drawn, %d missing and %d in the text", s, marks, missing, literal)
		}

		got := c.Fit(s, bold, float64(max))
		checkLine(t, s, got)
		switch text := got.Text(); {
		case whole.Width <= int(max):
			if text != whole.Text() {
				t.Errorf("Fit(%.20q, %d) = %.20q, want all of it", s, max, text)
			}
		default:
			prefix, ok := strings.CutSuffix(text, "…")
			if !ok || !strings.HasPrefix(whole.Text(), prefix) {
				t.Errorf("Fit(%.20q, %d) = %.20q, want a beginning and an ellipsis", s, max, text)
			}
			if got.Width > int(max) && prefix != "" {
				t.Errorf("Fit(%.20q, %d) is %d wide", s, max, got.Width)
			}
		}

		lines := c.Wrap(s, bold, float64(max), 3)
		if len(lines) == 0 || len(lines) > 3 {
			t.Fatalf("Wrap(%.20q, %d, 3) gave %d lines", s, max, len(lines))
		}
		for i, l := range lines {
			checkLine(t, s, l)
			if i < len(lines)-1 && l.Width > int(max) && utf8.RuneCountInString(l.Text()) > 1 {
				t.Errorf("Wrap(%.20q, %d): line %d is %d wide", s, max, i, l.Width)
			}
		}
	})
}
