package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/labstack/echo/v4"

	cases "github.com/remedy-cases/remedy/case"
)

func init() {
	// kin-openapi checks "date" and "date-time" itself; "uuid" needs a
	// pattern, and any version is valid (Remedy's ids are UUIDv7).
	openapi3.DefineStringFormat("uuid", `^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
}

var validationOptions = &openapi3filter.Options{
	MultiError:          true,
	SkipSettingDefaults: true,
	// Authentication is the guard's job, before validation.
	AuthenticationFunc: openapi3filter.NoopAuthenticationFunc,
}

// validate checks the request against op's parameters and body schema, and
// names every failure. kin-openapi's reasons never quote the value.
func (s *Server) validate(c echo.Context, op *Operation) error {
	if err := unknownQuery(c, op); err != nil {
		return err
	}
	// encoding/json and the validator turn invalid UTF-8 into U+FFFD
	// silently: a child's name would be lost without an error.
	if body, ok := c.Get("body").([]byte); ok && !utf8.Valid(body) {
		return badRequest("The request body is not valid UTF-8.", cases.Failure{Name: "body", Message: "is not valid UTF-8"})
	}
	params := map[string]string{}
	for i, name := range c.ParamNames() {
		params[name] = c.ParamValues()[i]
	}
	input := &openapi3filter.RequestValidationInput{
		Request:    c.Request(),
		PathParams: params,
		Route: &routers.Route{Spec: s.spec.doc, Path: op.Path, PathItem: op.pathItem,
			Method: op.Method, Operation: op.spec},
		Options: validationOptions,
	}
	err := openapi3filter.ValidateRequest(c.Request().Context(), input)
	if body, ok := c.Get("body").([]byte); ok {
		c.Request().Body = io.NopCloser(bytes.NewReader(body))
	}
	if err == nil {
		return nil
	}
	var failed []cases.Failure
	collectFailures(err, "", &failed)
	if len(failed) == 0 {
		failed = []cases.Failure{{Name: "request", Message: "the request does not match the API document"}}
	}
	return badRequest("The request does not match the API document.", failed...)
}

// unknownQuery refuses query parameters that the operation does not declare:
// a misspelt filter would otherwise be ignored and answer everything. The
// names are echoed only when they are short and plain.
func unknownQuery(c echo.Context, op *Operation) error {
	known := op.QueryParams()
	var failed []cases.Failure
	for name := range c.QueryParams() {
		if known[name] {
			continue
		}
		if !plainName.MatchString(name) {
			name = "(unprintable parameter)"
		}
		failed = append(failed, cases.Failure{Name: name, Message: "is not a parameter of this operation"})
	}
	if len(failed) == 0 {
		return nil
	}
	sort.Slice(failed, func(i, j int) bool { return failed[i].Name < failed[j].Name })
	if len(failed) > 10 {
		failed = failed[:10]
	}
	return badRequest("The request has unknown query parameters.", failed...)
}

var plainName = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,40}$`)

var propertyReason = regexp.MustCompile(`^property "([^"]{1,100})" is (?:unsupported|missing)$`)

// collectFailures flattens kin-openapi's nested errors into named failures.
func collectFailures(err error, prefix string, out *[]cases.Failure) {
	// A type switch, not errors.As: a RequestError unwraps to its cause, and
	// As would skip the parameter it names.
	if multi, ok := err.(openapi3.MultiError); ok {
		for _, e := range multi {
			collectFailures(e, prefix, out)
		}
		return
	}
	if reqErr, ok := err.(*openapi3filter.RequestError); ok {
		switch {
		case reqErr.Parameter != nil:
			prefix = reqErr.Parameter.Name
		case reqErr.RequestBody != nil:
			prefix = "body"
		}
		var parse *openapi3filter.ParseError
		if errors.As(reqErr.Err, &parse) {
			*out = append(*out, cases.Failure{Name: prefix, Message: "is not valid JSON or not of the expected type"})
			return
		}
		if reqErr.Err != nil {
			before := len(*out)
			collectFailures(reqErr.Err, prefix, out)
			if len(*out) > before {
				return
			}
		}
		*out = append(*out, cases.Failure{Name: prefix, Message: limit(reqErr.Reason)})
		return
	}
	var schemaErr *openapi3.SchemaError
	if errors.As(err, &schemaErr) {
		path := schemaErr.JSONPointer()
		// An unknown or missing property is named in the reason; it is a
		// field name, not a value.
		if m := propertyReason.FindStringSubmatch(schemaErr.Reason); m != nil && (len(path) == 0 || path[len(path)-1] != m[1]) {
			path = append(path, m[1])
		}
		name := prefix
		if len(path) > 0 {
			name = strings.Join(path, ".")
		}
		*out = append(*out, cases.Failure{Name: name, Message: limit(schemaErr.Reason)})
		return
	}
	*out = append(*out, cases.Failure{Name: prefixOr(prefix, "request"), Message: "is not valid"})
}

func prefixOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func limit(s string) string {
	if len(s) > 200 {
		return s[:200] + "…"
	}
	return s
}

// decode reads the request body into v strictly: unknown fields and
// trailing data are refused. The validator has already checked the shape;
// this is the second lock, and its messages name fields, never values.
func decode(c echo.Context, v any) error {
	body, _ := c.Get("body").([]byte)
	if len(body) == 0 {
		return badRequest("A JSON body is required.")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) {
			return badRequest("The body is not valid.", cases.Failure{Name: prefixOr(typeErr.Field, "body"),
				Message: fmt.Sprintf("must be of type %s", typeErr.Type)})
		}
		if strings.HasPrefix(err.Error(), "json: unknown field ") {
			return badRequest("The body is not valid.", cases.Failure{Name: "body", Message: "has an unknown field"})
		}
		return badRequest("The body is not valid JSON.")
	}
	if dec.More() {
		return badRequest("The body holds more than one JSON value.")
	}
	return nil
}

func encodeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}
