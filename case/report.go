package cases

import (
	"context"
	"fmt"
	"net/mail"
	"time"

	"github.com/google/uuid"
)

// Month is a calendar month, the period of a brand's report.
type Month struct {
	Year  int
	Month time.Month
}

// ParseMonth reads a month written as 2026-10.
func ParseMonth(s string) (Month, error) {
	t, err := time.Parse("2006-01", s)
	if err != nil || len(s) != 7 {
		return Month{}, Errorf(EINVALID, "month must be written as YYYY-MM, such as 2026-10")
	}
	return MonthOf(t), nil
}

// MonthOf returns the month of t in t's location.
func MonthOf(t time.Time) Month { return Month{t.Year(), t.Month()} }

func (m Month) String() string { return fmt.Sprintf("%04d-%02d", m.Year, int(m.Month)) }

// Start is the month's first day, as a date (midnight UTC).
func (m Month) Start() time.Time { return time.Date(m.Year, m.Month, 1, 0, 0, 0, 0, time.UTC) }

// End is the first day of the following month.
func (m Month) End() time.Time { return m.Start().AddDate(0, 1, 0) }

// Add returns the month n months later (earlier for a negative n).
func (m Month) Add(n int) Month { return MonthOf(m.Start().AddDate(0, n, 0)) }

// Before reports whether m comes before o.
func (m Month) Before(o Month) bool { return m.Start().Before(o.Start()) }

// CaseHistory is what a report may know of a case: its facts, its factory's
// name, its transitions and its follow-ups. Storage fills it without the
// sealed reasons and concerns, which a report never shows.
type CaseHistory struct {
	Case        *Case
	Factory     string
	Transitions []*Transition // oldest first
	FollowUps   []*FollowUp   // by date
	// Ledger is what the case's stipend ledger follows from; nil or empty
	// without an approved plan.
	Ledger *LedgerInput
}

// MonthlyReport is a stored PDF report of one client's month. A month may be
// generated again on demand; each generation is a new version.
type MonthlyReport struct {
	ID          uuid.UUID
	ClientID    uuid.UUID
	Month       Month
	Version     int
	SHA256      [32]byte
	Size        int
	CaseCount   int
	GeneratedAt time.Time
	GeneratedBy uuid.NullUUID // invalid when the schedule generated it
	SentAt      *time.Time    // when it was emailed to the client's report contacts
	SentTo      []string
	KeyID       string // name+hash of the key that signed it; empty for a report stored unsigned
}

// NewMonthlyReport is a rendered report to store.
type NewMonthlyReport struct {
	ClientID  uuid.UUID
	Month     Month
	PDF       []byte
	CaseCount int
	// Sign, if set, signs the PDF once its version is known, in the
	// transaction that stores it: it returns the PDF to store (the rendered
	// one with its signature appended), the signature alone, and the id of
	// the key that made it.
	Sign func(pdf []byte, version int) (signed, signature []byte, keyID string, err error)
}

// ReportService stores monthly reports and reads what they are built from.
type ReportService interface {
	// CaseHistories returns every case of the client filed before until,
	// ordered by code, with its factory, transitions and follow-ups.
	CaseHistories(ctx context.Context, clientID uuid.UUID, until time.Time) ([]*CaseHistory, error)
	// StoreReport stores a new version of the client's month and audits it.
	// With firstOnly, it stores only if the month has no report yet, and
	// returns the existing one with created false otherwise: this is how a
	// scheduled run stays exactly-once.
	StoreReport(ctx context.Context, actor Actor, n NewMonthlyReport, firstOnly bool) (r *MonthlyReport, created bool, err error)
	// FirstReport returns the month's first version, the one the schedule
	// stores. Returns ENOTFOUND if the month has none.
	FirstReport(ctx context.Context, clientID uuid.UUID, month Month) (*MonthlyReport, error)
	// ListReports returns a client's reports (every client's for an invalid
	// id), newest month and version first.
	ListReports(ctx context.Context, clientID uuid.NullUUID) ([]*MonthlyReport, error)
	// FindReport returns ENOTFOUND if the report does not exist.
	FindReport(ctx context.Context, id uuid.UUID) (*MonthlyReport, error)
	// DownloadReport returns the report's PDF, checked against its SHA-256,
	// and audits the download in the same transaction. Returns ENOTFOUND.
	DownloadReport(ctx context.Context, actor Actor, id uuid.UUID) (*MonthlyReport, []byte, error)
	// ReportPDF returns the report's PDF, checked against its SHA-256,
	// for delivery. Returns ENOTFOUND.
	ReportPDF(ctx context.Context, id uuid.UUID) ([]byte, error)
	// ReportSignature returns the report's signature, a signed note.
	// Returns ENOTFOUND if the report does not exist or was stored unsigned.
	ReportSignature(ctx context.Context, id uuid.UUID) ([]byte, error)
	// MarkReportSent records that the report was emailed to recipients.
	MarkReportSent(ctx context.Context, id uuid.UUID, recipients []string, at time.Time) error
	// SetReportContacts replaces the addresses a client's reports are sent to.
	// Returns ENOTFOUND, EINVALID naming a bad address.
	SetReportContacts(ctx context.Context, actor Actor, clientID uuid.UUID, emails []string) error
	// ReportContacts returns the client's report contacts, sorted.
	ReportContacts(ctx context.Context, clientID uuid.UUID) ([]string, error)
}

// MaxReportContacts bounds a client's report contacts.
const MaxReportContacts = 20

// ValidateReportContacts names every address that is not a plain email.
func ValidateReportContacts(emails []string) error {
	var v Validation
	v.Check(len(emails) <= MaxReportContacts, "emails", "at most %d report contacts", MaxReportContacts)
	seen := map[string]bool{}
	for i, e := range emails {
		a, err := mail.ParseAddress(e)
		v.Check(err == nil && a.Address == e && len(e) <= 254, fmt.Sprintf("emails[%d]", i), "must be a plain email address such as compliance@brand.example")
		v.Check(!seen[e], fmt.Sprintf("emails[%d]", i), "is listed twice")
		seen[e] = true
	}
	return v.Err("The report contacts are not valid.")
}

// SignedReport is what a monthly report's signature says it is.
type SignedReport struct {
	ClientID   uuid.UUID
	ClientName string // as the report shows it
	Month      Month
	Version    int
	SHA256     [32]byte // of the PDF as rendered, before its signature
	KeyID      string   // name+hash of the key that signed it
}

// ReportVerifier publishes the organisation's report-signing keys and
// checks a signed report against them, offline.
type ReportVerifier interface {
	// PublishedKeys returns the verifier keys, the current one first.
	PublishedKeys() []string
	// VerifyReport says what a signed report is, or why it does not verify.
	VerifyReport(signed []byte) (*SignedReport, error)
}
