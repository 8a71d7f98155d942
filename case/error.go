package cases

import (
	"errors"
	"fmt"
	"strings"
)

// Error codes. Adapters translate them: the API maps each to one HTTP status,
// storage maps database errors onto them in one place.
const (
	ECONFLICT     = "conflict"     // stale version, duplicate, or a concurrent change won
	EINTERNAL     = "internal"     // anything unexpected; its details are logged, never shown
	EINVALID      = "invalid"      // bad input, or a workflow guard refused
	ENOTFOUND     = "not_found"    // no such entity, or one the caller may not see
	EFORBIDDEN    = "forbidden"    // the caller's role may not do this
	EUNAUTHORIZED = "unauthorized" // no or bad credentials
)

// Error is the one error type of the domain. Its Message is safe to show to the
// caller: it must never quote an identity or a note, only public input such as
// an id, a state or a field name.
type Error struct {
	Code    string
	Message string
	// Failed names every guard or field that refused the request, in order,
	// so that a caller can fix everything at once.
	Failed []Failure
}

// Failure is one refused condition: a stable name and a human sentence.
type Failure struct {
	Name    string
	Message string
}

func (e *Error) Error() string {
	if len(e.Failed) == 0 {
		return fmt.Sprintf("remedy error: code=%s message=%s", e.Code, e.Message)
	}
	names := make([]string, len(e.Failed))
	for i, f := range e.Failed {
		names[i] = f.Name
	}
	return fmt.Sprintf("remedy error: code=%s message=%s failed=%s", e.Code, e.Message, strings.Join(names, ","))
}

// Errorf returns an *Error with the code and a formatted message.
// Never pass an identity or a note to it.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of err, EINTERNAL for any error that is not an
// *Error, and "" for nil.
func ErrorCode(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the caller-safe message of err; "Internal error." for
// anything that is not an *Error.
func ErrorMessage(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Message
	}
	return "Internal error."
}

// ErrorFailures returns the failed conditions carried by err, if any.
func ErrorFailures(err error) []Failure {
	var e *Error
	if errors.As(err, &e) {
		return e.Failed
	}
	return nil
}

// Validation collects field failures so that one error names all of them.
type Validation struct{ failed []Failure }

// Check records a failure named name when ok is false.
func (v *Validation) Check(ok bool, name, format string, args ...any) {
	if !ok {
		v.failed = append(v.failed, Failure{Name: name, Message: fmt.Sprintf(format, args...)})
	}
}

// Err returns an EINVALID error naming every failure, or nil.
func (v *Validation) Err(message string) error {
	if len(v.failed) == 0 {
		return nil
	}
	return &Error{Code: EINVALID, Message: message, Failed: v.failed}
}
