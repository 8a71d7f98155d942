package storage

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	cases "github.com/remedy-cases/remedy/case"
)

var _ cases.AccountService = (*UserService)(nil)

type passwordResetRow struct {
	ID        uuid.UUID `gorm:"primaryKey"`
	TokenHash []byte
	UserID    uuid.UUID
	CreatedBy uuid.NullUUID
	CreatedAt time.Time
	ExpiresAt time.Time
}

func (passwordResetRow) TableName() string { return "password_resets" }

func init() { models = append(models, &passwordResetRow{}) }

// SetUserAccess changes a user's role and brand in one audited update; the
// database's CHECK keeps a brand with exactly the client role.
func (s *UserService) SetUserAccess(ctx context.Context, actor cases.Actor, id uuid.UUID, a cases.UserAccess) (*cases.User, error) {
	if err := a.Validate(); err != nil {
		return nil, err
	}
	defer s.db.users.drop(id)
	var client any
	if a.ClientID.Valid {
		client = a.ClientID.UUID
	}
	details := map[string]string{"role": string(a.Role)}
	if a.ClientID.Valid {
		details["client_id"] = a.ClientID.UUID.String()
	}
	err := s.db.transact(ctx, func(tx *gorm.DB) error {
		if a.ClientID.Valid {
			if ok, err := s.db.exists(tx, &clientRow{}, "id = ?", a.ClientID.UUID); err != nil {
				return err
			} else if !ok {
				return &cases.Error{Code: cases.EINVALID, Message: "The user's access is not valid.",
					Failed: []cases.Failure{{Name: "client_id", Message: "no client has this id"}}}
			}
		}
		res := tx.Model(&userRow{}).Where("id = ?", id).Updates(map[string]any{"role": string(a.Role), "client_id": client})
		if res.Error != nil {
			return s.db.interpret(res.Error, "User")
		} else if res.RowsAffected == 0 {
			return cases.Errorf(cases.ENOTFOUND, "User not found.")
		}
		return s.db.appendAudit(tx, actor, auditEvent{action: cases.ActionUserAccessSet, subject: id.String(), details: details})
	})
	if err != nil {
		return nil, err
	}
	s.db.users.drop(id)
	return s.FindUserByID(ctx, id)
}

// IssuePasswordReset replaces the user's link with a new one.
func (s *UserService) IssuePasswordReset(ctx context.Context, actor cases.Actor, userID uuid.UUID, ttl time.Duration) (string, time.Time, error) {
	if ttl < cases.MinResetTTL || ttl > cases.MaxResetTTL {
		return "", time.Time{}, &cases.Error{Code: cases.EINVALID, Message: "The reset link is not valid.",
			Failed: []cases.Failure{{Name: "ttl", Message: "a reset link lives from 5 minutes to 7 days"}}}
	}
	raw := make([]byte, 32)
	_, _ = rand.Read(raw)
	token := base64.RawURLEncoding.EncodeToString(raw)
	now := s.db.now()
	row := passwordResetRow{ID: uuid.Must(uuid.NewV7()), TokenHash: tokenHash(token), UserID: userID, CreatedAt: now, ExpiresAt: now.Add(ttl)}
	if actor.UserID != uuid.Nil {
		row.CreatedBy = uuid.NullUUID{UUID: actor.UserID, Valid: true}
	}
	err := s.db.transact(ctx, func(tx *gorm.DB) error {
		var u userRow
		if err := tx.Select("id", "disabled").Where("id = ?", userID).Take(&u).Error; err != nil {
			return s.db.interpret(err, "User")
		}
		if u.Disabled {
			return &cases.Error{Code: cases.EINVALID, Message: "The reset link is not valid.",
				Failed: []cases.Failure{{Name: "user_id", Message: "a disabled user gets no reset link"}}}
		}
		if err := tx.Where("user_id = ?", userID).Delete(&passwordResetRow{}).Error; err != nil {
			return s.db.interpret(err, "Password reset")
		}
		if err := tx.Create(&row).Error; err != nil {
			return s.db.interpret(err, "Password reset")
		}
		return s.db.appendAudit(tx, actor, auditEvent{action: cases.ActionPasswordResetIssued, subject: userID.String(),
			details: map[string]string{"expires_at": row.ExpiresAt.Format(time.RFC3339)}})
	})
	if err != nil {
		return "", time.Time{}, err
	}
	return token, row.ExpiresAt, nil
}

var errResetNotFound = cases.Errorf(cases.ENOTFOUND, "Reset link not found.")

// liveReset finds the live link of token and its enabled user, in tx.
func (s *UserService) liveReset(tx *gorm.DB, token string) (*passwordResetRow, *userRow, error) {
	if token == "" || len(token) > 100 {
		return nil, nil, errResetNotFound
	}
	var rows []passwordResetRow
	if err := tx.Where("token_hash = ?", tokenHash(token)).Limit(1).Find(&rows).Error; err != nil {
		return nil, nil, s.db.interpret(err, "Password reset")
	}
	if len(rows) == 0 || !s.db.now().Before(rows[0].ExpiresAt) {
		return nil, nil, errResetNotFound
	}
	var u userRow
	if err := tx.Where("id = ?", rows[0].UserID).Take(&u).Error; err != nil {
		return nil, nil, s.db.interpret(err, "User")
	}
	if u.Disabled {
		return nil, nil, errResetNotFound
	}
	return &rows[0], &u, nil
}

func (s *UserService) PasswordResetUser(ctx context.Context, token string) (*cases.User, error) {
	_, u, err := s.liveReset(s.db.gorm.WithContext(ctx), token)
	if err != nil {
		return nil, err
	}
	return u.domain(), nil
}

// ResetPassword uses the link up in the transaction that sets the
// password: of two concurrent uses, only the one that deletes it wins.
func (s *UserService) ResetPassword(ctx context.Context, token, passwordHash string) (*cases.User, error) {
	var user *userRow
	err := s.db.transact(ctx, func(tx *gorm.DB) error {
		reset, u, err := s.liveReset(tx, token)
		if err != nil {
			return err
		}
		res := tx.Where("id = ?", reset.ID).Delete(&passwordResetRow{})
		if res.Error != nil {
			return s.db.interpret(res.Error, "Password reset")
		} else if res.RowsAffected == 0 {
			return errResetNotFound
		}
		if err := tx.Model(&userRow{}).Where("id = ?", u.ID).Update("password_hash", passwordHash).Error; err != nil {
			return s.db.interpret(err, "User")
		}
		user = u
		return s.db.appendAudit(tx, cases.Actor{UserID: u.ID, Role: cases.Role(u.Role), ClientID: u.ClientID},
			auditEvent{action: cases.ActionPasswordSet, subject: u.ID.String(), details: map[string]string{"by": "reset_link"}})
	})
	if err != nil {
		return nil, err
	}
	s.db.users.drop(user.ID)
	return user.domain(), nil
}
