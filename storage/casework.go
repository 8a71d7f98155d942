package storage

import (
	"context"
	"fmt"
	"strconv"
	"strings"
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

// ConfirmRemoval records the child's removal from work and, the first time
// one is given, the first contact with the child.
func (s *CaseService) ConfirmRemoval(ctx context.Context, actor cases.Actor, id uuid.UUID, version int, r cases.Removal) (*cases.Case, error) {
	return s.update(ctx, actor, id, version, cases.ActionRemovalConfirmed, func(_ *gorm.DB, _ *caseRow, c *cases.Case, now time.Time) (map[string]any, map[string]string, error) {
		if err := workflow.CanWork(c, actor); err != nil {
			return nil, nil, err
		}
		if err := inState(c, cases.StateIntake, cases.StateVerification); err != nil {
			return nil, nil, err
		}
		if err := r.Validate(c.FoundOn, now); err != nil {
			return nil, nil, err
		}
		cols := map[string]any{"removed_from_work": r.RemovedFromWork, "child_safe": r.ChildSafe}
		details := map[string]string{"removed_from_work": strconv.FormatBool(r.RemovedFromWork), "child_safe": strconv.FormatBool(r.ChildSafe)}
		if r.ChildContactedAt != nil && c.FirstContactAt == nil {
			cols["first_contact_at"] = dbTime(*r.ChildContactedAt)
			details["first_contact"] = "recorded"
		}
		return cols, details, nil
	})
}

// CorrectFacts replaces the facts filed at intake; the audit entry names the
// facts that changed, never their values.
func (s *CaseService) CorrectFacts(ctx context.Context, actor cases.Actor, id uuid.UUID, version int, f cases.Facts) (*cases.Case, error) {
	f.Normalize()
	if err := f.Validate(); err != nil {
		return nil, err
	}
	return s.update(ctx, actor, id, version, cases.ActionFactsCorrected, func(_ *gorm.DB, _ *caseRow, c *cases.Case, _ time.Time) (map[string]any, map[string]string, error) {
		if err := workflow.CanWork(c, actor); err != nil {
			return nil, nil, err
		}
		if err := inState(c, cases.StateIntake, cases.StateVerification); err != nil {
			return nil, nil, err
		}
		return map[string]any{
				"presence": string(f.Presence), "job": f.Job, "hazards": strings.Join(f.Hazards, ","),
				"hours_per_week": f.HoursPerWeek, "wage_amount": f.MonthlyWage.Amount, "wage_currency": f.MonthlyWage.Currency,
				"recruitment": string(f.Recruitment), "other_children_found": f.OtherChildrenFound,
				"labour_agent": string(f.LabourAgent), "factory_consent": string(f.FactoryConsent),
			},
			map[string]string{"changed": strings.Join(c.Facts().Changed(f), ",")}, nil
	})
}

// RecordVerification seals the verified date of birth into the identity and
// keeps only the age at the date found in the open.
func (s *CaseService) RecordVerification(ctx context.Context, actor cases.Actor, id uuid.UUID, version int, v cases.Verification) (*cases.Case, error) {
	v.VerifiedBirthDate = cases.Date(v.VerifiedBirthDate)
	v.Normalize()
	if v.GuardiansContactedOn != nil {
		d := cases.Date(*v.GuardiansContactedOn)
		v.GuardiansContactedOn = &d
	}
	return s.update(ctx, actor, id, version, cases.ActionCaseVerified, func(tx *gorm.DB, row *caseRow, c *cases.Case, now time.Time) (map[string]any, map[string]string, error) {
		if err := workflow.CanWork(c, actor); err != nil {
			return nil, nil, err
		}
		if err := inState(c, cases.StateVerification); err != nil {
			return nil, nil, err
		}
		if err := v.Validate(c.FoundOn, s.db.today()); err != nil {
			return nil, nil, err
		}
		key, identity, narrative, err := s.db.storedIdentity(tx, row)
		if err != nil {
			return nil, nil, err
		}
		identity.VerifiedBirthDate = &v.VerifiedBirthDate
		sealedID, err := sealIdentity(key, id, identity, narrative)
		if err != nil {
			return nil, nil, err
		}
		notes, err := sealNote(key, id, purposeVerificationNotes, v.Notes)
		if err != nil {
			return nil, nil, err
		}
		wishes, err := sealNote(key, id, purposeChildWishes, v.ChildWishes)
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
				"child_wishes_sealed":       wishes,
				"guardians_contacted":       v.GuardiansContacted,
				"guardians_contacted_on":    datePtr(v.GuardiansContactedOn),
				"guardians_contact_method":  strPtr(v.GuardiansContactMethod),
			}, map[string]string{"method": string(v.Method), "guardians_contacted": strconv.FormatBool(v.GuardiansContacted),
				"child_wishes": strconv.FormatBool(!v.ChildWishes.Empty())}, nil
	})
}

