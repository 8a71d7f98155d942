package storage

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	cases "github.com/remedy-cases/remedy/case"
)

// ReportService implements cases.ReportService.
type ReportService struct{ db *DB }

var _ cases.ReportService = (*ReportService)(nil)

// NewReportService returns the report service of db.
func NewReportService(db *DB) *ReportService { return &ReportService{db: db} }

type reportContactRow struct {
	ClientID uuid.UUID `gorm:"primaryKey"`
	Email    string    `gorm:"primaryKey"`
}

func (reportContactRow) TableName() string { return "report_contacts" }

type monthlyReportRow struct {
	ID          uuid.UUID `gorm:"primaryKey"`
	ClientID    uuid.UUID
	Month       string
	Version     int
	PDF         []byte `gorm:"column:pdf"`
	SHA256      []byte `gorm:"column:sha256"`
	Size        int
	CaseCount   int
	GeneratedAt time.Time
	GeneratedBy uuid.NullUUID
	SentAt      *time.Time
	SentTo      *string
	Signature   *string
	KeyID       *string
}

func (monthlyReportRow) TableName() string { return "monthly_reports" }

// reportMeta are the columns of a report but its PDF.
var reportMeta = []string{"id", "client_id", "month", "version", "sha256", "size", "case_count",
	"generated_at", "generated_by", "sent_at", "sent_to", "key_id"}

func (r *monthlyReportRow) domain() *cases.MonthlyReport {
	m, _ := cases.ParseMonth(r.Month) // the schema's CHECK keeps it well formed
	out := &cases.MonthlyReport{ID: r.ID, ClientID: r.ClientID, Month: m, Version: r.Version, Size: r.Size,
		CaseCount: r.CaseCount, GeneratedAt: r.GeneratedAt.UTC(), GeneratedBy: r.GeneratedBy, SentAt: utcPtr(r.SentAt)}
	copy(out.SHA256[:], r.SHA256)
	if r.KeyID != nil {
		out.KeyID = *r.KeyID
	}
	if r.SentTo != nil && *r.SentTo != "" {
		out.SentTo = strings.Split(*r.SentTo, ",")
	}
	return out
}

func (s *ReportService) CaseHistories(ctx context.Context, clientID uuid.UUID, until time.Time) ([]*cases.CaseHistory, error) {
	return s.CaseHistoriesSince(ctx, clientID, time.Time{}, until)
}

