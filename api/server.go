// Package api is Remedy's HTTP adapter: the routes generated from
// openapi.yaml, over the domain's services. It knows the domain and nothing
// of storage.
package api

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/remedy-cases/remedy/auth"
	cases "github.com/remedy-cases/remedy/case"
)

// Pinger reports whether the database answers.
type Pinger interface {
	Ping(ctx context.Context) error
}

// Services are the domain services the API serves.
type Services struct {
	Cases     cases.CaseService
	Clients   cases.ClientService
	Factories cases.FactoryService
	Users     cases.UserService
	Audit     cases.AuditService
	Reports   cases.ReportService
}

// ReportGenerator generates a client's report for a month on demand, as a
// new version, and has it delivered.
type ReportGenerator interface {
	GenerateNow(ctx context.Context, actor cases.Actor, clientID uuid.UUID, month cases.Month) (*cases.MonthlyReport, error)
}

// Config is what a Server needs.
type Config struct {
	Services
	DB  Pinger
	Log *slog.Logger
	// Generator serves POST /v1/monthly-reports.
	Generator ReportGenerator

	// SigningKey signs access tokens (EdDSA); its public half verifies them.
	SigningKey ed25519.PrivateKey
	// Issuer and Audience go into every token and are required back.
	Issuer, Audience string
	// TokenTTL is how long an access token lives; 15 minutes if zero.
	TokenTTL time.Duration
	// MaxBodyBytes caps a request body; 256 KiB if zero.
	MaxBodyBytes int64
	// CORSOrigins lists the browser origins allowed to call the API; empty
	// turns CORS off.
	CORSOrigins []string
	// TrustedProxies may set X-Forwarded-For; otherwise the peer's address is
	// the client's.
	TrustedProxies []*net.IPNet
	// Now returns the time; time.Now if nil.
	Now func() time.Time
	// Auth checks passwords, throttles and audits sign-ins; shared with the
	// web app so that both doors count the same failures. Nil makes one
	// over Users and Audit with an in-memory throttle.
	Auth *auth.Authenticator
	// Web serves every path the API does not own (see apiPath); nil
	// answers them 404 like any unknown route.
	Web http.Handler
}

// Server is the HTTP server.
type Server struct {
	Config
	echo     *echo.Echo
	spec     *Spec
	tokens   *tokens
	metrics  *metrics
	listener net.Listener
}

// NewServer builds the routes of the OpenAPI document over cfg's services.
func NewServer(cfg Config) (*Server, error) {
	if cfg.TokenTTL == 0 {
		cfg.TokenTTL = 15 * time.Minute
	}
	if cfg.MaxBodyBytes == 0 {
		cfg.MaxBodyBytes = 256 << 10
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	spec, err := LoadSpec()
	if err != nil {
		return nil, err
	}
	tokens, err := newTokens(cfg.SigningKey, cfg.Issuer, cfg.Audience, cfg.TokenTTL, cfg.Now)
	if err != nil {
		return nil, err
	}
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	if cfg.Auth == nil {
		cfg.Auth = auth.New(cfg.Users, cfg.Audit, cfg.Now)
	}
	s := &Server{Config: cfg, echo: e, spec: spec, tokens: tokens, metrics: newMetrics()}
	e.HTTPErrorHandler = s.handleError
	e.IPExtractor = echo.ExtractIPDirect()
	if len(cfg.TrustedProxies) > 0 {
		var opts []echo.TrustOption
		for _, r := range cfg.TrustedProxies {
			opts = append(opts, echo.TrustIPRange(r))
		}
		e.IPExtractor = echo.ExtractIPFromXFFHeader(append(opts, echo.TrustLoopback(false), echo.TrustPrivateNet(false), echo.TrustLinkLocal(false))...)
	}

	e.Use(s.recoverPanic, s.requestID, s.observe, s.headers)
	if len(cfg.CORSOrigins) > 0 {
		e.Use(middleware.CORSWithConfig(middleware.CORSConfig{AllowOrigins: cfg.CORSOrigins,
			AllowHeaders: []string{echo.HeaderAuthorization, echo.HeaderContentType, "Idempotency-Key"},
			MaxAge:       600}))
	}
	e.Use(s.capBody)

	perOp := map[string][]echo.MiddlewareFunc{}
	for _, op := range spec.Operations() {
		perOp[op.ID] = []echo.MiddlewareFunc{s.guard(op)}
	}
	RegisterHandlersWithOptions(e, handlers{s}, RegisterHandlersOptions{OperationMiddlewares: perOp})
	if cfg.Web != nil {
		e.RouteNotFound("/*", s.web)
	}
	return s, nil
}

// apiPath reports whether path belongs to the API, whose unknown routes
// stay problem documents; every other path is the web app's.
func apiPath(path string) bool {
	switch path {
	case "/v1", "/healthz", "/readyz", "/metrics", "/openapi.yaml":
		return true
	}
	return strings.HasPrefix(path, "/v1/") || strings.HasPrefix(path, "/.well-known/")
}

// web hands a path the API does not own to the web app, naming its route
// template (never the URL) for the request log and the metrics.
func (s *Server) web(c echo.Context) error {
	r := c.Request()
	if apiPath(r.URL.Path) {
		return echo.ErrNotFound
	}
	if rt, ok := s.Web.(interface{ Route(*http.Request) string }); ok {
		c.SetPath(rt.Route(r))
	}
	s.Web.ServeHTTP(c.Response(), r)
	return nil
}

// Handler returns the server's root handler.
func (s *Server) Handler() http.Handler { return s.echo }

// Spec returns the OpenAPI document the server follows.
func (s *Server) Spec() *Spec { return s.spec }

// Routes lists the routes the router holds, as "METHOD /path".
func (s *Server) Routes() []string {
	var out []string
	for _, r := range s.echo.Routes() {
		out = append(out, r.Method+" "+r.Path)
	}
	return out
}

// Open starts listening on addr; ":0" picks a free port.
func (s *Server) Open(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	s.listener = ln
	s.echo.Listener = ln
	srv := s.echo.Server
	srv.ReadHeaderTimeout = 10 * time.Second
	srv.ReadTimeout = 30 * time.Second
	srv.WriteTimeout = 60 * time.Second
	srv.IdleTimeout = 120 * time.Second
	// Large enough that an oversized Authorization header reaches the
	// authentication, which refuses it with 401 rather than a bare 431.
	srv.MaxHeaderBytes = 2 << 20
	go func() {
		if err := s.echo.Start(""); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.Log.Error("http server stopped", "err", err)
		}
	}()
	return nil
}

