package storage

import (
	"bytes"
	"context"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	cases "github.com/remedy-cases/remedy/case"
	"github.com/remedy-cases/remedy/workflow"
)

// LedgerService implements cases.LedgerService.
type LedgerService struct{ db *DB }

var _ cases.LedgerService = (*LedgerService)(nil)

// NewLedgerService returns the ledger service of db.
func NewLedgerService(db *DB) *LedgerService { return &LedgerService{db: db} }

type planVersionRow struct {
	CaseID          uuid.UUID `gorm:"primaryKey"`
	ApprovedAt      time.Time `gorm:"primaryKey"`
	ApprovedBy      uuid.UUID
	EnrolmentDate   time.Time
	EndDate         time.Time
	Currency        string
	MonthlyStipend  int64
	TuitionCost     int64
	TravelCost      int64
	Payer           string
	FactorySharePct int
}

func (planVersionRow) TableName() string { return "plan_versions" }

func (r *planVersionRow) domain() cases.PlanVersion {
	return cases.PlanVersion{ApprovedAt: r.ApprovedAt.UTC(), EnrolmentDate: cases.Date(r.EnrolmentDate.UTC()),
		EndDate: cases.Date(r.EndDate.UTC()), Currency: r.Currency, MonthlyStipend: r.MonthlyStipend,
		TuitionCost: r.TuitionCost, TravelCost: r.TravelCost, Payer: cases.Payer(r.Payer), FactorySharePct: r.FactorySharePct}
}

type caseAlertRow struct {
	CaseID     uuid.UUID `gorm:"primaryKey"`
	RaisedOn   time.Time `gorm:"primaryKey"`
	ResolvedOn *time.Time
}

func (caseAlertRow) TableName() string { return "case_alerts" }

type paymentRow struct {
	ID         uuid.UUID `gorm:"primaryKey"`
	CaseID     uuid.UUID
	Payer      string
	PayerID    uuid.UUID
	Amount     int64
	Currency   string
	PaidOn     time.Time
	Month      time.Time
	Method     string
	ProofRef   *string
	ReversalOf uuid.NullUUID
	FollowUpID uuid.NullUUID
	RecordedBy uuid.UUID
	CreatedAt  time.Time
}

func (paymentRow) TableName() string { return "payments" }

func (r *paymentRow) domain() *cases.Payment {
	p := &cases.Payment{ID: r.ID, CaseID: r.CaseID, Payer: cases.Payer(r.Payer),
		Amount: cases.Money{Amount: r.Amount, Currency: r.Currency}, PaidOn: cases.Date(r.PaidOn.UTC()),
		Month: cases.MonthOf(r.Month.UTC()), Method: r.Method, ReversalOf: r.ReversalOf, FollowUpID: r.FollowUpID,
		RecordedBy: r.RecordedBy, CreatedAt: r.CreatedAt.UTC()}
	if r.ProofRef != nil {
		p.ProofRef = *r.ProofRef
	}
	return p
}

type ledgerLineRow struct {
	CaseID   uuid.UUID `gorm:"primaryKey"`
	ClientID uuid.UUID
	Month    time.Time `gorm:"primaryKey"`
	Payer    string    `gorm:"primaryKey"`
	Currency string    `gorm:"primaryKey"`
	Due      int64
	Paid     int64
	DueOn    *time.Time
}

func (ledgerLineRow) TableName() string { return "ledger_lines" }

func (r *ledgerLineRow) domain() cases.LedgerLine {
	l := cases.LedgerLine{Month: cases.MonthOf(r.Month.UTC()), Payer: cases.Payer(r.Payer), Currency: r.Currency,
		Due: r.Due, Paid: r.Paid}
	if r.DueOn != nil {
		l.DueOn = cases.Date(r.DueOn.UTC())
	}
	return l
}

