package web

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"mime/multipart"
	"net/http"
	"strings"

	cases "github.com/remedy-cases/remedy/case"
)

// Cookie names. Over HTTPS the __Host- prefix pins the cookie to this
// host and path, Secure, with no Domain.
const (
	sessionCookie    = "remedy_session"
	presessionCookie = "remedy_presession" // the CSRF secret of a browser not signed in
	languageCookie   = "remedy_lang"       // a signed-out browser's language choice
	deviceCookie     = "remedy_device"     // this browser signed in before (OWASP's device cookie)
)

// deviceCookieAge is the device cookie's lifetime in seconds: as long as
// the throttle trusts it, 90 days.
const deviceCookieAge = 90 * 24 * 60 * 60

func (h *Handler) cookieName(r *http.Request, name string) string {
	if h.secure(r) {
		return "__Host-" + name
	}
	return name
}

func (h *Handler) setCookie(w http.ResponseWriter, r *http.Request, name, value string, maxAge int, sameSite http.SameSite) {
	http.SetCookie(w, &http.Cookie{Name: h.cookieName(r, name), Value: value, Path: "/", MaxAge: maxAge,
		HttpOnly: true, Secure: h.secure(r), SameSite: sameSite})
}

func (h *Handler) cookie(r *http.Request, name string) string {
	c, err := r.Cookie(h.cookieName(r, name))
	if err != nil {
		return ""
	}
	return c.Value
}

// request is one request as a handler sees it: who asks, in which
// language, and the CSRF token its forms carry.
type request struct {
	w       http.ResponseWriter
	r       *http.Request
	h       *Handler
	loc     *locale
	session *cases.Session
	token   string // the session cookie's value
	user    *cases.User
	actor   cases.Actor
	csrf    string // masked CSRF token for this response's forms
	htmx    bool
	parts   *multipart.Reader // a file upload's body, once its reading began
}

type handlerFunc func(q *request) error

// public serves a page that needs no session (but uses one if present).
func (h *Handler) public(fn handlerFunc) http.Handler { return h.serve(fn, false) }

// private serves a page only to a signed-in, enabled user; anyone else is
// sent to sign in.
func (h *Handler) private(fn handlerFunc) http.Handler { return h.serve(fn, true) }

func (h *Handler) serve(fn handlerFunc, signedIn bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		q := &request{w: w, r: r, h: h, htmx: r.Header.Get("HX-Request") == "true"}
		if err := q.loadSession(); err != nil {
			h.fail(q, err)
			return
		}
		q.loc = h.i18n.locale(h.languageOf(q))
		if signedIn && q.user == nil {
			q.redirect("/signin")
			return
		}
		if !safeMethod(r.Method) {
			if err := h.checkCSRF(q); err != nil {
				h.fail(q, err)
				return
			}
		}
		q.csrf = maskToken(q.csrfSecret())
		if err := fn(q); err != nil && !errors.Is(err, errHandled) {
			h.fail(q, err)
		}
	})
}

func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

// loadSession reads the session and its user again on every request, so
// that a sign-out elsewhere or a disabled account takes effect at once.
func (q *request) loadSession() error {
	q.token = q.h.cookie(q.r, sessionCookie)
	if q.token == "" {
		return nil
	}
	ctx := q.r.Context()
	s, err := q.h.Sessions.FindSession(ctx, q.token)
	if cases.ErrorCode(err) == cases.ENOTFOUND {
		q.h.setCookie(q.w, q.r, sessionCookie, "", -1, http.SameSiteLaxMode)
		q.token = ""
		return nil
	} else if err != nil {
		return err
	}
	u, err := q.h.Users.FindUserByID(ctx, s.UserID)
	if err != nil {
		return err
	}
	if u.Disabled {
		if _, err := q.h.Sessions.DeleteUserSessions(ctx, cases.SystemActor, u.ID); err != nil {
			return err
		}
		q.h.setCookie(q.w, q.r, sessionCookie, "", -1, http.SameSiteLaxMode)
		q.token = ""
		return nil
	}
	q.session, q.user, q.actor = s, u, u.Actor()
	return nil
}

