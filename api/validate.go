package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/mail"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode"
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
	// "email": one bare address as net/mail reads it (no display name, no
	// angle brackets), which the handlers then take as a plain string.
	openapi3.DefineStringFormatValidator("email", openapi3.NewCallbackValidator(func(s string) error {
		if a, err := mail.ParseAddress(s); err != nil || a.Address != s {
			return errors.New("is not an email address")
		}
		return nil
	}))
}

var validationOptions = &openapi3filter.Options{
	MultiError:          true,
	SkipSettingDefaults: true,
	// Authentication is the guard's job, before validation.
	AuthenticationFunc: openapi3filter.NoopAuthenticationFunc,
}

// streamedValidationOptions validate the parameters of an operation whose
// body is a file, and leave its body alone.
var streamedValidationOptions = func() openapi3filter.Options {
	o := *validationOptions
	o.ExcludeRequestBody = true
	return o
}()

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
	options, req := validationOptions, c.Request()
	if op.streamed {
		// The validator reads a body whole (for the security requirements,
		// even when told to leave the body alone): it sees the request of a
		// streamed file without its body, which the handler checks as it
		// streams.
		options = &streamedValidationOptions
		bodiless := *req
		bodiless.Body, bodiless.ContentLength = http.NoBody, 0
		req = &bodiless
	}
	input := &openapi3filter.RequestValidationInput{
		Request:    req,
		PathParams: params,
		Route: &routers.Route{Spec: s.spec.doc, Path: op.Path, PathItem: op.pathItem,
			Method: op.Method, Operation: op.spec},
		Options: options,
	}
	err := openapi3filter.ValidateRequest(req.Context(), input)
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

// propertyReason is kin-openapi's reason for an unknown or a missing
// property. The name of an unknown one is the client's input: it is echoed
// only through echoName, and the reason is replaced by a fixed one.
var propertyReason = regexp.MustCompile(`^property "(.*)" is (unsupported|missing)$`)

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
		// The path may hold keys the client chose (an unknown property, a
		// map's key): every segment is echoed only in a bounded, sanitised
		// form, and so is the name of an unknown property, whose reason is
		// replaced rather than repeated.
		path := schemaErr.JSONPointer()
		message := limit(schemaErr.Reason)
		if m := propertyReason.FindStringSubmatch(schemaErr.Reason); m != nil {
			name, err := strconv.Unquote(`"` + m[1] + `"`) // kin-openapi quotes it with %q
			if err != nil {
				name = m[1]
			}
			if len(path) == 0 || path[len(path)-1] != name {
				path = append(path, name)
			}
			message = "is not a field of this request"
			if m[2] == "missing" {
				message = "is required"
			}
		}
		name := prefix
		if len(path) > 0 {
			name = echoPath(path)
		}
		*out = append(*out, cases.Failure{Name: name, Message: message})
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

// limit bounds a reason of kin-openapi's (which never quotes a value) to
// 200 bytes of whole characters, control characters dropped.
func limit(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == utf8.RuneError {
			return -1
		}
		return r
	}, s)
	if len(s) <= 200 {
		return s
	}
	cut := 200
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// Bounds of a field path echoed in an error.
const (
	echoSegments   = 8  // segments shown; more are elided
	echoSegmentLen = 40 // characters of a segment shown
)

// echoName returns a name the client sent, such as an unknown field's, as
// an error may repeat it: ASCII letters, digits, '_' and '-' kept, any
// other character '?', at most 40 characters. A client cannot use it to
// put markup, control characters or a long text into an error document.
func echoName(s string) string {
	var b strings.Builder
	n := 0
	for _, r := range s {
		if n == echoSegmentLen {
			b.WriteString("…")
			break
		}
		switch {
		case r < utf8.RuneSelf && (r == '_' || r == '-' || unicode.IsLetter(r) || unicode.IsDigit(r)):
			b.WriteRune(r)
		default:
			b.WriteByte('?')
		}
		n++
	}
	if b.Len() == 0 {
		return "?"
	}
	return b.String()
}

// echoPath joins the segments of a path to a field, each through echoName,
// as "identity.full_name"; past 8 segments the middle is elided.
func echoPath(path []string) string {
	if len(path) > echoSegments {
		path = append(append(path[:echoSegments/2:echoSegments/2], "…"), path[len(path)-echoSegments/2+1:]...)
	}
	out := make([]string, len(path))
	for i, seg := range path {
		if seg == "…" {
			out[i] = seg
			continue
		}
		out[i] = echoName(seg)
	}
	return strings.Join(out, ".")
}

// duplicateKey walks the JSON tokens of body and returns the path of the
// first key that appears twice in one object, compared as Go's
// encoding/json matches keys to fields (case-insensitively), so that a
// validator and a decoder can never read different values for one field.
// encoding/json itself keeps the last of two values silently. A body that
// is not JSON is left to the validator to refuse.
func duplicateKey(body []byte) (string, bool) {
	type frame struct {
		object bool
		keys   map[string]bool
		key    bool   // in an object: the next token is a key
		seg    string // this value's name in its parent
		member string // in an object: the key of the value being read
		index  int    // in an array: the index of the value being read
	}
	var stack []*frame
	// done marks the value at the top of the stack as read.
	done := func() {
		if n := len(stack); n > 0 {
			if top := stack[n-1]; top.object {
				top.key = true
			} else {
				top.index++
			}
		}
	}
	path := func(last string) string {
		var segs []string
		for _, f := range stack[1:] {
			segs = append(segs, f.seg)
		}
		return echoPath(append(segs, last))
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	for {
		tok, err := dec.Token()
		if err != nil {
			return "", false // the end, or not JSON
		}
		var top *frame
		if n := len(stack); n > 0 {
			top = stack[n-1]
		}
		if top != nil && top.object && top.key {
			if tok == json.Delim('}') {
				stack = stack[:len(stack)-1]
				done()
				continue
			}
			k, _ := tok.(string)
			folded := strings.ToLower(strings.ToUpper(k))
			if top.keys[folded] {
				return path(k), true
			}
			top.keys[folded] = true
			top.key, top.member = false, k
			continue
		}
		switch tok {
		case json.Delim('{'), json.Delim('['):
			seg := ""
			if top != nil && top.object {
				seg = top.member
			} else if top != nil {
				seg = strconv.Itoa(top.index)
			}
			f := &frame{object: tok == json.Delim('{'), seg: seg}
			if f.object {
				f.keys, f.key = map[string]bool{}, true
			}
			stack = append(stack, f)
		case json.Delim(']'):
			stack = stack[:len(stack)-1]
			done()
		default:
			done()
		}
	}
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
			name := "body"
			if typeErr.Field != "" {
				name = echoPath(strings.Split(typeErr.Field, "."))
			}
			return badRequest("The body is not valid.", cases.Failure{Name: name,
				Message: fmt.Sprintf("must be of type %s", typeErr.Type)})
		}
		if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
			name, _ = strconv.Unquote(name)
			return badRequest("The body is not valid.", cases.Failure{Name: echoName(name), Message: "is not a field of this request"})
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
