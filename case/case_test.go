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

func TestOverdueAsOf(t *testing.T) {
	d := func(m time.Month, day int) *time.Time {
		v := time.Date(2026, m, day, 0, 0, 0, 0, time.UTC)
		return &v
	}
	now := *d(11, 3)
	for _, tt := range []struct {
		name        string
		state       cases.State
		since, last *time.Time
		want        bool
	}{
		{"no follow-up since September", cases.StateFollowUp, d(9, 10), nil, true},
		{"followed up in October", cases.StateFollowUp, d(9, 10), d(10, 31), false},
		{"followed up only in September", cases.StateFollowUp, d(9, 10), d(9, 30), true},
		{"entered follow-up in October", cases.StateFollowUp, d(10, 2), nil, false},
		{"entered follow-up on the first of October", cases.StateFollowUp, d(10, 1), nil, false},
		{"closed", cases.StateClosed, d(9, 10), nil, false},
	} {
		c := cases.Case{State: tt.state, FollowUpSince: tt.since, LastFollowUp: tt.last}
		if got := c.OverdueAsOf(now); got != tt.want {
			t.Errorf("%s: overdue = %v, want %v", tt.name, got, tt.want)
		}
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