// Addr is the address the server listens on.
func (s *Server) Addr() string { return s.listener.Addr().String() }

// Close stops accepting requests and waits for those under way until ctx ends.
func (s *Server) Close(ctx context.Context) error { return s.echo.Shutdown(ctx) }

func (s *Server) recoverPanic(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) (err error) {
		defer func() {
			if r := recover(); r != nil {
				if r == http.ErrAbortHandler {
					panic(r)
				}
				// The panic value may hold request data: log its type only.
				s.Log.Error("panic", "type", fmt.Sprintf("%T", r), "route", c.Path(), "request_id", requestID(c))
				err = errors.New("panic")
			}
		}()
		return next(c)
	}
}

var requestIDPattern = regexp.MustCompile(`^[A-Za-z0-9._-]{8,64}$`)

// requestID keeps a caller's request id if it looks like one, and makes one
// otherwise, so that a log line can be matched with a problem document.
func (s *Server) requestID(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		id := c.Request().Header.Get(echo.HeaderXRequestID)
		if !requestIDPattern.MatchString(id) {
			id = uuid.NewString()
		}
		c.Set("request_id", id)
		c.Response().Header().Set(echo.HeaderXRequestID, id)
		return next(c)
	}
}

func requestID(c echo.Context) string {
	id, _ := c.Get("request_id").(string)
	return id
}

// observe logs one line per request and counts it. The line names the route
// template, never the URL: a query string or path could carry input.
func (s *Server) observe(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		err := next(c)
		if err != nil {
			c.Error(err)
		}
		elapsed := time.Since(start)
		route := c.Path()
		if route == "" {
			route = "unmatched"
		}
		status := c.Response().Status
		s.metrics.observe(c.Request().Method, route, status, elapsed)
		attrs := []slog.Attr{slog.String("method", c.Request().Method), slog.String("route", route),
			slog.Int("status", status), slog.Duration("duration", elapsed), slog.String("request_id", requestID(c))}
		if actor, ok := c.Get("actor").(cases.Actor); ok {
			attrs = append(attrs, slog.String("user_id", actor.UserID.String()), slog.String("role", string(actor.Role)))
		}
		level := slog.LevelInfo
		if status >= 500 {
			level = slog.LevelError
		}
		s.Log.LogAttrs(c.Request().Context(), level, "request", attrs...)
		return nil
	}
}

// headers marks every /v1 answer as not to be stored by any cache: they are
// about children and change with each case's version.
func (s *Server) headers(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Response().Header()
		h.Set("X-Content-Type-Options", "nosniff")
		if strings.HasPrefix(c.Request().URL.Path, "/v1/") {
			h.Set("Cache-Control", "no-store")
		}
		return next(c)
	}
}

// capBody reads the body through http.MaxBytesReader once, so that the
// validator and the handler read the same bytes and a large body is refused
// before either of them reads it.
func (s *Server) capBody(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		if r.Body == nil || r.Body == http.NoBody {
			return next(c)
		}
		if r.ContentLength > s.MaxBodyBytes {
			return s.tooLarge()
		}
		data, err := io.ReadAll(http.MaxBytesReader(c.Response(), r.Body, s.MaxBodyBytes))
		if err != nil {
			var maxErr *http.MaxBytesError
			if errors.As(err, &maxErr) {
				return s.tooLarge()
			}
			return badRequest("The request body could not be read.")
		}
		r.Body = io.NopCloser(bytes.NewReader(data))
		c.Set("body", data)
		return next(c)
	}
}

func (s *Server) tooLarge() error {
	return &problemError{code: codeTooLarge, message: fmt.Sprintf("The request body is larger than %d bytes.", s.MaxBodyBytes)}
}

// guard authenticates and authorises a call of op by its x-roles, then
// validates the request against the document.
func (s *Server) guard(op *Operation) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if !op.Public() {
				actor, err := s.authenticate(c)
				if err != nil {
					return err
				}
				c.Set("actor", actor)
				if !op.Allows(actor.Role) {
					return cases.Errorf(cases.EFORBIDDEN, "The role %s may not do this.", actor.Role)
				}
			}
			if err := s.validate(c, op); err != nil {
				return err
			}
			return next(c)
		}
	}
}

// actorOf returns the authenticated caller.
func actorOf(c echo.Context) cases.Actor {
	a, _ := c.Get("actor").(cases.Actor)
	return a
}
