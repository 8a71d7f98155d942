package storage

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	cases "github.com/remedy-cases/remedy/case"
)

// WebhookService implements cases.WebhookService, and turns the sealed
// audit chain into deliveries (Dispatch).
type WebhookService struct{ db *DB }

var _ cases.WebhookService = (*WebhookService)(nil)

// NewWebhookService returns the webhook service of db.
func NewWebhookService(db *DB) *WebhookService { return &WebhookService{db: db} }

type webhookRow struct {
	ID        uuid.UUID `gorm:"primaryKey"`
	ClientID  uuid.NullUUID
	URL       string
	Events    string // comma-separated
	Secret    string
	Active    bool
	CreatedAt time.Time
	CreatedBy uuid.NullUUID
}

func (webhookRow) TableName() string { return "webhook_endpoints" }

func (r *webhookRow) domain() *cases.Webhook {
	return &cases.Webhook{ID: r.ID, ClientID: r.ClientID, URL: r.URL, Events: strings.Split(r.Events, ","),
		Active: r.Active, CreatedAt: r.CreatedAt.UTC(), CreatedBy: r.CreatedBy}
}

type deliveryRow struct {
	ID            uuid.UUID `gorm:"primaryKey"`
	EndpointID    uuid.UUID
	AuditPos      int64
	Event         string
	Payload       string
	State         string
	Attempts      int
	LastStatus    *int
	LastError     *string
	LastAttemptAt *time.Time
	DeliveredAt   *time.Time
	CreatedAt     time.Time
}

func (deliveryRow) TableName() string { return "webhook_deliveries" }

func (r *deliveryRow) domain() *cases.WebhookDelivery {
	d := &cases.WebhookDelivery{ID: r.ID, WebhookID: r.EndpointID, Event: r.Event, Payload: []byte(r.Payload),
		State: r.State, Attempts: r.Attempts, CreatedAt: r.CreatedAt.UTC(), AttemptAt: utcPtr(r.LastAttemptAt),
		Delivered: utcPtr(r.DeliveredAt)}
	if r.LastStatus != nil {
		d.LastStatus = *r.LastStatus
	}
	if r.LastError != nil {
		d.LastError = *r.LastError
	}
	return d
}

type webhookCursorRow struct {
	ID  int `gorm:"primaryKey;autoIncrement:false"`
	Pos int64
}

func (webhookCursorRow) TableName() string { return "webhook_cursor" }

// newWebhookSecret is "whsec_" and 32 random bytes in base64, the Standard
// Webhooks form.
func newWebhookSecret() (string, error) {
	k := make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		return "", err
	}
	return "whsec_" + base64.StdEncoding.EncodeToString(k), nil
}

func (s *WebhookService) CreateWebhook(ctx context.Context, actor cases.Actor, n cases.NewWebhook) (*cases.Webhook, cases.WebhookSecret, error) {
	if err := n.Validate(); err != nil {
		return nil, cases.WebhookSecret{}, err
	}
	secret, err := newWebhookSecret()
	if err != nil {
		return nil, cases.WebhookSecret{}, err
	}
	row := webhookRow{ID: uuid.Must(uuid.NewV7()), ClientID: n.ClientID, URL: n.URL, Events: strings.Join(n.Events, ","),
		Secret: secret, Active: true, CreatedAt: s.db.now()}
	if actor.UserID != uuid.Nil {
		row.CreatedBy = uuid.NullUUID{UUID: actor.UserID, Valid: true}
	}
	err = s.db.transact(ctx, func(tx *gorm.DB) error {
		if n.ClientID.Valid {
			if ok, err := s.db.exists(tx, &clientRow{}, "id = ?", n.ClientID.UUID); err != nil {
				return err
			} else if !ok {
				return &cases.Error{Code: cases.EINVALID, Message: "The webhook is not valid.",
					Failed: []cases.Failure{{Name: "client_id", Message: "no client has this id"}}}
			}
		}
		if err := tx.Create(&row).Error; err != nil {
			return s.db.interpret(err, "Webhook")
		}
		// The URL may name a brand's host: the entry keeps its id and events only.
		return s.db.appendAudit(tx, actor, auditEvent{action: cases.ActionWebhookCreated, subject: row.ID.String(),
			details: map[string]string{"client_id": nullUUIDString(n.ClientID), "events": row.Events}})
	})
	if err != nil {
		return nil, cases.WebhookSecret{}, err
	}
	return row.domain(), cases.NewWebhookSecret(secret), nil
}

