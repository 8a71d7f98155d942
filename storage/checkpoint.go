package storage

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	cases "github.com/remedy-cases/remedy/case"
)

// CheckpointOrigin is the first line of every checkpoint of the audit
// chain: the C2SP checkpoint format's origin.
const CheckpointOrigin = "remedy/audit-chain"

// A checkpoint is a signed note (C2SP signed-note) in the C2SP checkpoint
// format: the origin, the chain's size (its entries, the position of the
// head) and the base64 hash of the head's link, then the signature:
//
//	remedy/audit-chain
//	1024
//	q83vEjuN8lmq0SVJwSFSxoP6Yp4Ggt0nGVmIMOXS7dI=
//
//	— remedy-reports+1a2b3c4d <base64 Ed25519 signature>
//
// The hash is the chain's own (SHA-256 over the previous link's hash and
// the entry), not a Merkle root: the trail extends a checkpoint of size n
// when its link at position n still has that hash, which a walk of the
// chain proves. A size 0 checkpoint has 32 zero bytes.
type checkpointRow struct {
	Size      int64 `gorm:"primaryKey;autoIncrement:false"`
	Hash      []byte
	Note      string
	KeyID     string
	CreatedAt time.Time
}

func (checkpointRow) TableName() string { return "audit_checkpoints" }

func (r *checkpointRow) domain() *cases.Checkpoint {
	cp := &cases.Checkpoint{Size: r.Size, Note: []byte(r.Note), KeyID: r.KeyID, CreatedAt: r.CreatedAt.UTC()}
	copy(cp.Hash[:], r.Hash)
	return cp
}

func checkpointText(size int64, hash []byte) string {
	return fmt.Sprintf("%s\n%d\n%s\n", CheckpointOrigin, size, base64.StdEncoding.EncodeToString(hash))
}

// ParseCheckpoint reads a signed checkpoint. With keys, one of them must
// have signed it; without, only its text is read (a stored checkpoint,
// when the keys are not at hand).
func ParseCheckpoint(data []byte, keys note.Verifiers) (*cases.Checkpoint, error) {
	var text, keyID string
	if keys != nil {
		n, err := note.Open(data, keys)
		if err != nil {
			var unverified *note.UnverifiedNoteError
			if errors.As(err, &unverified) && len(unverified.Note.UnverifiedSigs) > 0 {
				s := unverified.Note.UnverifiedSigs[0]
				return nil, fmt.Errorf("the checkpoint was signed by %s+%08x, which is not among the keys", s.Name, s.Hash)
			}
			return nil, errors.New("the checkpoint's signature does not verify")
		}
		text, keyID = n.Text, fmt.Sprintf("%s+%08x", n.Sigs[0].Name, n.Sigs[0].Hash)
	} else {
		i := bytes.Index(data, []byte("\n\n"))
		if i < 0 {
			return nil, errors.New("not a signed checkpoint")
		}
		text = string(data[:i+1])
	}
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	if len(lines) < 3 || lines[0] != CheckpointOrigin {
		return nil, errors.New("not a checkpoint of a Remedy audit chain")
	}
	size, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil || size < 0 {
		return nil, errors.New("the checkpoint's size is not a number")
	}
	hash, err := base64.StdEncoding.DecodeString(lines[2])
	if err != nil || len(hash) != 32 {
		return nil, errors.New("the checkpoint's hash is not 32 bytes in base64")
	}
	cp := &cases.Checkpoint{Size: size, Note: data, KeyID: keyID}
	copy(cp.Hash[:], hash)
	return cp, nil
}

