// Package web is Remedy's web application for case workers and supervisors:
// server-rendered pages (html/template) with htmx for partial updates. Its
// handlers call the same domain services as the API, never the API itself
// and never storage, so that confidentiality, tenancy and the workflow are
// decided in one place.
package web

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/remedy-cases/remedy/auth"
	cases "github.com/remedy-cases/remedy/case"
)

// Services are the domain services the web app calls.
type Services struct {
	Cases     cases.CaseService
	Clients   cases.ClientService
	Factories cases.FactoryService
	Users     cases.UserService
	Locales   cases.LocaleService
	Sessions  cases.SessionService
	Auth      *auth.Authenticator
	// Documents takes the photos of the verification and follow-up forms;
	// nil answers their uploads 404.
	Documents cases.DocumentService
	// Intake opens the identity a phone sealed (auditor.go); the case
	// service's own when nil and it is one.
	Intake cases.IntakeService
	// Accounts changes users' access and issues password links (admin.go);
	// the user service's own when nil and it is one.
	Accounts cases.AccountService
	// Ledger keeps the stipends the case page shows and records, and the
	// brand's ledger; nil hides the ledger and answers its forms 404.
	Ledger cases.LedgerService
	// Reports and Audit serve the brand's and the admin's pages (brand.go,
	// admin.go); nil answers those pages 404.
	Reports cases.ReportService
	Audit   cases.AuditService
	// Verifier checks a monthly report's signature on the public page
	// /verify; nil answers it 404.
	Verifier cases.ReportVerifier
}

// Config is what a Handler needs.
type Config struct {
	Services
	Log *slog.Logger
	// Now returns the time; time.Now if nil.
	Now func() time.Time
	// Zone is where dates and times are shown; Asia/Shanghai if nil.
	Zone *time.Location
	// IdleTimeout ends a session unused for that long (30 minutes if zero);
	// AbsoluteTimeout ends it however busy (12 hours if zero).
	IdleTimeout, AbsoluteTimeout time.Duration
	// TrustedProxies may set X-Forwarded-For and X-Forwarded-Proto.
	TrustedProxies []*net.IPNet
	// MissingMessage, when set, is told of every message id a catalogue
	// lacks (tests fail on it); otherwise the first of each is logged.
	MissingMessage func(locale, id string)
	// GraceDays is how long a month's stipend may stay unpaid before it is
	// in arrears (REMEDY_ARREARS_DAYS); cases.DefaultGraceDays if zero.
	GraceDays int
}

// Handler serves the web app.
type Handler struct {
	Config
	mux     *http.ServeMux
	i18n    *translator
	pages   map[string]*pageSet // by locale
	assets  *assets
	origins *http.CrossOriginProtection
	// reported remembers the missing messages already logged.
	reported sync.Map
}

// New builds the web app over cfg's services.
func New(cfg Config) (*Handler, error) {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Zone == nil {
		z, err := time.LoadLocation("Asia/Shanghai")
		if err != nil {
			return nil, fmt.Errorf("web: time zone: %w", err)
		}
		cfg.Zone = z
	}
	if cfg.IdleTimeout == 0 {
		cfg.IdleTimeout = 30 * time.Minute
	}
	if cfg.AbsoluteTimeout == 0 {
		cfg.AbsoluteTimeout = 12 * time.Hour
	}
	if cfg.Cases == nil || cfg.Users == nil || cfg.Sessions == nil || cfg.Auth == nil || cfg.Locales == nil ||
		cfg.Clients == nil || cfg.Factories == nil {
		return nil, errors.New("web: every service is required")
	}
	h := &Handler{Config: cfg, mux: http.NewServeMux(), origins: http.NewCrossOriginProtection()}
	var err error
	if h.assets, err = loadAssets(); err != nil {
		return nil, err
	}
	if h.i18n, err = newTranslator(cfg.Zone, h.missing); err != nil {
		return nil, err
	}
	if h.pages, err = h.parsePages(); err != nil {
		return nil, err
	}
	h.routes()
	return h, nil
}