func (s *WebhookService) ListWebhooks(ctx context.Context, clientID uuid.NullUUID) ([]*cases.Webhook, error) {
	q := s.db.gorm.WithContext(ctx).Omit("secret")
	if clientID.Valid {
		q = q.Where("client_id = ?", clientID.UUID)
	}
	var rows []webhookRow
	if err := q.Order("created_at, id").Find(&rows).Error; err != nil {
		return nil, s.db.interpret(err, "Webhooks")
	}
	out := make([]*cases.Webhook, len(rows))
	for i := range rows {
		out[i] = rows[i].domain()
	}
	return out, nil
}

func (s *WebhookService) FindWebhook(ctx context.Context, id uuid.UUID) (*cases.Webhook, error) {
	var row webhookRow
	if err := s.db.gorm.WithContext(ctx).Omit("secret").Where("id = ?", id).Take(&row).Error; err != nil {
		return nil, s.db.interpret(err, "Webhook")
	}
	return row.domain(), nil
}

func (s *WebhookService) DisableWebhook(ctx context.Context, actor cases.Actor, id uuid.UUID) error {
	return s.db.updateAudited(ctx, actor, &webhookRow{}, id, map[string]any{"active": false}, "Webhook",
		auditEvent{action: cases.ActionWebhookDisabled, subject: id.String()})
}

func (s *WebhookService) WebhookDeliveries(ctx context.Context, id uuid.UUID, limit int) ([]*cases.WebhookDelivery, error) {
	if limit <= 0 || limit > 200 {
		limit = 50
	}
	var rows []deliveryRow
	if err := s.db.gorm.WithContext(ctx).Where("endpoint_id = ?", id).Order("created_at DESC, id DESC").
		Limit(limit).Find(&rows).Error; err != nil {
		return nil, s.db.interpret(err, "Webhook deliveries")
	}
	out := make([]*cases.WebhookDelivery, len(rows))
	for i := range rows {
		out[i] = rows[i].domain()
	}
	return out, nil
}

// Outbound returns a delivery with what it takes to make it.
func (s *WebhookService) Outbound(ctx context.Context, id uuid.UUID) (*cases.OutboundWebhook, error) {
	var d deliveryRow
	if err := s.db.gorm.WithContext(ctx).Where("id = ?", id).Take(&d).Error; err != nil {
		return nil, s.db.interpret(err, "Webhook delivery")
	}
	var w webhookRow
	if err := s.db.gorm.WithContext(ctx).Where("id = ?", d.EndpointID).Take(&w).Error; err != nil {
		return nil, s.db.interpret(err, "Webhook")
	}
	return &cases.OutboundWebhook{Delivery: d.domain(), URL: w.URL, Secret: cases.NewWebhookSecret(w.Secret), Active: w.Active}, nil
}

// RecordAttempt logs an attempt at a delivery: its HTTP status (0 if the
// endpoint never answered), and what went wrong, which must not quote the
// endpoint's answer. A delivery that succeeded, or failed for the last
// time (final), leaves the pending state.
func (s *WebhookService) RecordAttempt(ctx context.Context, id uuid.UUID, status int, problem string, final bool) error {
	now := s.db.now()
	cols := map[string]any{"attempts": gorm.Expr("attempts + 1"), "last_attempt_at": now, "last_status": nil, "last_error": nil}
	if status != 0 {
		cols["last_status"] = status
	}
	if problem != "" {
		cols["last_error"] = problem
	}
	switch {
	case problem == "":
		cols["state"], cols["delivered_at"] = cases.DeliveryDelivered, now
	case final:
		cols["state"] = cases.DeliveryFailed
	}
	if err := s.db.gorm.WithContext(ctx).Model(&deliveryRow{}).Where("id = ?", id).Updates(cols).Error; err != nil {
		return s.db.interpret(err, "Webhook delivery")
	}
	return nil
}

