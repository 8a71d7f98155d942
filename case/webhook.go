package cases

import (
	"context"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
)

// Webhook events: what a brand's or the organisation's systems may be told
// as it happens. Their payloads are pseudonymous, like a brand's view: a
// case by its code, never an identity or a note.
const (
	EventReportGenerated = "report.generated"
	EventCaseFiled       = "case.filed"
	EventCaseClosed      = "case.closed"
	EventStipendArrears  = "stipend.arrears"
)

// WebhookEvents are the events an endpoint may subscribe to.
var WebhookEvents = []string{EventReportGenerated, EventCaseFiled, EventCaseClosed, EventStipendArrears}

// ActionStipendArrears records that a case fell into arrears: its first
// unpaid month stayed unpaid past the grace days. Arrears begin as time
// passes, with no change to record, so a sweep writes this entry once per
// start of arrears.
const ActionStipendArrears = "ledger.arrears"

// Audit actions of webhooks.
const (
	ActionWebhookCreated  = "admin.webhook_created"
	ActionWebhookDisabled = "admin.webhook_disabled"
)

// Webhook is an endpoint that receives events, signed per the Standard
// Webhooks specification with a secret of its own.
type Webhook struct {
	ID        uuid.UUID
	ClientID  uuid.NullUUID // the brand whose events it receives; invalid: every brand's (the organisation's own systems)
	URL       string
	Events    []string
	Active    bool
	CreatedAt time.Time
	CreatedBy uuid.NullUUID
}

// NewWebhook registers an endpoint.
type NewWebhook struct {
	ClientID uuid.NullUUID
	URL      string
	Events   []string
}

// MaxWebhookURL bounds an endpoint's URL.
const MaxWebhookURL = 2000

// Validate names every invalid field. The URL must be absolute HTTPS
// without credentials; where it resolves is checked when it is called.
func (n NewWebhook) Validate() error {
	var v Validation
	u, err := url.Parse(n.URL)
	v.Check(err == nil && u.Scheme == "https" && u.Host != "" && u.User == nil && u.Fragment == "" && len(n.URL) <= MaxWebhookURL,
		"url", "url must be an absolute https URL without credentials or fragment, at most %d bytes", MaxWebhookURL)
	v.Check(len(n.Events) > 0, "events", "events must name at least one of %s", strings.Join(WebhookEvents, ", "))
	for _, e := range n.Events {
		if !slices.Contains(WebhookEvents, e) {
			v.Check(false, "events", "events must be among %s", strings.Join(WebhookEvents, ", "))
			break
		}
	}
	return v.Err("The webhook is not valid.")
}

// WebhookSecret is an endpoint's signing secret, "whsec_" and base64: it
// redacts itself when printed.
type WebhookSecret struct{ s string }

// NewWebhookSecret wraps a secret.
func NewWebhookSecret(s string) WebhookSecret { return WebhookSecret{s} }

// Reveal returns the secret, for signing and to show once at registration.
func (s WebhookSecret) Reveal() string { return s.s }

func (WebhookSecret) String() string   { return "whsec_[redacted]" }
func (WebhookSecret) GoString() string { return "whsec_[redacted]" }

// WebhookDelivery is one event sent, or to send, to one endpoint.
type WebhookDelivery struct {
	ID         uuid.UUID
	WebhookID  uuid.UUID
	Event      string
	Payload    []byte // JSON, pseudonymous
	State      string // pending, delivered or failed
	Attempts   int
	LastStatus int    // the endpoint's last HTTP status; 0 if it never answered
	LastError  string // what went wrong, without the endpoint's answer
	CreatedAt  time.Time
	AttemptAt  *time.Time
	Delivered  *time.Time
}

// Delivery states.
const (
	DeliveryPending   = "pending"
	DeliveryDelivered = "delivered"
	DeliveryFailed    = "failed"
)

// WebhookService registers endpoints and keeps their delivery log.
type WebhookService interface {
	// CreateWebhook registers an endpoint and returns it with its secret,
	// which is shown this once. Returns EINVALID for an invalid endpoint,
	// ENOTFOUND for an unknown client.
	CreateWebhook(ctx context.Context, actor Actor, n NewWebhook) (*Webhook, WebhookSecret, error)
	// ListWebhooks returns the endpoints of a client, or every one for an
	// invalid clientID.
	ListWebhooks(ctx context.Context, clientID uuid.NullUUID) ([]*Webhook, error)
	// FindWebhook returns ENOTFOUND if the endpoint does not exist.
	FindWebhook(ctx context.Context, id uuid.UUID) (*Webhook, error)
	// DisableWebhook stops deliveries to an endpoint; its log stays.
	DisableWebhook(ctx context.Context, actor Actor, id uuid.UUID) error
	// WebhookDeliveries returns an endpoint's latest deliveries, newest first.
	WebhookDeliveries(ctx context.Context, id uuid.UUID, limit int) ([]*WebhookDelivery, error)
}

// OutboundWebhook is a delivery with what it takes to make it.
type OutboundWebhook struct {
	Delivery *WebhookDelivery
	URL      string
	Secret   WebhookSecret
	Active   bool
}
