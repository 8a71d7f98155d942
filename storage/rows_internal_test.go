package storage

import (
	"reflect"
	"slices"
	"sync"
	"testing"

	"github.com/google/uuid"
	"gorm.io/gorm/schema"
)

// TestCaseColumns proves the hand-written column lists of a case match its
// row type: caseColumns names every column once, and values (and so
// factTargets) gives each column's own field, in that order. A column added
// to caseRow but not to the lists, or two fields swapped, fails here before
// a filing writes a value into the wrong column.
func TestCaseColumns(t *testing.T) {
	if !slices.Equal(caseColumns[:len(caseFacts)], caseFacts) {
		t.Fatalf("caseColumns does not begin with caseFacts")
	}
	var row caseRow
	row.IdentitySealed, row.NarrativeSealed = []byte("identity"), []byte("narrative")
	row.VerificationNotesSealed, row.ChildWishesSealed = []byte("notes"), []byte("wishes")
	checkColumns(t, &row, caseColumns, row.values())
}

// checkColumns checks a hand-written column list against the row type that
// row points at: columns names every column of it once, and values[i] is
// the field of columns[i], its address or (for a value) equal to it.
func checkColumns(t *testing.T, row any, columns []string, values []any) {
	t.Helper()
	s, err := schema.Parse(row, &sync.Map{}, schema.NamingStrategy{})
	if err != nil {
		t.Fatal(err)
	}
	var all []string
	for _, f := range s.Fields {
		if f.DBName != "" {
			all = append(all, f.DBName)
		}
	}
	if got, want := slices.Sorted(slices.Values(columns)), slices.Sorted(slices.Values(all)); !slices.Equal(got, want) {
		t.Fatalf("the columns of %s\n got %v\nwant %v", s.Name, got, want)
	}
	if len(values) != len(columns) {
		t.Fatalf("%d values for %d columns", len(values), len(columns))
	}
	rv := reflect.ValueOf(row).Elem()
	for i, column := range columns {
		field := rv.FieldByIndex(s.LookUpField(column).StructField.Index)
		v := reflect.ValueOf(values[i])
		if v.Kind() == reflect.Pointer {
			if v.Pointer() != field.Addr().Pointer() {
				t.Errorf("value %d points at another field than %s's", i, column)
			}
		} else if !reflect.DeepEqual(values[i], field.Interface()) {
			t.Errorf("value %d is not %s's", i, column)
		}
	}
}

// TestUUIDArray: the text form of a uuid[] names each id as uuid.String does.
func TestUUIDArray(t *testing.T) {
	ids := []uuid.UUID{uuid.MustParse("01a20620-9515-71a7-9a5c-3b2ec41c8417"), uuid.MustParse("00000000-0000-7000-9000-000000000007")}
	v, err := uuidArray(ids).Value()
	if err != nil {
		t.Fatal(err)
	}
	if want := "{" + ids[0].String() + "," + ids[1].String() + "}"; v != want {
		t.Fatalf("got %v, want %s", v, want)
	}
	if v, _ := uuidArray(nil).Value(); v != "{}" {
		t.Fatalf("no ids: %v", v)
	}
}

// TestPlanColumns: planColumns names every column of a plan once, and
// targets gives each column's own field, in that order.
func TestPlanColumns(t *testing.T) {
	var row planRow
	checkColumns(t, &row, planColumns, row.targets())
}
