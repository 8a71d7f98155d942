package cases

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"time"

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
	EventReopenDismissed    Event = "reopen_dismissed"
)

// Events lists every event.
var Events = []Event{EventBeginVerification, EventConfirmChildLabour, EventDismiss,
	EventApprovePlan, EventRevisePlan, EventClose, EventReopen, EventReopenDismissed}

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

// Answer is a fact of the field that may not be known: yes, no or unknown.
type Answer string

const (
	AnswerYes     Answer = "yes"
	AnswerNo      Answer = "no"
	AnswerUnknown Answer = "unknown"
)

// Answers lists every answer.
var Answers = []Answer{AnswerYes, AnswerNo, AnswerUnknown}

// GuardianContactMethods lists how the guardians may have been contacted.
var GuardianContactMethods = []string{"visit", "phone", "video", "message"}

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
	// The intake form's facts of the field.
	OtherChildrenFound int    // other children found in the same visit
	LabourAgent        Answer // a labour agent was involved in the hiring
	FactoryConsent     Answer // the factory consents to remediation
	// IDChecksumValid tells whether the ID number seen is an 18-character
	// resident ID with a right check digit; nil when it is not of that shape.
	// A wrong one is a hint of a forged ID, never a reason to refuse.
	IDChecksumValid *bool
	// FirstContactAt is when the organisation first met or spoke with the
	// child: the end of the 72-hour service clock.
	FirstContactAt *time.Time

	VerificationMethod     VerificationMethod // empty until verified
	AgeAtFound             *int               // verified age in whole years on FoundOn
	GuardiansContacted     bool
	GuardiansContactedOn   *time.Time // a date
	GuardiansContactMethod string     // one of GuardianContactMethods

	Outcome             Outcome // empty unless closed
	FollowUpSince       *time.Time
	LastFollowUp        *time.Time // date of the latest follow-up
	FirstPlanApprovedAt *time.Time // the end of the 30-day service clock
	// PlanEndOn is the approved plan's end date, while in follow-up.
	PlanEndOn *time.Time
	// UncoveredFrom is the first day of the first month of the current
	// follow-up period that has no follow-up yet.
	UncoveredFrom *time.Time
	// WorkingAgainSince is the date of the follow-up that found the child
	// working again: an alert for a supervisor, who decides what follows.
	// Until then no stipend is owed.
	WorkingAgainSince *time.Time
	// UnpaidDueOn is the day the first month the ledger still owes (past or
	// future) fell due; nil when nothing more is owed.
	UnpaidDueOn *time.Time

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

// DueToCloseAsOf reports whether a case in follow-up is past its plan's end
// date on the day of now in zone: it owes no more follow-ups or stipends,
// and waits for a supervisor to close it as completed. Nothing closes on
// its own.
func (c *Case) DueToCloseAsOf(now time.Time, zone *time.Location) bool {
	return c.State == StateFollowUp && c.PlanEndOn != nil && Today(now, zone).After(*c.PlanEndOn)
}

// OverdueAsOf reports whether a month of the case's current follow-up period
// ended without a follow-up, as of now in zone. A case due to close is not
// overdue: it owes nothing more.
func (c *Case) OverdueAsOf(now time.Time, zone *time.Location) bool {
	if c.State != StateFollowUp || c.UncoveredFrom == nil || c.DueToCloseAsOf(now, zone) {
		return false
	}
	return MonthOf(*c.UncoveredFrom).Before(MonthOf(now.In(zone)))
}

// Today is the calendar date of now in zone, as a date (midnight UTC).
func Today(now time.Time, zone *time.Location) time.Time {
	y, m, d := now.In(zone).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// ArrearsAsOf reports whether the case's first unpaid month is late on the
// day of now in zone: more than graceDays past its first day.
func (c *Case) ArrearsAsOf(now time.Time, zone *time.Location, graceDays int) bool {
	return c.UnpaidDueOn != nil && Late(*c.UnpaidDueOn, Today(now, zone), graceDays)
}

// Alert reports whether the case waits for a supervisor's decision because a
// follow-up found the child working again.
func (c *Case) Alert() bool { return c.WorkingAgainSince != nil && c.State != StateClosed }

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
	// Facts of the field, as remediation providers' intake forms record them.
	OtherChildrenFound int
	LabourAgent        Answer   // empty means unknown
	FactoryConsent     Answer   // empty means unknown
	Identity           Identity // sealed on write
	Narrative          Note     // sealed on write
}

