package storage

import (
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	cases "github.com/remedy-cases/remedy/case"
)

// Row structs mirror the migrated tables exactly (schema_test.go proves it).
// They stay private: the domain never sees a gorm tag, and each converts to
// its domain type in one function.

type clientRow struct {
	ID             uuid.UUID `gorm:"primaryKey"`
	Name           string
	Active         bool
	CreatedAt      time.Time
	ReportLanguage string
}

func (clientRow) TableName() string { return "clients" }

func (r *clientRow) domain() *cases.Client {
	return &cases.Client{ID: r.ID, Name: r.Name, Active: r.Active, CreatedAt: r.CreatedAt.UTC(), ReportLanguage: r.ReportLanguage}
}

type factoryRow struct {
	ID        uuid.UUID `gorm:"primaryKey"`
	Name      string
	NameEn    string
	Province  string
	City      string
	CreatedAt time.Time
}

func (factoryRow) TableName() string { return "factories" }

func (r *factoryRow) domain() *cases.Factory {
	return &cases.Factory{ID: r.ID, Name: r.Name, NameEn: r.NameEn, Province: r.Province, City: r.City,
		CreatedAt: r.CreatedAt.UTC(), ClientIDs: []uuid.UUID{}}
}

type factoryClientRow struct {
	FactoryID uuid.UUID `gorm:"primaryKey"`
	ClientID  uuid.UUID `gorm:"primaryKey"`
}

func (factoryClientRow) TableName() string { return "factory_clients" }

type userRow struct {
	ID        uuid.UUID `gorm:"primaryKey"`
	Email     string
	Name      string
	Role      string
	ClientID  uuid.NullUUID
	Disabled  bool
	CreatedAt time.Time
	// PasswordHash is an argon2id PHC string; nil until a password is set.
	PasswordHash *string
	// Locale is the user's chosen language (cases.Locales); nil follows the browser.
	Locale *string
}

func (userRow) TableName() string { return "users" }

func (r *userRow) domain() *cases.User {
	return &cases.User{ID: r.ID, Email: r.Email, Name: r.Name, Role: cases.Role(r.Role),
		ClientID: r.ClientID, Disabled: r.Disabled, CreatedAt: r.CreatedAt.UTC()}
}

type caseCodeCounterRow struct {
	Year int `gorm:"primaryKey;autoIncrement:false"`
	Last int
}

func (caseCodeCounterRow) TableName() string { return "case_code_counters" }

type caseRow struct {
	ID                      uuid.UUID `gorm:"primaryKey"`
	Code                    string
	ClientID                uuid.UUID
	FactoryID               uuid.UUID
	State                   string
	Version                 int
	AssigneeID              uuid.NullUUID
	FiledBy                 uuid.UUID
	FoundOn                 time.Time
	Gender                  string
	Presence                string
	Job                     string
	Hazards                 string // comma-separated codes from cases.Hazards
	HoursPerWeek            int
	WageAmount              int64
	WageCurrency            string
	Recruitment             string
	RemovedFromWork         bool
	ChildSafe               bool
	VerificationMethod      *string
	AgeAtFound              *int
	Outcome                 *string
	FollowUpSince           *time.Time
	LastFollowUpOn          *time.Time
	IdentitySealed          []byte
	NarrativeSealed         []byte
	VerificationNotesSealed []byte
	CreatedAt               time.Time
	UpdatedAt               time.Time
	ClosedAt                *time.Time
	ErasedAt                *time.Time
	GuardiansContacted      bool
	GuardiansContactedOn    *time.Time
	GuardiansContactMethod  *string
	ChildWishesSealed       []byte
	OtherChildrenFound      int
	LabourAgent             string
	FactoryConsent          string
	IDChecksumValid         *bool `gorm:"column:id_checksum_valid"`
	FirstContactAt          *time.Time
	FirstPlanApprovedAt     *time.Time
	PlanEndOn               *time.Time
	UncoveredFrom           *time.Time
	WorkingAgainSince       *time.Time
	UnpaidDueOn             *time.Time
	ArrearsNotifiedOn       *time.Time // unpaid_due_on when its arrears were last announced
	Linked                  bool       // the case has a link (case_links); the database keeps it
}

func (caseRow) TableName() string { return "cases" }