// PutPlan writes the plan and voids any earlier approval. An end date left
// empty defaults to cases.DefaultEndDate, from the sealed birth date, the
// enrolment date and the grade.
func (s *CaseService) PutPlan(ctx context.Context, actor cases.Actor, id uuid.UUID, version int, p cases.PlanInput) (*cases.Case, error) {
	p.Normalize()
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
		if end.IsZero() && !p.EnrolmentDate.IsZero() {
			_, identity, _, err := s.db.storedIdentity(tx, row)
			if err != nil {
				return nil, nil, err
			}
			if identity.VerifiedBirthDate != nil {
				end = cases.DefaultEndDate(*identity.VerifiedBirthDate, p.EnrolmentDate, cases.GradeLevel(p.Grade))
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
		notePlanWritten(tx)
		return map[string]any{}, map[string]string{"complete": strconv.FormatBool(len(plan.domain().Missing()) == 0)}, nil
	})
}

// AddFollowUp records a follow-up and audits it. The case row is updated
// only while it is still in follow_up, in the same transaction, so a
// follow-up cannot land on a case that a supervisor closed at the same
// moment. The follow-up covers the month of its date: the case's first
// uncovered month moves on when it is that month. A child found working
// again raises the case's alert.
func (s *CaseService) AddFollowUp(ctx context.Context, actor cases.Actor, id uuid.UUID, in cases.FollowUpInput) (*cases.FollowUp, error) {
	now := s.db.now()
	in.Date = cases.Date(in.Date)
	if in.StipendPaidOn != nil {
		d := cases.Date(*in.StipendPaidOn)
		in.StipendPaidOn = &d
	}
	in.Normalize()
	if err := in.Validate(s.db.today()); err != nil {
		return nil, err
	}
	var out *cases.FollowUp
	err := s.db.transact(ctx, func(tx *gorm.DB) error {
		row, plan, err := s.loadFor(tx, id, true)
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
		if c.FollowUpSince != nil && in.Date.Before(cases.Today(*c.FollowUpSince, s.db.Zone)) {
			return &cases.Error{Code: cases.EINVALID, Message: "The follow-up is not valid.",
				Failed: []cases.Failure{{Name: "date", Message: "date is before the case entered follow-up"}}}
		}
		var concerns []byte
		if !in.Concerns.Empty() {
			key, err := s.db.caseKeyOf(tx, id)
			if err != nil {
				return err
			}
			if concerns, err = sealNote(key, id, purposeConcerns, in.Concerns); err != nil {
				return err
			}
		}
		month := cases.MonthOf(in.Date)
		var before int64
		if err := tx.Model(&followUpRow{}).Where("case_id = ? AND date >= ? AND date < ?", id, month.Start(), month.End()).
			Count(&before).Error; err != nil {
			return s.db.interpret(err, "Follow-ups")
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
		cols := map[string]any{
			"last_follow_up_on": gorm.Expr("CASE WHEN last_follow_up_on IS NULL OR last_follow_up_on < ? THEN ? ELSE last_follow_up_on END", in.Date, in.Date),
			"updated_at":        now,
		}
		if c.UncoveredFrom != nil && cases.MonthOf(*c.UncoveredFrom) == month {
			next, err := s.firstUncovered(tx, id, month)
			if err != nil {
				return err
			}
			cols["uncovered_from"] = next.Start()
		}
		alert := in.WorkingAgain && c.WorkingAgainSince == nil
		if alert {
			cols["working_again_since"] = in.Date
		}
		res := tx.Model(&caseRow{}).Where("id = ? AND state = ?", id, string(cases.StateFollowUp)).Updates(cols)
		if res.Error != nil {
			return s.db.interpret(res.Error, "Case")
		} else if res.RowsAffected == 0 {
			return cases.Errorf(cases.ECONFLICT, "The case left follow-up while the follow-up was recorded.")
		}
		caseID := uuid.NullUUID{UUID: id, Valid: true}
		err = s.db.appendAudit(tx, actor, auditEvent{action: cases.ActionFollowUpAdded, caseID: caseID, subject: row.Code,
			details: map[string]string{"follow_up_id": f.ID.String(), "month": month.String(), "extra": strconv.FormatBool(before > 0),
				"working_again": strconv.FormatBool(in.WorkingAgain), "stipend_paid": strconv.FormatInt(in.StipendPaid, 10)}})
		if err != nil {
			return err
		}
		if alert {
			if err := tx.Create(&caseAlertRow{CaseID: id, RaisedOn: in.Date}).Error; err != nil {
				return s.db.interpret(err, "Alert")
			}
			err := s.db.appendAudit(tx, actor, auditEvent{action: cases.ActionAlertRaised, caseID: caseID, subject: row.Code,
				details: map[string]string{"follow_up_id": f.ID.String(), "alert": "working_again"}})
			if err != nil {
				return err
			}
		}
		if in.StipendPaid > 0 {
			// The stipend the follow-up recorded is a ledger entry of its own.
			payer := in.StipendPayer
			if payer == "" {
				payer = plan.Payer
			}
			if payer != cases.PayerFactory && payer != cases.PayerBrand {
				return &cases.Error{Code: cases.EINVALID, Message: "The follow-up is not valid.",
					Failed: []cases.Failure{{Name: "stipend_payer", Message: "the plan is split: say whether the factory or the brand paid"}}}
			}
			method := in.StipendMethod
			if method == "" {
				method = "other"
			}
			_, err := s.db.insertPayment(tx, actor, id, cases.PaymentInput{Payer: payer, Amount: in.StipendPaid,
				Currency: plan.Currency, PaidOn: *in.StipendPaidOn, Month: month, Method: method, ProofRef: in.StipendProofRef},
				uuid.NullUUID{UUID: f.ID, Valid: true})
			if err != nil {
				return err
			}
			f.StipendPayer = strPtr(payer)
		} else if alert {
			if err := s.db.refreshLedgerFrom(tx, id, row.ClientID, nil); err != nil {
				return err
			}
		}
		out = f.domain()
		out.Extra = before > 0
		return nil
	})
	if err != nil {
		return nil, err
	}
	out.Concerns = in.Concerns
	out.HasConcerns = !in.Concerns.Empty()
	return out, nil
}

// firstUncovered returns the first month from start on in which the case has
// no follow-up.
func (s *CaseService) firstUncovered(tx *gorm.DB, id uuid.UUID, start cases.Month) (cases.Month, error) {
	var dates []time.Time
	if err := tx.Model(&followUpRow{}).Where("case_id = ? AND date >= ?", id, start.Start()).Pluck("date", &dates).Error; err != nil {
		return cases.Month{}, s.db.interpret(err, "Follow-ups")
	}
	covered := make(map[cases.Month]int, len(dates))
	for _, d := range dates {
		covered[cases.MonthOf(d.UTC())]++
	}
	return cases.FirstUncovered(start, covered), nil
}

// followUpFacts are a follow-up's columns without its sealed concerns, and
// whether it has any.
var followUpFacts = []string{"id", "case_id", "date", "contact", "attending_school", "attendance_pct",
	"stipend_amount", "stipend_currency", "stipend_payer", "stipend_paid_on", "stipend_proof_ref",
	"working_again", "recorded_by", "created_at", "concerns_sealed IS NOT NULL AS has_concerns"}

type followUpFactsRow struct {
	Row         followUpRow `gorm:"embedded"`
	HasConcerns bool
}

// FollowUps lists the case's follow-ups by date, their concerns unopened: a
// list never decrypts. The second and later follow-ups of a month are
// marked extra.
func (s *CaseService) FollowUps(ctx context.Context, id uuid.UUID) ([]*cases.FollowUp, error) {
	var rows []followUpFactsRow
	err := s.db.transact(ctx, func(tx *gorm.DB) error {
		if err := s.mustExist(tx, id); err != nil {
			return err
		}
		return s.db.interpret(tx.Table("follow_ups").Select(followUpFacts).Where("case_id = ?", id).
			Order("date, created_at, id").Find(&rows).Error, "Follow-ups")
	})
	if err != nil {
		return nil, err
	}
	out := make([]*cases.FollowUp, len(rows))
	seen := map[cases.Month]bool{}
	for i := range rows {
		f := rows[i].Row.domain()
		f.HasConcerns = rows[i].HasConcerns
		f.Extra = seen[f.Month()]
		seen[f.Month()] = true
		out[i] = f
	}
	return out, nil
}

// transitionFacts are a transition's columns without its sealed reason.
var transitionFacts = []string{"id", "case_id", "event", "from_state", "to_state", "actor_id", "actor_role",
	"at", "outcome", "reason_sealed IS NOT NULL AS has_reason"}

type transitionFactsRow struct {
	Row       transitionRow `gorm:"embedded"`
	HasReason bool
}

// Transitions lists the case's transition records, oldest first, their
// reasons unopened.
func (s *CaseService) Transitions(ctx context.Context, id uuid.UUID) ([]*cases.Transition, error) {
	var rows []transitionFactsRow
	err := s.db.transact(ctx, func(tx *gorm.DB) error {
		if err := s.mustExist(tx, id); err != nil {
			return err
		}
		return s.db.interpret(tx.Table("transitions").Select(transitionFacts).Where("case_id = ?", id).
			Order("at, id").Find(&rows).Error, "Transitions")
	})
	if err != nil {
		return nil, err
	}
	out := make([]*cases.Transition, len(rows))
	for i := range rows {
		out[i] = rows[i].Row.domain()
		out[i].HasReason = rows[i].HasReason
	}
	return out, nil
}

// mustExist returns ENOTFOUND if the case does not exist.
func (s *CaseService) mustExist(tx *gorm.DB, id uuid.UUID) error {
	if ok, err := s.db.exists(tx, &caseRow{}, "id = ?", id); err != nil {
		return err
	} else if !ok {
		return cases.Errorf(cases.ENOTFOUND, "Case not found.")
	}
	return nil
}

// Schedule works out the months the case owes a follow-up for, from its
// follow-up periods, its plan's end date and its follow-ups' dates.
func (s *CaseService) Schedule(ctx context.Context, id uuid.UUID) (*cases.Schedule, error) {
	var out cases.Schedule
	err := s.db.transact(ctx, func(tx *gorm.DB) error {
		_, plan, err := s.load(tx, id)
		if err != nil {
			return err
		}
		var transitions []transitionRow
		if err := tx.Select("id", "from_state", "to_state", "at").Where("case_id = ?", id).Order("at, id").Find(&transitions).Error; err != nil {
			return s.db.interpret(err, "Transitions")
		}
		var dates []time.Time
		if err := tx.Model(&followUpRow{}).Where("case_id = ?", id).Pluck("date", &dates).Error; err != nil {
			return s.db.interpret(err, "Follow-ups")
		}
		trs := make([]*cases.Transition, len(transitions))
		for i := range transitions {
			trs[i] = transitions[i].domain()
		}
		for i := range dates {
			dates[i] = cases.Date(dates[i].UTC())
		}
		var end time.Time
		if plan != nil {
			end = plan.EndDate
		}
		out = cases.FollowUpSchedule(cases.FollowUpPeriods(trs), end, dates, s.db.Now(), s.db.Zone)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// Transition applies a workflow event: the pure workflow decides, and one
// transaction writes the case where its version still matches together with
// the transition record, or nothing. Entering follow-up starts owing
// follow-ups from the current month (in the organisation's zone).
func (s *CaseService) Transition(ctx context.Context, actor cases.Actor, id uuid.UUID, version int, req cases.TransitionRequest) (*cases.Case, *cases.Transition, error) {
	req.Reason = cases.NewNote(cases.NormalizeNote(req.Reason.Text()))
	if !req.Reason.Empty() && !cases.ValidNoteText(req.Reason.Text(), cases.MaxNoteBytes) {
		return nil, nil, &cases.Error{Code: cases.EINVALID, Message: "The transition is not valid.",
			Failed: []cases.Failure{{Name: "reason", Message: fmt.Sprintf("reason must be valid UTF-8 without control characters, at most %d bytes", cases.MaxNoteBytes)}}}
	}
	var record cases.Transition
	out, err := s.update(ctx, actor, id, version, cases.ActionTransition, func(tx *gorm.DB, cr *caseRow, c *cases.Case, now time.Time) (map[string]any, map[string]string, error) {
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
			notePlanWritten(tx)
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
		if next.State == cases.StateFollowUp && c.State != cases.StateFollowUp {
			first, err := s.firstUncovered(tx, id, cases.MonthOf(now.In(s.db.Zone)))
			if err != nil {
				return nil, nil, err
			}
			start := first.Start()
			next.UncoveredFrom = &start
		}
		// The ledger follows the approved plan as it stands now; a closure
		// or a reopening changes the months owed.
		if req.Event == cases.EventApprovePlan {
			if err := s.db.recordPlanVersion(tx, id, next.Plan); err != nil {
				return nil, nil, err
			}
		}
		if c.WorkingAgainSince != nil && next.WorkingAgainSince == nil {
			// A closure answers an alert: the suspension ends with the case.
			if err := s.db.resolveAlert(tx, id, now); err != nil {
				return nil, nil, err
			}
		}
		record = t
		// An approval, a closure or a reopening changes the months owed; the
		// transition record is written, so the ledger sees it.
		switch req.Event {
		case cases.EventApprovePlan, cases.EventClose, cases.EventReopen:
			if err := s.db.refreshLedgerFrom(tx, id, cr.ClientID, nil); err != nil {
				return nil, nil, err
			}
		}
		return map[string]any{
			"state":                  string(next.State),
			"outcome":                strPtr(next.Outcome),
			"closed_at":              dbTimePtr(next.ClosedAt),
			"follow_up_since":        dbTimePtr(next.FollowUpSince),
			"first_plan_approved_at": dbTimePtr(next.FirstPlanApprovedAt),
			"plan_end_on":            datePtr(next.PlanEndOn),
			"uncovered_from":         datePtr(next.UncoveredFrom),
			"working_again_since":    datePtr(next.WorkingAgainSince),
		}, map[string]string{"event": string(t.Event), "from": string(t.From), "to": string(t.To), "outcome": string(t.Outcome)}, nil
	})
	if err != nil {
		return nil, nil, err
	}
	record.HasReason = !record.Reason.Empty()
	return out, &record, nil
}

// resolveAlert ends the case's open suspension on the day of now, inside tx.
func (db *DB) resolveAlert(tx *gorm.DB, caseID uuid.UUID, now time.Time) error {
	return db.interpret(tx.Model(&caseAlertRow{}).Where("case_id = ? AND resolved_on IS NULL", caseID).
		Update("resolved_on", cases.Today(now, db.Zone)).Error, "Alert")
}

// ResolveAlert records a supervisor's decision that a child found working
// again goes on in the programme: the alert ends and the stipend is owed
// again. The reason is sealed into the audit entry.
func (s *CaseService) ResolveAlert(ctx context.Context, actor cases.Actor, id uuid.UUID, version int, reason cases.Note) (*cases.Case, error) {
	if actor.Role != cases.RoleSupervisor {
		return nil, cases.Errorf(cases.EFORBIDDEN, "Only a supervisor decides on an alert.")
	}
	reason = cases.NewNote(cases.NormalizeNote(reason.Text()))
	var v cases.Validation
	v.Check(!reason.Empty() && cases.ValidNoteText(reason.Text(), cases.MaxNoteBytes), "reason",
		"a reason is required: valid UTF-8 without control characters, at most %d bytes", cases.MaxNoteBytes)
	if err := v.Err("The decision is not valid."); err != nil {
		return nil, err
	}
	return s.updateSealed(ctx, actor, id, version, cases.ActionAlertResolved, func(tx *gorm.DB, _ *caseRow, c *cases.Case, _ time.Time) (map[string]any, map[string]string, []byte, error) {
		if !c.Alert() {
			return nil, nil, nil, cases.Errorf(cases.ECONFLICT, "The case has no alert to decide on.")
		}
		key, err := s.db.caseKeyOf(tx, id)
		if err != nil {
			return nil, nil, nil, err
		}
		sealed, err := sealNote(key, id, purposeAuditDetail, reason)
		if err != nil {
			return nil, nil, nil, err
		}
		if err := s.db.resolveAlert(tx, id, s.db.Now()); err != nil {
			return nil, nil, nil, err
		}
		if err := s.db.refreshLedger(tx, id); err != nil {
			return nil, nil, nil, err
		}
		return map[string]any{"working_again_since": nil},
			map[string]string{"decision": "resume", "since": c.WorkingAgainSince.Format(time.DateOnly)}, sealed, nil
	})
}

// ReadIdentity opens the case's identity and notes for someone allowed to
// read them, for a stated reason, and audits the read in the same
// transaction: no audit entry, no identity. Returns ENOTFOUND (also when
// erased), EFORBIDDEN, EINVALID for a missing reason.
func (s *CaseService) ReadIdentity(ctx context.Context, actor cases.Actor, id uuid.UUID, reason cases.ReadReason) (*cases.Confidential, error) {
	reason.Detail = cases.NewNote(cases.NormalizeNote(reason.Detail.Text()))
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
		key, identity, narrative, err := s.db.storedIdentity(tx, row)
		if err != nil {
			return err
		}
		out.Identity, out.Narrative = identity, narrative
		if row.NarrativeSealed != nil {
			if out.Narrative, err = openNote(key, id, purposeNarrative, row.NarrativeSealed); err != nil {
				return err
			}
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

// ReadNotes opens every sealed note of the case for someone allowed to read
// them, for a stated reason, and audits the read in the same transaction.
func (s *CaseService) ReadNotes(ctx context.Context, actor cases.Actor, id uuid.UUID, reason cases.ReadReason) (*cases.CaseNotes, error) {
	reason.Detail = cases.NewNote(cases.NormalizeNote(reason.Detail.Text()))
	if err := reason.Validate(); err != nil {
		return nil, err
	}
	out := &cases.CaseNotes{FollowUps: []cases.FollowUpNote{}, Transitions: []cases.TransitionNote{}, Details: []cases.DetailNote{}}
	err := s.db.transact(ctx, func(tx *gorm.DB) error {
		row, _, err := s.load(tx, id)
		if err != nil {
			return err
		}
		if err := workflow.CanReadIdentity(row.domain(), actor); err != nil {
			return err
		}
		key, err := s.db.caseKeyOf(tx, id)
		if err != nil {
			return err
		}
		if out.Narrative, err = storedNarrative(key, row); err != nil {
			return err
		}
		for _, n := range []struct {
			into    *cases.Note
			purpose string
			sealed  []byte
		}{
			{&out.VerificationNotes, purposeVerificationNotes, row.VerificationNotesSealed},
			{&out.ChildWishes, purposeChildWishes, row.ChildWishesSealed},
		} {
			if *n.into, err = openNote(key, id, n.purpose, n.sealed); err != nil {
				return err
			}
		}
		var followUps []followUpRow
		if err := tx.Select("id", "date", "concerns_sealed").Where("case_id = ? AND concerns_sealed IS NOT NULL", id).
			Order("date, created_at, id").Find(&followUps).Error; err != nil {
			return s.db.interpret(err, "Follow-ups")
		}
		for _, f := range followUps {
			note, err := openNote(key, id, purposeConcerns, f.ConcernsSealed)
			if err != nil {
				return err
			}
			out.FollowUps = append(out.FollowUps, cases.FollowUpNote{FollowUpID: f.ID, Date: cases.Date(f.Date.UTC()), Concerns: note})
		}
		var transitions []transitionRow
		if err := tx.Select("id", "event", "at", "reason_sealed").Where("case_id = ? AND reason_sealed IS NOT NULL", id).
			Order("at, id").Find(&transitions).Error; err != nil {
			return s.db.interpret(err, "Transitions")
		}
		for _, t := range transitions {
			note, err := openNote(key, id, purposeReason, t.ReasonSealed)
			if err != nil {
				return err
			}
			out.Transitions = append(out.Transitions, cases.TransitionNote{TransitionID: t.ID, Event: cases.Event(t.Event), At: t.At.UTC(), Reason: note})
		}
		var entries []auditRow
		if err := tx.Select("seq", "action", "at", "sealed").Where("case_id = ? AND sealed IS NOT NULL", id).
			Order("seq").Find(&entries).Error; err != nil {
			return s.db.interpret(err, "Audit log")
		}
		for _, e := range entries {
			note, err := openNote(key, id, purposeAuditDetail, e.Sealed)
			if err != nil {
				return err
			}
			out.Details = append(out.Details, cases.DetailNote{Seq: e.Seq, Action: e.Action, At: e.At.UTC(), Detail: note})
		}
		detail, err := sealNote(key, id, purposeAuditDetail, reason.Detail)
		if err != nil {
			return err
		}
		return s.db.appendAudit(tx, actor, auditEvent{action: cases.ActionNotesRead,
			caseID: uuid.NullUUID{UUID: id, Valid: true}, subject: row.Code,
			details: map[string]string{"reason": reason.Code}, sealed: detail})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// CorrectIdentity re-seals a corrected identity and refreshes the case's
// fingerprints, so that links follow the corrected name and ID number.
// Links made before stay: they were true of what was known then.
func (s *CaseService) CorrectIdentity(ctx context.Context, actor cases.Actor, id uuid.UUID, version int, identity cases.Identity) (*cases.Case, error) {
	identity.Normalize()
	if err := identity.Validate(s.db.today()); err != nil {
		return nil, err
	}
	return s.update(ctx, actor, id, version, cases.ActionIdentityCorrect, func(tx *gorm.DB, row *caseRow, c *cases.Case, _ time.Time) (map[string]any, map[string]string, error) {
		if err := workflow.CanWork(c, actor); err != nil {
			return nil, nil, err
		}
		if b := identity.ClaimedBirthDate; b != nil && !cases.Date(*b).Before(c.FoundOn) {
			return nil, nil, &cases.Error{Code: cases.EINVALID, Message: "The identity is not valid.",
				Failed: []cases.Failure{{Name: "identity.claimed_birth_date", Message: "claimed_birth_date must be before the date found"}}}
		}
		key, stored, narrative, err := s.db.storedIdentity(tx, row)
		if err != nil {
			return nil, nil, err
		}
		if identity.VerifiedBirthDate != nil && (stored.VerifiedBirthDate == nil || !cases.Date(*identity.VerifiedBirthDate).Equal(*stored.VerifiedBirthDate)) {
			return nil, nil, &cases.Error{Code: cases.EINVALID, Message: "The identity is not valid.",
				Failed: []cases.Failure{{Name: "identity.verified_birth_date", Message: "the verified date of birth changes only by recording a verification"}}}
		}
		identity.VerifiedBirthDate = stored.VerifiedBirthDate
		sealed, err := sealIdentity(key, id, identity, narrative)
		if err != nil {
			return nil, nil, err
		}
		if err := tx.Where("case_id = ?", id).Delete(&fingerprintRow{}).Error; err != nil {
			return nil, nil, s.db.interpret(err, "Fingerprints")
		}
		if err := s.link(tx, actor, row, fingerprints(s.db.keys, identity)); err != nil {
			return nil, nil, err
		}
		return map[string]any{"identity_sealed": sealed, "id_checksum_valid": identity.IDChecksumValid()}, nil, nil
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
