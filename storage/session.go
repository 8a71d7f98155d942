package storage

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"strconv"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	cases "github.com/remedy-cases/remedy/case"
)

// SessionService implements cases.SessionService.
type SessionService struct{ db *DB }

var (
	_ cases.SessionService = (*SessionService)(nil)
	_ cases.LocaleService  = (*UserService)(nil)
)

// NewSessionService returns the session service of db.
func NewSessionService(db *DB) *SessionService { return &SessionService{db: db} }

type sessionRow struct {
	ID          uuid.UUID `gorm:"primaryKey"`
	TokenHash   []byte
	UserID      uuid.UUID
	CSRFSecret  []byte `gorm:"column:csrf_secret"`
	Locale      string
	IdleSeconds int
	CreatedAt   time.Time
	LastSeenAt  time.Time
	ExpiresAt   time.Time
}

func (sessionRow) TableName() string { return "sessions" }

func (r *sessionRow) domain() *cases.Session {
	return &cases.Session{ID: r.ID, UserID: r.UserID, CreatedAt: r.CreatedAt.UTC(), LastSeenAt: r.LastSeenAt.UTC(),
		IdleTimeout: time.Duration(r.IdleSeconds) * time.Second, ExpiresAt: r.ExpiresAt.UTC(),
		CSRFSecret: r.CSRFSecret, Locale: r.Locale}
}

// live reports whether the session may still be used at now.
func (r *sessionRow) live(now time.Time) bool {
	idle := time.Duration(r.IdleSeconds) * time.Second
	return now.Before(r.ExpiresAt) && now.Before(r.LastSeenAt.Add(idle))
}

