package storage

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	cases "github.com/remedy-cases/remedy/case"
)

// AuditService implements cases.AuditService.
type AuditService struct{ db *DB }

var _ cases.AuditService = (*AuditService)(nil)

// NewAuditService returns the audit service of db.
func NewAuditService(db *DB) *AuditService { return &AuditService{db: db} }

// auditEvent is what a change asks the trail to record about itself.
type auditEvent struct {
	action  string
	caseID  uuid.NullUUID
	subject string
	details map[string]string
	sealed  []byte // optional note, sealed under the case key
}

// appendAudit adds one entry inside tx, the transaction of the change it
// records: if the entry cannot be written, the change does not happen.
// Appenders serialise on the audit_head row (FOR UPDATE on PostgreSQL; the
// immediate write transaction on SQLite), so the chain stays linear. Call
// it last in a transaction, to hold that lock for the shortest time.
func (db *DB) appendAudit(tx *gorm.DB, actor cases.Actor, ev auditEvent) error {
	var head auditHeadRow
	q := tx.Where("id = 1")
	if db.dialect == Postgres {
		q = q.Clauses(clause.Locking{Strength: "UPDATE"})
	}
	if err := q.Take(&head).Error; err != nil {
		return db.interpret(err, "Audit head")
	}
	details := ev.details
	if details == nil {
		details = map[string]string{}
	}
	js, err := json.Marshal(details) // maps marshal with sorted keys: canonical
	if err != nil {
		return err
	}
	row := auditRow{
		Seq: head.Seq + 1, At: db.now(), ActorRole: string(actor.Role), Action: ev.action,
		CaseID: ev.caseID, Subject: ev.subject, Details: string(js), Sealed: ev.sealed, PrevHash: head.Hash,
	}
	if actor.UserID != uuid.Nil {
		row.ActorID = uuid.NullUUID{UUID: actor.UserID, Valid: true}
	}
	row.Hash = chainHash(&row)
	if err := tx.Create(&row).Error; err != nil {
		return db.interpret(err, "Audit entry")
	}
	res := tx.Model(&auditHeadRow{}).Where("id = 1 AND seq = ?", head.Seq).
		Updates(map[string]any{"seq": row.Seq, "hash": row.Hash})
	if res.Error != nil {
		return db.interpret(res.Error, "Audit head")
	} else if res.RowsAffected != 1 {
		return cases.Errorf(cases.ECONFLICT, "The audit trail moved concurrently; try again.")
	}
	return nil
}

// chainHash is SHA-256 over the previous hash and the entry's canonical
// content: every field, length-prefixed, in a fixed order.
func chainHash(r *auditRow) []byte {
	h := sha256.New()
	h.Write(r.PrevHash)
	field := func(s string) {
		h.Write([]byte(strconv.Itoa(len(s))))
		h.Write([]byte{':'})
		h.Write([]byte(s))
	}
	field("remedy-audit/v1")
	field(strconv.FormatInt(r.Seq, 10))
	field(r.At.UTC().Format(time.RFC3339Nano))
	field(nullUUIDString(r.ActorID))
	field(r.ActorRole)
	field(r.Action)
	field(nullUUIDString(r.CaseID))
	field(r.Subject)
	field(r.Details)
	field(base64.StdEncoding.EncodeToString(r.Sealed))
	return h.Sum(nil)
}

func nullUUIDString(u uuid.NullUUID) string {
	if !u.Valid {
		return ""
	}
	return u.UUID.String()
}

// Append records an event that changes nothing else.
func (s *AuditService) Append(ctx context.Context, actor cases.Actor, action, subject string, details map[string]string) error {
	return s.db.transact(ctx, func(tx *gorm.DB) error {
		return s.db.appendAudit(tx, actor, auditEvent{action: action, subject: subject, details: details})
	})
}

