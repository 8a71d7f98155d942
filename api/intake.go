package api

import (
	"net/http"

	"github.com/labstack/echo/v4"

	cases "github.com/remedy-cases/remedy/case"
)

// A device that files while offline seals the child's identity and the
// narrative to the server's intake recipient (cases.IntakeService) before
// it keeps the report; the filing then carries sealed_identity.

func (h handlers) intake() (cases.IntakeService, error) {
	if k, ok := h.Cases.(cases.IntakeService); ok && k.IntakeRecipient() != "" {
		return k, nil
	}
	return nil, cases.Errorf(cases.ENOTFOUND, "This server takes no sealed identity.")
}

func (h handlers) GetIntakeRecipient(c echo.Context) error {
	k, err := h.intake()
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, IntakeRecipient{Recipient: k.IntakeRecipient()})
}

// sealedReport fills r's identity and narrative from a filing's
// sealed_identity, made for its Idempotency-Key. A filing gives the
// identity in the clear or sealed, never both.
func (h handlers) sealedReport(req *NewCase, key *string, r *cases.Report) error {
	invalid := func(name, msg string) error {
		return &cases.Error{Code: cases.EINVALID, Message: "The report is not valid.", Failed: []cases.Failure{{Name: name, Message: msg}}}
	}
	if req.SealedIdentity == nil {
		if req.Identity == nil {
			return invalid("identity", "identity or sealed_identity is required")
		}
		return nil
	}
	switch {
	case req.Identity != nil:
		return invalid("identity", "give identity or sealed_identity, not both")
	case req.Narrative != nil:
		return invalid("narrative", "a sealed identity carries the narrative inside")
	case key == nil:
		return invalid("Idempotency-Key", "a sealed identity needs the Idempotency-Key it was sealed with")
	}
	k, err := h.intake()
	if err != nil {
		return err
	}
	id, narrative, err := k.OpenIntake(*key, *req.SealedIdentity)
	if err != nil {
		return err
	}
	r.Identity, r.Narrative = id, narrative
	return nil
}