// ledgerInputs loads what the ledgers of the cases ids follow from, in four
// queries whatever their number; a nil ids loads nothing.
func (db *DB) ledgerInputs(tx *gorm.DB, ids any) (map[uuid.UUID]*cases.LedgerInput, error) {
	out := map[uuid.UUID]*cases.LedgerInput{}
	in := func(id uuid.UUID) *cases.LedgerInput {
		if out[id] == nil {
			out[id] = &cases.LedgerInput{}
		}
		return out[id]
	}
	var versions []planVersionRow
	if err := tx.Where("case_id IN (?)", ids).Order("case_id, approved_at").Find(&versions).Error; err != nil {
		return nil, db.interpret(err, "Plan versions")
	}
	for i := range versions {
		l := in(versions[i].CaseID)
		l.Versions = append(l.Versions, versions[i].domain())
	}
	var transitions []transitionRow
	if err := tx.Select("id", "case_id", "from_state", "to_state", "at").
		Where("case_id IN (?) AND (to_state = ? OR from_state = ?)", ids, string(cases.StateClosed), string(cases.StateClosed)).
		Order("at, id").Find(&transitions).Error; err != nil {
		return nil, db.interpret(err, "Transitions")
	}
	for i := range transitions {
		l := in(transitions[i].CaseID)
		l.Transitions = append(l.Transitions, transitions[i].domain())
	}
	var alerts []caseAlertRow
	if err := tx.Where("case_id IN (?)", ids).Order("raised_on").Find(&alerts).Error; err != nil {
		return nil, db.interpret(err, "Alerts")
	}
	for _, a := range alerts {
		l := in(a.CaseID)
		l.Suspensions = append(l.Suspensions, cases.Suspension{From: cases.Date(a.RaisedOn.UTC()), To: datePtr(a.ResolvedOn)})
	}
	var payments []paymentRow
	if err := tx.Where("case_id IN (?)", ids).Order("month, created_at, id").Find(&payments).Error; err != nil {
		return nil, db.interpret(err, "Payments")
	}
	reversed := map[uuid.UUID]uuid.UUID{}
	for i := range payments {
		if payments[i].ReversalOf.Valid {
			reversed[payments[i].ReversalOf.UUID] = payments[i].ID
		}
	}
	for i := range payments {
		p := payments[i].domain()
		if by, ok := reversed[p.ID]; ok {
			p.ReversedBy = uuid.NullUUID{UUID: by, Valid: true}
		}
		l := in(p.CaseID)
		l.Payments = append(l.Payments, p)
	}
	return out, nil
}

type ledgerSummaryRow struct {
	ClientID uuid.UUID `gorm:"primaryKey"`
	Month    time.Time `gorm:"primaryKey"`
	DueOn    time.Time `gorm:"primaryKey"`
	Payer    string    `gorm:"primaryKey"`
	Currency string    `gorm:"primaryKey"`
	Stripe   int16     `gorm:"primaryKey"` // 0 to ledgerStripes-1: the cell's share kept by some of its cases
	Due      int64
	Paid     int64
	Unpaid   int64
	Credit   int64
}

// ledgerStripes is how many rows share a cell of a brand's summary: a
// case's refresh adds to the stripe of its id (stripeOf), so that two
// refreshes of one brand's cases wait on each other's row lock one time
// in sixteen instead of always (migration 00013).
const ledgerStripes = 16

// stripeOf is the summary stripe of a case: its id's last byte is random.
func stripeOf(caseID uuid.UUID) int16 { return int16(caseID[15] % ledgerStripes) }

func (ledgerSummaryRow) TableName() string { return "ledger_summary" }

// summaryKey is the cell of a brand's summary a line falls in; a month paid
// but not owed falls due, for the summary, on its first day.
type summaryKey struct {
	month, dueOn    time.Time
	payer, currency string
}

func summaryKeyOf(l *ledgerLineRow) summaryKey {
	due := l.Month
	if l.DueOn != nil {
		due = *l.DueOn
	}
	return summaryKey{cases.Date(l.Month.UTC()), cases.Date(due.UTC()), l.Payer, l.Currency}
}

// refreshLedger recomputes, inside tx, the case's ledger lines, its brand's
// summary and the day its first unpaid month fell due, after a change to
// what it owes or was paid. The lines follow from the domain's rules
// (cases.BuildLedger); the tables only keep them for sums over many cases.
func (db *DB) refreshLedger(tx *gorm.DB, caseID uuid.UUID) error {
	return db.refreshLedgerFrom(tx, caseID, uuid.Nil, nil)
}

