package storage

import (
	"context"
	"strconv"

	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	cases "github.com/remedy-cases/remedy/case"
	"github.com/remedy-cases/remedy/workflow"
)

// Assign sets the case's worker.
func (s *CaseService) Assign(ctx context.Context, actor cases.Actor, id uuid.UUID, version int, worker uuid.UUID) (*cases.Case, error) {
	if err := workflow.CanAssign(actor); err != nil {
		return nil, err
	}
	return s.update(ctx, actor, id, version, cases.ActionCaseAssigned, func(tx *gorm.DB, _ *caseRow, c *cases.Case, _ time.Time) (map[string]any, map[string]string, error) {
		if c.State == cases.StateClosed {
			return nil, nil, cases.Errorf(cases.ECONFLICT, "The case is closed; reopen it before assigning it.")
		}
		ok, err := s.db.exists(tx, &userRow{}, "id = ? AND role = ? AND NOT disabled", worker, string(cases.RoleCaseWorker))
		if err != nil {
			return nil, nil, err
		}
		if !ok {
			return nil, nil, &cases.Error{Code: cases.EINVALID, Message: "The assignee is not valid.",
				Failed: []cases.Failure{{Name: "assignee_id", Message: "no active case worker has this id"}}}
		}
		return map[string]any{"assignee_id": worker}, map[string]string{"assignee_id": worker.String()}, nil
	})
}

// ConfirmRemoval records the child's removal from work.
func (s *CaseService) ConfirmRemoval(ctx context.Context, actor cases.Actor, id uuid.UUID, version int, r cases.Removal) (*cases.Case, error) {
	return s.update(ctx, actor, id, version, cases.ActionRemovalConfirmed, func(_ *gorm.DB, _ *caseRow, c *cases.Case, _ time.Time) (map[string]any, map[string]string, error) {
		if err := workflow.CanWork(c, actor); err != nil {
			return nil, nil, err
		}
		if err := inState(c, cases.StateIntake, cases.StateVerification); err != nil {
			return nil, nil, err
		}
		return map[string]any{"removed_from_work": r.RemovedFromWork, "child_safe": r.ChildSafe},
			map[string]string{"removed_from_work": strconv.FormatBool(r.RemovedFromWork), "child_safe": strconv.FormatBool(r.ChildSafe)}, nil
	})
}

// RecordVerification seals the verified date of birth into the identity and
// keeps only the age at the date found in the open.
func (s *CaseService) RecordVerification(ctx context.Context, actor cases.Actor, id uuid.UUID, version int, v cases.Verification) (*cases.Case, error) {
	v.VerifiedBirthDate = cases.Date(v.VerifiedBirthDate)
	return s.update(ctx, actor, id, version, cases.ActionCaseVerified, func(tx *gorm.DB, row *caseRow, c *cases.Case, now time.Time) (map[string]any, map[string]string, error) {
		if err := workflow.CanWork(c, actor); err != nil {
			return nil, nil, err
		}
		if err := inState(c, cases.StateVerification); err != nil {
			return nil, nil, err
		}
		if err := v.Validate(c.FoundOn); err != nil {
			return nil, nil, err
		}
		key, identity, err := s.db.storedIdentity(tx, row)
		if err != nil {
			return nil, nil, err
		}
		identity.VerifiedBirthDate = &v.VerifiedBirthDate
		sealedID, err := sealIdentity(key, id, identity)
		if err != nil {
			return nil, nil, err
		}
		notes, err := sealNote(key, id, purposeVerificationNotes, v.Notes)
		if err != nil {
			return nil, nil, err
		}
		// The verified birth date may match a case that the claimed one did not.
		if err := s.link(tx, actor, row, fingerprints(s.db.keys, identity)); err != nil {
			return nil, nil, err
		}
		return map[string]any{
			"verification_method":       string(v.Method),
			"age_at_found":              cases.AgeOn(v.VerifiedBirthDate, c.FoundOn),
			"identity_sealed":           sealedID,
			"verification_notes_sealed": notes,
		}, map[string]string{"method": string(v.Method)}, nil
	})
}

