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
