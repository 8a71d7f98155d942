package jsondate_test

import (
	"encoding/json"
	"math/rand/v2"
	"testing"
	"time"

	openapi_types "github.com/oapi-codegen/runtime/types"

	"github.com/remedy-cases/remedy/api/jsondate"
)

// TestSameAsTypesDate: a Date writes and reads as oapi-codegen's
// types.Date does, for days across ten thousand years and with clocks and
// zones that the day ignores, and refuses what types.Date refuses.
func TestSameAsTypesDate(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for range 5000 {
		tm := time.Unix(rng.Int64N(500e9)-250e9, rng.Int64N(1e9)).In(time.FixedZone("", 60*(rng.IntN(1500)-750)))
		ours, theirs := jsondate.Date{Time: tm}, openapi_types.Date{Time: tm}
		a, errA := json.Marshal(ours)
		b, errB := json.Marshal(theirs)
		if string(a) != string(b) || (errA == nil) != (errB == nil) {
			t.Fatalf("%v: %s, %v; types.Date %s, %v", tm, a, errA, b, errB)
		}
		if ours.String() != theirs.String() {
			t.Fatalf("%v: String %q, types.Date %q", tm, ours.String(), theirs.String())
		}
		ta, _ := ours.MarshalText()
		tb, _ := theirs.MarshalText()
		if string(ta) != string(tb) {
			t.Fatalf("%v: text %s, types.Date %s", tm, ta, tb)
		}
		var back jsondate.Date
		var backTheirs openapi_types.Date
		errA, errB = json.Unmarshal(a, &back), json.Unmarshal(b, &backTheirs)
		if !back.Equal(backTheirs.Time) || (errA == nil) != (errB == nil) {
			t.Fatalf("%s read back as %v, %v; types.Date %v, %v", a, back, errA, backTheirs, errB)
		}
	}
	for _, bad := range []string{`"2026-13-01"`, `"2026-02-30"`, `"26-01-01"`, `"2026-01-01T00:00:00Z"`, `20260101`, `null`, `""`} {
		var ours jsondate.Date
		var theirs openapi_types.Date
		errA, errB := json.Unmarshal([]byte(bad), &ours), json.Unmarshal([]byte(bad), &theirs)
		if (errA == nil) != (errB == nil) || !ours.Equal(theirs.Time) {
			t.Errorf("%s: %v, %v; types.Date %v, %v", bad, ours, errA, theirs, errB)
		}
	}
	var d jsondate.Date
	if err := d.Bind("2026-11-23"); err != nil || d.String() != "2026-11-23" {
		t.Errorf("Bind: %v, %v", d, err)
	}
	if err := d.Bind("23/11/2026"); err == nil {
		t.Error("Bind took 23/11/2026")
	}
}

func BenchmarkMarshalJSON(b *testing.B) {
	day := time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)
	b.Run("types.Date", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			openapi_types.Date{Time: day}.MarshalJSON()
		}
	})
	b.Run("jsondate", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			jsondate.Date{Time: day}.MarshalJSON()
		}
	})
}
