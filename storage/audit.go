package storage

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"golang.org/x/mod/sumdb/note"
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

// appendAudit writes one entry inside tx, the transaction of the change it
// records: if the entry cannot be written, the change does not happen. The
// entry takes its seq from a sequence (the rowid on SQLite) and locks
// nothing; a trigger queues it in audit_pending, and the sealer chains it
// after the commit (sealAudit). On SQLite, which has one writer at a time
// anyway, the entry is chained at once in tx, so nothing waits there.
func (db *DB) appendAudit(tx *gorm.DB, actor cases.Actor, ev auditEvent) error {
	args, err := db.auditArgs(actor, ev)
	if err != nil {
		return err
	}
	if err := tx.Exec(`INSERT INTO audit_log `+auditColumns+` VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, args...).Error; err != nil {
		return db.interpret(err, "Audit entry")
	}
	return db.appended(tx)
}

// auditColumns are the columns of an audit entry that auditArgs gives.
const auditColumns = "(at, actor_id, actor_role, action, case_id, subject, details, sealed)"

// auditArgs are the values of auditColumns for ev.
func (db *DB) auditArgs(actor cases.Actor, ev auditEvent) ([]any, error) {
	details := ev.details
	if details == nil {
		details = map[string]string{}
	}
	js, err := json.Marshal(details) // maps marshal with sorted keys: canonical
	if err != nil {
		return nil, err
	}
	var actorID uuid.NullUUID
	if actor.UserID != uuid.Nil {
		actorID = uuid.NullUUID{UUID: actor.UserID, Valid: true}
	}
	return []any{db.now(), actorID, string(actor.Role), ev.action, ev.caseID, ev.subject, string(js), ev.sealed}, nil
}

// appended follows an entry written in tx: on SQLite it is chained at once;
// on PostgreSQL the sealer is woken after the commit.
func (db *DB) appended(tx *gorm.DB) error {
	if db.dialect == SQLite {
		_, err := db.sealPending(tx, true)
		return err
	}
	if flag, ok := tx.Statement.Context.Value(auditedKey{}).(*bool); ok {
		*flag = true
	}
	return nil
}

// auditedKey marks, in a transaction's context, that it appended an entry:
// transact then wakes the sealer after the commit.
type auditedKey struct{}

// sealBatch bounds the entries one sealing transaction chains.
const sealBatch = 1000

// sealPending chains up to sealBatch pending entries, oldest seq first, in
// tx: under the audit_head row lock, each gets the next chain position and
// the hash of the previous one with its content; then the queue rows go and
// the head moves, all in tx. With wait false, a sealer that finds the head
// locked leaves the work to the one that holds it.
func (db *DB) sealPending(tx *gorm.DB, wait bool) (int, error) {
	q := tx.Where("id = 1")
	if db.dialect == Postgres {
		lock := clause.Locking{Strength: "UPDATE"}
		if !wait {
			lock.Options = "SKIP LOCKED"
		}
		q = q.Clauses(lock)
	}
	var heads []auditHeadRow
	if err := q.Limit(1).Find(&heads).Error; err != nil {
		return 0, db.interpret(err, "Audit head")
	}
	if len(heads) == 0 {
		if wait {
			return 0, cases.Errorf(cases.EINTERNAL, "The audit trail has no head.")
		}
		return 0, nil
	}
	head := heads[0]
	var rows []auditRow
	err := tx.Raw(db.pendingEntries(), sealBatch).Find(&rows).Error
	if err != nil {
		return 0, db.interpret(err, "Audit log")
	}
	if len(rows) == 0 {
		return 0, nil
	}
	chain := make([]auditChainRow, len(rows))
	seqs := make([]int64, len(rows))
	prev, pos := head.Hash, head.Seq
	for i := range rows {
		pos++
		hash := chainHash(prev, &rows[i])
		chain[i] = auditChainRow{Pos: pos, EntrySeq: rows[i].Seq, PrevHash: prev, Hash: hash}
		seqs[i] = rows[i].Seq
		prev = hash
	}
	if db.dialect == Postgres {
		// The links, the queue and the head in one statement.
		var sql strings.Builder
		args := make([]any, 0, 4*len(chain)+4)
		sql.WriteString("WITH linked AS (INSERT INTO audit_chain (pos, entry_seq, prev_hash, hash) VALUES ")
		writeTuples(&sql, len(chain), 4)
		for _, c := range chain {
			args = append(args, c.Pos, c.EntrySeq, c.PrevHash, c.Hash)
		}
		sql.WriteString("), dequeued AS (DELETE FROM audit_pending WHERE seq IN ?) UPDATE audit_head SET seq = ?, hash = ? WHERE id = 1 AND seq = ?")
		args = append(args, seqs, pos, prev, head.Seq)
		res := tx.Exec(sql.String(), args...)
		if res.Error != nil {
			return 0, db.interpret(res.Error, "Audit chain")
		} else if res.RowsAffected != 1 {
			return 0, cases.Errorf(cases.ECONFLICT, "The audit trail moved concurrently; try again.")
		}
		return len(rows), nil
	}
	if err := tx.Create(&chain).Error; err != nil {
		return 0, db.interpret(err, "Audit chain")
	}
	if err := tx.Where("seq IN ?", seqs).Delete(&auditPendingRow{}).Error; err != nil {
		return 0, db.interpret(err, "Audit queue")
	}
	res := tx.Model(&auditHeadRow{}).Where("id = 1 AND seq = ?", head.Seq).Updates(map[string]any{"seq": pos, "hash": prev})
	if res.Error != nil {
		return 0, db.interpret(res.Error, "Audit head")
	} else if res.RowsAffected != 1 {
		return 0, cases.Errorf(cases.ECONFLICT, "The audit trail moved concurrently; try again.")
	}
	return len(rows), nil
}

// pendingEntries selects the oldest pending entries, up to its one
// argument. On PostgreSQL the queue's seqs are read first, then only their
// entries: as a join, the planner, reckoning the queue as large as it
// once was (a queue's statistics are always stale), merged it with
// audit_log and read the whole log from its first entry to reach the
// pending ones, a read that grew with every entry ever written (22 ms
// a seal at 36,000 entries, a third of the database's time under load).
func (db *DB) pendingEntries() string {
	const columns = `SELECT a.seq, a.at, a.actor_id, a.actor_role, a.action, a.case_id, a.subject, a.details, a.sealed FROM audit_log a `
	if db.dialect == Postgres {
		return columns + `WHERE a.seq = ANY(ARRAY(SELECT seq FROM audit_pending ORDER BY seq LIMIT ?)) ORDER BY a.seq`
	}
	return columns + `WHERE a.seq IN (SELECT seq FROM audit_pending ORDER BY seq LIMIT ?) ORDER BY a.seq`
}

// SealAudit chains every entry pending now, waiting for a sealer that is
// at work. Verify calls it first; Close calls it last.
func (db *DB) SealAudit(ctx context.Context) error {
	for {
		var n int
		release, err := db.oneWriter(ctx)
		if err != nil {
			return err
		}
		err = db.gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) (err error) {
			n, err = db.sealPending(tx, true)
			return err
		})
		release()
		if err != nil || n < sealBatch {
			return err
		}
	}
}

// Sealing runs in the background on PostgreSQL: woken after each commit
// that appended an entry, it waits sealDelay for the commits under way to
// join the batch, then seals until nothing is pending; it also looks every
// sealPoll for entries that other processes wrote. An entry so waits about
// sealDelay, plus one sealing transaction, before it is chained: that is
// the window in which an edit of it would go unseen (a deletion would not:
// its queue row stays).
const (
	sealDelay = 20 * time.Millisecond
	sealPoll  = time.Second
)

type auditSealer struct {
	wake   chan struct{}
	cancel context.CancelFunc
	done   chan struct{}
	stop   sync.Once
}

func (db *DB) startAuditSealer() {
	ctx, cancel := context.WithCancel(context.Background())
	s := &auditSealer{wake: make(chan struct{}, 1), cancel: cancel, done: make(chan struct{})}
	db.sealer = s
	go func() {
		defer close(s.done)
		poll := time.NewTicker(sealPoll)
		defer poll.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-s.wake:
			case <-poll.C:
			}
			select {
			case <-ctx.Done():
				return
			case <-time.After(sealDelay):
			}
			for {
				var n int
				err := db.gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) (err error) {
					n, err = db.sealPending(tx, false)
					return err
				})
				if err != nil {
					if ctx.Err() == nil {
						db.log.Error("audit sealer", "code", cases.ErrorCode(err), "error", err.Error())
					}
					break
				}
				if n < sealBatch {
					break
				}
			}
		}
	}()
}

// wakeSealer tells the background sealer that an entry is pending,
// starting it the first time: a process that never appends (a migration, a
// read-only command) never runs one, and none runs before the migrations.
func (db *DB) wakeSealer() {
	if !db.autoSeal {
		return
	}
	db.sealerOnce.Do(db.startAuditSealer)
	if db.sealer == nil {
		return // closed before it ever started
	}
	select {
	case db.sealer.wake <- struct{}{}:
	default:
	}
}

// stopAuditSealer stops the background sealer, if it started, and seals
// what is left.
func (db *DB) stopAuditSealer() {
	db.sealerOnce.Do(func() {}) // none starts from now on
	if db.sealer == nil {
		return
	}
	db.sealer.stop.Do(func() {
		db.sealer.cancel()
		<-db.sealer.done
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := db.SealAudit(ctx); err != nil {
			db.log.Error("audit sealer: final seal", "code", cases.ErrorCode(err), "error", err.Error())
		}
	})
}

// chainHash is SHA-256 over the previous hash and the entry's canonical
// content: every field, length-prefixed, in a fixed order.
func chainHash(prev []byte, r *auditRow) []byte {
	h := sha256.New()
	h.Write(prev)
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

// Append records an event that changes nothing else. On PostgreSQL that
// is one statement (the entry and, by its trigger, its queue row), without
// a transaction around it.
func (s *AuditService) Append(ctx context.Context, actor cases.Actor, action, subject string, details map[string]string) error {
	ev := auditEvent{action: action, subject: subject, details: details}
	if s.db.dialect == Postgres {
		if err := s.db.appendAudit(s.db.gorm.WithContext(ctx), actor, ev); err != nil {
			return err
		}
		s.db.wakeSealer()
		return nil
	}
	return s.db.transact(ctx, func(tx *gorm.DB) error {
		return s.db.appendAudit(tx, actor, ev)
	})
}

// verifyBatch is how many chain positions Verify reads at a time.
const verifyBatch = 1000

// Verify seals what is pending, then, in one snapshot, walks the chain and
// names the first broken entry: an edited entry fails its hash; a deleted
// entry leaves its chain position pointing at nothing; reordered entries
// fail their hashes (each hashes its own seq); a deleted or moved chain row
// breaks the link to its predecessor; a cut tail disagrees with audit_head
// (and with the signed checkpoints kept outside). Then it proves that every
// entry is chained exactly once: none twice, none left out but those
// committed after the sealing (still queued), and no queued entry missing.
//
// The trail must also extend every stored checkpoint (see
// VerifyCheckpoints), so that consecutive checkpoints are consistent.
func (s *AuditService) Verify(ctx context.Context) (int64, error) {
	n, _, err := s.VerifyCheckpoints(ctx, nil, nil)
	return n, err
}

// VerifyCheckpoints is Verify that also proves the trail extends each of
// the checkpoints given (signed notes, which one of keys must have signed)
// and every stored one (whose signature is checked too when keys are
// given): the link at each checkpoint's size still has its hash. A trail
// cut and rewritten after a checkpoint was made fails with a
// *cases.CheckpointBreak naming it. It returns the chain's size and how
// many checkpoints it checked.
func (s *AuditService) VerifyCheckpoints(ctx context.Context, keys note.Verifiers, external [][]byte) (int64, int, error) {
	var witnesses []*cases.Checkpoint
	for i, data := range external {
		cp, err := ParseCheckpoint(data, keys)
		if err != nil {
			return 0, 0, fmt.Errorf("checkpoint %d of %d: %w", i+1, len(external), err)
		}
		witnesses = append(witnesses, cp)
	}
	if err := s.db.SealAudit(ctx); err != nil {
		return 0, 0, err
	}
	var n int64
	var broken error
	err := s.db.snapshot(ctx, func(tx *gorm.DB) error {
		var rows []checkpointRow
		if err := tx.Order("size").Find(&rows).Error; err != nil {
			return s.db.interpret(err, "Audit checkpoints")
		}
		all := witnesses
		for i := range rows {
			cp, err := ParseCheckpoint([]byte(rows[i].Note), keys)
			if err == nil && (cp.Size != rows[i].Size || !bytes.Equal(cp.Hash[:], rows[i].Hash)) {
				err = errors.New("its note does not say its size and hash")
			}
			if err != nil {
				broken = &cases.CheckpointBreak{Size: rows[i].Size, Hash: base64.StdEncoding.EncodeToString(rows[i].Hash),
					Reason: "stored checkpoint: " + err.Error()}
				return nil
			}
			all = append(all, cp)
		}
		var auditBreak *cases.AuditBreak
		var err error
		n, auditBreak, broken, err = s.verify(tx, all)
		if auditBreak != nil {
			broken = auditBreak
		}
		return err
	})
	if err != nil {
		return n, 0, err
	}
	if broken != nil {
		return n, 0, broken
	}
	return n, len(witnesses), nil
}

// verify walks the chain in tx and returns how many entries it holds, and
// the first break if there is one; then the first checkpoint the chain
// does not extend.
func (s *AuditService) verify(tx *gorm.DB, witnesses []*cases.Checkpoint) (int64, *cases.AuditBreak, error, error) {
	at := make(map[int64][]*cases.Checkpoint, len(witnesses))
	for _, cp := range witnesses {
		at[cp.Size] = append(at[cp.Size], cp)
	}
	var mismatch error
	prev := make([]byte, sha256.Size)
	var pos int64
	for {
		var links []auditChainRow
		if err := tx.Where("pos > ?", pos).Order("pos").Limit(verifyBatch).Find(&links).Error; err != nil {
			return pos, nil, nil, s.db.interpret(err, "Audit chain")
		}
		if len(links) == 0 {
			break
		}
		seqs := make([]int64, len(links))
		for i := range links {
			seqs[i] = links[i].EntrySeq
		}
		var rows []auditRow
		if err := tx.Where("seq IN ?", seqs).Find(&rows).Error; err != nil {
			return pos, nil, nil, s.db.interpret(err, "Audit log")
		}
		bySeq := make(map[int64]*auditRow, len(rows))
		for i := range rows {
			bySeq[rows[i].Seq] = &rows[i]
		}
		for i := range links {
			l := &links[i]
			r := bySeq[l.EntrySeq]
			switch {
			case l.Pos != pos+1:
				return pos, &cases.AuditBreak{Seq: pos + 1, Reason: fmt.Sprintf("chain position %d is missing (the next is %d)", pos+1, l.Pos)}, nil, nil
			case r == nil:
				return pos, &cases.AuditBreak{Seq: l.EntrySeq, Reason: fmt.Sprintf("entry missing (chained at position %d)", l.Pos)}, nil, nil
			case !bytes.Equal(l.PrevHash, prev):
				return pos, &cases.AuditBreak{Seq: l.EntrySeq, Reason: "does not follow the previous entry"}, nil, nil
			case !bytes.Equal(chainHash(prev, r), l.Hash):
				return pos, &cases.AuditBreak{Seq: l.EntrySeq, Reason: "content does not match its hash"}, nil, nil
			}
			pos, prev = l.Pos, l.Hash
			for _, cp := range at[pos] {
				if mismatch == nil && !bytes.Equal(cp.Hash[:], l.Hash) {
					mismatch = &cases.CheckpointBreak{Size: cp.Size, Hash: base64.StdEncoding.EncodeToString(cp.Hash[:]),
						Reason: fmt.Sprintf("its last entry, chain position %d, now has another hash: the trail was rewritten", pos)}
				}
			}
		}
		if len(links) < verifyBatch {
			break
		}
	}
	var head auditHeadRow
	if err := tx.Where("id = 1").Take(&head).Error; err != nil {
		return pos, nil, nil, s.db.interpret(err, "Audit head")
	}
	if head.Seq != pos || !bytes.Equal(head.Hash, prev) {
		return pos, &cases.AuditBreak{Seq: pos + 1, Reason: fmt.Sprintf("the trail ends at %d but its head says %d", pos, head.Seq)}, nil, nil
	}
	for _, check := range []struct {
		query, reason string
	}{
		{`SELECT entry_seq FROM audit_chain GROUP BY entry_seq HAVING count(*) > 1 ORDER BY entry_seq LIMIT 1`,
			"chained more than once"},
		{`SELECT a.seq FROM audit_log a WHERE NOT EXISTS (SELECT 1 FROM audit_chain c WHERE c.entry_seq = a.seq)
			AND NOT EXISTS (SELECT 1 FROM audit_pending p WHERE p.seq = a.seq) ORDER BY a.seq LIMIT 1`,
			"not chained"},
		{`SELECT p.seq FROM audit_pending p WHERE NOT EXISTS (SELECT 1 FROM audit_log a WHERE a.seq = p.seq) ORDER BY p.seq LIMIT 1`,
			"entry missing (deleted before it was chained)"},
	} {
		var found []int64
		if err := tx.Raw(check.query).Find(&found).Error; err != nil {
			return pos, nil, nil, s.db.interpret(err, "Audit log")
		}
		if len(found) > 0 {
			return pos, &cases.AuditBreak{Seq: found[0], Reason: check.reason}, nil, nil
		}
	}
	for _, cp := range witnesses {
		if mismatch == nil && cp.Size > pos {
			mismatch = &cases.CheckpointBreak{Size: cp.Size, Hash: base64.StdEncoding.EncodeToString(cp.Hash[:]),
				Reason: fmt.Sprintf("the trail holds only %d entries: it was cut", pos)}
		}
	}
	if mismatch == nil {
		for _, cp := range at[0] {
			if !bytes.Equal(cp.Hash[:], make([]byte, sha256.Size)) {
				mismatch = &cases.CheckpointBreak{Size: 0, Hash: base64.StdEncoding.EncodeToString(cp.Hash[:]), Reason: "an empty trail has no such hash"}
			}
		}
	}
	return pos, nil, mismatch, nil
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