// CaseHistoriesSince is CaseHistories without the cases that were closed
// before since, and stayed closed: a report's window (the twelve months its
// chart shows) needs of them only what ClosedBefore sums up. A zero since
// leaves none out.
func (s *ReportService) CaseHistoriesSince(ctx context.Context, clientID uuid.UUID, since, until time.Time) ([]*cases.CaseHistory, error) {
	var out []*cases.CaseHistory
	err := s.db.transact(ctx, func(tx *gorm.DB) error {
		cond, args := "client_id = ? AND created_at < ?", []any{clientID, until}
		if !since.IsZero() {
			cond += " AND NOT (state = ? AND closed_at < ?)"
			args = append(args, string(cases.StateClosed), dbTime(since))
		}
		var rows []caseRow
		if err := tx.Model(&caseRow{}).Select(caseFacts).Where(cond, args...).Order("code").Find(&rows).Error; err != nil {
			return s.db.interpret(err, "Cases")
		}
		ofClient := tx.Model(&caseRow{}).Select("id").Where(cond, args...)
		var plans []planRow
		var transitions []transitionRow
		var followUps []followUpRow
		var factories []factoryRow
		// Sealed columns are left out: a report never shows a reason or a concern.
		if err := tx.Where("case_id IN (?)", ofClient).Find(&plans).Error; err != nil {
			return s.db.interpret(err, "Plans")
		}
		if err := tx.Omit("reason_sealed").Where("case_id IN (?)", ofClient).Order("at, id").Find(&transitions).Error; err != nil {
			return s.db.interpret(err, "Transitions")
		}
		if err := tx.Omit("concerns_sealed").Where("case_id IN (?)", ofClient).Order("date, created_at, id").Find(&followUps).Error; err != nil {
			return s.db.interpret(err, "Follow-ups")
		}
		if err := tx.Where("id IN (?)", tx.Model(&caseRow{}).Select("factory_id").Where("client_id = ?", clientID)).
			Find(&factories).Error; err != nil {
			return s.db.interpret(err, "Factories")
		}
		byID := make(map[uuid.UUID]*cases.CaseHistory, len(rows))
		factoryName := make(map[uuid.UUID]string, len(factories))
		for i := range factories {
			factoryName[factories[i].ID] = factories[i].Name
		}
		out = make([]*cases.CaseHistory, len(rows))
		for i := range rows {
			c := rows[i].domain()
			out[i] = &cases.CaseHistory{Case: c, Factory: factoryName[c.FactoryID]}
			byID[c.ID] = out[i]
		}
		for i := range plans {
			if h := byID[plans[i].CaseID]; h != nil {
				h.Case.Plan = plans[i].domain()
			}
		}
		for i := range transitions {
			if h := byID[transitions[i].CaseID]; h != nil {
				h.Transitions = append(h.Transitions, transitions[i].domain())
			}
		}
		for i := range followUps {
			if h := byID[followUps[i].CaseID]; h != nil {
				h.FollowUps = append(h.FollowUps, followUps[i].domain())
			}
		}
		// The stipend ledger's inputs: plans as approved, closures, alerts
		// and payments (no proof of identity among them).
		ledgers, err := s.db.ledgerInputs(tx, ofClient)
		if err != nil {
			return err
		}
		for id, in := range ledgers {
			if h := byID[id]; h != nil {
				h.Ledger = in
			}
		}
		return nil
	})
	return out, err
}

// ClosedBefore sums up the client's cases filed before until that were
// closed before since and stayed closed: how many, and the inputs of their
// stipend ledgers (the report's stipends to date count them).
func (s *ReportService) ClosedBefore(ctx context.Context, clientID uuid.UUID, since, until time.Time) (int, []*cases.LedgerInput, error) {
	var closed int64
	var ledgers []*cases.LedgerInput
	err := s.db.transact(ctx, func(tx *gorm.DB) error {
		old := tx.Model(&caseRow{}).Select("id").Where("client_id = ? AND created_at < ? AND state = ? AND closed_at < ?",
			clientID, until, string(cases.StateClosed), dbTime(since))
		if err := tx.Model(&caseRow{}).Where("id IN (?)", old).Count(&closed).Error; err != nil {
			return s.db.interpret(err, "Cases")
		}
		inputs, err := s.db.ledgerInputs(tx, old)
		if err != nil {
			return err
		}
		ids := slices.SortedFunc(maps.Keys(inputs), func(a, b uuid.UUID) int { return bytes.Compare(a[:], b[:]) })
		for _, id := range ids {
			ledgers = append(ledgers, inputs[id])
		}
		return nil
	})
	return int(closed), ledgers, err
}

