package cases

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
)

// State is where a case stands in the workflow.
type State string

const (
	StateIntake       State = "intake"
	StateVerification State = "verification"
	StatePlanning     State = "planning"
	StateFollowUp     State = "follow_up"
	StateClosed       State = "closed"
)

// States lists every state in workflow order.
var States = []State{StateIntake, StateVerification, StatePlanning, StateFollowUp, StateClosed}

// Valid reports whether s is a known state.
func (s State) Valid() bool { return oneOf(s, States) }

// Event moves a case from one state to another.
type Event string

const (
	EventBeginVerification  Event = "begin_verification"
	EventConfirmChildLabour Event = "confirm_child_labour"
	EventDismiss            Event = "dismiss"
	EventApprovePlan        Event = "approve_plan"
	EventRevisePlan         Event = "revise_plan"
	EventClose              Event = "close"
	EventReopen             Event = "reopen"
)

// Events lists every event.
var Events = []Event{EventBeginVerification, EventConfirmChildLabour, EventDismiss,
	EventApprovePlan, EventRevisePlan, EventClose, EventReopen}

// Valid reports whether e is a known event.
func (e Event) Valid() bool { return oneOf(e, Events) }

// Outcome is why a case was closed.
type Outcome string

const (
	OutcomeCompleted      Outcome = "completed" // reached 16, or finished the programme
	OutcomeNotChildLabour Outcome = "not_child_labour"
	OutcomeLostContact    Outcome = "lost_contact"
	OutcomeRefused        Outcome = "refused"
	OutcomeReturnedToWork Outcome = "returned_to_work"
	OutcomeTransferred    Outcome = "transferred"
)

// Outcomes lists every outcome.
var Outcomes = []Outcome{OutcomeCompleted, OutcomeNotChildLabour, OutcomeLostContact,
	OutcomeRefused, OutcomeReturnedToWork, OutcomeTransferred}

// Valid reports whether o is a known outcome.
func (o Outcome) Valid() bool { return oneOf(o, Outcomes) }

// Gender as the auditor or the verification recorded it.
type Gender string

const (
	GenderFemale  Gender = "female"
	GenderMale    Gender = "male"
	GenderOther   Gender = "other"
	GenderUnknown Gender = "unknown"
)

// Genders lists every gender value.
var Genders = []Gender{GenderFemale, GenderMale, GenderOther, GenderUnknown}

// Presence tells whether the child was employed or only present, as the child
// of a worker brought along for want of childcare.
type Presence string

const (
	PresenceEmployed     Presence = "employed"
	PresenceAccompanying Presence = "accompanying" // a worker's child, present but not employed
)

// Presences lists every presence value.
var Presences = []Presence{PresenceEmployed, PresenceAccompanying}

// Recruitment is how the child came to work at the factory.
type Recruitment string

// Recruitments lists every recruitment value.
var Recruitments = []Recruitment{"forged_id", "borrowed_id", "no_id_check", "relative_or_friend",
	"labour_agent", "school_internship", "holiday_work", "other", "unknown"}

// Hazards lists the recognised hazards of a job.
var Hazards = []string{"machinery", "chemicals", "dust", "noise", "heat", "heavy_loads",
	"night_work", "long_hours", "sharp_tools", "electricity", "heights", "other"}

// VerificationMethod is how the child's age was verified.
type VerificationMethod string

// VerificationMethods lists every verification method.
var VerificationMethods = []VerificationMethod{"id_card", "household_register", "school_record",
	"birth_certificate", "family_statement", "medical_estimate"}

// LegalWorkingAge is the age from which work is legal (16 in China).
const LegalWorkingAge = 16