// caseFacts are the columns a list needs: everything but the sealed blobs.
var caseFacts = []string{"id", "code", "client_id", "factory_id", "state", "version", "assignee_id",
	"filed_by", "found_on", "gender", "presence", "job", "hazards", "hours_per_week", "wage_amount",
	"wage_currency", "recruitment", "removed_from_work", "child_safe", "verification_method",
	"age_at_found", "outcome", "follow_up_since", "last_follow_up_on", "created_at", "updated_at", "closed_at", "erased_at",
	"guardians_contacted", "guardians_contacted_on", "guardians_contact_method", "other_children_found",
	"labour_agent", "factory_consent", "id_checksum_valid", "first_contact_at", "first_plan_approved_at",
	"plan_end_on", "uncovered_from", "working_again_since", "unpaid_due_on", "linked"}

// factTargets are the fields of caseFacts' columns, in their order: a list
// scans its rows into them directly, without gorm's reflection (a page of
// 50 cases of 40 columns each is 2,000 values).
func (r *caseRow) factTargets() []any {
	return []any{&r.ID, &r.Code, &r.ClientID, &r.FactoryID, &r.State, &r.Version, &r.AssigneeID,
		&r.FiledBy, &r.FoundOn, &r.Gender, &r.Presence, &r.Job, &r.Hazards, &r.HoursPerWeek, &r.WageAmount,
		&r.WageCurrency, &r.Recruitment, &r.RemovedFromWork, &r.ChildSafe, &r.VerificationMethod,
		&r.AgeAtFound, &r.Outcome, &r.FollowUpSince, &r.LastFollowUpOn, &r.CreatedAt, &r.UpdatedAt, &r.ClosedAt, &r.ErasedAt,
		&r.GuardiansContacted, &r.GuardiansContactedOn, &r.GuardiansContactMethod, &r.OtherChildrenFound,
		&r.LabourAgent, &r.FactoryConsent, &r.IDChecksumValid, &r.FirstContactAt, &r.FirstPlanApprovedAt,
		&r.PlanEndOn, &r.UncoveredFrom, &r.WorkingAgainSince, &r.UnpaidDueOn, &r.Linked}
}

// caseColumns are every column of a case: caseFacts, then the rest.
var caseColumns = append(slices.Clip(caseFacts), "arrears_notified_on", "identity_sealed", "narrative_sealed",
	"verification_notes_sealed", "child_wishes_sealed")

// values are the values of caseColumns, in their order, for an INSERT.
func (r *caseRow) values() []any {
	return append(r.factTargets(), &r.ArrearsNotifiedOn, r.IdentitySealed, r.NarrativeSealed,
		r.VerificationNotesSealed, r.ChildWishesSealed)
}

func (r *caseRow) domain() *cases.Case {
	c := &cases.Case{
		ID: r.ID, Code: r.Code, ClientID: r.ClientID, FactoryID: r.FactoryID,
		State: cases.State(r.State), Version: r.Version, AssigneeID: r.AssigneeID, FiledBy: r.FiledBy,
		FoundOn: cases.Date(r.FoundOn), Gender: cases.Gender(r.Gender), Presence: cases.Presence(r.Presence),
		Job: r.Job, HoursPerWeek: r.HoursPerWeek,
		MonthlyWage: cases.Money{Amount: r.WageAmount, Currency: r.WageCurrency},
		Recruitment: cases.Recruitment(r.Recruitment), RemovedFromWork: r.RemovedFromWork, ChildSafe: r.ChildSafe,
		AgeAtFound:    r.AgeAtFound,
		FollowUpSince: utcPtr(r.FollowUpSince), LastFollowUp: datePtr(r.LastFollowUpOn),
		CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(), ClosedAt: utcPtr(r.ClosedAt),
		ErasedAt:           utcPtr(r.ErasedAt),
		GuardiansContacted: r.GuardiansContacted, GuardiansContactedOn: datePtr(r.GuardiansContactedOn),
		OtherChildrenFound: r.OtherChildrenFound, LabourAgent: cases.Answer(r.LabourAgent),
		FactoryConsent: cases.Answer(r.FactoryConsent), IDChecksumValid: r.IDChecksumValid,
		FirstContactAt: utcPtr(r.FirstContactAt), FirstPlanApprovedAt: utcPtr(r.FirstPlanApprovedAt),
		PlanEndOn: datePtr(r.PlanEndOn), UncoveredFrom: datePtr(r.UncoveredFrom), WorkingAgainSince: datePtr(r.WorkingAgainSince),
		UnpaidDueOn: datePtr(r.UnpaidDueOn),
	}
	if r.GuardiansContactMethod != nil {
		c.GuardiansContactMethod = *r.GuardiansContactMethod
	}
	if r.Hazards != "" {
		c.Hazards = strings.Split(r.Hazards, ",")
	}
	if r.VerificationMethod != nil {
		c.VerificationMethod = cases.VerificationMethod(*r.VerificationMethod)
	}
	if r.Outcome != nil {
		c.Outcome = cases.Outcome(*r.Outcome)
	}
	return c
}

