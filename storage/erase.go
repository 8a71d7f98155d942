package storage

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	cases "github.com/remedy-cases/remedy/case"
)

// EraseCase crypto-shreds a case: it deletes the case's wrapped key, every
// sealed value, its documents and the blind-index fingerprints, in one
// transaction with a PII-free audit entry, then deletes the documents'
// blobs (already unreadable without the key; a blob whose deletion fails is
// left to the orphan sweep). The case's facts stay, for the statistics.
// Copies of the wrapped key in older database backups are the operator's to
// expire. Returns ENOTFOUND, or ECONFLICT if the case was erased already or
// is not closed: an open case still needs its identity and notes, and
// erasing it would leave it stuck.
func (s *CaseService) EraseCase(ctx context.Context, actor cases.Actor, id uuid.UUID) error {
	return s.eraseOne(ctx, actor, id, "request")
}

// eraseOne erases a case in its own transaction, then deletes its blobs.
func (s *CaseService) eraseOne(ctx context.Context, actor cases.Actor, id uuid.UUID, why string) error {
	var blobs []string
	err := s.db.transact(ctx, func(tx *gorm.DB) error {
		var err error
		blobs, err = s.erase(tx, actor, id, why)
		return err
	})
	if err != nil {
		return err
	}
	s.db.deleteBlobs(ctx, blobs)
	return nil
}

// erase erases a case inside tx and returns the keys of the blobs of its
// documents, to delete once tx has committed.
func (s *CaseService) erase(tx *gorm.DB, actor cases.Actor, id uuid.UUID, why string) ([]string, error) {
	var row caseRow
	if err := tx.Select("id", "code", "state", "erased_at").Where("id = ?", id).Take(&row).Error; err != nil {
		return nil, s.db.interpret(err, "Case")
	}
	if row.ErasedAt != nil {
		return nil, cases.Errorf(cases.ECONFLICT, "Case %s was erased already.", row.Code)
	}
	if row.State != string(cases.StateClosed) {
		return nil, cases.Errorf(cases.ECONFLICT, "Case %s is in %s: only a closed case can be erased; close it first.", row.Code, row.State)
	}
	blobs, err := s.db.documentBlobs(tx, id)
	if err != nil {
		return nil, err
	}
	now := s.db.now()
	steps := []struct {
		what string
		run  func() error
	}{
		{"Case key", func() error { return tx.Where("case_id = ?", id).Delete(&caseKeyRow{}).Error }},
		{"Fingerprints", func() error { return tx.Where("case_id = ?", id).Delete(&fingerprintRow{}).Error }},
		{"Documents", func() error { return tx.Where("case_id = ?", id).Delete(&documentRow{}).Error }},
		{"Case", func() error {
			return tx.Model(&caseRow{}).Where("id = ?", id).Updates(map[string]any{
				"identity_sealed": nil, "narrative_sealed": nil, "verification_notes_sealed": nil,
				"child_wishes_sealed": nil, "erased_at": now,
			}).Error
		}},
		{"Follow-ups", func() error {
			return tx.Model(&followUpRow{}).Where("case_id = ?", id).Update("concerns_sealed", nil).Error
		}},
		{"Transitions", func() error {
			return tx.Model(&transitionRow{}).Where("case_id = ?", id).Update("reason_sealed", nil).Error
		}},
	}
	for _, step := range steps {
		if err := step.run(); err != nil {
			return nil, s.db.interpret(err, step.what)
		}
	}
	details := map[string]string{"why": why}
	if len(blobs) > 0 {
		details["documents"] = fmt.Sprint(len(blobs))
	}
	return blobs, s.db.appendAudit(tx, actor, auditEvent{action: cases.ActionCaseErased,
		caseID: uuid.NullUUID{UUID: id, Valid: true}, subject: row.Code, details: details})
}

// EraseClosedBefore erases every closed case whose closure is older than
// cutoff and returns how many it erased. Each case is its own transaction,
// so a failure keeps what was done and the next run goes on.
func (s *CaseService) EraseClosedBefore(ctx context.Context, cutoff time.Time) (int, error) {
	var ids []uuid.UUID
	err := s.db.gorm.WithContext(ctx).Model(&caseRow{}).
		Where("state = ? AND erased_at IS NULL AND closed_at < ?", string(cases.StateClosed), dbTime(cutoff)).
		Order("closed_at").Pluck("id", &ids).Error
	if err != nil {
		return 0, s.db.interpret(err, "Cases")
	}
	for i, id := range ids {
		if err := s.eraseOne(ctx, cases.SystemActor, id, "retention"); err != nil {
			return i, err
		}
	}
	return len(ids), nil
}