// Case is one child found working, from the auditor's report to closure.
// It holds facts only: the identity and every free-text note are sealed apart
// (see Identity and Note), so a Case can be logged or shown to a brand's
// adapter without leaking a child.
type Case struct {
	ID         uuid.UUID // UUIDv7: ordered by filing time
	Code       string    // pseudonymous public name, e.g. CL-2026-0042
	ClientID   uuid.UUID
	FactoryID  uuid.UUID
	State      State
	Version    int // bumped by every change; writers must present the version they saw
	AssigneeID uuid.NullUUID
	FiledBy    uuid.UUID

	FoundOn         time.Time // a date, midnight UTC
	Gender          Gender
	Presence        Presence
	Job             string
	Hazards         []string
	HoursPerWeek    int
	MonthlyWage     Money
	Recruitment     Recruitment
	RemovedFromWork bool
	ChildSafe       bool

	VerificationMethod VerificationMethod // empty until verified
	AgeAtFound         *int               // verified age in whole years on FoundOn

	Outcome       Outcome // empty unless closed
	FollowUpSince *time.Time
	LastFollowUp  *time.Time // date of the latest follow-up

	CreatedAt time.Time
	UpdatedAt time.Time
	ClosedAt  *time.Time
	ErasedAt  *time.Time // identity and notes crypto-shredded

	// Links are other cases of the same child, found by the blind index.
	// Only case workers and supervisors may be told of them.
	Links []Link

	// Plan is the return-to-school plan, loaded with the case when it exists.
	Plan *Plan
}

// Link says that another case is, by its blind index, the same child.
type Link struct {
	CaseID    uuid.UUID
	Code      string
	MatchedOn string // id_number or name_birth_date
}

// Money is an amount in minor units (fen for CNY) and its ISO 4217 currency.
type Money struct {
	Amount   int64
	Currency string
}

var currencyPattern = regexp.MustCompile(`^[A-Z]{3}$`)

// ValidCurrency reports whether c looks like an ISO 4217 code.
func ValidCurrency(c string) bool { return currencyPattern.MatchString(c) }

