package cases_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	cases "github.com/remedy-cases/remedy/case"
)

// TestIdentityRedacts: every way a value is commonly printed, logged or
// marshalled leaves the identity and notes out.
func TestIdentityRedacts(t *testing.T) {
	const canary = "CANARY-7f3a-李小红"
	id := cases.Identity{FullName: canary, IDNumber: canary, Phone: canary,
		Guardians: []cases.Guardian{{Name: canary, Phone: canary}}}
	note := cases.NewNote(canary)
	report := cases.Report{Identity: id, Narrative: note}

	var logged bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&logged, nil))
	log.Info("filed", "identity", id, "note", note, "guardian", id.Guardians[0])
	js, err := json.Marshal(report)
	if err != nil {
		t.Fatal(err)
	}
	outputs := map[string]string{
		"%v":   fmt.Sprintf("%v", report),
		"%+v":  fmt.Sprintf("%+v", report),
		"%#v":  fmt.Sprintf("%#v", id),
		"%s":   fmt.Sprintf("%s", note),
		"json": string(js),
		"slog": logged.String(),
	}
	for how, out := range outputs {
		if strings.Contains(out, "CANARY") {
			t.Errorf("%s leaks the canary: %s", how, out)
		}
	}
	if note.Text() != canary {
		t.Fatal("Text does not return the note")
	}
}

func TestAgeOn(t *testing.T) {
	birth := time.Date(2010, 6, 15, 0, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		day  time.Time
		want int
	}{
		{time.Date(2026, 6, 14, 0, 0, 0, 0, time.UTC), 15},
		{time.Date(2026, 6, 15, 0, 0, 0, 0, time.UTC), 16},
		{time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), 15},
		{time.Date(2026, 12, 31, 0, 0, 0, 0, time.UTC), 16},
	} {
		if got := cases.AgeOn(birth, tt.day); got != tt.want {
			t.Errorf("AgeOn(%s) = %d, want %d", tt.day.Format(time.DateOnly), got, tt.want)
		}
	}
}

func TestOverdueAndDueToClose(t *testing.T) {
	shanghai, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	d := func(m time.Month, day int) *time.Time {
		v := time.Date(2026, m, day, 0, 0, 0, 0, time.UTC)
		return &v
	}
	now := time.Date(2026, 11, 3, 9, 30, 0, 0, time.UTC)
	for _, tt := range []struct {
		name                string
		state               cases.State
		uncovered, end      *time.Time
		overdue, dueToClose bool
	}{
		{"October uncovered", cases.StateFollowUp, d(10, 1), d(12, 31), true, false},
		{"covered through October", cases.StateFollowUp, d(11, 1), d(12, 31), false, false},
		{"September uncovered, end date passed", cases.StateFollowUp, d(9, 1), d(10, 31), false, true},
		{"ends today: not yet due to close", cases.StateFollowUp, d(11, 1), d(11, 3), false, false},
		{"closed", cases.StateClosed, d(9, 1), d(10, 31), false, false},
	} {
		c := cases.Case{State: tt.state, UncoveredFrom: tt.uncovered, PlanEndOn: tt.end}
		if got := c.OverdueAsOf(now, shanghai); got != tt.overdue {
			t.Errorf("%s: overdue = %v, want %v", tt.name, got, tt.overdue)
		}
		if got := c.DueToCloseAsOf(now, shanghai); got != tt.dueToClose {
			t.Errorf("%s: due to close = %v, want %v", tt.name, got, tt.dueToClose)
		}
	}
	// 31 October 20:00 UTC is already 1 November in Shanghai: October has ended there.
	c := cases.Case{State: cases.StateFollowUp, UncoveredFrom: d(10, 1), PlanEndOn: d(12, 31)}
	evening := time.Date(2026, 10, 31, 20, 0, 0, 0, time.UTC)
	if !c.OverdueAsOf(evening, shanghai) || c.OverdueAsOf(evening, time.UTC) {
		t.Fatal("the month must end in the organisation's zone")
	}
}

func TestErrorHelpers(t *testing.T) {
	err := fmt.Errorf("wrapped: %w", cases.Errorf(cases.ENOTFOUND, "Case not found."))
	if cases.ErrorCode(err) != cases.ENOTFOUND || cases.ErrorMessage(err) != "Case not found." {
		t.Fatalf("code %q message %q", cases.ErrorCode(err), cases.ErrorMessage(err))
	}
	plain := fmt.Errorf("pq: secret detail")
	if cases.ErrorCode(plain) != cases.EINTERNAL || strings.Contains(cases.ErrorMessage(plain), "secret") {
		t.Fatal("a foreign error must read as internal, without its text")
	}
	if cases.ErrorCode(nil) != "" {
		t.Fatal("nil has a code")
	}
}

func TestFormatCode(t *testing.T) {
	for n, want := range map[int]string{42: "CL-2026-0042", 12345: "CL-2026-12345"} {
		if got := cases.FormatCode(2026, n); got != want || !cases.ValidCode(got) {
			t.Errorf("FormatCode(2026, %d) = %q, want %q", n, got, want)
		}
	}
}
