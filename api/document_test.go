package api_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/remedy-cases/remedy/api"
)

// TestDocumentConventions keeps the conventions of api/openapi.yaml that the
// linters in api/lint check, without node: every operation answers a
// default problem, 400 and (but the health probes) 429 with Retry-After
// and the RateLimit fields; every problem code the server sends is in
// Problem.code's enum; and every string, integer and array a client sends
// is bounded.
func TestDocumentConventions(t *testing.T) {
	doc, err := openapi3.NewLoader().LoadFromData(api.SpecYAML())
	if err != nil {
		t.Fatal(err)
	}
	codes := map[string]bool{}
	for _, v := range doc.Components.Schemas["Problem"].Value.Properties["code"].Value.Enum {
		codes[v.(string)] = true
	}
	for _, c := range api.ProblemCodes() {
		if !codes[c] {
			t.Errorf("problem code %q is not in Problem.code's enum", c)
		}
	}
	if !codes["method_not_allowed"] {
		t.Error("Problem.code lacks method_not_allowed")
	}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			name := method + " " + path
			if op.Responses.Default() == nil {
				t.Errorf("%s has no default response", name)
			} else if op.Responses.Default().Value.Content.Get("application/problem+json") == nil {
				t.Errorf("%s: its default is not problem+json", name)
			}
			if op.Responses.Status(400) == nil {
				t.Errorf("%s has no 400", name)
			}
			health := path == "/healthz" || path == "/readyz"
			if r := op.Responses.Status(429); r == nil && !health {
				t.Errorf("%s has no 429", name)
			} else if r != nil && (r.Value.Headers["Retry-After"] == nil || r.Value.Headers["RateLimit"] == nil) {
				t.Errorf("%s: its 429 lacks Retry-After or RateLimit", name)
			}
			for code, r := range op.Responses.Map() {
				if r.Value.Headers["X-Request-Id"] == nil {
					t.Errorf("%s: %s does not declare X-Request-Id", name, code)
				}
			}
			for _, p := range op.Parameters {
				bounded(t, name+" parameter "+p.Value.Name, p.Value.Schema)
			}
			if op.RequestBody != nil {
				for ct, mt := range op.RequestBody.Value.Content {
					bounded(t, name+" "+ct, mt.Schema)
				}
			}
		}
	}
}

// bounded fails t for any string without maxLength, enum or a bounded
// format, integer without maximum, or array without maxItems in s.
func bounded(t *testing.T, where string, s *openapi3.SchemaRef) {
	t.Helper()
	seen := map[*openapi3.Schema]bool{}
	var walk func(string, *openapi3.SchemaRef)
	walk = func(at string, s *openapi3.SchemaRef) {
		if s == nil || s.Value == nil || seen[s.Value] {
			return
		}
		v := s.Value
		seen[v] = true
		switch {
		case v.Type.Is("string") && v.MaxLength == nil && len(v.Enum) == 0:
			t.Errorf("%s: string %s is unbounded", where, at)
		case v.Type.Is("integer") && v.Max == nil:
			t.Errorf("%s: integer %s has no maximum", where, at)
		case v.Type.Is("array") && v.MaxItems == nil:
			t.Errorf("%s: array %s has no maxItems", where, at)
		}
		for name, p := range v.Properties {
			walk(strings.TrimPrefix(at+"."+name, "."), p)
		}
		walk(at+"[]", v.Items)
		if v.AdditionalProperties.Schema != nil {
			walk(at+"{}", v.AdditionalProperties.Schema)
		}
		for _, x := range slices.Concat(v.AllOf, v.OneOf, v.AnyOf) {
			walk(at, x)
		}
	}
	walk("", s)
}
