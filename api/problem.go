package api

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	cases "github.com/remedy-cases/remedy/case"
)

// Problem codes the API adds to the domain's.
const (
	codeBadRequest      = "bad_request"
	codeTooLarge        = "payload_too_large"
	codeTooManyRequests = "too_many_requests"
	codeMethod          = "method_not_allowed"
	codeUnavailable     = "service_unavailable"
)

// statusOf maps each domain error code to its one HTTP status.
var statusOf = map[string]int{
	cases.EINVALID:      http.StatusUnprocessableEntity,
	cases.ENOTFOUND:     http.StatusNotFound,
	cases.ECONFLICT:     http.StatusConflict,
	cases.EFORBIDDEN:    http.StatusForbidden,
	cases.EUNAUTHORIZED: http.StatusUnauthorized,
	cases.EINTERNAL:     http.StatusInternalServerError,
	codeBadRequest:      http.StatusBadRequest,
	codeTooLarge:        http.StatusRequestEntityTooLarge,
	cases.EUNSUPPORTED:  http.StatusUnsupportedMediaType,
	codeTooManyRequests: http.StatusTooManyRequests,
	codeMethod:          http.StatusMethodNotAllowed,
	codeUnavailable:     http.StatusServiceUnavailable,
}

// problemError is an error the API itself raises before the domain is
// reached: malformed input, a body too large, too many sign-in failures.
// Like a domain error, its message never repeats an input value.
type problemError struct {
	code       string
	message    string
	failed     []cases.Failure
	retryAfter int // seconds, for 429 and 503
}

func (e *problemError) Error() string { return e.code + ": " + e.message }

func badRequest(message string, failed ...cases.Failure) error {
	return &problemError{code: codeBadRequest, message: message, failed: failed}
}

func unauthorized(message string) error { return cases.Errorf(cases.EUNAUTHORIZED, "%s", message) }

// handleError writes err as an RFC 9457 problem. Anything that is neither a
// domain nor an API error is logged by type and request id, and answered
// "Internal error.": the error's text may hold data that must not leak.
func (s *Server) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	code, message, failed := cases.EINTERNAL, "Internal error.", []cases.Failure(nil)
	var (
		domain  *cases.Error
		problem *problemError
		httpErr *echo.HTTPError
	)
	switch {
	case errors.As(err, &domain):
		code, message, failed = domain.Code, domain.Message, domain.Failed
	case errors.As(err, &problem):
		code, message, failed = problem.code, problem.message, problem.failed
		if problem.retryAfter > 0 {
			c.Response().Header().Set("Retry-After", strconv.Itoa(problem.retryAfter))
		}
	case errors.As(err, &httpErr):
		// Echo's own errors (no route, wrong method, a parameter the generated
		// wrapper could not bind): say what the status says, never the detail.
		switch httpErr.Code {
		case http.StatusNotFound:
			code, message = cases.ENOTFOUND, "No such resource."
		case http.StatusMethodNotAllowed:
			code, message = codeMethod, "This resource does not support this method."
		case http.StatusRequestEntityTooLarge:
			code, message = codeTooLarge, "The request body is too large."
		case http.StatusBadRequest:
			code, message = codeBadRequest, "The request is malformed."
		case http.StatusUnauthorized:
			code, message = cases.EUNAUTHORIZED, "Authentication is required."
		default:
			s.Log.Error("unexpected http error", "status", httpErr.Code, "request_id", requestID(c))
		}
	default:
		s.Log.Error("internal error", "type", fmt.Sprintf("%T", err), "request_id", requestID(c), "route", c.Path())
	}
	status := statusOf[code]
	if status == 0 {
		status = http.StatusInternalServerError
	}
	pcode := ProblemCode(code)
	p := Problem{Type: "about:blank", Title: http.StatusText(status), Status: status, Detail: &message, Code: &pcode}
	if id := requestID(c); id != "" {
		p.RequestId = &id
	}
	if len(failed) > 0 {
		list := make([]Failure, len(failed))
		for i, f := range failed {
			list[i] = Failure{Name: f.Name, Message: f.Message}
		}
		p.Errors = &list
	}
	if status == http.StatusUnauthorized {
		c.Response().Header().Set("WWW-Authenticate", `Bearer realm="remedy"`)
	}
	if hasBody(c.Request()) && c.Get("body") == nil {
		// The body was refused unread: close the connection after this
		// answer, or net/http would first wait to read up to 256 KiB of it.
		c.Response().Header().Set(echo.HeaderConnection, "close")
	}
	c.Response().Header().Set(echo.HeaderContentType, "application/problem+json")
	c.Response().WriteHeader(status)
	if c.Request().Method != http.MethodHead {
		_ = encodeJSON(c.Response(), p)
	}
}
