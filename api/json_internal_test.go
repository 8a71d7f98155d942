package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http/httptest"
	"os"
	"reflect"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	openapi_types "github.com/oapi-codegen/runtime/types"

	"github.com/remedy-cases/remedy/api/jsondate"
)

// answerTypes are the types the API answers with.
var answerTypes = []any{
	AlertDecision{}, Assignment{}, AuditEntry{}, AuditList{}, BrandLedger{}, Case{}, CaseEvent{}, CaseLedger{},
	CaseList{}, CaseNotes{}, Checkpoint{}, CheckpointList{}, ClientOrg{}, ClientList{}, Confidential{},
	CreatedUser{}, CreatedWebhook{}, Document{}, DocumentList{}, EventList{}, Factory{}, FactoryList{},
	FactoryMerge{}, FollowUp{}, IntakeRecipient{}, JWKS{}, MonthlyReport{}, MonthlyReportList{}, Payment{},
	Problem{}, ReportContacts{}, ReportVerification{}, Status{}, Token{}, Transition{}, TransitionResult{},
	User{}, UserList{}, Webhook{}, WebhookDelivery{}, WebhookDeliveryList{}, WebhookList{}, Workflow{},
	map[string]any{"items": []Case{}, "z": 1, "a": nil},
}

// TestJSONSameBytes: the API's JSON answers (jsonSerializer) are the bytes
// encoding/json writes, for every answer type filled with random values,
// some fields left empty (omitempty), strings with HTML, quotes, control
// characters, line separators, invalid UTF-8 and Chinese.
func TestJSONSameBytes(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, v := range answerTypes {
		for round := range 40 {
			p := reflect.New(reflect.TypeOf(v))
			if _, ok := v.(map[string]any); ok {
				p.Elem().Set(reflect.ValueOf(v))
			} else {
				fill(rng, p.Elem(), 0)
			}
			var want bytes.Buffer
			enc := json.NewEncoder(&want) // as echo.DefaultJSONSerializer
			if err := enc.Encode(p.Interface()); err != nil {
				t.Fatal(err)
			}
			for _, indent := range []string{"", "  "} {
				if indent != "" {
					want.Reset()
					enc := json.NewEncoder(&want)
					enc.SetIndent("", indent)
					if err := enc.Encode(p.Interface()); err != nil {
						t.Fatal(err)
					}
				}
				rec := httptest.NewRecorder()
				c := echo.New().NewContext(httptest.NewRequest("GET", "/", nil), rec)
				if err := (jsonSerializer{}).Serialize(c, p.Interface(), indent); err != nil {
					t.Fatalf("%T: %v", v, err)
				}
				if got := rec.Body.Bytes(); !bytes.Equal(got, want.Bytes()) {
					t.Fatalf("%T, round %d, indent %q:\n got %s\nwant %s", v, round, indent, got, want.Bytes())
				}
			}
		}
	}
}

var awkward = []string{"", "plain", "<script>&amp;</script>", `"quoted" \ back`, "tab\tnew\nline\x00\x1f",
	"\u2028\u2029", "bad \xff\xfe utf-8", "东莞华美制衣厂", "emoji 😀", "\x7f"}

// fill gives v random values, leaving about a third of the optional
// fields (pointers, slices, maps) empty.
func fill(rng *rand.Rand, v reflect.Value, depth int) {
	switch v.Interface().(type) {
	case time.Time:
		v.Set(reflect.ValueOf(time.Unix(rng.Int64N(4e9), rng.Int64N(1e9)).In(time.FixedZone("", 3600*rng.IntN(10)))))
		return
	case jsondate.Date:
		v.Set(reflect.ValueOf(jsondate.Date{Time: time.Date(2000+rng.IntN(40), time.Month(1+rng.IntN(12)), 1+rng.IntN(28), 0, 0, 0, 0, time.UTC)}))
		return
	case openapi_types.UUID:
		var u openapi_types.UUID
		for i := range u {
			u[i] = byte(rng.IntN(256))
		}
		v.Set(reflect.ValueOf(u))
		return
	}
	switch v.Kind() {
	case reflect.Pointer:
		if depth > 6 || rng.IntN(3) == 0 {
			return
		}
		v.Set(reflect.New(v.Type().Elem()))
		fill(rng, v.Elem(), depth+1)
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				fill(rng, v.Field(i), depth+1)
			}
		}
	case reflect.Slice:
		if depth > 6 || rng.IntN(3) == 0 {
			return
		}
		n := rng.IntN(3)
		v.Set(reflect.MakeSlice(v.Type(), n, n))
		for i := range n {
			fill(rng, v.Index(i), depth+1)
		}
	case reflect.Map:
		if depth > 6 || rng.IntN(3) == 0 {
			return
		}
		v.Set(reflect.MakeMap(v.Type()))
		for range rng.IntN(4) {
			k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
			fill(rng, k, depth+1)
			fill(rng, e, depth+1)
			v.SetMapIndex(k, e)
		}
	case reflect.Interface:
		if rng.IntN(2) == 0 {
			v.Set(reflect.ValueOf(awkward[rng.IntN(len(awkward))]))
		} else {
			v.Set(reflect.ValueOf(rng.Float64() * 1e6))
		}
	case reflect.String:
		v.SetString(awkward[rng.IntN(len(awkward))])
	case reflect.Bool:
		v.SetBool(rng.IntN(2) == 0)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(rng.Int64N(1<<40) - 1<<39)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(rng.Uint64N(1 << 40))
	case reflect.Float32, reflect.Float64:
		v.SetFloat([]float64{0, 1.5, 1e21, 1e-7, -3.25, 123456.789}[rng.IntN(6)])
	default:
		panic(fmt.Sprintf("fill: a %s", v.Kind()))
	}
}

// BenchmarkEncodeCaseList encodes a page of 50 cases as the load generator
// lists them (testdata/case-page.json, from a server under load) with
// encoding/json and with the API's serializer.
func BenchmarkEncodeCaseList(b *testing.B) {
	data, err := os.ReadFile("testdata/case-page.json")
	if err != nil {
		b.Fatal(err)
	}
	var page CaseList
	if err := json.Unmarshal(data, &page); err != nil {
		b.Fatal(err)
	}
	b.Run("encoding-json", func(b *testing.B) {
		var buf bytes.Buffer
		b.ReportAllocs()
		for b.Loop() {
			buf.Reset()
			json.NewEncoder(&buf).Encode(page)
		}
	})
	b.Run("api", func(b *testing.B) {
		rec := httptest.NewRecorder()
		c := echo.New().NewContext(httptest.NewRequest("GET", "/", nil), rec)
		b.ReportAllocs()
		for b.Loop() {
			rec.Body.Reset()
			jsonSerializer{}.Serialize(c, page, "")
		}
	})
}