// tokenHash is what a session is found by: the token itself is never stored.
func tokenHash(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

func (s *SessionService) CreateSession(ctx context.Context, n cases.NewSession) (*cases.Session, string, error) {
	if err := n.Validate(); err != nil {
		return nil, "", err
	}
	secret := make([]byte, 32)
	raw := make([]byte, 32)
	_, _ = rand.Read(secret) // crypto/rand.Read never fails
	_, _ = rand.Read(raw)
	token := base64.RawURLEncoding.EncodeToString(raw)
	now := s.db.now()
	row := sessionRow{ID: uuid.Must(uuid.NewV7()), TokenHash: tokenHash(token), UserID: n.UserID, CSRFSecret: secret,
		Locale: n.Locale, IdleSeconds: int(n.IdleTimeout / time.Second), CreatedAt: now, LastSeenAt: now,
		ExpiresAt: now.Add(n.AbsoluteTimeout)}
	err := s.db.transact(ctx, func(tx *gorm.DB) error {
		if ok, err := s.db.exists(tx, &userRow{}, "id = ?", n.UserID); err != nil {
			return err
		} else if !ok {
			return &cases.Error{Code: cases.EINVALID, Message: "The session is not valid.",
				Failed: []cases.Failure{{Name: "user_id", Message: "no user has this id"}}}
		}
		if err := s.deleteExpired(tx, n.UserID, now); err != nil {
			return err
		}
		if err := tx.Create(&row).Error; err != nil {
			return s.db.interpret(err, "Session")
		}
		return nil
	})
	if err != nil {
		return nil, "", err
	}
	return row.domain(), token, nil
}

// deleteExpired removes a user's sessions past their absolute expiry; idle
// ones are removed when next presented.
func (s *SessionService) deleteExpired(tx *gorm.DB, userID uuid.UUID, now time.Time) error {
	if err := tx.Where("user_id = ? AND expires_at <= ?", userID, now).Delete(&sessionRow{}).Error; err != nil {
		return s.db.interpret(err, "Sessions")
	}
	return nil
}

func (s *SessionService) FindSession(ctx context.Context, token string) (*cases.Session, error) {
	notFound := cases.Errorf(cases.ENOTFOUND, "Session not found.")
	if token == "" || len(token) > 100 {
		return nil, notFound
	}
	g := s.db.gorm.WithContext(ctx)
	var rows []sessionRow
	if err := g.Where("token_hash = ?", tokenHash(token)).Limit(1).Find(&rows).Error; err != nil {
		return nil, s.db.interpret(err, "Session")
	}
	if len(rows) == 0 {
		return nil, notFound
	}
	row := rows[0]
	now := s.db.now()
	if !row.live(now) {
		if err := g.Where("id = ?", row.ID).Delete(&sessionRow{}).Error; err != nil {
			return nil, s.db.interpret(err, "Session")
		}
		return nil, notFound
	}
	if now.Sub(row.LastSeenAt) >= cases.SessionTouchInterval {
		// Only forward, so that a slower concurrent request cannot move it back.
		err := g.Model(&sessionRow{}).Where("id = ? AND last_seen_at < ?", row.ID, now).Update("last_seen_at", now).Error
		if err != nil {
			return nil, s.db.interpret(err, "Session")
		}
		row.LastSeenAt = now
	}
	return row.domain(), nil
}

func (s *SessionService) SetSessionLocale(ctx context.Context, id uuid.UUID, locale string) error {
	if locale != "" && !cases.ValidLocale(locale) {
		return invalidLocale()
	}
	res := s.db.gorm.WithContext(ctx).Model(&sessionRow{}).Where("id = ?", id).Update("locale", locale)
	if res.Error != nil {
		return s.db.interpret(res.Error, "Session")
	} else if res.RowsAffected == 0 {
		return cases.Errorf(cases.ENOTFOUND, "Session not found.")
	}
	return nil
}

func (s *SessionService) DeleteSession(ctx context.Context, actor cases.Actor, token string) error {
	return s.db.transact(ctx, func(tx *gorm.DB) error {
		var rows []sessionRow
		if err := tx.Where("token_hash = ?", tokenHash(token)).Limit(1).Find(&rows).Error; err != nil {
			return s.db.interpret(err, "Session")
		}
		if len(rows) == 0 {
			return cases.Errorf(cases.ENOTFOUND, "Session not found.")
		}
		if err := tx.Where("id = ?", rows[0].ID).Delete(&sessionRow{}).Error; err != nil {
			return s.db.interpret(err, "Session")
		}
		return s.db.appendAudit(tx, actor, auditEvent{action: cases.ActionSignOut, subject: rows[0].UserID.String(),
			details: map[string]string{"session_id": rows[0].ID.String()}})
	})
}

func (s *SessionService) DeleteUserSessions(ctx context.Context, actor cases.Actor, userID uuid.UUID) (int, error) {
	var n int64
	err := s.db.transact(ctx, func(tx *gorm.DB) error {
		res := tx.Where("user_id = ?", userID).Delete(&sessionRow{})
		if res.Error != nil {
			return s.db.interpret(res.Error, "Sessions")
		}
		n = res.RowsAffected
		if n == 0 {
			return nil
		}
		return s.db.appendAudit(tx, actor, auditEvent{action: cases.ActionSessionsRevoked, subject: userID.String(),
			details: map[string]string{"sessions": strconv.FormatInt(n, 10)}})
	})
	return int(n), err
}

// UserLocale returns the user's chosen language, "" if none.
func (s *UserService) UserLocale(ctx context.Context, id uuid.UUID) (string, error) {
	var row userRow
	if err := s.db.gorm.WithContext(ctx).Select("id", "locale").Where("id = ?", id).Take(&row).Error; err != nil {
		return "", s.db.interpret(err, "User")
	}
	if row.Locale == nil {
		return "", nil
	}
	return *row.Locale, nil
}

// SetUserLocale records the user's language, audited.
func (s *UserService) SetUserLocale(ctx context.Context, actor cases.Actor, id uuid.UUID, locale string) error {
	if !cases.ValidLocale(locale) {
		return invalidLocale()
	}
	return s.db.updateAudited(ctx, actor, &userRow{}, id, map[string]any{"locale": locale}, "User",
		auditEvent{action: cases.ActionLocaleSet, subject: id.String(), details: map[string]string{"locale": locale}})
}

func invalidLocale() error {
	return &cases.Error{Code: cases.EINVALID, Message: "The locale is not valid.",
		Failed: []cases.Failure{{Name: "locale", Message: "locale must be zh-CN or en"}}}
}