// PutPlan writes the plan and voids any earlier approval. An end date left
// empty defaults to the child's 16th birthday, from the sealed birth date.
func (s *CaseService) PutPlan(ctx context.Context, actor cases.Actor, id uuid.UUID, version int, p cases.PlanInput) (*cases.Case, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return s.update(ctx, actor, id, version, cases.ActionPlanWritten, func(tx *gorm.DB, row *caseRow, c *cases.Case, now time.Time) (map[string]any, map[string]string, error) {
		if err := workflow.CanWork(c, actor); err != nil {
			return nil, nil, err
		}
		if err := inState(c, cases.StatePlanning); err != nil {
			return nil, nil, err
		}
		end := p.EndDate
		if end.IsZero() {
			_, identity, err := s.db.storedIdentity(tx, row)
			if err != nil {
				return nil, nil, err
			}
			if identity.VerifiedBirthDate != nil {
				end = identity.VerifiedBirthDate.AddDate(cases.LegalWorkingAge, 0, 0)
			}
		}
		plan := planRow{
			CaseID: id, School: p.School, Grade: p.Grade, EnrolmentDate: datePtrOrNil(p.EnrolmentDate),
			Currency: p.Currency, TuitionCost: p.TuitionCost, TravelCost: p.TravelCost, MonthlyStipend: p.MonthlyStipend,
			Payer: strPtr(p.Payer), FactorySharePct: p.FactorySharePct, EndDate: datePtrOrNil(end),
			GuardianConsent: p.GuardianConsent, ConsentDate: datePtr(p.ConsentDate),
			AuthoredBy: actor.UserID, UpdatedAt: now,
		}
		// Every column is written, approval included: a rewritten plan needs a new approval.
		err := tx.Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "case_id"}}, UpdateAll: true}).
			Select("*").Create(&plan).Error
		if err != nil {
			return nil, nil, s.db.interpret(err, "Plan")
		}
		return map[string]any{}, map[string]string{"complete": strconv.FormatBool(len(plan.domain().Missing()) == 0)}, nil
	})
}

// AddFollowUp records a follow-up. The case row is updated only while it is
// still in follow_up, in the same transaction, so a follow-up cannot land on
// a case that a supervisor closed at the same moment.
func (s *CaseService) AddFollowUp(ctx context.Context, actor cases.Actor, id uuid.UUID, in cases.FollowUpInput) (*cases.FollowUp, error) {
	now := s.db.now()
	in.Date = cases.Date(in.Date)
	if err := in.Validate(now); err != nil {
		return nil, err
	}
	var out *followUpRow
	err := s.db.transact(ctx, func(tx *gorm.DB) error {
		row, plan, err := s.load(tx, id)
		if err != nil {
			return err
		}
		c := row.domain()
		if err := workflow.CanWork(c, actor); err != nil {
			return err
		}
		if err := inState(c, cases.StateFollowUp); err != nil {
			return err
		}
		if c.FollowUpSince != nil && in.Date.Before(cases.Date(*c.FollowUpSince)) {
			return &cases.Error{Code: cases.EINVALID, Message: "The follow-up is not valid.",
				Failed: []cases.Failure{{Name: "date", Message: "date is before the case entered follow-up"}}}
		}
		key, err := s.db.caseKeyOf(tx, id)
		if err != nil {
			return err
		}
		concerns, err := sealNote(key, id, purposeConcerns, in.Concerns)
		if err != nil {
			return err
		}
		f := followUpRow{
			ID: uuid.Must(uuid.NewV7()), CaseID: id, Date: in.Date, Contact: string(in.Contact),
			AttendingSchool: in.AttendingSchool, AttendancePct: in.AttendancePct, StipendAmount: in.StipendPaid,
			StipendCurrency: plan.Currency, StipendPaidOn: datePtr(in.StipendPaidOn), StipendProofRef: in.StipendProofRef,
			WorkingAgain: in.WorkingAgain, ConcernsSealed: concerns, RecordedBy: actor.UserID, CreatedAt: now,
		}
		if in.StipendPaid > 0 {
			f.StipendPayer = strPtr(plan.Payer)
		}
		if err := tx.Create(&f).Error; err != nil {
			return s.db.interpret(err, "Follow-up")
		}
		res := tx.Model(&caseRow{}).Where("id = ? AND state = ?", id, string(cases.StateFollowUp)).Updates(map[string]any{
			"last_follow_up_on": gorm.Expr("CASE WHEN last_follow_up_on IS NULL OR last_follow_up_on < ? THEN ? ELSE last_follow_up_on END", in.Date, in.Date),
			"updated_at":        now,
		})
		if res.Error != nil {
			return s.db.interpret(res.Error, "Case")
		} else if res.RowsAffected == 0 {
			return cases.Errorf(cases.ECONFLICT, "The case left follow-up while the follow-up was recorded.")
		}
		out = &f
		return nil
	})
	if err != nil {
		return nil, err
	}
	f := out.domain()
	f.Concerns = in.Concerns
	return f, nil
}