// Date truncates t to its calendar date in UTC.
func Date(t time.Time) time.Time {
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// AgeOn returns the age in whole years on day of someone born on birth.
func AgeOn(birth, day time.Time) int {
	age := day.Year() - birth.Year()
	if day.Month() < birth.Month() || (day.Month() == birth.Month() && day.Day() < birth.Day()) {
		age--
	}
	return age
}

// MonthStart returns the first instant of t's month in UTC.
func MonthStart(t time.Time) time.Time {
	y, m, _ := t.UTC().Date()
	return time.Date(y, m, 1, 0, 0, 0, 0, time.UTC)
}

// OverdueAsOf reports whether a case in follow-up lacks a follow-up for the
// last full month before now. A month is due when it began while the case was
// already in follow-up.
func (c *Case) OverdueAsOf(now time.Time) bool {
	if c.State != StateFollowUp || c.FollowUpSince == nil {
		return false
	}
	last := MonthStart(MonthStart(now).AddDate(0, -1, 0))
	if !c.FollowUpSince.Before(last) {
		return false
	}
	return c.LastFollowUp == nil || c.LastFollowUp.Before(last)
}

// FormatCode returns the code of the n-th case filed in year.
func FormatCode(year, n int) string { return fmt.Sprintf("CL-%d-%04d", year, n) }

var codePattern = regexp.MustCompile(`^CL-[0-9]{4}-[0-9]{4,}$`)

// ValidCode reports whether s has the shape of a case code.
func ValidCode(s string) bool { return codePattern.MatchString(s) }

// Report is the auditor's child-labour report, which opens a case.
type Report struct {
	ClientID        uuid.UUID
	FactoryID       uuid.UUID
	FoundOn         time.Time
	Gender          Gender
	Presence        Presence
	Job             string
	Hazards         []string
	HoursPerWeek    int
	MonthlyWage     Money
	Recruitment     Recruitment
	RemovedFromWork bool
	ChildSafe       bool
	Identity        Identity // sealed on write
	Narrative       Note     // sealed on write
}

// Validate names every invalid field. now bounds the date found.
func (r *Report) Validate(now time.Time) error {
	var v Validation
	v.Check(r.ClientID != uuid.Nil, "client_id", "client_id is required")
	v.Check(r.FactoryID != uuid.Nil, "factory_id", "factory_id is required")
	v.Check(!r.FoundOn.IsZero() && !r.FoundOn.After(now) && r.FoundOn.Year() >= 2000,
		"found_on", "found_on must be a date between 2000-01-01 and today")
	v.Check(oneOf(r.Gender, Genders), "gender", "gender must be one of female, male, other, unknown")
	v.Check(oneOf(r.Presence, Presences), "presence", "presence must be employed or accompanying")
	v.Check(utf8.RuneCountInString(r.Job) <= 100 && utf8.ValidString(r.Job), "job", "job must be at most 100 characters")
	v.Check(len(r.Hazards) <= len(Hazards) && allOf(r.Hazards, Hazards) && distinct(r.Hazards),
		"hazards", "hazards must be distinct values among %s", strings.Join(Hazards, ", "))
	v.Check(r.HoursPerWeek >= 0 && r.HoursPerWeek <= 168, "hours_per_week", "hours_per_week must be between 0 and 168")
	v.Check(r.MonthlyWage.Amount >= 0 && r.MonthlyWage.Amount < 1e10, "monthly_wage", "monthly_wage must be between 0 and 10^10 minor units")
	v.Check(r.MonthlyWage.Amount == 0 && r.MonthlyWage.Currency == "" || ValidCurrency(r.MonthlyWage.Currency),
		"wage_currency", "wage_currency must be an ISO 4217 code such as CNY")
	v.Check(oneOf(r.Recruitment, Recruitments), "recruitment", "recruitment is not a known value")
	for _, f := range r.Identity.validate() {
		v.Check(false, f.Name, "%s", f.Message)
	}
	v.Check(r.Narrative.valid(), "narrative", "narrative must be valid UTF-8, at most %d bytes", MaxNoteBytes)
	return v.Err("The report is not valid.")
}

// Verification is what the case worker records while verifying a case.
type Verification struct {
	Method             VerificationMethod
	VerifiedBirthDate  time.Time // sealed into the identity; only the age is kept in the open
	GuardiansContacted bool
	Notes              Note // sealed: circumstances, the child's wishes
}

// Validate names every invalid field. foundOn bounds the birth date.
func (v *Verification) Validate(foundOn time.Time) error {
	var val Validation
	val.Check(oneOf(v.Method, VerificationMethods), "method", "method is not a known verification method")
	val.Check(!v.VerifiedBirthDate.IsZero() && v.VerifiedBirthDate.Before(foundOn) && AgeOn(v.VerifiedBirthDate, foundOn) < 100,
		"verified_birth_date", "verified_birth_date must be a date before the date found")
	val.Check(v.Notes.valid(), "notes", "notes must be valid UTF-8, at most %d bytes", MaxNoteBytes)
	return val.Err("The verification is not valid.")
}

// Removal records that the child was removed from work and is safe.
type Removal struct {
	RemovedFromWork bool
	ChildSafe       bool
}

// IdempotencyKey makes a retried request take effect once: a caller's key
// and the SHA-256 of the request it first came with.
type IdempotencyKey struct {
	Key         string
	RequestHash [32]byte
}

// CaseFilter selects cases. Zero fields do not filter.
type CaseFilter struct {
	ClientID   uuid.NullUUID
	FactoryID  uuid.NullUUID
	State      State
	AssigneeID uuid.NullUUID
	FiledBy    uuid.NullUUID
	// OverdueAsOf, when set, keeps only cases overdue at that time.
	OverdueAsOf time.Time
	// After is the cursor: the id of the last case of the previous page.
	After uuid.NullUUID
	Limit int // default 50, at most 200
}

// CasePage is one page of cases, newest first.
type CasePage struct {
	Cases []*Case
	// Next is the cursor for the following page; invalid at the end.
	Next uuid.NullUUID
}

// CaseService is the case repository and its workflow.
type CaseService interface {
	// FileCase opens a case in intake from an auditor's report, sealing the
	// identity and narrative. Returns EINVALID naming every bad field or an
	// unknown client or factory.
	FileCase(ctx context.Context, actor Actor, r Report) (*Case, error)
	// FileCaseOnce files like FileCase, once per idempotency key: the same key
	// with the same request answers the case filed the first time, with
	// replayed true. Returns EINVALID if the key was used for another request.
	FileCaseOnce(ctx context.Context, actor Actor, key IdempotencyKey, r Report) (c *Case, replayed bool, err error)
	// FindCase returns the case with its plan. Returns ENOTFOUND.
	FindCase(ctx context.Context, id uuid.UUID) (*Case, error)
	// FindCaseByCode returns ENOTFOUND if no case has that code.
	FindCaseByCode(ctx context.Context, code string) (*Case, error)
	// ListCases returns a page of cases, newest first, each with its plan.
	// Returns EINVALID for a bad limit.
	ListCases(ctx context.Context, f CaseFilter) (*CasePage, error)

	// Assign sets the case worker. Returns ENOTFOUND, ECONFLICT if version is
	// stale or the case is closed, EINVALID if the user is not an active
	// case worker.
	Assign(ctx context.Context, actor Actor, id uuid.UUID, version int, worker uuid.UUID) (*Case, error)
	// ConfirmRemoval records the removal from work. Returns ENOTFOUND,
	// ECONFLICT if version is stale or the case left intake and verification.
	ConfirmRemoval(ctx context.Context, actor Actor, id uuid.UUID, version int, r Removal) (*Case, error)
	// RecordVerification records the verified age and method in verification.
	// Returns ENOTFOUND, ECONFLICT (stale version or wrong state), EINVALID.
	RecordVerification(ctx context.Context, actor Actor, id uuid.UUID, version int, v Verification) (*Case, error)
	// PutPlan writes the return-to-school plan in planning; any earlier
	// approval is void. Returns ENOTFOUND, ECONFLICT, EINVALID.
	PutPlan(ctx context.Context, actor Actor, id uuid.UUID, version int, p PlanInput) (*Case, error)
	// AddFollowUp records a monthly follow-up of a case in follow_up. It does
	// not need the version: follow-ups never overwrite each other. Returns
	// ENOTFOUND, ECONFLICT if the case is not in follow_up, EINVALID.
	AddFollowUp(ctx context.Context, actor Actor, id uuid.UUID, f FollowUpInput) (*FollowUp, error)
	// CorrectIdentity replaces the case's identity, re-sealed, and refreshes
	// its blind index. The verified date of birth stays as verification
	// recorded it. Returns ENOTFOUND (also when erased), ECONFLICT on a stale
	// version, EFORBIDDEN, EINVALID.
	CorrectIdentity(ctx context.Context, actor Actor, id uuid.UUID, version int, identity Identity) (*Case, error)
	// ReadIdentity opens the identity and notes for a stated reason, and
	// audits the read in the same transaction. Returns ENOTFOUND (also when
	// erased), EFORBIDDEN, EINVALID for a missing reason.
	ReadIdentity(ctx context.Context, actor Actor, id uuid.UUID, reason ReadReason) (*Confidential, error)
	// FollowUps lists a case's follow-ups by date, concerns still sealed.
	FollowUps(ctx context.Context, id uuid.UUID) ([]*FollowUp, error)

	// Transition applies a workflow event in one database transaction: the
	// case changes only if its version still matches, with its transition
	// record. Returns ENOTFOUND, ECONFLICT on a stale version, EFORBIDDEN if
	// the role may not fire the event, EINVALID naming every failed guard.
	Transition(ctx context.Context, actor Actor, id uuid.UUID, version int, req TransitionRequest) (*Case, *Transition, error)
	// Transitions lists the case's transition records, oldest first.
	Transitions(ctx context.Context, id uuid.UUID) ([]*Transition, error)
}

func oneOf[T comparable](v T, set []T) bool {
	for _, s := range set {
		if v == s {
			return true
		}
	}
	return false
}

func allOf[T comparable](vs, set []T) bool {
	for _, v := range vs {
		if !oneOf(v, set) {
			return false
		}
	}
	return true
}

func distinct[T comparable](vs []T) bool {
	seen := make(map[T]bool, len(vs))
	for _, v := range vs {
		if seen[v] {
			return false
		}
		seen[v] = true
	}
	return true
}
