package cases

import (
	"context"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
)

// Client is a brand that commissions remediation and receives monthly
// reports. Its name may be Chinese.
type Client struct {
	ID        uuid.UUID
	Name      string
	Active    bool
	CreatedAt time.Time
}

// Factory is a supplier's site. It may make goods for several clients; each
// case belongs to the client that commissioned its remediation.
type Factory struct {
	ID        uuid.UUID
	Name      string
	Province  string
	City      string
	CreatedAt time.Time
}

// NewClient is what it takes to create a client.
type NewClient struct{ Name string }

// Validate names every invalid field.
func (n *NewClient) Validate() error {
	var v Validation
	v.Check(validName(n.Name, 200), "name", "name is required, at most 200 characters")
	return v.Err("The client is not valid.")
}

// NewFactory is what it takes to create a factory.
type NewFactory struct{ Name, Province, City string }

// Validate names every invalid field.
func (n *NewFactory) Validate() error {
	var v Validation
	v.Check(validName(n.Name, 200), "name", "name is required, at most 200 characters")
	v.Check(validName(n.Province, 100), "province", "province is required, at most 100 characters")
	v.Check(validName(n.City, 100), "city", "city is required, at most 100 characters")
	return v.Err("The factory is not valid.")
}

func validName(s string, max int) bool {
	return strings.TrimSpace(s) != "" && utf8.ValidString(s) && utf8.RuneCountInString(s) <= max
}

// ClientService manages clients.
type ClientService interface {
	// CreateClient returns EINVALID for a bad name, ECONFLICT if it is taken.
	CreateClient(ctx context.Context, actor Actor, n NewClient) (*Client, error)
	// FindClientByID returns ENOTFOUND if the client does not exist.
	FindClientByID(ctx context.Context, id uuid.UUID) (*Client, error)
	// ListClients returns every client, ordered by name.
	ListClients(ctx context.Context) ([]*Client, error)
	// SetClientActive returns ENOTFOUND if the client does not exist.
	SetClientActive(ctx context.Context, actor Actor, id uuid.UUID, active bool) error
}

// FactoryService manages factories.
type FactoryService interface {
	// CreateFactory returns EINVALID for a bad field, ECONFLICT if a factory of
	// that name already exists in that city.
	CreateFactory(ctx context.Context, actor Actor, n NewFactory) (*Factory, error)
	// FindFactoryByID returns ENOTFOUND if the factory does not exist.
	FindFactoryByID(ctx context.Context, id uuid.UUID) (*Factory, error)
	// ListFactories returns every factory, ordered by province, city, name.
	ListFactories(ctx context.Context) ([]*Factory, error)
}
