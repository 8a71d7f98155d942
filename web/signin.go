package web

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/remedy-cases/remedy/auth"
	cases "github.com/remedy-cases/remedy/case"
)

type signInView struct {
	Email string
	Error string
}

func (h *Handler) signInPage(q *request) error {
	if q.user != nil {
		q.redirect("/")
		return nil
	}
	return q.render(http.StatusOK, "signin", "", q.loc.T("signin.title"), &signInView{})
}

// signIn checks the credentials through the same Authenticator as the API
// (the same throttle and audit), then opens a new session: a session id
// is never reused across a sign-in.
func (h *Handler) signIn(q *request) error {
	email := strings.TrimSpace(q.r.PostFormValue("email"))
	password := q.r.PostFormValue("password")
	v := &signInView{Email: email}
	ctx := q.r.Context()
	u, device, err := h.Auth.SignIn(ctx, auth.Attempt{Email: email, Password: password, Address: h.clientAddr(q.r),
		Device: h.cookie(q.r, deviceCookie)})
	if wait, ok := auth.Throttled(err); ok {
		v.Error = q.loc.T("signin.throttled", "Minutes", int(wait/time.Minute)+1)
		q.w.Header().Set("Retry-After", strconv.Itoa(int(wait.Seconds())+1))
		return q.render(http.StatusTooManyRequests, "signin", "", q.loc.T("signin.title"), v)
	}
	if errors.Is(err, auth.ErrBusy) {
		v.Error = q.loc.T("signin.busy")
		q.w.Header().Set("Retry-After", "1")
		return q.render(http.StatusServiceUnavailable, "signin", "", q.loc.T("signin.title"), v)
	}
	if errors.Is(err, auth.ErrBadCredentials) {
		v.Error = q.loc.T("signin.wrong")
		return q.render(http.StatusUnauthorized, "signin", "", q.loc.T("signin.title"), v)
	} else if err != nil {
		return err
	}
	// The user's remembered language, else the one this browser uses now.
	locale, err := h.Locales.UserLocale(ctx, u.ID)
	if err != nil {
		return err
	}
	if locale == "" {
		locale = q.loc.Code
	}
	if q.token != "" {
		_ = h.Sessions.DeleteSession(ctx, q.actor, q.token)
	}
	_, token, err := h.Sessions.CreateSession(ctx, cases.NewSession{UserID: u.ID, IdleTimeout: h.IdleTimeout,
		AbsoluteTimeout: h.AbsoluteTimeout, Locale: locale})
	if err != nil {
		return err
	}
	h.setCookie(q.w, q.r, sessionCookie, token, 0, http.SameSiteLaxMode)
	// OWASP's device cookie: this browser signed in to this account, so
	// the throttle slows it at most, never refuses it, while strangers
	// fail on purpose elsewhere. It names no one; the database keeps
	// only its hash.
	h.setCookie(q.w, q.r, deviceCookie, device, deviceCookieAge, http.SameSiteLaxMode)
	q.redirect("/")
	return nil
}

func (h *Handler) signOut(q *request) error {
	if err := h.Sessions.DeleteSession(q.r.Context(), q.actor, q.token); err != nil && cases.ErrorCode(err) != cases.ENOTFOUND {
		return err
	}
	h.setCookie(q.w, q.r, sessionCookie, "", -1, http.SameSiteLaxMode)
	q.redirect("/signin")
	return nil
}

// setLanguage switches the language: for a signed-in user, remembered with
// the account; otherwise in a cookie of this browser.
func (h *Handler) setLanguage(q *request) error {
	locale := q.r.PostFormValue("locale")
	if !cases.ValidLocale(locale) {
		return cases.Errorf(cases.ENOTFOUND, "No such language.")
	}
	ctx := q.r.Context()
	if q.session != nil {
		if err := h.Locales.SetUserLocale(ctx, q.actor, q.user.ID, locale); err != nil {
			return err
		}
		if err := h.Sessions.SetSessionLocale(ctx, q.session.ID, locale); err != nil {
			return err
		}
	} else {
		h.setCookie(q.w, q.r, languageCookie, locale, 365*24*3600, http.SameSiteLaxMode)
	}
	back := q.r.PostFormValue("back")
	if !localPath(back) {
		back = "/"
	}
	q.redirect(back)
	return nil
}

// localPath reports whether p is a path on this site (never another
// origin, never a scheme-relative //host).
func localPath(p string) bool {
	return strings.HasPrefix(p, "/") && !strings.HasPrefix(p, "//") && !strings.HasPrefix(p, "/\\") &&
		!strings.ContainsAny(p, "\r\n")
}
