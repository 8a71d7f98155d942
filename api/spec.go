package api

import (
	_ "embed"
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"

	cases "github.com/remedy-cases/remedy/case"
)

// specYAML is the OpenAPI document: the source of the generated types and
// routes, of request validation, and of each operation's roles.
//
//go:embed openapi.yaml
var specYAML []byte

// RolePublic marks an operation that needs no token.
const RolePublic = "public"

// Operation is one operation of the document, as the router and the access
// control see it.
type Operation struct {
	ID       string
	Method   string
	Path     string // OpenAPI template, e.g. /v1/cases/{id}
	EchoPath string // the same as Echo routes it, e.g. /v1/cases/:id
	Roles    []string
	spec     *openapi3.Operation
	pathItem *openapi3.PathItem
	hasBody  bool
	// streamed marks an operation whose body is a file (multipart/form-data):
	// its handler reads it as a stream, with its own cap; neither readBody nor
	// the validator buffers it.
	streamed  bool
	caseScope bool // the path names a case: one the caller may not see answers 404
}

// Public reports whether the operation needs no token.
func (o *Operation) Public() bool { return len(o.Roles) == 1 && o.Roles[0] == RolePublic }

// Allows reports whether role may call the operation.
func (o *Operation) Allows(role cases.Role) bool {
	for _, r := range o.Roles {
		if r == string(role) {
			return true
		}
	}
	return false
}

// Spec is the parsed document and its operations.
type Spec struct {
	doc *openapi3.T
	ops map[string]*Operation // by ID
}

var pathParam = regexp.MustCompile(`\{([^}]+)\}`)

// LoadSpec parses and validates the embedded document. Every operation must
// name its roles in x-roles.
func LoadSpec() (*Spec, error) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(specYAML)
	if err != nil {
		return nil, fmt.Errorf("openapi.yaml: %w", err)
	}
	if err := doc.Validate(loader.Context); err != nil {
		return nil, fmt.Errorf("openapi.yaml: %w", err)
	}
	s := &Spec{doc: doc, ops: map[string]*Operation{}}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			roles, err := rolesOf(op)
			if err != nil {
				return nil, fmt.Errorf("openapi.yaml: %s %s: %w", method, path, err)
			}
			s.ops[op.OperationID] = &Operation{
				ID: op.OperationID, Method: method, Path: path,
				EchoPath: pathParam.ReplaceAllString(path, ":$1"), Roles: roles,
				spec: op, pathItem: item, hasBody: op.RequestBody != nil, streamed: streamedBody(op),
				caseScope: strings.HasPrefix(path, "/v1/cases/{id}"),
			}
		}
	}
	return s, nil
}

// streamedBody reports whether op's body is multipart/form-data, and
// nothing else: a file that is streamed, never read whole.
func streamedBody(op *openapi3.Operation) bool {
	if op.RequestBody == nil || op.RequestBody.Value == nil {
		return false
	}
	content := op.RequestBody.Value.Content
	return len(content) == 1 && content.Get("multipart/form-data") != nil
}

func rolesOf(op *openapi3.Operation) ([]string, error) {
	raw, ok := op.Extensions["x-roles"].([]any)
	if !ok || len(raw) == 0 {
		return nil, fmt.Errorf("operation %s has no x-roles", op.OperationID)
	}
	var roles []string
	for _, r := range raw {
		name, _ := r.(string)
		if name != RolePublic && !cases.Role(name).Valid() {
			return nil, fmt.Errorf("operation %s: unknown role %q", op.OperationID, name)
		}
		roles = append(roles, name)
	}
	if (op.Security != nil && len(*op.Security) == 0) != (len(roles) == 1 && roles[0] == RolePublic) {
		return nil, fmt.Errorf("operation %s: public in x-roles exactly when security is empty", op.OperationID)
	}
	return roles, nil
}

// Operations lists every operation, sorted by path then method.
func (s *Spec) Operations() []*Operation {
	out := make([]*Operation, 0, len(s.ops))
	for _, op := range s.ops {
		out = append(out, op)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Path != out[j].Path {
			return out[i].Path < out[j].Path
		}
		return out[i].Method < out[j].Method
	})
	return out
}

// Operation returns the operation with id, or nil.
func (s *Spec) Operation(id string) *Operation { return s.ops[id] }

// QueryParams lists the names of the operation's query parameters, those of
// its path item included.
func (o *Operation) QueryParams() map[string]bool {
	out := map[string]bool{}
	for _, params := range []openapi3.Parameters{o.pathItem.Parameters, o.spec.Parameters} {
		for _, p := range params {
			if p.Value != nil && p.Value.In == openapi3.ParameterInQuery {
				out[p.Value.Name] = true
			}
		}
	}
	return out
}

// SuccessStatus is the success status the operation documents.
func (o *Operation) SuccessStatus() int {
	for _, code := range []int{http.StatusOK, http.StatusCreated, http.StatusNoContent} {
		if o.spec.Responses.Status(code) != nil {
			return code
		}
	}
	return 0
}