// Normalize normalises every text field of the report (NormalizeText, and
// NormalizeNote for the narrative) and fills unknown answers. Call it before
// Validate.
func (r *Report) Normalize() {
	r.Job = NormalizeText(r.Job)
	r.MonthlyWage.Currency = NormalizeText(r.MonthlyWage.Currency)
	if r.LabourAgent == "" {
		r.LabourAgent = AnswerUnknown
	}
	if r.FactoryConsent == "" {
		r.FactoryConsent = AnswerUnknown
	}
	r.Identity.Normalize()
	r.Narrative = NewNote(NormalizeNote(r.Narrative.Text()))
}

// Validate names every invalid field. now bounds the date found.
func (r *Report) Validate(now time.Time) error {
	var v Validation
	v.Check(r.ClientID != uuid.Nil, "client_id", "client_id is required")
	v.Check(r.FactoryID != uuid.Nil, "factory_id", "factory_id is required")
	v.Check(!r.FoundOn.IsZero() && !r.FoundOn.After(now) && r.FoundOn.Year() >= 2000,
		"found_on", "found_on must be a date between 2000-01-01 and today")
	v.Check(oneOf(r.Gender, Genders), "gender", "gender must be one of female, male, other, unknown")
	facts := r.facts()
	facts.check(&v)
	for _, f := range r.Identity.validate() {
		v.Check(false, f.Name, "%s", f.Message)
	}
	if b := r.Identity.ClaimedBirthDate; b != nil && !r.FoundOn.IsZero() {
		v.Check(Date(*b).Before(r.FoundOn), "identity.claimed_birth_date", "claimed_birth_date must be before the date found")
	}
	v.Check(r.Narrative.valid(), "narrative", "narrative must be valid UTF-8 without control characters, at most %d bytes", MaxNoteBytes)
	return v.Err("The report is not valid.")
}

func (r *Report) facts() Facts {
	return Facts{Presence: r.Presence, Job: r.Job, Hazards: r.Hazards, HoursPerWeek: r.HoursPerWeek,
		MonthlyWage: r.MonthlyWage, Recruitment: r.Recruitment, OtherChildrenFound: r.OtherChildrenFound,
		LabourAgent: r.LabourAgent, FactoryConsent: r.FactoryConsent}
}

// Facts are what the auditor reported of the child's work, which the case's
// worker and supervisors correct during intake and verification when they
// turn out wrong: a child filed as employed may prove a worker's child.
type Facts struct {
	Presence           Presence
	Job                string
	Hazards            []string
	HoursPerWeek       int
	MonthlyWage        Money
	Recruitment        Recruitment
	OtherChildrenFound int
	LabourAgent        Answer
	FactoryConsent     Answer
}

// Facts returns the case's correctable facts.
func (c *Case) Facts() Facts {
	return Facts{Presence: c.Presence, Job: c.Job, Hazards: c.Hazards, HoursPerWeek: c.HoursPerWeek,
		MonthlyWage: c.MonthlyWage, Recruitment: c.Recruitment, OtherChildrenFound: c.OtherChildrenFound,
		LabourAgent: c.LabourAgent, FactoryConsent: c.FactoryConsent}
}

// Normalize normalises the text fields and fills unknown answers.
func (f *Facts) Normalize() {
	f.Job = NormalizeText(f.Job)
	f.MonthlyWage.Currency = NormalizeText(f.MonthlyWage.Currency)
	if f.LabourAgent == "" {
		f.LabourAgent = AnswerUnknown
	}
	if f.FactoryConsent == "" {
		f.FactoryConsent = AnswerUnknown
	}
}

// Validate names every invalid field.
func (f *Facts) Validate() error {
	var v Validation
	f.check(&v)
	return v.Err("The facts are not valid.")
}

