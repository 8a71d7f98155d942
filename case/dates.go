package cases

import (
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Dates that follow from the child (DOMAIN.md). Every function here is pure:
// the dates come in, nothing reads the clock.

// Birthday returns the day on which someone born on birth turns years old:
// a child born on 29 February turns a year older on 1 March in years that
// have none, as AgeOn counts.
func Birthday(birth time.Time, years int) time.Time {
	y, m, d := birth.Date()
	day := time.Date(y+years, m, d, 0, 0, 0, 0, time.UTC)
	if day.Month() != m { // 29 February in a common year rolled over to 1 March
		day = time.Date(y+years, m+1, 1, 0, 0, 0, 0, time.UTC)
	}
	return day
}

// CompulsoryGrades is the number of years of compulsory schooling in China.
const CompulsoryGrades = 9

// SchoolYearEnd returns the last day of the school year that day falls in: a
// school year in China runs from 1 August to 31 July.
func SchoolYearEnd(day time.Time) time.Time {
	y := day.Year()
	if day.Month() >= time.August {
		y++
	}
	return time.Date(y, time.July, 31, 0, 0, 0, 0, time.UTC)
}

// DefaultEndDate is the end date a plan gets when none is written: the later
// of the child's 16th birthday and the end of the school year in which the
// child finishes compulsory schooling, and never earlier than one month after
// enrolment. grade is the grade the child enrols in (1 to 9 in compulsory
// schooling, 0 when unknown): a child enrolled in grade 7 at 15 finishes
// grade 9 two school years later, after turning 16. With an unknown grade
// only the birthday and the month after enrolment count.
func DefaultEndDate(birth, enrolment time.Time, grade int) time.Time {
	end := Birthday(Date(birth), LegalWorkingAge)
	if grade >= 1 && grade <= CompulsoryGrades {
		last := SchoolYearEnd(Date(enrolment)).AddDate(CompulsoryGrades-grade, 0, 0)
		if last.After(end) {
			end = last
		}
	}
	if min := MinEndDate(enrolment); end.Before(min) {
		end = min
	}
	return end
}

// MinEndDate is the earliest end date a plan enrolling on enrolment may
// have: one month later (31 January + 1 month is 28 or 29 February).
func MinEndDate(enrolment time.Time) time.Time {
	e := Date(enrolment)
	m := time.Date(e.Year(), e.Month()+1, 1, 0, 0, 0, 0, time.UTC)
	last := m.AddDate(0, 1, -1).Day()
	return time.Date(m.Year(), m.Month(), min(e.Day(), last), 0, 0, 0, 0, time.UTC)
}

// chineseDigits are the numerals of grades written in hanzi.
var chineseDigits = map[rune]int{'一': 1, '二': 2, '三': 3, '四': 4, '五': 5, '六': 6, '七': 7, '八': 8, '九': 9,
	'十': 10}

// GradeLevel reads the grade of a plan as people write it: "7", "Grade 7",
// "7年级", "七年级", "初一" (junior middle school, grade 7), "初三" (grade 9),
// "高一" (grade 10), "小学五年级" (grade 5). It returns 0 when it cannot tell.
func GradeLevel(s string) int {
	s = strings.ToLower(NormalizeText(s))
	s = strings.NewReplacer(" ", "", "grade", "", "年级", "", "小学", "", "初中", "初", "高中", "高").Replace(s)
	junior, senior := strings.HasPrefix(s, "初"), strings.HasPrefix(s, "高")
	if junior || senior {
		_, size := utf8.DecodeRuneInString(s)
		s = s[size:]
	}
	n := 0
	if v, err := strconv.Atoi(s); err == nil {
		n = v
	} else if r, size := utf8.DecodeRuneInString(s); size == len(s) && size > 0 {
		n = chineseDigits[r]
	}
	switch {
	case n < 1:
		return 0
	case junior && n <= 3:
		return 6 + n
	case senior && n <= 3:
		return 9 + n
	case !junior && !senior && n <= 12:
		return n
	}
	return 0
}
