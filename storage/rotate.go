package storage

import (
	"context"
	"runtime"
	"strconv"

	"golang.org/x/sync/errgroup"

	"gorm.io/gorm"

	cases "github.com/remedy-cases/remedy/case"
)

// RewrapCaseKeys re-wraps every case key that is not yet wrapped to the
// keyring's current recipients, batch by batch, each batch in its own
// transaction. Only the small wrapped keys change, never the sealed data.
// It is resumable: an interrupted run leaves each key wrapped either way,
// and the next run picks up what is left. progress, if set, is told after
// each batch. It returns how many keys it re-wrapped.
func (db *DB) RewrapCaseKeys(ctx context.Context, batch int, progress func(done, total int64)) (int64, error) {
	if batch < 1 {
		batch = 500
	}
	target := db.keys.recipientSet
	g := db.gorm.WithContext(ctx)
	var total int64
	if err := g.Model(&caseKeyRow{}).Where("recipients <> ?", target).Count(&total).Error; err != nil {
		return 0, db.interpret(err, "Case keys")
	}
	var done int64
	for {
		var rows []caseKeyRow
		err := db.transact(ctx, func(tx *gorm.DB) error {
			if err := tx.Where("recipients <> ?", target).Order("case_id").Limit(batch).Find(&rows).Error; err != nil {
				return db.interpret(err, "Case keys")
			}
			// The X25519 work dominates: spread it over the cores, then write.
			wrapped := make([][]byte, len(rows))
			var g errgroup.Group
			g.SetLimit(runtime.GOMAXPROCS(0))
			for i := range rows {
				g.Go(func() (err error) {
					wrapped[i], err = db.keys.rewrap(rows[i].Wrapped)
					return err
				})
			}
			if err := g.Wait(); err != nil {
				return err
			}
			for i, r := range rows {
				res := tx.Model(&caseKeyRow{}).Where("case_id = ? AND recipients = ?", r.CaseID, r.Recipients).
					Updates(map[string]any{"wrapped": wrapped[i], "recipients": target})
				if res.Error != nil {
					return db.interpret(res.Error, "Case key")
				}
			}
			return nil
		})
		if err != nil {
			return done, err
		}
		done += int64(len(rows))
		if progress != nil {
			progress(done, max(total, done))
		}
		if len(rows) < batch {
			break
		}
	}
	err := db.transact(ctx, func(tx *gorm.DB) error {
		return db.appendAudit(tx, cases.SystemActor, auditEvent{action: cases.ActionKeysRewrapped, subject: "case_keys",
			details: map[string]string{"rewrapped": strconv.FormatInt(done, 10), "recipients": target}})
	})
	return done, err
}