// Verify walks the chain in batches and names the first broken entry: an
// edited entry fails its hash, a deleted one leaves a gap in seq, reordered
// ones break the link to their predecessor, and a cut tail disagrees with
// audit_head.
func (s *AuditService) Verify(ctx context.Context) (int64, error) {
	g := s.db.gorm.WithContext(ctx)
	prev := make([]byte, sha256.Size)
	var seq int64
	for {
		var rows []auditRow
		if err := g.Where("seq > ?", seq).Order("seq").Limit(1000).Find(&rows).Error; err != nil {
			return seq, s.db.interpret(err, "Audit log")
		}
		for i := range rows {
			r := &rows[i]
			switch {
			case r.Seq != seq+1:
				return seq, &cases.AuditBreak{Seq: seq + 1, Reason: fmt.Sprintf("entry missing (next entry is %d)", r.Seq)}
			case !bytes.Equal(r.PrevHash, prev):
				return seq, &cases.AuditBreak{Seq: r.Seq, Reason: "does not follow the previous entry"}
			case !bytes.Equal(chainHash(r), r.Hash):
				return seq, &cases.AuditBreak{Seq: r.Seq, Reason: "content does not match its hash"}
			}
			seq, prev = r.Seq, r.Hash
		}
		if len(rows) < 1000 {
			break
		}
	}
	var head auditHeadRow
	if err := g.Where("id = 1").Take(&head).Error; err != nil {
		return seq, s.db.interpret(err, "Audit head")
	}
	if head.Seq != seq || !bytes.Equal(head.Hash, prev) {
		return seq, &cases.AuditBreak{Seq: seq + 1, Reason: fmt.Sprintf("the trail ends at %d but its head says %d", seq, head.Seq)}
	}
	return seq, nil
}

// auditFacts are an entry's columns but its sealed detail and its hashes.
var auditFacts = []string{"seq", "at", "actor_id", "actor_role", "action", "case_id", "subject", "details"}

// CaseEntries lists the entries about a case, oldest first.
func (s *AuditService) CaseEntries(ctx context.Context, caseID uuid.UUID) ([]*cases.AuditEntry, error) {
	var rows []auditRow
	if err := s.db.gorm.WithContext(ctx).Select(auditFacts).Where("case_id = ?", caseID).Order("seq").Find(&rows).Error; err != nil {
		return nil, s.db.interpret(err, "Audit log")
	}
	return entries(rows)
}

// ListEntries returns a page of entries, newest first, by keyset on seq.
func (s *AuditService) ListEntries(ctx context.Context, f cases.AuditFilter) (*cases.AuditPage, error) {
	limit := f.Limit
	if limit == 0 {
		limit = 50
	}
	var v cases.Validation
	v.Check(limit >= 1 && limit <= 200, "limit", "limit must be between 1 and 200")
	v.Check(f.Since.IsZero() || f.Until.IsZero() || f.Since.Before(f.Until), "since", "since must be before until")
	v.Check(f.Before >= 0, "cursor", "cursor must be a positive entry number")
	v.Check(len(f.Action) <= 64, "action", "action must be at most 64 characters")
	if err := v.Err("The filter is not valid."); err != nil {
		return nil, err
	}
	q := s.db.gorm.WithContext(ctx).Model(&auditRow{}).Select(auditFacts)
	if f.CaseID.Valid {
		q = q.Where("case_id = ?", f.CaseID.UUID)
	}
	if f.ActorID.Valid {
		q = q.Where("actor_id = ?", f.ActorID.UUID)
	}
	if f.Action != "" {
		q = q.Where("action = ?", f.Action)
	}
	if !f.Since.IsZero() {
		q = q.Where("at >= ?", dbTime(f.Since))
	}
	if !f.Until.IsZero() {
		q = q.Where("at < ?", dbTime(f.Until))
	}
	if f.Before > 0 {
		q = q.Where("seq < ?", f.Before)
	}
	var rows []auditRow
	if err := q.Order("seq DESC").Limit(limit + 1).Find(&rows).Error; err != nil {
		return nil, s.db.interpret(err, "Audit log")
	}
	page := &cases.AuditPage{}
	if len(rows) > limit {
		rows = rows[:limit]
		page.Next = rows[limit-1].Seq
	}
	var err error
	page.Entries, err = entries(rows)
	return page, err
}

func entries(rows []auditRow) ([]*cases.AuditEntry, error) {
	out := make([]*cases.AuditEntry, len(rows))
	for i, r := range rows {
		e := &cases.AuditEntry{Seq: r.Seq, At: r.At.UTC(), ActorID: r.ActorID, ActorRole: cases.Role(r.ActorRole),
			Action: r.Action, CaseID: r.CaseID, Subject: r.Subject}
		if err := json.Unmarshal([]byte(r.Details), &e.Details); err != nil {
			return nil, fmt.Errorf("storage: audit entry %d has malformed details", r.Seq)
		}
		out[i] = e
	}
	return out, nil
}
