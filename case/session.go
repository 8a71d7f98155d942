package cases

import (
	"context"
	"time"

	"github.com/google/uuid"
)

// Audit actions of sessions. Signing in is audited by the credential check
// (ActionSignIn); a session's end by its user, or by a revocation, is
// audited here.
const (
	ActionSignOut         = "auth.sign_out"
	ActionSessionsRevoked = "auth.sessions_revoked"
	ActionLocaleSet       = "user.locale_set"
)

// Locales lists the languages of the staff screens, Chinese first.
var Locales = []string{"zh-CN", "en"}

// ValidLocale reports whether l is one of Locales.
func ValidLocale(l string) bool { return oneOf(l, Locales) }

// Session is a signed-in browser. Its token is a secret known only to the
// browser's cookie: storage keeps a SHA-256 of it, never the token.
type Session struct {
	ID         uuid.UUID
	UserID     uuid.UUID
	CreatedAt  time.Time
	LastSeenAt time.Time
	// IdleTimeout ends the session when it is not used for that long.
	IdleTimeout time.Duration
	// ExpiresAt ends the session however much it is used.
	ExpiresAt time.Time
	// CSRFSecret is the session's secret against cross-site requests: every
	// state-changing request must carry a token made from it.
	CSRFSecret []byte
	// Locale is the session's language, one of Locales, or "" to follow
	// the browser.
	Locale string
}

// NewSession is what it takes to open a session.
type NewSession struct {
	UserID          uuid.UUID
	IdleTimeout     time.Duration
	AbsoluteTimeout time.Duration
	Locale          string
}

// Validate names every invalid field.
func (n *NewSession) Validate() error {
	var v Validation
	v.Check(n.UserID != uuid.Nil, "user_id", "user_id is required")
	v.Check(n.IdleTimeout >= time.Minute && n.IdleTimeout <= 24*time.Hour, "idle_timeout", "idle_timeout must be between 1m and 24h")
	v.Check(n.AbsoluteTimeout >= n.IdleTimeout && n.AbsoluteTimeout <= 30*24*time.Hour, "absolute_timeout", "absolute_timeout must be between the idle timeout and 30 days")
	v.Check(n.Locale == "" || ValidLocale(n.Locale), "locale", "locale must be zh-CN, en or empty")
	return v.Err("The session is not valid.")
}

// SessionTouchInterval is how stale a session's last-seen time may get
// before a request writes it again: idle expiry is exact to this much, and
// a busy user does not write on every request.
const SessionTouchInterval = time.Minute

// SessionService keeps sessions server-side, so that servers share them and
// a session can be ended at once.
type SessionService interface {
	// CreateSession opens a session and returns it with its token, which is
	// shown this once. The user's expired sessions are removed. Returns
	// EINVALID for a bad field or an unknown user.
	CreateSession(ctx context.Context, n NewSession) (*Session, string, error)
	// FindSession returns the live session of token and records that it was
	// seen now (at most once per SessionTouchInterval). Returns ENOTFOUND if
	// no session has that token, or it passed its idle or absolute expiry
	// (an expired session is deleted).
	FindSession(ctx context.Context, token string) (*Session, error)
	// SetSessionLocale sets the session's language. Returns ENOTFOUND,
	// EINVALID for an unknown locale.
	SetSessionLocale(ctx context.Context, id uuid.UUID, locale string) error
	// DeleteSession ends the session of token and audits the sign-out.
	// Returns ENOTFOUND if there is no such session.
	DeleteSession(ctx context.Context, actor Actor, token string) error
	// DeleteUserSessions ends every session of a user, audited once, and
	// returns how many there were.
	DeleteUserSessions(ctx context.Context, actor Actor, userID uuid.UUID) (int, error)
}

// LocaleService remembers each user's language across sessions.
type LocaleService interface {
	// UserLocale returns the user's chosen language, "" if none. Returns
	// ENOTFOUND if the user does not exist.
	UserLocale(ctx context.Context, id uuid.UUID) (string, error)
	// SetUserLocale records the user's language, audited. Returns
	// ENOTFOUND, EINVALID for an unknown locale.
	SetUserLocale(ctx context.Context, actor Actor, id uuid.UUID, locale string) error
}
