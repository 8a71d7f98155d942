package cases

import (
	"strings"
	"time"

	"github.com/google/uuid"
)

// Payer is who pays the school costs and the stipend.
type Payer string

const (
	PayerFactory Payer = "factory"
	PayerBrand   Payer = "brand"
	PayerSplit   Payer = "split"
)

// Payers lists every payer.
var Payers = []Payer{PayerFactory, PayerBrand, PayerSplit}

// Plan is the return-to-school plan agreed with the family.
type Plan struct {
	CaseID          uuid.UUID
	School          string
	Grade           string
	EnrolmentDate   time.Time
	Currency        string
	TuitionCost     int64 // one-off, minor units
	TravelCost      int64 // one-off, minor units
	MonthlyStipend  int64 // minor units
	Payer           Payer
	FactorySharePct int // the factory's share when Payer is split
	EndDate         time.Time
	GuardianConsent bool
	ConsentDate     *time.Time
	AuthoredBy      uuid.UUID // the last user who wrote the plan
	UpdatedAt       time.Time
	ApprovedBy      uuid.NullUUID
	ApprovedAt      *time.Time
}

// PlanInput is what a case worker writes; the rest is set by storage.
type PlanInput struct {
	School          string
	Grade           string
	EnrolmentDate   time.Time
	Currency        string
	TuitionCost     int64
	TravelCost      int64
	MonthlyStipend  int64
	Payer           Payer
	FactorySharePct int
	// EndDate defaults to DefaultEndDate when zero: the later of the 16th
	// birthday and the end of compulsory schooling, at least a month after
	// enrolment.
	EndDate         time.Time
	GuardianConsent bool
	ConsentDate     *time.Time
}

// Normalize normalises the text fields.
func (p *PlanInput) Normalize() {
	p.School, p.Grade, p.Currency = NormalizeText(p.School), NormalizeText(p.Grade), NormalizeText(p.Currency)
}

// Validate names every field that is present but wrong. A plan may be saved
// incomplete; Missing tells what approval still needs.
func (p *PlanInput) Validate() error {
	var v Validation
	v.Check(ValidText(p.School, 200), "school", "school must be at most 200 characters, without control characters")
	v.Check(ValidText(p.Grade, 200), "grade", "grade must be at most 200 characters, without control characters")
	v.Check(p.Currency == "" || ValidCurrency(p.Currency), "currency", "currency must be an ISO 4217 code such as CNY")
	for name, amount := range map[string]int64{"tuition_cost": p.TuitionCost, "travel_cost": p.TravelCost, "monthly_stipend": p.MonthlyStipend} {
		v.Check(amount >= 0 && amount < 1e10, name, "%s must be between 0 and 10^10 minor units", name)
	}
	v.Check(p.Payer == "" || oneOf(p.Payer, Payers), "payer", "payer must be factory, brand or split")
	v.Check(p.Payer == PayerSplit && p.FactorySharePct > 0 && p.FactorySharePct < 100 ||
		p.Payer != PayerSplit && p.FactorySharePct == 0,
		"factory_share_pct", "factory_share_pct must be between 1 and 99 for a split, and 0 otherwise")
	v.Check(p.EndDate.IsZero() || p.EnrolmentDate.IsZero() || !p.EndDate.Before(MinEndDate(p.EnrolmentDate)),
		"end_date", "end_date must be at least one month after enrolment_date")
	v.Check(p.ConsentDate == nil || p.GuardianConsent, "consent_date", "consent_date needs guardian_consent")
	return v.Err("The plan is not valid.")
}

// Missing names what the plan lacks before it can be approved.
func (p *Plan) Missing() []Failure {
	var v Validation
	v.Check(strings.TrimSpace(p.School) != "", "plan.school", "the plan needs a school")
	v.Check(strings.TrimSpace(p.Grade) != "", "plan.grade", "the plan needs a grade")
	v.Check(!p.EnrolmentDate.IsZero(), "plan.enrolment_date", "the plan needs an enrolment date")
	v.Check(p.Currency != "", "plan.currency", "the plan needs a currency")
	v.Check(p.MonthlyStipend > 0, "plan.monthly_stipend", "the plan needs a monthly stipend")
	v.Check(p.Payer != "", "plan.payer", "the plan needs a payer")
	v.Check(!p.EndDate.IsZero(), "plan.end_date", "the plan needs an end date")
	v.Check(p.EndDate.IsZero() || p.EnrolmentDate.IsZero() || !p.EndDate.Before(MinEndDate(p.EnrolmentDate)),
		"plan.end_date", "the end date must be at least one month after enrolment")
	return v.failed
}