// PendingDeliveries returns the ids of deliveries still to make, oldest
// first: what Dispatch made, for the caller to queue.
func (s *WebhookService) PendingDeliveries(ctx context.Context, limit int) ([]uuid.UUID, error) {
	var ids []uuid.UUID
	if err := s.db.gorm.WithContext(ctx).Model(&deliveryRow{}).Where("state = ?", cases.DeliveryPending).
		Order("created_at, id").Limit(limit).Pluck("id", &ids).Error; err != nil {
		return nil, s.db.interpret(err, "Webhook deliveries")
	}
	return ids, nil
}

// dispatchBatch bounds the chain positions one Dispatch reads.
const dispatchBatch = 500

// Dispatch turns the audit entries chained since the last call into
// deliveries, one per active endpoint that subscribes to the event and
// sees its brand, and moves the cursor, in one transaction: an event is
// made into deliveries once, whichever process dispatches. It reads the
// chain, not the log, so that entries committed out of order are never
// skipped. It returns how many deliveries it made.
func (s *WebhookService) Dispatch(ctx context.Context) (int, error) {
	if _, err := s.MarkArrears(ctx); err != nil {
		return 0, err
	}
	if err := s.db.SealAudit(ctx); err != nil {
		return 0, err
	}
	made := 0
	for {
		n, more, err := s.dispatch(ctx)
		made += n
		if err != nil || !more {
			return made, err
		}
	}
}

// MarkArrears audits the start of each case's arrears once: a case whose
// first unpaid month fell due more than the grace days ago, and whose
// arrears from that day were not noted yet, gets a ledger.arrears entry
// (which Dispatch turns into stipend.arrears events) in the transaction
// that notes them. It returns how many it noted.
func (s *WebhookService) MarkArrears(ctx context.Context) (int, error) {
	cutoff := cases.Today(s.db.Now(), s.db.Zone).AddDate(0, 0, -s.db.GraceDays)
	var due []struct {
		ID          uuid.UUID
		UnpaidDueOn time.Time
	}
	if err := s.db.gorm.WithContext(ctx).Model(&caseRow{}).Select("id", "unpaid_due_on").
		Where("unpaid_due_on < ? AND (arrears_notified_on IS NULL OR arrears_notified_on <> unpaid_due_on)", cutoff).
		Order("unpaid_due_on, id").Limit(1000).Scan(&due).Error; err != nil {
		return 0, s.db.interpret(err, "Cases")
	}
	marked := 0
	for _, c := range due {
		err := s.db.transact(ctx, func(tx *gorm.DB) error {
			res := tx.Model(&caseRow{}).Where("id = ? AND unpaid_due_on = ?", c.ID, c.UnpaidDueOn).
				Where("arrears_notified_on IS NULL OR arrears_notified_on <> unpaid_due_on").
				Update("arrears_notified_on", gorm.Expr("unpaid_due_on"))
			if res.Error != nil {
				return s.db.interpret(res.Error, "Case")
			}
			if res.RowsAffected == 0 {
				return nil // paid meanwhile, or noted by another process
			}
			marked++
			return s.db.appendAudit(tx, cases.SystemActor, auditEvent{action: cases.ActionStipendArrears,
				caseID: uuid.NullUUID{UUID: c.ID, Valid: true}, subject: c.ID.String(),
				details: map[string]string{"unpaid_due_on": c.UnpaidDueOn.UTC().Format(time.DateOnly)}})
		})
		if err != nil {
			return marked, err
		}
	}
	return marked, nil
}

