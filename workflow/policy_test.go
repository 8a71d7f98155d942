package workflow_test

import (
	"testing"

	"github.com/google/uuid"

	cases "github.com/remedy-cases/remedy/case"
	"github.com/remedy-cases/remedy/workflow"
)

func TestCanSee(t *testing.T) {
	brand := uuid.MustParse("00000000-0000-7000-8000-0000000000b1")
	otherBrand := uuid.MustParse("00000000-0000-7000-8000-0000000000b2")
	auditor := uuid.MustParse("00000000-0000-7000-8000-0000000000a1")
	c := &cases.Case{ClientID: brand, FiledBy: auditor, AssigneeID: uuid.NullUUID{UUID: worker, Valid: true}}
	tests := []struct {
		name  string
		actor cases.Actor
		want  bool
	}{
		{"supervisor", cases.Actor{UserID: supervisor, Role: cases.RoleSupervisor}, true},
		{"assigned worker", cases.Actor{UserID: worker, Role: cases.RoleCaseWorker}, true},
		{"other worker", cases.Actor{UserID: other, Role: cases.RoleCaseWorker}, false},
		{"filing auditor", cases.Actor{UserID: auditor, Role: cases.RoleAuditor}, true},
		{"other auditor", cases.Actor{UserID: other, Role: cases.RoleAuditor}, false},
		{"own brand", cases.Actor{UserID: other, Role: cases.RoleClient, ClientID: uuid.NullUUID{UUID: brand, Valid: true}}, true},
		{"other brand", cases.Actor{UserID: other, Role: cases.RoleClient, ClientID: uuid.NullUUID{UUID: otherBrand, Valid: true}}, false},
		{"brand user without a brand", cases.Actor{UserID: other, Role: cases.RoleClient}, false},
		{"admin", cases.Actor{UserID: other, Role: cases.RoleAdmin}, false},
		{"system", cases.SystemActor, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := workflow.CanSee(tt.actor, c); got != tt.want {
				t.Fatalf("CanSee = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestScope: a scoped filter selects exactly what CanSee allows, and a
// filter reaching outside the scope selects nothing.
func TestScope(t *testing.T) {
	me, other := uuid.New(), uuid.New()
	brand, otherBrand := uuid.New(), uuid.New()
	some := func(id uuid.UUID) uuid.NullUUID { return uuid.NullUUID{UUID: id, Valid: true} }
	tests := []struct {
		name   string
		actor  cases.Actor
		filter cases.CaseFilter
		want   cases.CaseFilter
		some   bool
	}{
		{"supervisor unchanged", cases.Actor{UserID: me, Role: cases.RoleSupervisor}, cases.CaseFilter{AssigneeID: some(other)}, cases.CaseFilter{AssigneeID: some(other)}, true},
		{"worker narrowed", cases.Actor{UserID: me, Role: cases.RoleCaseWorker}, cases.CaseFilter{State: cases.StatePlanning}, cases.CaseFilter{State: cases.StatePlanning, AssigneeID: some(me)}, true},
		{"worker asks for another's", cases.Actor{UserID: me, Role: cases.RoleCaseWorker}, cases.CaseFilter{AssigneeID: some(other)}, cases.CaseFilter{}, false},
		{"auditor narrowed", cases.Actor{UserID: me, Role: cases.RoleAuditor}, cases.CaseFilter{}, cases.CaseFilter{FiledBy: some(me)}, true},
		{"client narrowed", cases.Actor{UserID: me, Role: cases.RoleClient, ClientID: some(brand)}, cases.CaseFilter{}, cases.CaseFilter{ClientID: some(brand)}, true},
		{"client asks for another brand", cases.Actor{UserID: me, Role: cases.RoleClient, ClientID: some(brand)}, cases.CaseFilter{ClientID: some(otherBrand)}, cases.CaseFilter{}, false},
		{"admin sees none", cases.Actor{UserID: me, Role: cases.RoleAdmin}, cases.CaseFilter{}, cases.CaseFilter{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, some := workflow.Scope(tt.actor, tt.filter)
			if some != tt.some || some && got != tt.want {
				t.Fatalf("Scope = %+v, %v; want %+v, %v", got, some, tt.want, tt.some)
			}
		})
	}
}