// refreshLedgerFrom is refreshLedger for a caller that knows the case's
// brand (a case never changes brand) or, having locked the case, has read
// its ledger's inputs since (a payment's check reads them, and its refresh
// needs them again with only the payment added); uuid.Nil and nil mean
// unknown. Every writer of a ledger locks its case first, so inputs read
// under that lock are still what the database holds.
func (db *DB) refreshLedgerFrom(tx *gorm.DB, caseID, clientID uuid.UUID, input *cases.LedgerInput) error {
	inputs := map[uuid.UUID]*cases.LedgerInput{caseID: input}
	if input == nil {
		var err error
		if inputs, err = db.ledgerInputs(tx, []uuid.UUID{caseID}); err != nil {
			return err
		}
	}
	client := []uuid.UUID{clientID}
	if clientID == uuid.Nil {
		client = nil
		if err := tx.Model(&caseRow{}).Where("id = ?", caseID).Pluck("client_id", &client).Error; err != nil {
			return db.interpret(err, "Case")
		} else if len(client) != 1 {
			return cases.Errorf(cases.ENOTFOUND, "Case not found.")
		}
	}
	// The old lines go, and come back to be taken out of the summary.
	var old []ledgerLineRow
	if err := tx.Clauses(clause.Returning{}).Where("case_id = ?", caseID).Delete(&old).Error; err != nil {
		return db.interpret(err, "Ledger")
	}
	var lines []ledgerLineRow
	var unpaid *time.Time
	if in := inputs[caseID]; in != nil && len(in.Versions) > 0 {
		l := cases.BuildLedger(*in, db.Now(), db.Zone, db.GraceDays)
		unpaid = l.UnpaidDueOn
		for _, line := range l.Lines {
			row := ledgerLineRow{CaseID: caseID, ClientID: client[0], Month: line.Month.Start(), Payer: string(line.Payer),
				Currency: line.Currency, Due: line.Due, Paid: line.Paid}
			if !line.DueOn.IsZero() {
				d := line.DueOn
				row.DueOn = &d
			}
			lines = append(lines, row)
		}
	}
	// The brand's summary moves by the difference: old lines out, new in.
	delta := map[summaryKey]*ledgerSummaryRow{}
	add := func(l *ledgerLineRow, sign int64) {
		k := summaryKeyOf(l)
		d := delta[k]
		if d == nil {
			d = &ledgerSummaryRow{ClientID: client[0], Month: k.month, DueOn: k.dueOn, Payer: k.payer, Currency: k.currency}
			delta[k] = d
		}
		d.Due += sign * l.Due
		d.Paid += sign * l.Paid
		d.Unpaid += sign * max(l.Due-l.Paid, 0)
		d.Credit += sign * max(l.Paid-l.Due, 0)
	}
	for i := range old {
		add(&old[i], -1)
	}
	for i := range lines {
		add(&lines[i], 1)
	}
	if len(lines) > 0 {
		if err := tx.CreateInBatches(lines, 500).Error; err != nil {
			return db.interpret(err, "Ledger")
		}
	}
	// In one order, so that two refreshes of one brand cannot deadlock.
	keys := make([]summaryKey, 0, len(delta))
	for k, d := range delta {
		if d.Due != 0 || d.Paid != 0 || d.Unpaid != 0 || d.Credit != 0 {
			keys = append(keys, k)
		}
	}
	sort.Slice(keys, func(i, j int) bool {
		a, b := keys[i], keys[j]
		switch {
		case !a.month.Equal(b.month):
			return a.month.Before(b.month)
		case !a.dueOn.Equal(b.dueOn):
			return a.dueOn.Before(b.dueOn)
		case a.payer != b.payer:
			return a.payer < b.payer
		}
		return a.currency < b.currency
	})
	// One statement for all the cells: its rows take their locks in the
	// order of its VALUES, and no two rows of it are one cell.
	if len(keys) > 0 {
		var sql strings.Builder
		sql.WriteString("INSERT INTO ledger_summary (client_id, month, due_on, payer, currency, stripe, due, paid, unpaid, credit) VALUES ")
		writeTuples(&sql, len(keys), 10)
		sql.WriteString(` ON CONFLICT (client_id, month, due_on, payer, currency, stripe) DO UPDATE SET
			due = ledger_summary.due + excluded.due, paid = ledger_summary.paid + excluded.paid,
			unpaid = ledger_summary.unpaid + excluded.unpaid, credit = ledger_summary.credit + excluded.credit`)
		args := make([]any, 0, 10*len(keys))
		for _, k := range keys {
			d := delta[k]
			args = append(args, d.ClientID, d.Month, d.DueOn, d.Payer, d.Currency, stripeOf(caseID), d.Due, d.Paid, d.Unpaid, d.Credit)
		}
		if err := tx.Exec(sql.String(), args...).Error; err != nil {
			return db.interpret(err, "Ledger summary")
		}
	}
	// Written only if it moved: a payment within the months already paid
	// leaves it, and an UPDATE of a case writes a new row with its indexes.
	return db.interpret(tx.Model(&caseRow{}).Where("id = ? AND unpaid_due_on IS DISTINCT FROM ?", caseID, unpaid).
		Update("unpaid_due_on", unpaid).Error, "Case")
}

