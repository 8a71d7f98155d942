package cases

import (
	"time"

	"github.com/google/uuid"
)

// Transition records one workflow step: who, when, from, to, which event, why.
type Transition struct {
	ID        uuid.UUID
	CaseID    uuid.UUID
	Event     Event
	From      State
	To        State
	ActorID   uuid.UUID
	ActorRole Role
	At        time.Time
	Reason    Note // sealed: a reason may name people; empty when read from a list
	HasReason bool // a reason was given (lists tell this without opening it)
	Outcome   Outcome
}

// TransitionRequest is an event with what the guards need besides the case.
type TransitionRequest struct {
	Event   Event
	Reason  Note
	Outcome Outcome // for close
}
