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
	Ledger    cases.LedgerService
	// Documents attaches and opens files; nil answers its operations 404.
	Documents cases.DocumentService
	// SignIns keeps the sign-in throttle's counts, shared by the servers.
	SignIns cases.SignInThrottleService
	// Webhooks registers endpoints; nil answers its operations 404.
	Webhooks cases.WebhookService
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
	// ReportKeys serves the published report-signing keys and the public
	// verification of a report; nil answers both 404.
	ReportKeys cases.ReportVerifier
	// WebhookAllowPrivate lets endpoints resolve to loopback, private and
	// link-local addresses (REMEDY_WEBHOOK_ALLOW_PRIVATE).
	WebhookAllowPrivate bool

	// SigningKey signs access tokens (EdDSA); its public half verifies them.
	SigningKey ed25519.PrivateKey
	// Issuer and Audience go into every token and are required back.
	Issuer, Audience string
	// TokenTTL is how long an access token lives; 15 minutes if zero.
	TokenTTL time.Duration
	// MaxBodyBytes caps the body of an authenticated request; 256 KiB if zero.
	MaxBodyBytes int64
	// PublicMaxBodyBytes caps the body of a request to a public operation
	// (the sign-in); 4 KiB if zero.
	PublicMaxBodyBytes int64
	// PublicBodyTimeout is how long a client has to send the body of a
	// request to a public operation; 5 seconds if zero. Authenticated
	// requests have the server's read timeout.
	PublicBodyTimeout time.Duration
	// AddressLimit and UserLimit are the rate limits per client address
	// (every request but the health probes) and per signed-in user (every
	// operation that needs a token), kept in this process. Zero: no limit.
	AddressLimit, UserLimit RateLimit
	// CORSOrigins lists the browser origins allowed to call the API; empty
	// turns CORS off.
	CORSOrigins []string
	// TrustedProxies may set X-Forwarded-For; otherwise the peer's address is
	// the client's.
	TrustedProxies []*net.IPNet
	// Now returns the time; time.Now if nil.
	Now func() time.Time
	// Zone is the organisation's time zone, which decides calendar months
	// and days (REMEDY_REPORT_ZONE); UTC if nil.
	Zone *time.Location
	// Build names the running build in the remedy_build_info metric.
	Build BuildInfo
	// ArrearsDays is how long a month's stipend may stay unpaid after it
	// falls due before its case is in arrears; cases.DefaultGraceDays if 0.
	ArrearsDays int
	// Auth checks passwords, throttles and audits sign-ins; shared with the
	// web app so that both doors count the same failures. Nil makes one
	// over Users, Audit and SignIns.
	Auth *auth.Authenticator
	// Web serves every path the API does not own (see apiPath); nil
	// answers them 404 like any unknown route.
	Web http.Handler
	// TransferTimeout is how long an allowed upload or download of a
	// document may take, instead of the server's read and write timeouts
	// (a 20 MiB photo on a weak phone connection); 15 minutes if zero.
	TransferTimeout time.Duration
}

// Server is the HTTP server.
type Server struct {
	Config
	echo     *echo.Echo
	spec     *Spec
	tokens   *tokens
	metrics  *metrics
	listener net.Listener
	// byAddress and byUser are the rate limiters; nil when off.
	byAddress, byUser *limiter
}