func (f *Facts) check(v *Validation) {
	v.Check(oneOf(f.Presence, Presences), "presence", "presence must be employed or accompanying")
	v.Check(ValidText(f.Job, 100), "job", "job must be at most 100 characters, without control characters")
	v.Check(len(f.Hazards) <= len(Hazards) && allOf(f.Hazards, Hazards) && distinct(f.Hazards),
		"hazards", "hazards must be distinct values among %s", strings.Join(Hazards, ", "))
	v.Check(f.HoursPerWeek >= 0 && f.HoursPerWeek <= 168, "hours_per_week", "hours_per_week must be between 0 and 168")
	v.Check(f.MonthlyWage.Amount >= 0 && f.MonthlyWage.Amount < 1e10, "monthly_wage", "monthly_wage must be between 0 and 10^10 minor units")
	v.Check(f.MonthlyWage.Amount == 0 && f.MonthlyWage.Currency == "" || ValidCurrency(f.MonthlyWage.Currency),
		"wage_currency", "wage_currency must be an ISO 4217 code such as CNY")
	v.Check(oneOf(f.Recruitment, Recruitments), "recruitment", "recruitment is not a known value")
	v.Check(f.OtherChildrenFound >= 0 && f.OtherChildrenFound <= 1000, "other_children_found", "other_children_found must be between 0 and 1000")
	v.Check(oneOf(f.LabourAgent, Answers), "labour_agent", "labour_agent must be yes, no or unknown")
	v.Check(oneOf(f.FactoryConsent, Answers), "factory_consent", "factory_consent must be yes, no or unknown")
}

// Changed names the facts that differ between f and g, for the audit trail.
func (f Facts) Changed(g Facts) []string {
	var out []string
	add := func(differ bool, name string) {
		if differ {
			out = append(out, name)
		}
	}
	add(f.Presence != g.Presence, "presence")
	add(f.Job != g.Job, "job")
	add(strings.Join(f.Hazards, ",") != strings.Join(g.Hazards, ","), "hazards")
	add(f.HoursPerWeek != g.HoursPerWeek, "hours_per_week")
	add(f.MonthlyWage != g.MonthlyWage, "monthly_wage")
	add(f.Recruitment != g.Recruitment, "recruitment")
	add(f.OtherChildrenFound != g.OtherChildrenFound, "other_children_found")
	add(f.LabourAgent != g.LabourAgent, "labour_agent")
	add(f.FactoryConsent != g.FactoryConsent, "factory_consent")
	return out
}

// Verification is what the case worker records while verifying a case.
type Verification struct {
	Method             VerificationMethod
	VerifiedBirthDate  time.Time // sealed into the identity; only the age is kept in the open
	GuardiansContacted bool
	// When and how the guardians were contacted, if they were.
	GuardiansContactedOn   *time.Time
	GuardiansContactMethod string
	Notes                  Note // sealed: circumstances
	ChildWishes            Note // sealed: what the child wants, heard by the case worker
}

// Normalize normalises the notes.
func (v *Verification) Normalize() {
	v.GuardiansContactMethod = NormalizeText(v.GuardiansContactMethod)
	v.Notes = NewNote(NormalizeNote(v.Notes.Text()))
	v.ChildWishes = NewNote(NormalizeNote(v.ChildWishes.Text()))
}

// Validate names every invalid field. foundOn bounds the birth date, today
// the date of the guardians' contact.
func (v *Verification) Validate(foundOn, today time.Time) error {
	var val Validation
	val.Check(oneOf(v.Method, VerificationMethods), "method", "method is not a known verification method")
	val.Check(!v.VerifiedBirthDate.IsZero() && v.VerifiedBirthDate.Before(foundOn) && AgeOn(v.VerifiedBirthDate, foundOn) < 100,
		"verified_birth_date", "verified_birth_date must be a date before the date found")
	val.Check(v.GuardiansContacted || v.GuardiansContactedOn == nil && v.GuardiansContactMethod == "",
		"guardians_contacted", "when and how the guardians were contacted needs guardians_contacted")
	val.Check(v.GuardiansContactedOn == nil || !Date(*v.GuardiansContactedOn).After(today) && !Date(*v.GuardiansContactedOn).Before(foundOn.AddDate(0, 0, -31)),
		"guardians_contacted_on", "guardians_contacted_on must be a date between a month before the date found and today")
	val.Check(v.GuardiansContactMethod == "" || oneOf(v.GuardiansContactMethod, GuardianContactMethods),
		"guardians_contact_method", "guardians_contact_method must be visit, phone, video or message")
	val.Check(v.Notes.valid(), "notes", "notes must be valid UTF-8 without control characters, at most %d bytes", MaxNoteBytes)
	val.Check(v.ChildWishes.valid(), "child_wishes", "child_wishes must be valid UTF-8 without control characters, at most %d bytes", MaxNoteBytes)
	return val.Err("The verification is not valid.")
}

