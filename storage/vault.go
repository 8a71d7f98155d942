package storage

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"filippo.io/age"
	"github.com/google/uuid"
)

// Keyring holds the organisation's age keys. Every case has its own X25519
// key; its private half is stored wrapped (age-encrypted) to the keyring's
// recipients: the server's own key and any offline recovery recipients. A
// case's identity and notes are sealed to the case's key. Rotating recipients
// re-wraps case keys without re-encrypting data; deleting a case's wrapped key
// crypto-shreds everything sealed under it.
type Keyring struct {
	identities   []age.Identity  // can unwrap case keys
	recipients   []age.Recipient // new and re-wrapped case keys are wrapped to these
	recipientSet string          // the recipients, sorted: marks which keys a rotation has done
	blindIndex   []byte          // HMAC key of the blind index
}

// BlindIndexKeySize is the size of the blind-index HMAC key.
const BlindIndexKeySize = 32

// NewKeyring returns a keyring that unwraps with identities, wraps to
// recipients and keys the blind index with blindIndexKey. The server's own
// recipient should be among recipients, or it could not read what it wraps.
func NewKeyring(identities []age.Identity, recipients []*age.X25519Recipient, blindIndexKey []byte) (*Keyring, error) {
	if len(identities) == 0 || len(recipients) == 0 {
		return nil, errors.New("keyring: needs at least one identity and one recipient")
	}
	if len(blindIndexKey) != BlindIndexKeySize {
		return nil, fmt.Errorf("keyring: the blind-index key must be %d bytes", BlindIndexKeySize)
	}
	k := &Keyring{identities: identities, blindIndex: bytes.Clone(blindIndexKey)}
	names := make([]string, len(recipients))
	for i, r := range recipients {
		k.recipients = append(k.recipients, r)
		names[i] = r.String()
	}
	slices.Sort(names)
	k.recipientSet = strings.Join(slices.Compact(names), ",")
	return k, nil
}

// String never shows key material.
func (k *Keyring) String() string {
	return fmt.Sprintf("storage.Keyring{%d identities, %d recipients}", len(k.identities), len(k.recipients))
}

// caseKey is one case's unwrapped key. It lives only in memory, for the
// request that needs it.
type caseKey struct{ id *age.X25519Identity }

// newCaseKey makes a fresh case key and returns it with its wrapped form.
func (k *Keyring) newCaseKey() (*caseKey, []byte, error) {
	id, err := age.GenerateX25519Identity()
	if err != nil {
		return nil, nil, err
	}
	wrapped, err := k.wrap(id)
	if err != nil {
		return nil, nil, err
	}
	return &caseKey{id: id}, wrapped, nil
}

func (k *Keyring) wrap(id *age.X25519Identity) ([]byte, error) {
	var buf bytes.Buffer
	w, err := age.Encrypt(&buf, k.recipients...)
	if err != nil {
		return nil, fmt.Errorf("keyring: wrap: %w", err)
	}
	if _, err := io.WriteString(w, id.String()); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// unwrap opens a wrapped case key.
func (k *Keyring) unwrap(wrapped []byte) (*caseKey, error) {
	plain, err := decryptAll(wrapped, k.identities...)
	if err != nil {
		return nil, fmt.Errorf("keyring: unwrap case key: %w", err)
	}
	id, err := age.ParseX25519Identity(strings.TrimSpace(string(plain)))
	if err != nil {
		return nil, errors.New("keyring: unwrapped case key is malformed")
	}
	return &caseKey{id: id}, nil
}

// rewrap re-encrypts a wrapped case key to the keyring's current recipients.
func (k *Keyring) rewrap(wrapped []byte) ([]byte, error) {
	ck, err := k.unwrap(wrapped)
	if err != nil {
		return nil, err
	}
	return k.wrap(ck.id)
}

// sealMagic starts every sealed plaintext. age has no associated data, so
// the case id and the purpose are sealed inside and checked on open: a
// ciphertext moved to another row or column fails to open.
const sealMagic = "remedy-sealed/v1\n"

func sealHeader(caseID uuid.UUID, purpose string) string {
	return sealMagic + caseID.String() + "\n" + purpose + "\n"
}

// seal encrypts plaintext for caseID under the case key.
func (ck *caseKey) seal(caseID uuid.UUID, purpose string, plaintext []byte) ([]byte, error) {
	var buf bytes.Buffer
	w, err := age.Encrypt(&buf, ck.id.Recipient())
	if err != nil {
		return nil, err
	}
	if _, err := io.WriteString(w, sealHeader(caseID, purpose)); err != nil {
		return nil, err
	}
	if _, err := w.Write(plaintext); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// ErrSealMismatch means a sealed value does not belong where it was found.
var ErrSealMismatch = errors.New("vault: sealed data belongs to another case or field")

// open decrypts a sealed value and checks that it belongs to caseID and purpose.
func (ck *caseKey) open(caseID uuid.UUID, purpose string, sealed []byte) ([]byte, error) {
	plain, err := decryptAll(sealed, ck.id)
	if err != nil {
		return nil, fmt.Errorf("vault: open: %w", err)
	}
	header := sealHeader(caseID, purpose)
	if !bytes.HasPrefix(plain, []byte(header)) {
		return nil, ErrSealMismatch
	}
	return plain[len(header):], nil
}

// decryptAll reads the decrypting reader to EOF before returning anything:
// age authenticates chunk by chunk, so a truncated or altered ciphertext is
// known for certain only at the end.
func decryptAll(ciphertext []byte, ids ...age.Identity) ([]byte, error) {
	r, err := age.Decrypt(bytes.NewReader(ciphertext), ids...)
	if err != nil {
		return nil, err
	}
	plain, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	return plain, nil
}