// lockCase makes q's read of a case lock its row until the transaction
// ends (PostgreSQL; SQLite runs one writer at a time): the ledger's
// writers lock their case first, so that each reads what the one before it
// wrote. FOR NO KEY UPDATE, as an UPDATE of the case takes: it does not
// wait for the key-share locks that the rows referring to the case take.
func (db *DB) lockCase(q *gorm.DB) *gorm.DB {
	if db.dialect != Postgres {
		return q
	}
	return q.Clauses(clause.Locking{Strength: "NO KEY UPDATE"})
}

// recordPlanVersion keeps the plan as it was approved, inside tx.
func (db *DB) recordPlanVersion(tx *gorm.DB, caseID uuid.UUID, p *cases.Plan) error {
	row := planVersionRow{CaseID: caseID, ApprovedAt: dbTime(*p.ApprovedAt), ApprovedBy: p.ApprovedBy.UUID,
		EnrolmentDate: p.EnrolmentDate, EndDate: p.EndDate, Currency: p.Currency, MonthlyStipend: p.MonthlyStipend,
		TuitionCost: p.TuitionCost, TravelCost: p.TravelCost, Payer: string(p.Payer), FactorySharePct: p.FactorySharePct}
	return db.interpret(tx.Create(&row).Error, "Plan version")
}

// RecordPayment adds a payment and audits it in one transaction.
func (s *LedgerService) RecordPayment(ctx context.Context, actor cases.Actor, caseID uuid.UUID, in cases.PaymentInput) (*cases.Payment, error) {
	in.Normalize()
	if err := in.Validate(s.db.today()); err != nil {
		return nil, err
	}
	var out *cases.Payment
	err := s.db.transact(ctx, func(tx *gorm.DB) error {
		p, err := s.db.insertPayment(tx, actor, caseID, in, uuid.NullUUID{})
		out = p
		return err
	})
	return out, err
}