// webhookEvent is an event found in the chain, before it is addressed.
type webhookEvent struct {
	pos      int64
	at       time.Time
	name     string
	clientID uuid.UUID
	data     any
}

func (s *WebhookService) dispatch(ctx context.Context) (int, bool, error) {
	made, more := 0, false
	err := s.db.transact(ctx, func(tx *gorm.DB) error {
		q := tx.Where("id = 1")
		if s.db.dialect == Postgres {
			q = q.Clauses(clause.Locking{Strength: "UPDATE"})
		}
		var cursor webhookCursorRow
		if err := q.Take(&cursor).Error; err != nil {
			return s.db.interpret(err, "Webhook cursor")
		}
		var entries []chainEntry
		if err := tx.Raw(`SELECT c.pos, a.at, a.action, a.case_id, a.subject, a.details FROM audit_chain c
			JOIN audit_log a ON a.seq = c.entry_seq WHERE c.pos > ? ORDER BY c.pos LIMIT ?`, cursor.Pos, dispatchBatch).
			Scan(&entries).Error; err != nil {
			return s.db.interpret(err, "Audit chain")
		}
		if len(entries) == 0 {
			return nil
		}
		more = len(entries) == dispatchBatch
		var hooks []webhookRow
		if err := tx.Omit("secret").Where("active = ?", true).Find(&hooks).Error; err != nil {
			return s.db.interpret(err, "Webhooks")
		}
		events, err := s.events(tx, entries, hooks)
		if err != nil {
			return err
		}
		now := s.db.now()
		for _, ev := range events {
			for _, h := range hooks {
				// Not another brand's, not unsubscribed, not from before the endpoint.
				if (h.ClientID.Valid && h.ClientID.UUID != ev.clientID) || !subscribes(h, ev.name) || ev.at.Before(h.CreatedAt) {
					continue
				}
				id := uuid.Must(uuid.NewV7())
				payload, err := json.Marshal(struct {
					Type      string `json:"type"`
					Timestamp string `json:"timestamp"`
					Data      any    `json:"data"`
				}{ev.name, now.Format(time.RFC3339), ev.data})
				if err != nil {
					return err
				}
				row := deliveryRow{ID: id, EndpointID: h.ID, AuditPos: ev.pos, Event: ev.name, Payload: string(payload),
					State: cases.DeliveryPending, CreatedAt: now}
				if err := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&row).Error; err != nil {
					return s.db.interpret(err, "Webhook delivery")
				}
				made++
			}
		}
		return tx.Model(&webhookCursorRow{}).Where("id = 1").Update("pos", entries[len(entries)-1].Pos).Error
	})
	return made, more, err
}

// Payloads: pseudonymous facts, by fields named here and nowhere else.
type (
	casePayload struct {
		CaseID    uuid.UUID `json:"case_id"`
		CaseCode  string    `json:"case_code"`
		ClientID  uuid.UUID `json:"client_id"`
		FactoryID uuid.UUID `json:"factory_id"`
		FoundOn   string    `json:"found_on"`
		Outcome   string    `json:"outcome,omitempty"`
		ClosedAt  string    `json:"closed_at,omitempty"`
		// UnpaidDueOn is the day the first month still unpaid fell due
		// (stipend.arrears only).
		UnpaidDueOn string `json:"unpaid_due_on,omitempty"`
	}
	reportPayload struct {
		ReportID uuid.UUID `json:"report_id"`
		ClientID uuid.UUID `json:"client_id"`
		Month    string    `json:"month"`
		Version  string    `json:"version"`
		SHA256   string    `json:"sha256"`
		KeyID    string    `json:"key_id,omitempty"`
	}
)

// chainEntry is an audit entry as Dispatch reads it, at its chain position.
type chainEntry struct {
	Pos     int64
	At      time.Time
	Action  string
	CaseID  uuid.NullUUID
	Subject string
	Details string
}