type caseKeyRow struct {
	CaseID     uuid.UUID `gorm:"primaryKey"`
	Wrapped    []byte
	CreatedAt  time.Time
	Recipients string // the recipient set it is wrapped to, for resumable rotation
}

func (caseKeyRow) TableName() string { return "case_keys" }

type planRow struct {
	CaseID          uuid.UUID `gorm:"primaryKey"`
	School          string
	Grade           string
	EnrolmentDate   *time.Time
	Currency        string
	TuitionCost     int64
	TravelCost      int64
	MonthlyStipend  int64
	Payer           *string
	FactorySharePct int
	EndDate         *time.Time
	GuardianConsent bool
	ConsentDate     *time.Time
	AuthoredBy      uuid.UUID
	UpdatedAt       time.Time
	ApprovedBy      uuid.NullUUID
	ApprovedAt      *time.Time
}

func (planRow) TableName() string { return "plans" }

// planColumns are every column of a plan, in planRow's order.
var planColumns = []string{"case_id", "school", "grade", "enrolment_date", "currency", "tuition_cost", "travel_cost",
	"monthly_stipend", "payer", "factory_share_pct", "end_date", "guardian_consent", "consent_date", "authored_by",
	"updated_at", "approved_by", "approved_at"}

// targets are the fields of planColumns, in their order, for a scan.
func (r *planRow) targets() []any {
	return []any{&r.CaseID, &r.School, &r.Grade, &r.EnrolmentDate, &r.Currency, &r.TuitionCost, &r.TravelCost,
		&r.MonthlyStipend, &r.Payer, &r.FactorySharePct, &r.EndDate, &r.GuardianConsent, &r.ConsentDate, &r.AuthoredBy,
		&r.UpdatedAt, &r.ApprovedBy, &r.ApprovedAt}
}

func (r *planRow) domain() *cases.Plan {
	p := &cases.Plan{
		CaseID: r.CaseID, School: r.School, Grade: r.Grade, Currency: r.Currency,
		TuitionCost: r.TuitionCost, TravelCost: r.TravelCost, MonthlyStipend: r.MonthlyStipend,
		FactorySharePct: r.FactorySharePct, GuardianConsent: r.GuardianConsent, ConsentDate: datePtr(r.ConsentDate),
		AuthoredBy: r.AuthoredBy, UpdatedAt: r.UpdatedAt.UTC(), ApprovedBy: r.ApprovedBy, ApprovedAt: utcPtr(r.ApprovedAt),
	}
	if r.EnrolmentDate != nil {
		p.EnrolmentDate = cases.Date(*r.EnrolmentDate)
	}
	if r.EndDate != nil {
		p.EndDate = cases.Date(*r.EndDate)
	}
	if r.Payer != nil {
		p.Payer = cases.Payer(*r.Payer)
	}
	return p
}

type followUpRow struct {
	ID              uuid.UUID `gorm:"primaryKey"`
	CaseID          uuid.UUID
	Date            time.Time
	Contact         string
	AttendingSchool bool
	AttendancePct   *int
	StipendAmount   int64
	StipendCurrency string
	StipendPayer    *string
	StipendPaidOn   *time.Time
	StipendProofRef string
	WorkingAgain    bool
	ConcernsSealed  []byte
	RecordedBy      uuid.UUID
	CreatedAt       time.Time
}

func (followUpRow) TableName() string { return "follow_ups" }

func (r *followUpRow) domain() *cases.FollowUp {
	f := &cases.FollowUp{
		ID: r.ID, CaseID: r.CaseID, Date: cases.Date(r.Date), Contact: cases.Contact(r.Contact),
		AttendingSchool: r.AttendingSchool, AttendancePct: r.AttendancePct,
		StipendPaid:   cases.Money{Amount: r.StipendAmount, Currency: r.StipendCurrency},
		StipendPaidOn: datePtr(r.StipendPaidOn), StipendProofRef: r.StipendProofRef,
		WorkingAgain: r.WorkingAgain, RecordedBy: r.RecordedBy, CreatedAt: r.CreatedAt.UTC(),
	}
	if r.StipendPayer != nil {
		f.StipendPayer = cases.Payer(*r.StipendPayer)
	}
	return f
}