func (s *ReportService) StoreReport(ctx context.Context, actor cases.Actor, n cases.NewMonthlyReport, firstOnly bool) (*cases.MonthlyReport, bool, error) {
	if len(n.PDF) == 0 {
		return nil, false, cases.Errorf(cases.EINVALID, "The report is empty.")
	}
	sum := sha256.Sum256(n.PDF)
	row := monthlyReportRow{ID: uuid.Must(uuid.NewV7()), ClientID: n.ClientID, Month: n.Month.String(),
		PDF: n.PDF, SHA256: sum[:], Size: len(n.PDF), CaseCount: n.CaseCount, GeneratedAt: s.db.now()}
	if actor.Role != cases.RoleSystem {
		row.GeneratedBy = uuid.NullUUID{UUID: actor.UserID, Valid: true}
	}
	var existing *cases.MonthlyReport
	err := s.db.transact(ctx, func(tx *gorm.DB) error {
		var latest int
		if err := tx.Model(&monthlyReportRow{}).Select("COALESCE(MAX(version), 0)").
			Where("client_id = ? AND month = ?", n.ClientID, row.Month).Scan(&latest).Error; err != nil {
			return s.db.interpret(err, "Report")
		}
		if firstOnly && latest > 0 {
			r, err := s.first(tx, n.ClientID, n.Month)
			existing = r
			return err
		}
		row.Version = latest + 1
		if n.Sign != nil {
			signed, sig, keyID, err := n.Sign(n.PDF, row.Version)
			if err != nil {
				return err
			}
			sum := sha256.Sum256(signed)
			signature := string(sig)
			row.PDF, row.SHA256, row.Size, row.Signature, row.KeyID = signed, sum[:], len(signed), &signature, &keyID
		}
		if err := tx.Create(&row).Error; err != nil {
			return s.db.interpret(err, "Report")
		}
		return s.db.appendAudit(tx, actor, auditEvent{action: cases.ActionReportGenerated, subject: row.ID.String(),
			details: map[string]string{"client_id": n.ClientID.String(), "month": row.Month,
				"version": strconv.Itoa(row.Version), "sha256": hex.EncodeToString(row.SHA256), "key_id": keyIDOf(row.KeyID)}})
	})
	var domainErr *cases.Error
	if firstOnly && errors.As(err, &domainErr) && domainErr.Code == cases.ECONFLICT {
		// Another process stored the month's first version meanwhile.
		r, err := s.FirstReport(ctx, n.ClientID, n.Month)
		return r, false, err
	}
	if err != nil {
		return nil, false, err
	}
	if existing != nil {
		return existing, false, nil
	}
	return row.domain(), true, nil
}

func keyIDOf(k *string) string {
	if k == nil {
		return ""
	}
	return *k
}

func (s *ReportService) ReportSignature(ctx context.Context, id uuid.UUID) ([]byte, error) {
	var row monthlyReportRow
	if err := s.db.gorm.WithContext(ctx).Select("id", "signature").Where("id = ?", id).Take(&row).Error; err != nil {
		return nil, s.db.interpret(err, "Report")
	}
	if row.Signature == nil {
		return nil, cases.Errorf(cases.ENOTFOUND, "The report was stored unsigned.")
	}
	return []byte(*row.Signature), nil
}

func (s *ReportService) FirstReport(ctx context.Context, clientID uuid.UUID, m cases.Month) (*cases.MonthlyReport, error) {
	return s.first(s.db.gorm.WithContext(ctx), clientID, m)
}

func (s *ReportService) first(tx *gorm.DB, clientID uuid.UUID, m cases.Month) (*cases.MonthlyReport, error) {
	var row monthlyReportRow
	if err := tx.Select(reportMeta).Where("client_id = ? AND month = ? AND version = 1", clientID, m.String()).Take(&row).Error; err != nil {
		return nil, s.db.interpret(err, "Report")
	}
	return row.domain(), nil
}

func (s *ReportService) ListReports(ctx context.Context, clientID uuid.NullUUID) ([]*cases.MonthlyReport, error) {
	q := s.db.gorm.WithContext(ctx).Select(reportMeta)
	if clientID.Valid {
		q = q.Where("client_id = ?", clientID.UUID)
	}
	var rows []monthlyReportRow
	if err := q.Order("month DESC, version DESC, client_id").Find(&rows).Error; err != nil {
		return nil, s.db.interpret(err, "Reports")
	}
	out := make([]*cases.MonthlyReport, len(rows))
	for i := range rows {
		out[i] = rows[i].domain()
	}
	return out, nil
}

