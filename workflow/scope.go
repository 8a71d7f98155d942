package workflow

import (
	"github.com/google/uuid"

	cases "github.com/remedy-cases/remedy/case"
)

// Scope narrows f to the cases actor may see, as CanSee decides one by one:
// a client user to its brand, a case worker to its own cases, an auditor to
// what it filed; supervisors see all. A filter outside the scope selects
// nothing rather than widening it: none is then false, and the caller
// should list nothing. Admins see no cases.
func Scope(actor cases.Actor, f cases.CaseFilter) (scoped cases.CaseFilter, some bool) {
	switch actor.Role {
	case cases.RoleSupervisor:
		return f, true
	case cases.RoleClient:
		if !actor.ClientID.Valid || f.ClientID.Valid && f.ClientID != actor.ClientID {
			return f, false
		}
		f.ClientID = actor.ClientID
	case cases.RoleCaseWorker:
		if f.AssigneeID.Valid && f.AssigneeID.UUID != actor.UserID {
			return f, false
		}
		f.AssigneeID = uuid.NullUUID{UUID: actor.UserID, Valid: true}
	case cases.RoleAuditor:
		if f.FiledBy.Valid && f.FiledBy.UUID != actor.UserID {
			return f, false
		}
		f.FiledBy = uuid.NullUUID{UUID: actor.UserID, Valid: true}
	default:
		return f, false
	}
	return f, true
}