// csrfSecret is the session's CSRF secret, or for a browser not signed in
// a random one kept in a cookie of its own (made on first use).
func (q *request) csrfSecret() []byte {
	if q.session != nil {
		return q.session.CSRFSecret
	}
	if v := q.h.cookie(q.r, presessionCookie); v != "" {
		if b, err := base64.RawURLEncoding.DecodeString(v); err == nil && len(b) == 32 {
			return b
		}
	}
	secret := make([]byte, 32)
	_, _ = rand.Read(secret)
	q.h.setCookie(q.w, q.r, presessionCookie, base64.RawURLEncoding.EncodeToString(secret), 0, http.SameSiteStrictMode)
	q.r.AddCookie(&http.Cookie{Name: q.h.cookieName(q.r, presessionCookie), Value: base64.RawURLEncoding.EncodeToString(secret)})
	return secret
}

var errCSRF = errors.New("cross-site request refused")

// checkCSRF refuses a state-changing request that another site sent
// (Sec-Fetch-Site, Origin) or that lacks this session's token, from the
// form field csrf or the X-CSRF-Token header that htmx sends.
func (h *Handler) checkCSRF(q *request) error {
	if err := h.origins.Check(q.r); err != nil {
		return errCSRF
	}
	token := q.r.Header.Get("X-CSRF-Token")
	if token == "" && isMultipart(q.r) {
		// A file sent without script: the token is its form's first part.
		token = q.multipartToken()
	} else if token == "" {
		q.r.Body = http.MaxBytesReader(q.w, q.r.Body, maxFormBytes)
		if err := q.r.ParseForm(); err != nil {
			return errCSRF
		}
		token = q.r.PostForm.Get("csrf")
	}
	var secret []byte
	if q.session != nil {
		secret = q.session.CSRFSecret
	} else if v := h.cookie(q.r, presessionCookie); v != "" {
		secret, _ = base64.RawURLEncoding.DecodeString(v)
	}
	if len(secret) != 32 || !validToken(token, secret) {
		return errCSRF
	}
	return nil
}

// maxFormBytes caps a form; the largest, a report, is a few kilobytes.
const maxFormBytes = 64 << 10

// maskToken returns the secret XORed with a fresh pad, pad first, so that a
// compressed page never repeats the same token bytes (BREACH).
func maskToken(secret []byte) string {
	out := make([]byte, 2*len(secret))
	_, _ = rand.Read(out[:len(secret)])
	for i, b := range secret {
		out[len(secret)+i] = out[i] ^ b
	}
	return base64.RawURLEncoding.EncodeToString(out)
}

func validToken(token string, secret []byte) bool {
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimSpace(token))
	if err != nil || len(b) != 2*len(secret) {
		return false
	}
	plain := make([]byte, len(secret))
	for i := range secret {
		plain[i] = b[i] ^ b[len(secret)+i]
	}
	return subtle.ConstantTimeCompare(plain, secret) == 1
}

// redirect sends the browser to path (a local path the handler chose),
// with htmx's header for requests htmx made.
func (q *request) redirect(path string) {
	if q.htmx {
		q.w.Header().Set("HX-Redirect", path)
		q.w.WriteHeader(http.StatusNoContent)
		return
	}
	http.Redirect(q.w, q.r, path, http.StatusSeeOther)
}

// languageOf picks the language: the session's (the user's choice), a
// signed-out browser's choice, then Accept-Language.
func (h *Handler) languageOf(q *request) string {
	if q.session != nil && q.session.Locale != "" {
		return q.session.Locale
	}
	if l := h.cookie(q.r, languageCookie); cases.ValidLocale(l) {
		return l
	}
	return h.i18n.negotiate(q.r.Header.Get("Accept-Language"))
}
