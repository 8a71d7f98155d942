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