// Checkpoint returns a signed checkpoint of the audit chain's head, after
// sealing what is pending: the latest stored one if nothing but
// checkpoints was recorded since, or a new one, stored and audited.
func (s *AuditService) Checkpoint(ctx context.Context, signer note.Signer) (*cases.Checkpoint, error) {
	if err := s.db.SealAudit(ctx); err != nil {
		return nil, err
	}
	var out *cases.Checkpoint
	err := s.db.transact(ctx, func(tx *gorm.DB) error {
		var head auditHeadRow
		if err := tx.Where("id = 1").Take(&head).Error; err != nil {
			return s.db.interpret(err, "Audit head")
		}
		var latest []checkpointRow
		if err := tx.Order("size DESC").Limit(1).Find(&latest).Error; err != nil {
			return s.db.interpret(err, "Audit checkpoint")
		}
		if len(latest) == 1 && latest[0].Size <= head.Seq {
			// Only the checkpoints' own entries since: nothing new to witness.
			var others int64
			if err := tx.Table("audit_chain c").Joins("JOIN audit_log a ON a.seq = c.entry_seq").
				Where("c.pos > ? AND c.pos <= ? AND a.action <> ?", latest[0].Size, head.Seq, cases.ActionAuditCheckpoint).
				Count(&others).Error; err != nil {
				return s.db.interpret(err, "Audit chain")
			}
			if others == 0 {
				out = latest[0].domain()
				return nil
			}
		}
		sig, err := note.Sign(&note.Note{Text: checkpointText(head.Seq, head.Hash)}, signer)
		if err != nil {
			return fmt.Errorf("sign checkpoint: %w", err)
		}
		row := checkpointRow{Size: head.Seq, Hash: head.Hash, Note: string(sig),
			KeyID: fmt.Sprintf("%s+%08x", signer.Name(), signer.KeyHash()), CreatedAt: s.db.now()}
		// Another process may store the checkpoint of this head meanwhile:
		// not an error to log, the answer is then that one.
		res := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&row)
		if res.Error != nil {
			return s.db.interpret(res.Error, "Audit checkpoint")
		} else if res.RowsAffected == 0 {
			return cases.Errorf(cases.ECONFLICT, "Audit checkpoint already exists.")
		}
		out = row.domain()
		return s.db.appendAudit(tx, cases.SystemActor, auditEvent{action: cases.ActionAuditCheckpoint,
			subject: strconv.FormatInt(row.Size, 10), details: map[string]string{"size": strconv.FormatInt(row.Size, 10),
				"hash": base64.StdEncoding.EncodeToString(row.Hash), "key_id": row.KeyID}})
	})
	if cases.ErrorCode(err) == cases.ECONFLICT {
		// Another process stored the checkpoint of this head meanwhile.
		return s.LatestCheckpoint(ctx)
	}
	return out, err
}

// LatestCheckpoint returns the stored checkpoint of the largest size.
// Returns ENOTFOUND if there is none.
func (s *AuditService) LatestCheckpoint(ctx context.Context) (*cases.Checkpoint, error) {
	var row checkpointRow
	if err := s.db.gorm.WithContext(ctx).Order("size DESC").Limit(1).Take(&row).Error; err != nil {
		return nil, s.db.interpret(err, "Audit checkpoint")
	}
	return row.domain(), nil
}

// Checkpoints returns the stored checkpoints, oldest first.
func (s *AuditService) Checkpoints(ctx context.Context) ([]*cases.Checkpoint, error) {
	var rows []checkpointRow
	if err := s.db.gorm.WithContext(ctx).Order("size").Find(&rows).Error; err != nil {
		return nil, s.db.interpret(err, "Audit checkpoints")
	}
	out := make([]*cases.Checkpoint, len(rows))
	for i := range rows {
		out[i] = rows[i].domain()
	}
	return out, nil
}

// Witness makes the checkpoints that monthly reports carry.
type Witness struct {
	Audit  *AuditService
	Signer note.Signer
}

// Checkpoint returns the signed note of a checkpoint of the current head.
func (w Witness) Checkpoint(ctx context.Context) ([]byte, error) {
	cp, err := w.Audit.Checkpoint(ctx, w.Signer)
	if err != nil {
		return nil, err
	}
	return cp.Note, nil
}
