package cases

import (
	"context"
	"slices"
	"time"

	"github.com/google/uuid"
)

// Client is a brand that commissions remediation and receives monthly
// reports. Its name may be Chinese.
type Client struct {
	ID        uuid.UUID
	Name      string
	Active    bool
	CreatedAt time.Time
	// ReportLanguage is the language of its monthly reports: one of
	// ReportLanguages.
	ReportLanguage string
}

// ReportLanguages are the languages a client's reports may be in: English,
// Chinese, or both (English, then Chinese, in one PDF).
var ReportLanguages = []string{"en", "zh-CN", "both"}

// ActionClientReportLanguage records a change of a client's report language.
const ActionClientReportLanguage = "admin.client_report_language_set"

// ValidateReportLanguage names an unknown report language.
func ValidateReportLanguage(language string) error {
	var v Validation
	v.Check(slices.Contains(ReportLanguages, language), "report_language", "report_language must be en, zh-CN or both")
	return v.Err("The report language is not valid.")
}

// Factory is a supplier's site. It may make goods for several clients; each
// case belongs to the client that commissioned its remediation.
type Factory struct {
	ID        uuid.UUID
	Name      string // as it is written locally, usually in Chinese
	NameEn    string // in English; empty if unknown
	Province  string
	City      string
	ClientIDs []uuid.UUID // the brands it supplies, sorted
	CreatedAt time.Time
}

// NewClient is what it takes to create a client.
type NewClient struct {
	Name           string
	ReportLanguage string // en if empty
}

// Validate names every invalid field of a normalised client. A name may hold
// any printable character (Chinese, other scripts, emoji): reports draw them
// all.
func (n *NewClient) Validate() error {
	var v Validation
	v.Check(validName(n.Name, 200), "name", "name is required, at most 200 characters, without control characters")
	v.Check(n.ReportLanguage == "" || slices.Contains(ReportLanguages, n.ReportLanguage), "report_language",
		"report_language must be en, zh-CN or both")
	return v.Err("The client is not valid.")
}

// NewFactory is what it takes to create a factory.
type NewFactory struct {
	Name, NameEn, Province, City string
	ClientIDs                    []uuid.UUID // brands it supplies
}

// Normalize normalises every text field.
func (n *NewFactory) Normalize() {
	n.Name, n.NameEn = NormalizeText(n.Name), NormalizeText(n.NameEn)
	n.Province, n.City = NormalizeText(n.Province), NormalizeText(n.City)
}

// Validate names every invalid field of a normalised factory.
func (n *NewFactory) Validate() error {
	var v Validation
	v.Check(validName(n.Name, 200), "name", "name is required, at most 200 characters, without control characters")
	v.Check(n.NameEn == "" || validName(n.NameEn, 200), "name_en", "name_en must be at most 200 characters, without control characters")
	v.Check(validName(n.Province, 100), "province", "province is required, at most 100 characters")
	v.Check(validName(n.City, 100), "city", "city is required, at most 100 characters")
	v.Check(len(n.ClientIDs) <= 100 && distinct(n.ClientIDs), "client_ids", "client_ids must be at most 100 distinct brands")
	return v.Err("The factory is not valid.")
}

func validName(s string, max int) bool {
	return s != "" && ValidText(s, max)
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
	// SetReportLanguage returns EINVALID for an unknown language, ENOTFOUND
	// if the client does not exist.
	SetReportLanguage(ctx context.Context, actor Actor, id uuid.UUID, language string) error
}

// FactoryService manages factories.
type FactoryService interface {
	// CreateFactory adds a factory, as auditors meet factories that are not
	// known yet. Returns EINVALID for a bad field or an unknown brand,
	// ECONFLICT if a factory of that name already exists in that city,
	// EFORBIDDEN unless the actor is an auditor, supervisor or admin.
	CreateFactory(ctx context.Context, actor Actor, n NewFactory) (*Factory, error)
	// MergeFactories folds the duplicate from into into: its cases and
	// brands move over, and from is deleted. Returns ENOTFOUND, EINVALID if
	// they are the same factory, EFORBIDDEN unless the actor is an admin.
	MergeFactories(ctx context.Context, actor Actor, from, into uuid.UUID) (*Factory, error)
	// FindFactoryByID returns ENOTFOUND if the factory does not exist.
	FindFactoryByID(ctx context.Context, id uuid.UUID) (*Factory, error)
	// ListFactories returns every factory, with its brands, ordered by
	// province, city, name.
	ListFactories(ctx context.Context) ([]*Factory, error)
}
