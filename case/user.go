package cases

import (
	"context"
	"net/mail"
	"strings"
	"time"

	"github.com/google/uuid"
)

// Role is what a user does in Remedy; DOMAIN.md lists what each may see.
type Role string

const (
	RoleAuditor    Role = "auditor"
	RoleCaseWorker Role = "caseworker"
	RoleSupervisor Role = "supervisor"
	RoleClient     Role = "client"
	RoleAdmin      Role = "admin"
)

// Roles lists every role, in a stable order.
var Roles = []Role{RoleAuditor, RoleCaseWorker, RoleSupervisor, RoleClient, RoleAdmin}

// Valid reports whether r is a known role.
func (r Role) Valid() bool {
	for _, known := range Roles {
		if r == known {
			return true
		}
	}
	return false
}

// User is a person who signs in. A client user belongs to exactly one client
// and sees only that client's cases.
type User struct {
	ID        uuid.UUID
	Email     string
	Name      string
	Role      Role
	ClientID  uuid.NullUUID
	Disabled  bool
	CreatedAt time.Time
}

// Actor is who performs an action: the signed-in user as the workflow and the
// audit trail need it.
type Actor struct {
	UserID   uuid.UUID
	Role     Role
	ClientID uuid.NullUUID
}

// Actor returns u as an actor.
func (u *User) Actor() Actor {
	return Actor{UserID: u.ID, Role: u.Role, ClientID: u.ClientID}
}

// NewUser is what it takes to create a user.
type NewUser struct {
	Email    string
	Name     string
	Role     Role
	ClientID uuid.NullUUID
	// PasswordHash is the PHC string of the first password; empty for none.
	PasswordHash string
}

// Validate names every invalid field.
func (n *NewUser) Validate() error {
	var v Validation
	addr, err := mail.ParseAddress(n.Email)
	v.Check(err == nil && addr.Address == n.Email && len(n.Email) <= 254, "email", "email must be a plain address such as name@example.org")
	v.Check(strings.TrimSpace(n.Name) != "" && len(n.Name) <= 200, "name", "name is required, at most 200 bytes")
	v.Check(n.Role.Valid(), "role", "role must be one of auditor, caseworker, supervisor, client, admin")
	if n.Role == RoleClient {
		v.Check(n.ClientID.Valid, "client_id", "a client user needs a client")
	} else {
		v.Check(!n.ClientID.Valid, "client_id", "only a client user belongs to a client")
	}
	return v.Err("The user is not valid.")
}

// UserService manages users.
type UserService interface {
	// CreateUser creates a user. Returns EINVALID for a bad field or an unknown
	// client, ECONFLICT if the email is taken.
	CreateUser(ctx context.Context, actor Actor, n NewUser) (*User, error)
	// FindUserByID returns ENOTFOUND if the user does not exist.
	FindUserByID(ctx context.Context, id uuid.UUID) (*User, error)
	// FindUserByEmail returns ENOTFOUND if no user has that email.
	FindUserByEmail(ctx context.Context, email string) (*User, error)
	// ListUsers returns every user, ordered by email.
	ListUsers(ctx context.Context) ([]*User, error)
	// SetPasswordHash stores a user's password hash (a PHC string). Returns
	// ENOTFOUND if the user does not exist.
	SetPasswordHash(ctx context.Context, actor Actor, id uuid.UUID, hash string) error
	// Credentials returns the user with that email and its password hash,
	// empty if it has none. Returns ENOTFOUND if no user has that email.
	Credentials(ctx context.Context, email string) (*User, string, error)
	// DisableUser disables a user. Returns ENOTFOUND if it does not exist.
	DisableUser(ctx context.Context, actor Actor, id uuid.UUID) error
}