type transitionRow struct {
	ID           uuid.UUID `gorm:"primaryKey"`
	CaseID       uuid.UUID
	Event        string
	FromState    string
	ToState      string
	ActorID      uuid.UUID
	ActorRole    string
	At           time.Time
	ReasonSealed []byte
	Outcome      *string
}

func (transitionRow) TableName() string { return "transitions" }

func (r *transitionRow) domain() *cases.Transition {
	t := &cases.Transition{ID: r.ID, CaseID: r.CaseID, Event: cases.Event(r.Event),
		From: cases.State(r.FromState), To: cases.State(r.ToState), ActorID: r.ActorID,
		ActorRole: cases.Role(r.ActorRole), At: r.At.UTC()}
	if r.Outcome != nil {
		t.Outcome = cases.Outcome(*r.Outcome)
	}
	return t
}

type auditRow struct {
	Seq       int64 `gorm:"primaryKey;autoIncrement:false"`
	At        time.Time
	ActorID   uuid.NullUUID
	ActorRole string
	Action    string
	CaseID    uuid.NullUUID
	Subject   string
	Details   string // JSON object with sorted keys; never PII
	Sealed    []byte // an optional note sealed under the case key
}

func (auditRow) TableName() string { return "audit_log" }

// auditChainRow chains one entry: pos is its place in the chain, hash is
// SHA-256 over prev_hash (the hash at pos-1) and the entry's content.
type auditChainRow struct {
	Pos      int64 `gorm:"primaryKey;autoIncrement:false"`
	EntrySeq int64
	PrevHash []byte
	Hash     []byte
}

func (auditChainRow) TableName() string { return "audit_chain" }

// auditPendingRow is an entry written but not chained yet.
type auditPendingRow struct {
	Seq int64 `gorm:"primaryKey;autoIncrement:false"`
}

func (auditPendingRow) TableName() string { return "audit_pending" }

type auditHeadRow struct {
	ID   int `gorm:"primaryKey;autoIncrement:false"`
	Seq  int64
	Hash []byte
}

func (auditHeadRow) TableName() string { return "audit_head" }

type fingerprintRow struct {
	CaseID uuid.UUID `gorm:"primaryKey"`
	Kind   string    `gorm:"primaryKey"`
	Hash   []byte    `gorm:"primaryKey"`
}

func (fingerprintRow) TableName() string { return "case_fingerprints" }

type caseLinkRow struct {
	CaseID    uuid.UUID `gorm:"primaryKey"`
	LinkedID  uuid.UUID `gorm:"primaryKey"`
	MatchedOn string
	CreatedAt time.Time
}

func (caseLinkRow) TableName() string { return "case_links" }

type idempotencyKeyRow struct {
	UserID      uuid.UUID `gorm:"primaryKey"`
	Key         string    `gorm:"primaryKey"`
	RequestHash []byte
	CaseID      uuid.UUID
	CreatedAt   time.Time
}

func (idempotencyKeyRow) TableName() string { return "idempotency_keys" }

// models lists every row type, for the schema test.
var models = []any{&idempotencyKeyRow{}, &clientRow{}, &factoryRow{}, &factoryClientRow{}, &userRow{}, &caseCodeCounterRow{}, &caseRow{},
	&caseKeyRow{}, &planRow{}, &followUpRow{}, &transitionRow{}, &auditRow{}, &auditChainRow{}, &auditPendingRow{}, &auditHeadRow{},
	&fingerprintRow{}, &caseLinkRow{}, &reportContactRow{}, &monthlyReportRow{}, &sessionRow{},
	&planVersionRow{}, &caseAlertRow{}, &paymentRow{}, &ledgerLineRow{}, &ledgerSummaryRow{},
	&documentRow{}, &checkpointRow{}, &webhookRow{}, &deliveryRow{}, &webhookCursorRow{}}

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

func datePtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	d := cases.Date(*t)
	return &d
}

func strPtr[T ~string](s T) *string {
	if s == "" {
		return nil
	}
	v := string(s)
	return &v
}

// dbTime normalises a time for storage: UTC, microseconds.
func dbTime(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

func dbTimePtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	v := dbTime(*t)
	return &v
}