// Removal records that the child was removed from work and is safe, and when
// the organisation first met or spoke with the child.
type Removal struct {
	RemovedFromWork bool
	ChildSafe       bool
	// ChildContactedAt, when given, is the first contact with the child: it
	// stops the 72-hour service clock. The first one given stays.
	ChildContactedAt *time.Time
}

// Validate names every invalid field: the contact cannot be before the date
// found or after now.
func (r *Removal) Validate(foundOn, now time.Time) error {
	var v Validation
	v.Check(r.ChildContactedAt == nil || !r.ChildContactedAt.After(now) && !r.ChildContactedAt.Before(foundOn),
		"child_contacted_at", "child_contacted_at must be between the date found and now")
	return v.Err("The removal is not valid.")
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
	// Unassigned keeps only cases with no case worker.
	Unassigned bool
	// Code keeps only the case of that code (compared after normalisation,
	// upper-cased).
	Code string
	// Query keeps cases whose code contains it, or whose factory's Chinese
	// or English name contains it (case-insensitive for Latin letters).
	Query string
	// OverdueAsOf, when set, keeps only cases overdue at that time.
	OverdueAsOf time.Time
	// DueToCloseAsOf, when set, keeps only cases due to close at that time.
	DueToCloseAsOf time.Time
	// Alert keeps only cases whose child was found working again and that
	// wait for a supervisor's decision.
	Alert bool
	// ArrearsAsOf, when set, keeps only cases whose first unpaid month is
	// late at that time (by the storage's grace days).
	ArrearsAsOf time.Time
	// ClosedSince, when set, keeps only cases closed at or after that
	// time and not erased: those a supervisor may still want to reopen.
	ClosedSince time.Time
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
	// ConfirmRemoval records the removal from work and the first contact with
	// the child. Returns ENOTFOUND, ECONFLICT if version is stale or the case
	// left intake and verification, EINVALID.
	ConfirmRemoval(ctx context.Context, actor Actor, id uuid.UUID, version int, r Removal) (*Case, error)
	// CorrectFacts replaces the facts filed at intake, in intake and
	// verification, by the case's worker or a supervisor; the audit entry
	// names the facts that changed. Returns ENOTFOUND, ECONFLICT (stale
	// version or wrong state), EFORBIDDEN, EINVALID.
	CorrectFacts(ctx context.Context, actor Actor, id uuid.UUID, version int, f Facts) (*Case, error)
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
	// ReadNotes opens every sealed note of the case (narrative, verification
	// notes, the child's wishes, follow-up concerns, transition reasons, and
	// the details given with reads and decisions) for a stated reason, and
	// audits the read in the same transaction: no entry, no plaintext.
	// Returns ENOTFOUND (also when erased), EFORBIDDEN, EINVALID.
	ReadNotes(ctx context.Context, actor Actor, id uuid.UUID, reason ReadReason) (*CaseNotes, error)
	// ResolveAlert records a supervisor's decision on a child found working
	// again: the stipend is owed again from now on. To end the case instead,
	// close it. Returns ENOTFOUND, ECONFLICT (stale version, or no alert),
	// EFORBIDDEN, EINVALID (a reason is required).
	ResolveAlert(ctx context.Context, actor Actor, id uuid.UUID, version int, reason Note) (*Case, error)
	// FollowUps lists a case's follow-ups by date, without opening their
	// concerns (ReadNotes does): HasConcerns tells whether there are any.
	FollowUps(ctx context.Context, id uuid.UUID) ([]*FollowUp, error)
	// Schedule works out the months the case owes a follow-up for, as of
	// now in the organisation's zone. Returns ENOTFOUND.
	Schedule(ctx context.Context, id uuid.UUID) (*Schedule, error)

	// Transition applies a workflow event in one database transaction: the
	// case changes only if its version still matches, with its transition
	// record. Returns ENOTFOUND, ECONFLICT on a stale version, EFORBIDDEN if
	// the role may not fire the event, EINVALID naming every failed guard.
	Transition(ctx context.Context, actor Actor, id uuid.UUID, version int, req TransitionRequest) (*Case, *Transition, error)
	// Transitions lists the case's transition records, oldest first, without
	// opening their reasons (ReadNotes does): HasReason tells.
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