func (s *ReportService) FindReport(ctx context.Context, id uuid.UUID) (*cases.MonthlyReport, error) {
	var row monthlyReportRow
	if err := s.db.gorm.WithContext(ctx).Select(reportMeta).Where("id = ?", id).Take(&row).Error; err != nil {
		return nil, s.db.interpret(err, "Report")
	}
	return row.domain(), nil
}

func (s *ReportService) DownloadReport(ctx context.Context, actor cases.Actor, id uuid.UUID) (*cases.MonthlyReport, []byte, error) {
	var row monthlyReportRow
	err := s.db.transact(ctx, func(tx *gorm.DB) error {
		if err := s.load(tx, id, &row); err != nil {
			return err
		}
		return s.db.appendAudit(tx, actor, auditEvent{action: cases.ActionReportDownloaded, subject: id.String(),
			details: map[string]string{"client_id": row.ClientID.String(), "month": row.Month, "version": strconv.Itoa(row.Version)}})
	})
	if err != nil {
		return nil, nil, err
	}
	return row.domain(), row.PDF, nil
}

func (s *ReportService) ReportPDF(ctx context.Context, id uuid.UUID) ([]byte, error) {
	var row monthlyReportRow
	if err := s.load(s.db.gorm.WithContext(ctx), id, &row); err != nil {
		return nil, err
	}
	return row.PDF, nil
}

// load reads a report with its PDF, and refuses a PDF that is not the one stored.
func (s *ReportService) load(tx *gorm.DB, id uuid.UUID, row *monthlyReportRow) error {
	if err := tx.Where("id = ?", id).Take(row).Error; err != nil {
		return s.db.interpret(err, "Report")
	}
	if sum := sha256.Sum256(row.PDF); !bytes.Equal(sum[:], row.SHA256) {
		s.db.log.Error("report does not match its SHA-256", "report_id", id)
		return cases.Errorf(cases.EINTERNAL, "The stored report is damaged.")
	}
	return nil
}

func (s *ReportService) MarkReportSent(ctx context.Context, id uuid.UUID, recipients []string, at time.Time) error {
	to := strings.Join(recipients, ",")
	return s.db.updateAudited(ctx, cases.SystemActor, &monthlyReportRow{}, id,
		map[string]any{"sent_at": at.UTC(), "sent_to": to}, "Report",
		auditEvent{action: cases.ActionReportSent, subject: id.String(),
			details: map[string]string{"recipients": strconv.Itoa(len(recipients))}})
}

func (s *ReportService) SetReportContacts(ctx context.Context, actor cases.Actor, clientID uuid.UUID, emails []string) error {
	if err := cases.ValidateReportContacts(emails); err != nil {
		return err
	}
	return s.db.transact(ctx, func(tx *gorm.DB) error {
		if ok, err := s.db.exists(tx, &clientRow{}, "id = ?", clientID); err != nil {
			return err
		} else if !ok {
			return cases.Errorf(cases.ENOTFOUND, "Client not found.")
		}
		if err := tx.Where("client_id = ?", clientID).Delete(&reportContactRow{}).Error; err != nil {
			return s.db.interpret(err, "Report contacts")
		}
		for _, e := range emails {
			if err := tx.Create(&reportContactRow{ClientID: clientID, Email: e}).Error; err != nil {
				return s.db.interpret(err, "Report contact")
			}
		}
		return s.db.appendAudit(tx, actor, auditEvent{action: cases.ActionReportContacts, subject: clientID.String(),
			details: map[string]string{"count": strconv.Itoa(len(emails))}})
	})
}

func (s *ReportService) ReportContacts(ctx context.Context, clientID uuid.UUID) ([]string, error) {
	var emails []string
	if err := s.db.gorm.WithContext(ctx).Model(&reportContactRow{}).Where("client_id = ?", clientID).
		Order("email").Pluck("email", &emails).Error; err != nil {
		return nil, s.db.interpret(err, "Report contacts")
	}
	return emails, nil
}