// insertPayment checks a payment against the case's plans and writes it,
// its audit entry and the case's refreshed ledger, inside tx.
func (db *DB) insertPayment(tx *gorm.DB, actor cases.Actor, caseID uuid.UUID, in cases.PaymentInput, followUp uuid.NullUUID) (*cases.Payment, error) {
	var row caseRow
	if err := db.lockCase(tx.Select("id", "code", "client_id", "factory_id", "assignee_id")).Where("id = ?", caseID).Take(&row).Error; err != nil {
		return nil, db.interpret(err, "Case")
	}
	if err := workflow.CanWork(row.domain(), actor); err != nil {
		return nil, err
	}
	inputs, err := db.ledgerInputs(tx, []uuid.UUID{caseID})
	if err != nil {
		return nil, err
	}
	ledger := inputs[caseID]
	if ledger == nil || len(ledger.Versions) == 0 {
		return nil, &cases.Error{Code: cases.EINVALID, Message: "The payment is not valid.",
			Failed: []cases.Failure{{Name: "case", Message: "the case has no approved plan: nothing is owed yet"}}}
	}
	first, last := ledger.Versions[0], ledger.Versions[len(ledger.Versions)-1]
	var owedByPayer int64
	for _, l := range cases.BuildLedger(*ledger, db.Now(), db.Zone, db.GraceDays).Lines {
		if l.Payer == in.Payer {
			owedByPayer += l.Due
		}
	}
	var v cases.Validation
	v.Check(in.Currency == last.Currency, "currency", "currency must be the plan's, %s", last.Currency)
	v.Check(!in.Month.Before(cases.MonthOf(first.EnrolmentDate)), "month", "month is before the plan's enrolment month, %s", cases.MonthOf(first.EnrolmentDate))
	v.Check(!cases.MonthOf(last.EndDate).Before(in.Month), "month", "month is after the plan's end month, %s", cases.MonthOf(last.EndDate))
	v.Check(in.Amount <= owedByPayer, "amount", "amount is more than all this payer owes under the plan (%d)", owedByPayer)
	if err := v.Err("The payment is not valid."); err != nil {
		return nil, err
	}
	payer := row.ClientID
	if in.Payer == cases.PayerFactory {
		payer = row.FactoryID
	}
	now := db.now()
	ref := in.ProofRef
	p := paymentRow{ID: uuid.Must(uuid.NewV7()), CaseID: caseID, Payer: string(in.Payer), PayerID: payer,
		Amount: in.Amount, Currency: in.Currency, PaidOn: cases.Date(in.PaidOn), Month: in.Month.Start(),
		Method: in.Method, ProofRef: &ref, FollowUpID: followUp, RecordedBy: actor.UserID, CreatedAt: now}
	if err := db.createPayment(tx, &p); err != nil {
		return nil, err
	}
	// The inputs as read above, with this payment: the case is locked.
	ledger.Payments = append(ledger.Payments, p.domain())
	sortPayments(ledger.Payments)
	if err := db.refreshLedgerFrom(tx, caseID, row.ClientID, ledger); err != nil {
		return nil, err
	}
	err = db.appendAudit(tx, actor, auditEvent{action: cases.ActionPaymentRecorded, caseID: uuid.NullUUID{UUID: caseID, Valid: true},
		subject: row.Code, details: map[string]string{"payment_id": p.ID.String(), "payer": p.Payer, "month": in.Month.String(),
			"amount": strconv.FormatInt(p.Amount, 10), "currency": p.Currency}})
	return p.domain(), err
}

// createPayment inserts p; a proof reference the payer used before is a
// conflict, found by the insert itself (ON CONFLICT DO NOTHING on that
// constraint) rather than by a unique violation caught in a savepoint,
// two round trips more.
func (db *DB) createPayment(tx *gorm.DB, p *paymentRow) error {
	res := tx.Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "payer"}, {Name: "payer_id"}, {Name: "proof_ref"}}, DoNothing: true}).Create(p)
	if res.Error != nil {
		return db.interpret(res.Error, "Payment")
	}
	if res.RowsAffected == 0 {
		return &cases.Error{Code: cases.ECONFLICT, Message: "The payer used this proof reference before.",
			Failed: []cases.Failure{{Name: "proof_ref", Message: "this payer recorded a payment with this proof reference already"}}}
	}
	return nil
}

