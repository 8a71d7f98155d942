package cases

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Text typed on a phone with a Chinese input method arrives in full-width
// forms (４４１９００, ＡＢＣ, the ideographic space), with stray spaces, or
// decomposed. Every text field is normalised before any length or format
// check, so that what is checked is what is stored and compared.

// maxNormalizePasses bounds the loop that reaches a fixed point; each pass
// that changes anything shortens the string or recomposes it, so a handful
// suffices for any input (a fuzz test checks the fixed point).
const maxNormalizePasses = 8

// NormalizeText normalises a one-line text field: NFKC, every run of white
// space collapsed to one space, trimmed. It reaches a fixed point:
// NormalizeText(NormalizeText(s)) == NormalizeText(s) for any valid UTF-8.
// Invalid UTF-8 is returned unchanged, for ValidText to refuse.
func NormalizeText(s string) string {
	return fixedPoint(s, func(s string) string {
		return strings.Join(strings.FieldsFunc(norm.NFKC.String(s), unicode.IsSpace), " ")
	})
}

// NormalizeNote normalises a free-text note: NFKC, line breaks as \n, runs of
// other white space within a line collapsed to one space, trailing spaces of
// each line and blank lines at either end removed. Paragraphs stay.
func NormalizeNote(s string) string {
	return fixedPoint(s, func(s string) string {
		s = norm.NFKC.String(s)
		s = strings.NewReplacer("\r\n", "\n", "\r", "\n", "\u2028", "\n", "\u2029", "\n", "\u0085", "\n").Replace(s)
		lines := strings.Split(s, "\n")
		for i, l := range lines {
			lines[i] = strings.Join(strings.FieldsFunc(l, unicode.IsSpace), " ")
		}
		return strings.Trim(strings.Join(lines, "\n"), "\n")
	})
}

// fixedPoint applies f until the string stops changing.
func fixedPoint(s string, f func(string) string) string {
	if !utf8.ValidString(s) {
		return s
	}
	for range maxNormalizePasses {
		next := f(s)
		if next == s {
			return s
		}
		s = next
	}
	return s
}

// ValidText reports whether s is valid UTF-8 without control characters and
// has at most max characters. Call it on normalised text.
func ValidText(s string, max int) bool {
	if !utf8.ValidString(s) || utf8.RuneCountInString(s) > max {
		return false
	}
	for _, r := range s {
		if unicode.IsControl(r) || r == utf8.RuneError || isNoncharacter(r) {
			return false
		}
	}
	return true
}

// ValidNoteText is ValidText for notes, which may hold line breaks.
func ValidNoteText(s string, maxBytes int) bool {
	if !utf8.ValidString(s) || len(s) > maxBytes {
		return false
	}
	for _, r := range s {
		if r != '\n' && unicode.IsControl(r) || r == utf8.RuneError || isNoncharacter(r) {
			return false
		}
	}
	return true
}

func isNoncharacter(r rune) bool {
	return r >= 0xFDD0 && r <= 0xFDEF || r&0xFFFE == 0xFFFE
}

// idWeights are the ISO 7064 MOD 11-2 weights of a mainland resident ID
// number's first 17 digits (GB 11643-1999).
var idWeights = [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}

// IDChecksum tells whether id (normalised) is an 18-character mainland
// resident ID number whose check character is right. applies is false when
// id does not have that shape, and nothing can be said. A wrong check
// character is recorded, never refused: forged and borrowed IDs are what
// auditors find.
func IDChecksum(id string) (valid, applies bool) {
	id = strings.ToUpper(strings.ReplaceAll(NormalizeText(id), " ", ""))
	if len(id) != 18 {
		return false, false
	}
	sum := 0
	for i := range 17 {
		c := id[i]
		if c < '0' || c > '9' {
			return false, false
		}
		sum += int(c-'0') * idWeights[i]
	}
	last := id[17]
	if (last < '0' || last > '9') && last != 'X' {
		return false, false
	}
	want := "10X98765432"[sum%11]
	return last == want, true
}