// subscribes tells whether endpoint h subscribes to the event name.
func subscribes(h webhookRow, name string) bool {
	return strings.Contains(","+h.Events+",", ","+name+",")
}

// eventName names the webhook event an audit entry is, if it is one, and
// tells whether its payload needs the entry's case.
func eventName(e *chainEntry, details map[string]string) (name string, ofCase, ok bool) {
	switch {
	case e.Action == cases.ActionReportGenerated:
		return cases.EventReportGenerated, false, true
	case !e.CaseID.Valid:
		return "", false, false
	case e.Action == cases.ActionCaseFiled:
		return cases.EventCaseFiled, true, true
	case e.Action == cases.ActionStipendArrears:
		return cases.EventStipendArrears, true, true
	case e.Action == cases.ActionTransition && details["to"] == string(cases.StateClosed):
		return cases.EventCaseClosed, true, true
	}
	return "", false, false
}

// events reads the webhook events among entries that one of hooks
// subscribes to, with the cases they are about in one query: none at all
// when no endpoint is active, where every filing was a read of its case.
func (s *WebhookService) events(tx *gorm.DB, entries []chainEntry, hooks []webhookRow) ([]webhookEvent, error) {
	if len(hooks) == 0 {
		return nil, nil
	}
	type found struct {
		entry   *chainEntry
		name    string
		details map[string]string
	}
	var wanted []found
	var caseIDs []uuid.UUID
	for i := range entries {
		e := &entries[i]
		var d map[string]string
		_ = json.Unmarshal([]byte(e.Details), &d)
		name, ofCase, ok := eventName(e, d)
		if !ok || !slices.ContainsFunc(hooks, func(h webhookRow) bool { return subscribes(h, name) }) {
			continue
		}
		wanted = append(wanted, found{e, name, d})
		if ofCase {
			caseIDs = append(caseIDs, e.CaseID.UUID)
		}
	}
	byID := map[uuid.UUID]*caseRow{}
	if len(caseIDs) > 0 {
		var rows []caseRow
		in, set := s.db.anyOf("id", caseIDs)
		if err := tx.Select("id", "code", "client_id", "factory_id", "found_on", "outcome", "closed_at").
			Where(in, set).Find(&rows).Error; err != nil {
			return nil, s.db.interpret(err, "Cases")
		}
		for i := range rows {
			byID[rows[i].ID] = &rows[i]
		}
	}
	var out []webhookEvent
	for _, w := range wanted {
		e, d := w.entry, w.details
		if w.name == cases.EventReportGenerated {
			id, err1 := uuid.Parse(e.Subject)
			client, err2 := uuid.Parse(d["client_id"])
			if err1 != nil || err2 != nil {
				continue
			}
			out = append(out, webhookEvent{pos: e.Pos, at: e.At, name: w.name, clientID: client, data: reportPayload{ReportID: id,
				ClientID: client, Month: d["month"], Version: d["version"], SHA256: d["sha256"], KeyID: d["key_id"]}})
			continue
		}
		c := byID[e.CaseID.UUID]
		if c == nil {
			continue // erased since
		}
		p := casePayload{CaseID: c.ID, CaseCode: c.Code, ClientID: c.ClientID, FactoryID: c.FactoryID, FoundOn: c.FoundOn.Format(time.DateOnly)}
		switch w.name {
		case cases.EventStipendArrears:
			p.UnpaidDueOn = d["unpaid_due_on"]
		case cases.EventCaseClosed:
			if c.Outcome != nil {
				p.Outcome = *c.Outcome
			}
			if c.ClosedAt != nil {
				p.ClosedAt = c.ClosedAt.UTC().Format(time.RFC3339)
			}
		}
		out = append(out, webhookEvent{pos: e.Pos, at: e.At, name: w.name, clientID: c.ClientID, data: p})
	}
	return out, nil
}