func (h *Handler) routes() {
	m := h.mux
	m.HandleFunc("GET /static/{hash}/{name}", h.serveAsset)
	m.Handle("GET /signin", h.public(h.signInPage))
	m.Handle("POST /signin", h.public(h.signIn))
	m.Handle("POST /language", h.public(h.setLanguage))
	m.Handle("GET /verify", h.public(h.verifyPage))
	m.Handle("POST /verify", h.public(h.verifyUpload))
	m.Handle("POST /signout", h.private(h.signOut))
	m.Handle("GET /{$}", h.private(h.roleHome))
	h.routesPart2()
	m.Handle("GET /cases", h.private(h.search))
	m.Handle("GET /cases/new", h.private(h.newCasePage))
	m.Handle("POST /cases", h.private(h.fileCase))
	m.Handle("GET /cases/{id}", h.private(h.casePage))
	m.Handle("POST /cases/{id}/assign", h.private(h.assign))
	m.Handle("POST /cases/{id}/removal", h.private(h.removal))
	m.Handle("POST /cases/{id}/verification", h.private(h.verification))
	m.Handle("POST /cases/{id}/plan", h.private(h.plan))
	m.Handle("POST /cases/{id}/follow-ups", h.private(h.followUp))
	m.Handle("POST /cases/{id}/documents", h.private(h.attach))
	m.Handle("GET /cases/{id}/documents/{document}", h.private(h.documentPage))
	m.Handle("POST /cases/{id}/documents/{document}", h.private(h.openDocument))
	m.Handle("POST /cases/{id}/transitions", h.private(h.transition))
	m.Handle("POST /cases/{id}/alert", h.private(h.resolveAlert))
	m.Handle("POST /cases/{id}/facts", h.private(h.facts))
	m.Handle("POST /cases/{id}/payments", h.private(h.payment))
	m.Handle("POST /cases/{id}/payments/{payment}/reversal", h.private(h.reversePayment))
	m.Handle("GET /cases/{id}/reveal", h.private(h.revealPage))
	m.Handle("POST /cases/{id}/reveal", h.private(h.reveal))
	m.Handle("POST /cases/{id}/identity", h.private(h.correctIdentity))
	m.Handle("/", h.public(h.notFound))
}

// Route names the route template that serves r, for logs and metrics: never
// the URL, which could carry input.
func (h *Handler) Route(r *http.Request) string {
	_, pattern := h.mux.Handler(r)
	if _, path, ok := strings.Cut(pattern, " "); ok {
		return path
	}
	if pattern == "" {
		return "unmatched"
	}
	return pattern
}

// ServeHTTP sets the web app's security headers and serves r.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	hd.Set("Content-Security-Policy", contentSecurityPolicy)
	hd.Set("Referrer-Policy", "no-referrer")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("Cross-Origin-Opener-Policy", "same-origin")
	hd.Set("Cross-Origin-Resource-Policy", "same-origin")
	hd.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=(), usb=()")
	if h.secure(r) {
		hd.Set("Strict-Transport-Security", "max-age=31536000")
	}
	h.mux.ServeHTTP(w, r)
}

// contentSecurityPolicy allows nothing but this origin's own files: no
// inline script or style, no frames, no other origin.
const contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; " +
	"connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; manifest-src 'self'; worker-src 'self'"

// secure reports whether r came over HTTPS, directly or through a trusted proxy.
func (h *Handler) secure(r *http.Request) bool {
	if r.TLS != nil {
		return true
	}
	return h.fromTrustedProxy(r) && strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https")
}

func (h *Handler) fromTrustedProxy(r *http.Request) bool {
	return h.trusted(peerIP(r))
}

func (h *Handler) trusted(ip net.IP) bool {
	for _, n := range h.TrustedProxies {
		if ip != nil && n.Contains(ip) {
			return true
		}
	}
	return false
}

func peerIP(r *http.Request) net.IP {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	return net.ParseIP(host)
}

// clientAddr is the address the sign-in throttle counts: the peer, or,
// behind trusted proxies, the nearest address in X-Forwarded-For that is
// not one of them.
func (h *Handler) clientAddr(r *http.Request) string {
	ip := peerIP(r)
	if h.trusted(ip) {
		hops := strings.Split(r.Header.Get("X-Forwarded-For"), ",")
		for i := len(hops) - 1; i >= 0; i-- {
			hop := net.ParseIP(strings.TrimSpace(hops[i]))
			if hop == nil {
				break
			}
			ip = hop
			if !h.trusted(hop) {
				break
			}
		}
	}
	if ip == nil {
		return "unknown"
	}
	return ip.String()
}

// errRedirect ends a handler with a redirect that write already sent.
var errHandled = errors.New("handled")

// write sends a rendered page, compressed when the browser accepts it.
func write(w http.ResponseWriter, r *http.Request, status int, body []byte, compress bool) {
	hd := w.Header()
	hd.Set("Content-Type", "text/html; charset=utf-8")
	hd.Add("Vary", "Accept-Encoding")
	if compress && acceptsGzip(r) && len(body) > 512 {
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
		_, _ = zw.Write(body)
		_ = zw.Close()
		hd.Set("Content-Encoding", "gzip")
		body = buf.Bytes()
	}
	hd.Set("Content-Length", fmt.Sprint(len(body)))
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
}

func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		enc, q, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(enc), "gzip") && strings.TrimSpace(q) != "q=0" {
			return true
		}
	}
	return false
}

// logError logs what went wrong without a word of input: the route, the
// error's domain code and Go type.
func (h *Handler) logError(ctx context.Context, r *http.Request, err error) {
	h.Log.LogAttrs(ctx, slog.LevelError, "web error", slog.String("route", h.Route(r)),
		slog.String("code", cases.ErrorCode(err)), slog.String("type", fmt.Sprintf("%T", err)))
}
