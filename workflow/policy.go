package workflow

import cases "github.com/remedy-cases/remedy/case"

// The edits that are not transitions follow the same roles: supervisors
// assign; the assigned case worker and supervisors record the work.

// CanAssign returns EFORBIDDEN unless actor may assign case workers.
func CanAssign(actor cases.Actor) error {
	if actor.Role != cases.RoleSupervisor {
		return cases.Errorf(cases.EFORBIDDEN, "Only a supervisor assigns cases.")
	}
	return nil
}

// CanWork returns EFORBIDDEN unless actor may record work on c: its assigned
// case worker or a supervisor.
func CanWork(c *cases.Case, actor cases.Actor) error {
	switch {
	case actor.Role == cases.RoleSupervisor:
		return nil
	case actor.Role == cases.RoleCaseWorker && c.AssigneeID.Valid && c.AssigneeID.UUID == actor.UserID:
		return nil
	case actor.Role == cases.RoleCaseWorker:
		return cases.Errorf(cases.EFORBIDDEN, "The case is not assigned to you.")
	}
	return cases.Errorf(cases.EFORBIDDEN, "The role %s may not work on cases.", actor.Role)
}

// CanReadIdentity returns EFORBIDDEN unless actor may read c's identity:
// the same people who work on it.
func CanReadIdentity(c *cases.Case, actor cases.Actor) error { return CanWork(c, actor) }

// CanSee reports whether actor may see c at all: auditors the cases they
// filed, case workers the cases assigned to them, supervisors every case,
// client users their own brand's cases, admins none. Every adapter asks
// here, so that the API and the web app can never disagree; a case the
// actor may not see must answer exactly as one that does not exist.
func CanSee(actor cases.Actor, c *cases.Case) bool {
	switch actor.Role {
	case cases.RoleSupervisor:
		return true
	case cases.RoleCaseWorker:
		return c.AssigneeID.Valid && c.AssigneeID.UUID == actor.UserID
	case cases.RoleAuditor:
		return c.FiledBy == actor.UserID
	case cases.RoleClient:
		return actor.ClientID.Valid && c.ClientID == actor.ClientID.UUID
	}
	return false
}