// ReversePayment records the reversing entry of a payment.
func (s *LedgerService) ReversePayment(ctx context.Context, actor cases.Actor, caseID, paymentID uuid.UUID) (*cases.Payment, error) {
	var out *cases.Payment
	err := s.db.transact(ctx, func(tx *gorm.DB) error {
		var row caseRow
		if err := s.db.lockCase(tx.Select("id", "code", "client_id", "assignee_id")).Where("id = ?", caseID).Take(&row).Error; err != nil {
			return s.db.interpret(err, "Case")
		}
		if err := workflow.CanWork(row.domain(), actor); err != nil {
			return err
		}
		var orig paymentRow
		if err := tx.Where("id = ? AND case_id = ?", paymentID, caseID).Take(&orig).Error; err != nil {
			return s.db.interpret(err, "Payment")
		}
		if orig.ReversalOf.Valid {
			return cases.Errorf(cases.ECONFLICT, "A reversal cannot be reversed; record the payment again instead.")
		}
		if ok, err := s.db.exists(tx, &paymentRow{}, "reversal_of = ?", paymentID); err != nil {
			return err
		} else if ok {
			return cases.Errorf(cases.ECONFLICT, "The payment was reversed already.")
		}
		now := s.db.now()
		rev := paymentRow{ID: uuid.Must(uuid.NewV7()), CaseID: caseID, Payer: orig.Payer, PayerID: orig.PayerID,
			Amount: -orig.Amount, Currency: orig.Currency, PaidOn: s.db.today(), Month: orig.Month, Method: orig.Method,
			ReversalOf: uuid.NullUUID{UUID: orig.ID, Valid: true}, RecordedBy: actor.UserID, CreatedAt: now}
		if err := s.db.createPayment(tx, &rev); err != nil {
			if cases.ErrorCode(err) == cases.ECONFLICT {
				return cases.Errorf(cases.ECONFLICT, "The payment was reversed already.")
			}
			return err
		}
		if err := s.db.refreshLedgerFrom(tx, caseID, row.ClientID, nil); err != nil {
			return err
		}
		out = rev.domain()
		return s.db.appendAudit(tx, actor, auditEvent{action: cases.ActionPaymentReversed, caseID: uuid.NullUUID{UUID: caseID, Valid: true},
			subject: row.Code, details: map[string]string{"payment_id": rev.ID.String(), "reversal_of": orig.ID.String(),
				"amount": strconv.FormatInt(rev.Amount, 10), "currency": rev.Currency}})
	})
	return out, err
}

