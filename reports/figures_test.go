package reports

import (
	"bytes"
	"encoding/json"
	"flag"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	cases "github.com/remedy-cases/remedy/case"
)

var update = flag.Bool("update", false, "rewrite the golden files from the current output")

var october = cases.Month{Year: 2026, Month: time.October}

// golden compares got, as indented JSON, with testdata/name.
func golden(t *testing.T, name string, got any) {
	t.Helper()
	js, err := json.MarshalIndent(got, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	js = append(js, '\n')
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, js, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./reports -update to write it)", err)
	}
	if !bytes.Equal(js, want) {
		t.Errorf("%s differs from the figures built now:\n%s", path, js)
	}
}

func TestBuildGolden(t *testing.T) {
	golden(t, "october-2026.golden.json", Build("华南童安 Apparel", october, shanghai, october2026()))
	golden(t, "no-cases.golden.json", Build("Empty Brand", october, shanghai, nil))
}

// The golden file is long; these are the figures a reader checks first,
// worked out by hand from the fixture's comments.
func TestBuildOctoberByHand(t *testing.T) {
	f := Build("b", october, shanghai, october2026())
	if f.NewCases != 2 {
		t.Errorf("new cases = %d, want 2 (0011 and 0012; 0013 is November in Shanghai)", f.NewCases)
	}
	if f.FollowUps != (FollowUpCounts{Due: 4, Done: 3, Overdue: 1, Recorded: 3}) {
		t.Errorf("follow-ups = %+v, want due 4 (0107, 0003, 0001 closed on the 20th, 0009 approved on the 12th), done 3, overdue 1 (0003), recorded 3", f.FollowUps)
	}
	// The factory pays 0003 (600 from August; September paid), 0001 (600
	// from June, closed on 20 October; September and October paid) and
	// half of 0009's 700 (from 12 October; 350 paid, half by each).
	var factory Stipend
	for _, s := range f.Stipends {
		if s.Payer == cases.PayerFactory {
			factory = s
		}
	}
	want := Stipend{Payer: cases.PayerFactory, Currency: "CNY", DueThisMonth: 60000 + 60000 + 35000, PaidThisMonth: 60000 + 17500,
		DueToDate: 3*60000 + 5*60000 + 35000, PaidToDate: 60000 + 2*60000 + 17500,
		Arrears: (60000 + 60000) + 3*60000 + 17500} // 0003 August and October; 0001 June to August; 0009 October
	if factory != want {
		t.Errorf("factory stipends = %+v,\nwant %+v", factory, want)
	}
	contact, plan := f.Clocks.FirstContact, f.Clocks.PlanApproved
	if contact.Met != 1 || contact.MedianHours == nil || *contact.MedianHours != 18 || contact.Breaches != 1 {
		t.Errorf("first contact = %+v, want 1 met in 18 hours (0011), 1 breach (0012)", contact)
	}
	if plan.Met != 1 || plan.MedianHours == nil || *plan.MedianHours != 529 || plan.Breaches != 1 {
		t.Errorf("plan approved = %+v, want 1 met in 529 hours (0009), 1 breach (0010, due 25 October)", plan)
	}
	if got := f.ByState; got[3].Count != 3 || got[2].Count != 1 || got[4].Count != 3 {
		t.Errorf("by state = %+v, want 3 in follow-up, 1 in planning (0010 approved 1 Nov Shanghai), 3 closed", got)
	}
	if f.Attendance != (Attendance{Seen: 3, Attending: 2}) {
		t.Errorf("attendance = %+v, want 2 of 3", f.Attendance)
	}
	var codes []string
	for _, r := range f.Rows {
		codes = append(codes, r.Code)
	}
	if want := "CL-2025-0107 CL-2026-0001 CL-2026-0003 CL-2026-0009 CL-2026-0010 CL-2026-0011 CL-2026-0012"; strings.Join(codes, " ") != want {
		t.Errorf("rows = %v, want %s", codes, want)
	}
}

func TestBuildIgnoresInputOrder(t *testing.T) {
	hs := october2026()
	want := Build("b", october, shanghai, hs)
	for range 5 {
		rand.Shuffle(len(hs), func(i, j int) { hs[i], hs[j] = hs[j], hs[i] })
		if got := Build("b", october, shanghai, hs); !reflect.DeepEqual(got, want) {
			t.Fatalf("shuffled histories gave other figures")
		}
	}
}

func TestFiguresCarryNoIdentityOrNote(t *testing.T) {
	forbidden := map[reflect.Type]bool{
		reflect.TypeFor[cases.Identity]():     true,
		reflect.TypeFor[cases.Note]():         true,
		reflect.TypeFor[cases.Confidential](): true,
		reflect.TypeFor[cases.FollowUp]():     true,
		reflect.TypeFor[cases.Transition]():   true,
		reflect.TypeFor[cases.Case]():         true,
		reflect.TypeFor[[]byte]():             true,
		reflect.TypeFor[any]():                true,
	}
	var walk func(t reflect.Type, path string)
	walk = func(typ reflect.Type, path string) {
		if forbidden[typ] {
			t.Errorf("%s is a %s, which can hold an identity or a note", path, typ)
			return
		}
		switch typ.Kind() {
		case reflect.Pointer, reflect.Slice, reflect.Array:
			walk(typ.Elem(), path+"[]")
		case reflect.Map:
			walk(typ.Key(), path+"{key}")
			walk(typ.Elem(), path+"{}")
		case reflect.Struct:
			for i := range typ.NumField() {
				walk(typ.Field(i).Type, path+"."+typ.Field(i).Name)
			}
		}
	}
	walk(reflect.TypeFor[Figures](), "Figures")

	js, err := json.Marshal(Build("b", october, shanghai, october2026()))
	if err != nil {
		t.Fatal(err)
	}
	for _, canary := range []string{canaryName, canaryNote, canaryReason, canaryIDNumber} {
		if bytes.Contains(js, []byte(canary)) {
			t.Errorf("figures hold canary %q", canary)
		}
	}
}