// FollowUps lists the case's follow-ups by date, concerns opened.
func (s *CaseService) FollowUps(ctx context.Context, id uuid.UUID) ([]*cases.FollowUp, error) {
	return caseRecords(ctx, s, id, "date, id", "Follow-ups", purposeConcerns,
		func(r *followUpRow) []byte { return r.ConcernsSealed },
		func(r *followUpRow, concerns cases.Note) *cases.FollowUp {
			f := r.domain()
			f.Concerns = concerns
			return f
		})
}

// Transition applies a workflow event: the pure workflow decides, and one
// transaction writes the case where its version still matches together with
// the transition record, or nothing.
func (s *CaseService) Transition(ctx context.Context, actor cases.Actor, id uuid.UUID, version int, req cases.TransitionRequest) (*cases.Case, *cases.Transition, error) {
	var record cases.Transition
	out, err := s.update(ctx, actor, id, version, cases.ActionTransition, func(tx *gorm.DB, _ *caseRow, c *cases.Case, now time.Time) (map[string]any, map[string]string, error) {
		next, t, err := workflow.Apply(*c, actor, req, now)
		if err != nil {
			return nil, nil, err
		}
		if next.Plan != nil && c.Plan != nil && c.Plan.ApprovedBy != next.Plan.ApprovedBy {
			err := tx.Model(&planRow{}).Where("case_id = ?", id).Updates(map[string]any{
				"approved_by": next.Plan.ApprovedBy, "approved_at": dbTimePtr(next.Plan.ApprovedAt),
			}).Error
			if err != nil {
				return nil, nil, s.db.interpret(err, "Plan")
			}
		}
		row := transitionRow{ID: t.ID, CaseID: id, Event: string(t.Event), FromState: string(t.From),
			ToState: string(t.To), ActorID: t.ActorID, ActorRole: string(t.ActorRole), At: t.At,
			Outcome: strPtr(t.Outcome)}
		if !t.Reason.Empty() {
			key, err := s.db.caseKeyOf(tx, id)
			if err != nil {
				return nil, nil, err
			}
			if row.ReasonSealed, err = sealNote(key, id, purposeReason, t.Reason); err != nil {
				return nil, nil, err
			}
		}
		if err := tx.Create(&row).Error; err != nil {
			return nil, nil, s.db.interpret(err, "Transition")
		}
		record = t
		return map[string]any{
			"state":           string(next.State),
			"outcome":         strPtr(next.Outcome),
			"closed_at":       dbTimePtr(next.ClosedAt),
			"follow_up_since": dbTimePtr(next.FollowUpSince),
		}, map[string]string{"event": string(t.Event), "from": string(t.From), "to": string(t.To), "outcome": string(t.Outcome)}, nil
	})
	if err != nil {
		return nil, nil, err
	}
	return out, &record, nil
}

// Transitions lists the case's transition records, oldest first, reasons opened.
func (s *CaseService) Transitions(ctx context.Context, id uuid.UUID) ([]*cases.Transition, error) {
	return caseRecords(ctx, s, id, "at, id", "Transitions", purposeReason,
		func(r *transitionRow) []byte { return r.ReasonSealed },
		func(r *transitionRow, reason cases.Note) *cases.Transition {
			t := r.domain()
			t.Reason = reason
			return t
		})
}

// caseRecords lists a case's rows of one kind in order, each converted with
// its sealed note opened; the case key is unwrapped only if a row has one.
// Returns ENOTFOUND if the case does not exist.
func caseRecords[R any, T any](ctx context.Context, s *CaseService, id uuid.UUID, order, what, purpose string,
	sealed func(*R) []byte, convert func(*R, cases.Note) T) ([]T, error) {
	var out []T
	err := s.db.transact(ctx, func(tx *gorm.DB) error {
		if ok, err := s.db.exists(tx, &caseRow{}, "id = ?", id); err != nil {
			return err
		} else if !ok {
			return cases.Errorf(cases.ENOTFOUND, "Case not found.")
		}
		var rows []R
		if err := tx.Where("case_id = ?", id).Order(order).Find(&rows).Error; err != nil {
			return s.db.interpret(err, what)
		}
		key := lazyKey{db: s.db, tx: tx, caseID: id}
		for i := range rows {
			note, err := key.openNote(purpose, sealed(&rows[i]))
			if err != nil {
				return err
			}
			out = append(out, convert(&rows[i], note))
		}
		return nil
	})
	return out, err
}