// CaseLedger reconciles a case as of now.
func (s *LedgerService) CaseLedger(ctx context.Context, caseID uuid.UUID) (*cases.CaseLedger, []*cases.Payment, error) {
	var in *cases.LedgerInput
	err := s.db.transact(ctx, func(tx *gorm.DB) error {
		if ok, err := s.db.exists(tx, &caseRow{}, "id = ?", caseID); err != nil {
			return err
		} else if !ok {
			return cases.Errorf(cases.ENOTFOUND, "Case not found.")
		}
		inputs, err := s.db.ledgerInputs(tx, []uuid.UUID{caseID})
		if err != nil {
			return err
		}
		in = inputs[caseID]
		if in == nil {
			return nil
		}
		var proofs []struct {
			PaymentID uuid.UUID
			N         int
		}
		if err := tx.Model(&documentRow{}).Select("payment_id, count(*) AS n").
			Where("case_id = ? AND payment_id IS NOT NULL", caseID).Group("payment_id").Scan(&proofs).Error; err != nil {
			return s.db.interpret(err, "Documents")
		}
		for _, p := range in.Payments {
			for _, d := range proofs {
				if d.PaymentID == p.ID {
					p.ProofDocuments = d.N
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	if in == nil {
		in = &cases.LedgerInput{}
	}
	l := cases.BuildLedger(*in, s.db.Now(), s.db.Zone, s.db.GraceDays)
	return &l, in.Payments, nil
}

// BrandLedger reconciles a brand's cases over a range of months from the
// brand's summary (a few rows a month, whatever the number of cases), names
// its cases in arrears from their index, and reads each case's lines only
// when the filter asks for them.
func (s *LedgerService) BrandLedger(ctx context.Context, f cases.LedgerFilter) (*cases.BrandLedger, error) {
	if err := f.Validate(); err != nil {
		return nil, err
	}
	now := s.db.Now()
	current := cases.MonthOf(now.In(s.db.Zone))
	lateBefore := cases.Today(now, s.db.Zone).AddDate(0, 0, -s.db.GraceDays)
	last := f.To
	if last.Before(current) {
		last = current
	}
	out := &cases.BrandLedger{From: f.From, To: f.To}
	err := s.db.transact(ctx, func(tx *gorm.DB) error {
		var rows []ledgerSummaryRow
		if err := tx.Where("client_id = ? AND month <= ?", f.ClientID, last.Start()).
			Order("month, payer, currency, due_on").Find(&rows).Error; err != nil {
			return s.db.interpret(err, "Ledger summary")
		}
		type mkey struct {
			m        cases.Month
			payer    string
			currency string
		}
		months := map[mkey]*cases.LedgerLine{}
		var order []mkey
		totals := map[[2]string]*cases.PayerTotals{}
		for _, r := range rows {
			m := cases.MonthOf(r.Month.UTC())
			if !m.Before(f.From) && !f.To.Before(m) {
				k := mkey{m, r.Payer, r.Currency}
				if months[k] == nil {
					months[k] = &cases.LedgerLine{Month: m, Payer: cases.Payer(r.Payer), Currency: r.Currency}
					order = append(order, k)
				}
				months[k].Due += r.Due
				months[k].Paid += r.Paid
			}
			if current.Before(m) {
				continue
			}
			tk := [2]string{r.Payer, r.Currency}
			t := totals[tk]
			if t == nil {
				t = &cases.PayerTotals{Payer: cases.Payer(r.Payer), Currency: r.Currency}
				totals[tk] = t
			}
			t.Due += r.Due
			t.Paid += r.Paid
			t.Credit += r.Credit
			if r.DueOn.Before(lateBefore) {
				t.Arrears += r.Unpaid
			}
		}
		byMonth := map[cases.Month][]cases.LedgerLine{}
		for _, k := range order {
			byMonth[k.m] = append(byMonth[k.m], *months[k])
		}
		for m := f.From; !f.To.Before(m); m = m.Add(1) {
			out.Months = append(out.Months, cases.BrandMonth{Month: m, Lines: byMonth[m]})
		}
		for _, p := range cases.LedgerPayers {
			var currencies []string
			for k := range totals {
				if k[0] == string(p) {
					currencies = append(currencies, k[1])
				}
			}
			sort.Strings(currencies)
			for _, c := range currencies {
				out.Totals = append(out.Totals, *totals[[2]string{string(p), c}])
			}
		}
		var late []caseRow
		if err := tx.Select("id", "code", "unpaid_due_on").Where("client_id = ? AND unpaid_due_on < ?", f.ClientID, lateBefore).
			Order("code").Find(&late).Error; err != nil {
			return s.db.interpret(err, "Cases")
		}
		for _, c := range late {
			out.InArrears = append(out.InArrears, cases.CaseArrears{CaseID: c.ID, Code: c.Code, UnpaidDueOn: cases.Date(c.UnpaidDueOn.UTC())})
		}
		if !f.WithLines {
			return nil
		}
		var lines []ledgerLineRow
		if err := tx.Where("client_id = ? AND month >= ? AND month <= ?", f.ClientID, f.From.Start(), f.To.Start()).
			Order("case_id, month, payer, currency").Find(&lines).Error; err != nil {
			return s.db.interpret(err, "Ledger")
		}
		var coded []caseRow
		if err := tx.Select("id", "code").Where("id IN (?)", tx.Model(&ledgerLineRow{}).Distinct("case_id").
			Where("client_id = ?", f.ClientID)).Order("code").Find(&coded).Error; err != nil {
			return s.db.interpret(err, "Cases")
		}
		index := make(map[uuid.UUID]int, len(coded))
		for i, c := range coded {
			index[c.ID] = i
			out.Cases = append(out.Cases, cases.CaseLedgerRow{CaseID: c.ID, Code: c.Code})
		}
		for i := range lines {
			if at, ok := index[lines[i].CaseID]; ok {
				out.Cases[at].Lines = append(out.Cases[at].Lines, lines[i].domain())
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// sortPayments orders payments as ledgerInputs reads them: by month, then
// as recorded.
func sortPayments(ps []*cases.Payment) {
	slices.SortStableFunc(ps, func(a, b *cases.Payment) int {
		if c := a.Month.Start().Compare(b.Month.Start()); c != 0 {
			return c
		}
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return bytes.Compare(a.ID[:], b.ID[:])
	})
}