// NewServer builds the routes of the OpenAPI document over cfg's services.
func NewServer(cfg Config) (*Server, error) {
	if cfg.TokenTTL == 0 {
		cfg.TokenTTL = 15 * time.Minute
	}
	if cfg.MaxBodyBytes == 0 {
		cfg.MaxBodyBytes = 256 << 10
	}
	if cfg.PublicMaxBodyBytes == 0 {
		cfg.PublicMaxBodyBytes = 4 << 10
	}
	if cfg.PublicBodyTimeout == 0 {
		cfg.PublicBodyTimeout = 5 * time.Second
	}
	if cfg.TransferTimeout == 0 {
		cfg.TransferTimeout = 15 * time.Minute
	}
	for _, l := range []RateLimit{cfg.AddressLimit, cfg.UserLimit} {
		if err := l.Validate(); err != nil {
			return nil, fmt.Errorf("api: %w", err)
		}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Zone == nil {
		cfg.Zone = time.UTC
	}
	if cfg.ArrearsDays == 0 {
		cfg.ArrearsDays = cases.DefaultGraceDays
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
		cfg.Auth = auth.New(cfg.Users, cfg.Audit, cfg.SignIns)
		cfg.Auth.Now = cfg.Now
	}
	s := &Server{Config: cfg, echo: e, spec: spec, tokens: tokens, metrics: newMetrics(cfg.Build),
		byAddress: newLimiter(policyAddress, cfg.AddressLimit, cfg.Now), byUser: newLimiter(policyUser, cfg.UserLimit, cfg.Now)}
	e.HTTPErrorHandler = s.handleError
	e.JSONSerializer = jsonSerializer{}
	e.IPExtractor = echo.ExtractIPDirect()
	if len(cfg.TrustedProxies) > 0 {
		var opts []echo.TrustOption
		for _, r := range cfg.TrustedProxies {
			opts = append(opts, echo.TrustIPRange(r))
		}
		e.IPExtractor = echo.ExtractIPFromXFFHeader(append(opts, echo.TrustLoopback(false), echo.TrustPrivateNet(false), echo.TrustLinkLocal(false))...)
	}

	// No middleware reads the body: guard does, for an operation that takes
	// one, once the caller is authenticated and allowed.
	e.Use(s.recoverPanic, s.dropUnreadBody, s.requestID, s.observe, s.headers, s.limitAddress)
	if len(cfg.CORSOrigins) > 0 {
		e.Use(middleware.CORSWithConfig(middleware.CORSConfig{AllowOrigins: cfg.CORSOrigins,
			AllowHeaders:  []string{echo.HeaderAuthorization, echo.HeaderContentType, "Idempotency-Key"},
			ExposeHeaders: []string{"RateLimit", "RateLimit-Policy", "Retry-After", echo.HeaderXRequestID},
			MaxAge:        600}))
	}

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
	c.Set("web", true)
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

// dropUnreadBody ends the connection of a request whose body was refused
// unread (the caller was not authenticated or allowed, the operation takes
// no body, a rate limit) once the answer is written. Otherwise net/http
// would read up to 256 KiB of the body before closing or reusing the
// connection, and a client sending a byte a second would hold it until
// the read timeout.
func (s *Server) dropUnreadBody(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		err := next(c)
		// The web app reads (and bounds) its own forms.
		if hasBody(c.Request()) && c.Get("body") == nil && c.Get("web") == nil {
			// The answer says Connection: close (handleError and readBody set
			// it); an expired read deadline makes net/http stop reading now.
			_ = http.NewResponseController(c.Response()).SetReadDeadline(time.Now())
		}
		return err
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
		method := methodLabel(c.Request().Method)
		s.metrics.observe(method, route, status, elapsed)
		attrs := []slog.Attr{slog.String("method", method), slog.String("route", route),
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

// hasBody reports whether the request comes with a body, declared or chunked.
func hasBody(r *http.Request) bool {
	return r.Body != nil && r.Body != http.NoBody && r.ContentLength != 0
}

// readBody reads the body of a request to op once, through
// http.MaxBytesReader, so that the validator and the handler read the same
// bytes, and refuses a body with a duplicate object key. A public
// operation's body (the sign-in's) has a small cap and a short deadline: a
// client with no token cannot hold a connection by sending it slowly.
func (s *Server) readBody(c echo.Context, op *Operation) error {
	r := c.Request()
	if !hasBody(r) {
		return nil
	}
	if !op.hasBody {
		// A body the operation does not take is never read: the connection
		// closes after the answer rather than wait for it.
		c.Response().Header().Set(echo.HeaderConnection, "close")
		return nil
	}
	if op.streamed {
		// A file: its handler streams it, capped at the document size limit.
		return nil
	}
	limit := s.MaxBodyBytes
	if op.Public() {
		limit = s.PublicMaxBodyBytes
		// On a connection of the real server; a test's recorder has no
		// deadline to set.
		_ = http.NewResponseController(c.Response()).SetReadDeadline(time.Now().Add(s.PublicBodyTimeout))
	}
	if r.ContentLength > limit {
		return tooLarge(limit)
	}
	data, err := io.ReadAll(http.MaxBytesReader(c.Response(), r.Body, limit))
	if err != nil {
		var maxErr *http.MaxBytesError
		if errors.As(err, &maxErr) {
			return tooLarge(limit)
		}
		return badRequest("The request body could not be read.")
	}
	if name, ok := duplicateKey(data); ok {
		return badRequest("The body has a key twice.", cases.Failure{Name: name, Message: "appears more than once in its object"})
	}
	r.Body = io.NopCloser(bytes.NewReader(data))
	c.Set("body", data)
	return nil
}

func tooLarge(limit int64) error {
	return &problemError{code: codeTooLarge, message: fmt.Sprintf("The request body is larger than %d bytes.", limit)}
}

// guard runs before each operation: it authenticates the caller from the
// headers (unless the operation is public), applies the per-user rate
// limit, checks the caller's role against op's x-roles, and only then reads
// the body and validates the request against the document. The body of a
// request refused on the way is never read.
func (s *Server) guard(op *Operation) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if !op.Public() {
				actor, err := s.authenticate(c)
				if err != nil {
					return err
				}
				c.Set("actor", actor)
				if err := s.limit(c, s.byUser, actor.UserID.String()); err != nil {
					return err
				}
				if !op.Allows(actor.Role) {
					return cases.Errorf(cases.EFORBIDDEN, "The role %s may not do this.", actor.Role)
				}
			}
			if err := s.readBody(c, op); err != nil {
				return err
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
