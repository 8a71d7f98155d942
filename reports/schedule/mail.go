package schedule

import (
	"bytes"
	"context"
	"fmt"
	"net/url"
	"strconv"

	"github.com/wneessen/go-mail"

	cases "github.com/remedy-cases/remedy/case"
)

// Mailer sends a report to its client's contacts over SMTP.
type Mailer struct {
	url  *url.URL
	from string
}

// NewMailer reads an SMTP URL: smtp://user:pass@host:587 (STARTTLS when the
// server offers it) or smtps://user:pass@host:465 (TLS from the start).
func NewMailer(rawURL, from string) (*Mailer, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "smtp" && u.Scheme != "smtps") || u.Hostname() == "" {
		return nil, fmt.Errorf("REMEDY_SMTP_URL must look like smtp://user:password@host:587 or smtps://host:465")
	}
	if from == "" {
		return nil, fmt.Errorf("REMEDY_SMTP_FROM is required with REMEDY_SMTP_URL")
	}
	return &Mailer{url: u, from: from}, nil
}

// Send emails the PDF of r to every recipient in one message.
func (m *Mailer) Send(ctx context.Context, client string, r *cases.MonthlyReport, pdf []byte, to []string) error {
	msg := mail.NewMsg()
	if err := msg.From(m.from); err != nil {
		return fmt.Errorf("mail from: %w", err)
	}
	if err := msg.Bcc(to...); err != nil {
		return fmt.Errorf("mail recipients: %w", err)
	}
	if err := msg.To(m.from); err != nil {
		return fmt.Errorf("mail to: %w", err)
	}
	msg.Subject(fmt.Sprintf("Remediation report %s: %s", r.Month, client))
	msg.SetBodyString(mail.TypeTextPlain, fmt.Sprintf(
		"Attached is the monthly remediation report of %s for %s (version %d).\n\n"+
			"It is confidential: children appear by case code only. Please keep it within your compliance team.\n",
		client, r.Month, r.Version))
	if err := msg.AttachReader(fmt.Sprintf("remedy-report-%s-v%d.pdf", r.Month, r.Version), bytes.NewReader(pdf),
		mail.WithFileContentType("application/pdf")); err != nil {
		return fmt.Errorf("mail attachment: %w", err)
	}
	opts := []mail.Option{mail.WithTLSPolicy(mail.TLSOpportunistic)}
	if m.url.Scheme == "smtps" {
		opts = []mail.Option{mail.WithSSL()}
	}
	if p := m.url.Port(); p != "" {
		port, err := strconv.Atoi(p)
		if err != nil {
			return fmt.Errorf("REMEDY_SMTP_URL port: %w", err)
		}
		opts = append(opts, mail.WithPort(port))
	}
	if user := m.url.User; user != nil {
		pass, _ := user.Password()
		opts = append(opts, mail.WithSMTPAuth(mail.SMTPAuthAutoDiscover), mail.WithUsername(user.Username()), mail.WithPassword(pass))
	}
	c, err := mail.NewClient(m.url.Hostname(), opts...)
	if err != nil {
		return fmt.Errorf("mail client: %w", err)
	}
	return c.DialAndSendWithContext(ctx, msg)
}
