package cases

import (
	"context"
	"time"

	"github.com/google/uuid"
)

// What an admin does to accounts beyond creating and disabling them:
// change a user's role and brand, and let a user set a new password
// through a one-time link that expires.

const (
	ActionUserAccessSet       = "admin.user_access_set"
	ActionPasswordResetIssued = "admin.password_reset_issued"
)

// UserAccess is a user's role and, for a brand's user, its brand.
type UserAccess struct {
	Role     Role
	ClientID uuid.NullUUID
}

// Validate names every invalid field, by the rules of NewUser.
func (a UserAccess) Validate() error {
	var v Validation
	v.Check(a.Role.Valid(), "role", "role must be one of auditor, caseworker, supervisor, client, admin")
	if a.Role == RoleClient {
		v.Check(a.ClientID.Valid, "client_id", "a client user needs a client")
	} else {
		v.Check(!a.ClientID.Valid, "client_id", "only a client user belongs to a client")
	}
	return v.Err("The user's access is not valid.")
}

// Password reset links live at least MinResetTTL and at most MaxResetTTL.
const (
	MinResetTTL = 5 * time.Minute
	MaxResetTTL = 7 * 24 * time.Hour
)

// AccountService manages users' access and password resets.
type AccountService interface {
	// SetUserAccess changes a user's role and brand, audited. Returns
	// ENOTFOUND, EINVALID naming a bad field or an unknown client.
	SetUserAccess(ctx context.Context, actor Actor, id uuid.UUID, a UserAccess) (*User, error)
	// IssuePasswordReset makes the token of a one-time link that lets the
	// user set a password until it expires after ttl; any earlier link of
	// the user is void. Only the token's hash is stored, and the token is
	// returned this once. Audited. Returns ENOTFOUND, EINVALID for a
	// disabled user or a ttl outside MinResetTTL..MaxResetTTL.
	IssuePasswordReset(ctx context.Context, actor Actor, userID uuid.UUID, ttl time.Duration) (token string, expires time.Time, err error)
	// PasswordResetUser returns the user a live token resets. Returns
	// ENOTFOUND alike for a token unknown, used, expired, or of a disabled
	// user.
	PasswordResetUser(ctx context.Context, token string) (*User, error)
	// ResetPassword stores the user's new password hash (a PHC string) with
	// a live token, which is used up, audited as the user. Returns
	// ENOTFOUND as PasswordResetUser does.
	ResetPassword(ctx context.Context, token, passwordHash string) (*User, error)
}
