package storage

import (
	cases "github.com/remedy-cases/remedy/case"
)

// The offline intake: a phone seals a report's identity and narrative to
// the server's own recipient; the case service opens them with the
// server's identities when the report arrives, then seals them to the new
// case's key as any filing.

var _ cases.IntakeService = (*CaseService)(nil)

// IntakeRecipient is the server's own X25519 recipient, the first of its
// identities.
func (s *CaseService) IntakeRecipient() string {
	for _, id := range s.db.keys.identities {
		if x, ok := id.(*x25519Identity); ok {
			return x.Recipient().String()
		}
	}
	return ""
}

// OpenIntake opens a sealed intake made for the report with key. The
// plaintext must start with cases.IntakeMagic and the key: a wrapped case
// key, or another report's sealed intake, does not open as one. Nothing of
// it is ever repeated in an error.
func (s *CaseService) OpenIntake(key string, sealed []byte) (cases.Identity, cases.Note, error) {
	refused := &cases.Error{Code: cases.EINVALID, Message: "The sealed identity is not valid.",
		Failed: []cases.Failure{{Name: "identity", Message: "the sealed identity does not open"}}}
	if len(sealed) == 0 || len(sealed) > cases.MaxSealedIntakeBytes {
		return cases.Identity{}, cases.Note{}, refused
	}
	plain, err := decryptAll(sealed, s.db.keys.identities...)
	if err != nil {
		return cases.Identity{}, cases.Note{}, refused
	}
	defer clear(plain)
	return cases.ParseSealedIntake(key, plain)
}
