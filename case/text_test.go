package cases_test

import (
	"testing"
	"time"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	cases "github.com/remedy-cases/remedy/case"
)

func TestNormalizeText(t *testing.T) {
	tests := []struct{ in, want string }{
		{"４４１９００１９９００３０７１２３Ｘ", "44190019900307123X"},
		{"  Li \t Xiaomei\u3000 ", "Li Xiaomei"},
		{"东莞\u00a0华美", "东莞 华美"},
		{"e\u0301", "é"},
		{"e \u0301", "e \u0301"}, // a space keeps the mark apart: nothing to combine
		{"ＡＢＣ－１", "ABC-1"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := cases.NormalizeText(tt.in); got != tt.want {
			t.Errorf("NormalizeText(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestNormalizeNote(t *testing.T) {
	in := "\r\n  第一段：  孩子\u3000想读书。 \r\n\r\nSecond\tparagraph.  \n\n"
	want := "第一段: 孩子 想读书。\n\nSecond paragraph."
	if got := cases.NormalizeNote(in); got != want {
		t.Fatalf("NormalizeNote = %q, want %q", got, want)
	}
}

// FuzzNormalize: both normalisations reach a fixed point on any valid
// UTF-8, and their output is NFKC.
func FuzzNormalize(f *testing.F) {
	for _, seed := range []string{"e \u0301", "\u1100 \u1161", "４４１９", "a\u00a0\u0301", "\u0130", "x\r\u0301", "\u3000\u0308"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !utf8.ValidString(s) {
			return
		}
		for name, fn := range map[string]func(string) string{"text": cases.NormalizeText, "note": cases.NormalizeNote} {
			once := fn(s)
			if twice := fn(once); twice != once {
				t.Fatalf("%s: not a fixed point: %q -> %q -> %q", name, s, once, twice)
			}
			if !norm.NFKC.IsNormalString(once) {
				t.Fatalf("%s: %q is not NFKC", name, once)
			}
		}
	})
}

func TestValidText(t *testing.T) {
	tests := []struct {
		in   string
		max  int
		want bool
	}{
		{"李小梅", 3, true},
		{"李小梅", 2, false},
		{"Sunrise Toys 😀", 100, true},
		{"a\x00b", 100, false},
		{"a\x1bb", 100, false},
		{"bad \xff utf-8", 100, false},
		{"a\ufffdb", 100, false},
		{"a\ufdd0b", 100, false},
	}
	for _, tt := range tests {
		if got := cases.ValidText(tt.in, tt.max); got != tt.want {
			t.Errorf("ValidText(%q, %d) = %v, want %v", tt.in, tt.max, got, tt.want)
		}
	}
	if !cases.ValidNoteText("line one\nline two", 100) || cases.ValidNoteText("bell\a", 100) {
		t.Fatal("ValidNoteText must allow line breaks and refuse other controls")
	}
}

func TestIDChecksum(t *testing.T) {
	tests := []struct {
		in             string
		valid, applies bool
	}{
		{"11010519491231002X", true, true},
		{"11010519491231002x", true, true},
		{"440524188001010014", true, true},
		{"４４０５２４１８８００１０１００１４", true, true},  // full-width, as a Chinese input method types it
		{"44190019900307123X", false, true}, // check character should be 8
		{"110101200001011234", false, true},
		{"4405241880010100", false, false}, // 16 characters: not a resident ID number
		{"A40524188001010014", false, false},
		{"44052418800101001Y", false, false},
		{"", false, false},
	}
	for _, tt := range tests {
		valid, applies := cases.IDChecksum(tt.in)
		if valid != tt.valid || applies != tt.applies {
			t.Errorf("IDChecksum(%q) = %v, %v; want %v, %v", tt.in, valid, applies, tt.valid, tt.applies)
		}
	}
}

func day(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestBirthday(t *testing.T) {
	tests := []struct {
		birth string
		years int
		want  string
	}{
		{"2010-06-15", 16, "2026-06-15"},
		{"2012-02-29", 16, "2028-02-29"}, // 2028 is a leap year
		{"2011-02-28", 16, "2027-02-28"},
		{"2010-02-28", 16, "2026-02-28"},
		{"2008-02-29", 18, "2026-03-01"}, // 2026 has no 29 February
		{"2012-02-29", 15, "2027-03-01"},
	}
	for _, tt := range tests {
		got := cases.Birthday(day(tt.birth), tt.years)
		if !got.Equal(day(tt.want)) {
			t.Errorf("Birthday(%s, %d) = %s, want %s", tt.birth, tt.years, got.Format(time.DateOnly), tt.want)
		}
		// The birthday is the first day of that age, as AgeOn counts.
		if cases.AgeOn(day(tt.birth), got) != tt.years || cases.AgeOn(day(tt.birth), got.AddDate(0, 0, -1)) != tt.years-1 {
			t.Errorf("Birthday(%s, %d) disagrees with AgeOn", tt.birth, tt.years)
		}
	}
}

func TestDefaultEndDate(t *testing.T) {
	tests := []struct {
		name                   string
		birth, enrolment, want string
		grade                  int
	}{
		{"16th birthday after the school year", "2012-09-10", "2026-09-01", "2028-09-10", 9},
		{"grade 7 at 15: end of grade 9", "2011-03-01", "2026-09-01", "2029-07-31", 7},
		{"enrolling in the spring term counts that school year", "2011-03-01", "2027-02-20", "2028-07-31", 8},
		{"born 31 July: the school year ends on the birthday", "2011-07-31", "2026-09-01", "2027-07-31", 9},
		{"born 1 August: the birthday is a day later", "2011-08-01", "2026-09-01", "2027-08-01", 9},
		// 16 is a multiple of 4: a child born on 29 February turns 16 on a
		// 29 February (until 2100, which is no leap year).
		{"born 29 February", "2012-02-29", "2026-09-01", "2028-02-29", 0},
		{"born 29 February, school year later", "2008-02-29", "2023-09-01", "2024-07-31", 9},
		{"born 29 February 2084: 16 on 1 March 2100", "2084-02-29", "2099-09-01", "2100-03-01", 0},
		{"15 years and 364 days, unknown grade: a month after enrolment", "2010-11-04", "2026-11-10", "2026-12-10", 0},
		{"a month after enrolment on 31 January is the end of February", "2010-02-01", "2026-01-31", "2026-02-28", 0},
		{"grade outside compulsory schooling: the birthday", "2011-05-17", "2026-09-01", "2027-05-17", 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := cases.DefaultEndDate(day(tt.birth), day(tt.enrolment), tt.grade)
			if !got.Equal(day(tt.want)) {
				t.Fatalf("DefaultEndDate(%s, %s, %d) = %s, want %s", tt.birth, tt.enrolment, tt.grade, got.Format(time.DateOnly), tt.want)
			}
			if got.Before(cases.MinEndDate(day(tt.enrolment))) {
				t.Fatal("the end date is less than a month after enrolment")
			}
		})
	}
}

func TestGradeLevel(t *testing.T) {
	tests := map[string]int{
		"7": 7, "Grade 8": 8, "grade 9": 9, "７年级": 7, "七年级": 7, "小学五年级": 5, "初一": 7, "初二": 8,
		"初三": 9, "初中三年级": 9, "高一": 10, "高三": 12, "": 0, "vocational": 0, "初四": 0, "13": 0, "0": 0,
		"十年级": 10,
	}
	for in, want := range tests {
		if got := cases.GradeLevel(in); got != want {
			t.Errorf("GradeLevel(%q) = %d, want %d", in, got, want)
		}
	}
}
