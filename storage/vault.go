package storage

import (
	"bytes"
	"crypto/hkdf"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"filippo.io/age"
	"github.com/google/uuid"
	"golang.org/x/crypto/chacha20poly1305"
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
	cache        *keyCache       // recently unwrapped case keys (keycache.go)
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
	k := &Keyring{blindIndex: bytes.Clone(blindIndexKey), cache: newKeyCache()}
	// age's X25519 keys are used as x25519.go's, which compute each
	// multiplication once; the keys and the files are the same.
	for _, id := range identities {
		if x, ok := id.(*age.X25519Identity); ok {
			fast, err := parseX25519Identity(x.String())
			if err != nil {
				return nil, errors.New("keyring: an X25519 identity does not parse")
			}
			id = fast
		}
		k.identities = append(k.identities, id)
	}
	names := make([]string, len(recipients))
	for i, r := range recipients {
		fast, err := parseX25519Recipient(r.String())
		if err != nil {
			return nil, errors.New("keyring: an X25519 recipient does not parse")
		}
		k.recipients = append(k.recipients, fast)
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
type caseKey struct{ id *x25519Identity }

// newCaseKey makes a fresh case key and returns it with its wrapped form.
func (k *Keyring) newCaseKey() (*caseKey, []byte, error) {
	ck, wrapped, err := k.makeCaseKey()
	if err != nil {
		return nil, nil, err
	}
	k.cache.put(wrapped, ck)
	return ck, wrapped, nil
}

// makeCaseKey makes a fresh case key and wraps it, and caches nothing.
func (k *Keyring) makeCaseKey() (*caseKey, []byte, error) {
	id, err := newX25519Identity()
	if err != nil {
		return nil, nil, err
	}
	wrapped, err := k.wrap(id)
	if err != nil {
		return nil, nil, err
	}
	return &caseKey{id: id}, wrapped, nil
}

func (k *Keyring) wrap(id *x25519Identity) ([]byte, error) {
	var buf bytes.Buffer
	w, err := age.Encrypt(&buf, k.recipients...)
	if err != nil {
		return nil, fmt.Errorf("keyring: wrap: %w", err)
	}
	if _, err := io.WriteString(w, id.secret()); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// unwrap opens a wrapped case key, or finds it among those opened lately.
func (k *Keyring) unwrap(wrapped []byte) (*caseKey, error) {
	if ck := k.cache.get(wrapped); ck != nil {
		return ck, nil
	}
	ck, err := k.unwrapNow(wrapped)
	if err != nil {
		return nil, err
	}
	k.cache.put(wrapped, ck)
	return ck, nil
}

// unwrapNow opens a wrapped case key with the server's identities.
func (k *Keyring) unwrapNow(wrapped []byte) (*caseKey, error) {
	plain, err := decryptAll(wrapped, k.identities...)
	if err != nil {
		return nil, fmt.Errorf("keyring: unwrap case key: %w", err)
	}
	id, err := parseX25519Identity(strings.TrimSpace(string(plain)))
	if err != nil {
		return nil, errors.New("keyring: unwrapped case key is malformed")
	}
	return &caseKey{id: id}, nil
}

// rewrap re-encrypts a wrapped case key to the keyring's current recipients.
func (k *Keyring) rewrap(wrapped []byte) ([]byte, error) {
	ck, err := k.unwrapNow(wrapped)
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

// The age payload (age-encryption.org/v1): a 16-byte nonce, then the
// plaintext in chunks of 64 KiB, each sealed with ChaCha20-Poly1305 under
// HKDF-SHA256(file key, nonce, "payload"), the last one flagged.
const (
	streamNonceSize = 16
	streamChunkSize = 64 << 10
)

// decryptAll returns the whole plaintext of an age file, or an error: it
// never hands out a part. A sealed value fits in one chunk (identities and
// notes are a few KiB), and age's streaming reader allocates a 64 KiB chunk
// buffer for each file it opens, so a one-chunk file is opened here in one
// step: age itself checks the header and its MAC and unwraps the file key
// (age.DecryptHeader), and the single chunk, flagged last, is authenticated
// and decrypted whole. Anything longer goes through age.Decrypt, read to
// EOF: age authenticates chunk by chunk, so a truncated or altered
// ciphertext is known for certain only at the end.
func decryptAll(ciphertext []byte, ids ...age.Identity) ([]byte, error) {
	if n := headerLength(ciphertext); n > 0 {
		payload := ciphertext[n:]
		if len(payload) >= streamNonceSize+chacha20poly1305.Overhead &&
			len(payload) <= streamNonceSize+streamChunkSize+chacha20poly1305.Overhead {
			fileKey, err := age.DecryptHeader(ciphertext[:n], ids...)
			if err != nil {
				return nil, err
			}
			return openChunk(fileKey, payload[:streamNonceSize], payload[streamNonceSize:])
		}
	}
	return decryptStream(ciphertext, ids...)
}

// headerLength returns the length of the age header that starts ciphertext,
// up to and including the line of its MAC ("--- " and 43 base64 characters),
// or 0 if there is none. Recipient lines start with "-> " and their bodies
// are base64, so the first line that starts with "--- " is the MAC's; what
// it measures is checked by age.DecryptHeader, which parses the header
// strictly and verifies the MAC.
func headerLength(ciphertext []byte) int {
	i := bytes.Index(ciphertext, []byte("\n--- "))
	if i < 0 {
		return 0
	}
	j := bytes.IndexByte(ciphertext[i+1:], '\n')
	if j < 0 {
		return 0
	}
	return i + 1 + j + 1
}

// openChunk authenticates and decrypts the only chunk of an age payload.
func openChunk(fileKey, nonce, chunk []byte) ([]byte, error) {
	key, err := hkdf.Key(sha256.New, fileKey, nonce, "payload", chacha20poly1305.KeySize)
	if err != nil {
		return nil, err
	}
	aead, err := chacha20poly1305.New(key)
	if err != nil {
		return nil, err
	}
	var chunkNonce [chacha20poly1305.NonceSize]byte
	chunkNonce[len(chunkNonce)-1] = 1 // chunk 0, the last one
	plain, err := aead.Open(nil, chunkNonce[:], chunk, nil)
	if err != nil {
		return nil, errors.New("failed to decrypt and authenticate payload chunk")
	}
	return plain, nil
}

// decryptStream reads age's decrypting reader to EOF before returning anything.
func decryptStream(ciphertext []byte, ids ...age.Identity) ([]byte, error) {
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