// ReadIdentity opens the case's identity and notes for someone allowed to
// read them, for a stated reason, and audits the read in the same
// transaction: no audit entry, no identity. Returns ENOTFOUND (also when
// erased), EFORBIDDEN, EINVALID for a missing reason.
func (s *CaseService) ReadIdentity(ctx context.Context, actor cases.Actor, id uuid.UUID, reason cases.ReadReason) (*cases.Confidential, error) {
	if err := reason.Validate(); err != nil {
		return nil, err
	}
	var out cases.Confidential
	err := s.db.transact(ctx, func(tx *gorm.DB) error {
		row, _, err := s.load(tx, id)
		if err != nil {
			return err
		}
		if err := workflow.CanReadIdentity(row.domain(), actor); err != nil {
			return err
		}
		key, identity, err := s.db.storedIdentity(tx, row)
		if err != nil {
			return err
		}
		out.Identity = identity
		if out.Narrative, err = openNote(key, id, purposeNarrative, row.NarrativeSealed); err != nil {
			return err
		}
		if out.VerificationNotes, err = openNote(key, id, purposeVerificationNotes, row.VerificationNotesSealed); err != nil {
			return err
		}
		detail, err := sealNote(key, id, purposeAuditDetail, reason.Detail)
		if err != nil {
			return err
		}
		return s.db.appendAudit(tx, actor, auditEvent{action: cases.ActionIdentityRead,
			caseID: uuid.NullUUID{UUID: id, Valid: true}, subject: row.Code,
			details: map[string]string{"reason": reason.Code}, sealed: detail})
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// CorrectIdentity re-seals a corrected identity and refreshes the case's
// fingerprints, so that links follow the corrected name and ID number.
// Links made before stay: they were true of what was known then.
func (s *CaseService) CorrectIdentity(ctx context.Context, actor cases.Actor, id uuid.UUID, version int, identity cases.Identity) (*cases.Case, error) {
	if err := identity.Validate(); err != nil {
		return nil, err
	}
	return s.update(ctx, actor, id, version, cases.ActionIdentityCorrect, func(tx *gorm.DB, row *caseRow, c *cases.Case, _ time.Time) (map[string]any, map[string]string, error) {
		if err := workflow.CanWork(c, actor); err != nil {
			return nil, nil, err
		}
		key, stored, err := s.db.storedIdentity(tx, row)
		if err != nil {
			return nil, nil, err
		}
		if identity.VerifiedBirthDate != nil && (stored.VerifiedBirthDate == nil || !cases.Date(*identity.VerifiedBirthDate).Equal(*stored.VerifiedBirthDate)) {
			return nil, nil, &cases.Error{Code: cases.EINVALID, Message: "The identity is not valid.",
				Failed: []cases.Failure{{Name: "identity.verified_birth_date", Message: "the verified date of birth changes only by recording a verification"}}}
		}
		identity.VerifiedBirthDate = stored.VerifiedBirthDate
		sealed, err := sealIdentity(key, id, identity)
		if err != nil {
			return nil, nil, err
		}
		if err := tx.Where("case_id = ?", id).Delete(&fingerprintRow{}).Error; err != nil {
			return nil, nil, s.db.interpret(err, "Fingerprints")
		}
		if err := s.link(tx, actor, row, fingerprints(s.db.keys, identity)); err != nil {
			return nil, nil, err
		}
		return map[string]any{"identity_sealed": sealed}, nil, nil
	})
}

func inState(c *cases.Case, states ...cases.State) error {
	for _, s := range states {
		if c.State == s {
			return nil
		}
	}
	return cases.Errorf(cases.ECONFLICT, "The case is in %s; this needs it in %s.", c.State, statesList(states))
}

func statesList(states []cases.State) string {
	s := ""
	for i, st := range states {
		if i > 0 {
			s += " or "
		}
		s += string(st)
	}
	return s
}

func datePtrOrNil(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	d := cases.Date(t)
	return &d
}
