package storage

import (
	"crypto/ecdh"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"filippo.io/age"
	"golang.org/x/crypto/chacha20poly1305"
)

// age's X25519 recipients and identities, each X25519 multiplication done
// once.
//
// age writes and reads its X25519 stanza with golang.org/x/crypto's
// curve25519.X25519, which wraps crypto/ecdh: every call makes an
// ecdh.PrivateKey, whose constructor computes the key's public half (a
// scalar multiplication), and then the exchange (another); making an
// identity computes its public half that way too, two more. Half of the
// multiplications are thrown away: a filing made ten where five do its
// work (a fifth of the server's time under load), opening an identity
// cold six where three do. These types write and read the very same
// stanza (age-encryption.org/v1, type X25519) with the ecdh keys kept, so
// that each multiplication is done once; age itself still encrypts and
// decrypts the files around them. What they write, age opens, and what
// age writes, they open (x25519_test.go), so every file stays a standard
// age file that the age command opens with the same keys.

// x25519Label is the HKDF info of age's X25519 stanza.
const x25519Label = "age-encryption.org/v1/X25519"

// fileKeySize is the size of an age file key.
const fileKeySize = 16

// x25519Identity is an age X25519 identity (AGE-SECRET-KEY-1…).
type x25519Identity struct{ priv *ecdh.PrivateKey }

// x25519Recipient is an age X25519 recipient (age1…).
type x25519Recipient struct{ pub *ecdh.PublicKey }

var (
	_ age.Identity  = (*x25519Identity)(nil)
	_ age.Recipient = (*x25519Recipient)(nil)
)

// newX25519Identity makes a random identity: one multiplication, for its
// public half.
func newX25519Identity() (*x25519Identity, error) {
	priv, err := ecdh.X25519().GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	return &x25519Identity{priv: priv}, nil
}

// parseX25519Identity reads an identity as age writes it.
func parseX25519Identity(s string) (*x25519Identity, error) {
	data, err := decodeKey(s, "age-secret-key-", "secret key")
	if err != nil {
		return nil, err
	}
	priv, err := ecdh.X25519().NewPrivateKey(data)
	if err != nil {
		return nil, errors.New("malformed secret key: invalid X25519 secret key")
	}
	return &x25519Identity{priv: priv}, nil
}

// parseX25519Recipient reads a recipient as age writes it.
func parseX25519Recipient(s string) (*x25519Recipient, error) {
	data, err := decodeKey(s, "age", "recipient")
	if err != nil {
		return nil, err
	}
	pub, err := ecdh.X25519().NewPublicKey(data)
	if err != nil {
		return nil, errors.New("malformed recipient: invalid X25519 public key")
	}
	return &x25519Recipient{pub: pub}, nil
}

// decodeKey reads a key's Bech32 string of type hrp; its errors name what
// (never the string, which may be a secret key).
func decodeKey(s, hrp, what string) ([]byte, error) {
	got, data, err := bech32Decode(s)
	if err != nil {
		return nil, fmt.Errorf("malformed %s: %v", what, err)
	}
	if got != hrp {
		return nil, fmt.Errorf("malformed %s: unknown type", what)
	}
	return data, nil
}

// secret is the identity as age writes it (AGE-SECRET-KEY-1…). It is key
// material: it is only ever written wrapped. It is not String, so that no
// log line or error formatting an identity can print it.
func (i *x25519Identity) secret() string {
	return strings.ToUpper(bech32Encode("age-secret-key-", i.priv.Bytes()))
}

// String and GoString never show key material, whatever the verb.
func (x25519Identity) String() string     { return "age X25519 identity (redacted)" }
func (i x25519Identity) GoString() string { return i.String() }

// Recipient is the identity's public half.
func (i *x25519Identity) Recipient() *x25519Recipient {
	return &x25519Recipient{pub: i.priv.PublicKey()}
}

// String is the recipient as age writes it.
func (r *x25519Recipient) String() string { return bech32Encode("age", r.pub.Bytes()) }

// Wrap wraps fileKey to r in one X25519 stanza: an ephemeral key (one
// multiplication), the exchange with r (another), HKDF-SHA256 over both
// public halves, ChaCha20-Poly1305 with a zero nonce.
func (r *x25519Recipient) Wrap(fileKey []byte) ([]*age.Stanza, error) {
	ephemeral, err := ecdh.X25519().GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	shared, err := ephemeral.ECDH(r.pub)
	if err != nil {
		return nil, err
	}
	share := ephemeral.PublicKey().Bytes()
	aead, err := stanzaAEAD(shared, share, r.pub.Bytes())
	if err != nil {
		return nil, err
	}
	body := aead.Seal(nil, make([]byte, chacha20poly1305.NonceSize), fileKey, nil)
	return []*age.Stanza{{Type: "X25519", Args: []string{base64.RawStdEncoding.EncodeToString(share)}, Body: body}}, nil
}

// Unwrap finds the file key in the first X25519 stanza made for i; as age,
// it skips the stanzas of other types and of other keys, and refuses a
// malformed X25519 stanza.
func (i *x25519Identity) Unwrap(stanzas []*age.Stanza) ([]byte, error) {
	for _, s := range stanzas {
		if s.Type != "X25519" {
			continue
		}
		if len(s.Args) != 1 || strings.ContainsAny(s.Args[0], "\r\n") {
			return nil, errors.New("invalid X25519 recipient block")
		}
		share, err := base64.RawStdEncoding.Strict().DecodeString(s.Args[0])
		if err != nil {
			return nil, fmt.Errorf("failed to parse X25519 recipient: %v", err)
		}
		pub, err := ecdh.X25519().NewPublicKey(share)
		if err != nil {
			return nil, errors.New("invalid X25519 recipient block")
		}
		shared, err := i.priv.ECDH(pub)
		if err != nil {
			return nil, fmt.Errorf("invalid X25519 recipient: %v", err)
		}
		if len(s.Body) != fileKeySize+chacha20poly1305.Overhead {
			return nil, errors.New("invalid X25519 recipient block: incorrect file key size")
		}
		aead, err := stanzaAEAD(shared, share, i.priv.PublicKey().Bytes())
		if err != nil {
			return nil, err
		}
		fileKey, err := aead.Open(nil, make([]byte, chacha20poly1305.NonceSize), s.Body, nil)
		if err != nil {
			continue // made for another key
		}
		return fileKey, nil
	}
	return nil, age.ErrIncorrectIdentity
}

// stanzaAEAD is the stanza's cipher: its key is HKDF-SHA256 of the shared
// secret, salted with the ephemeral share and the recipient, both public.
func stanzaAEAD(shared, share, recipient []byte) (interface {
	Seal(dst, nonce, plaintext, additionalData []byte) []byte
	Open(dst, nonce, ciphertext, additionalData []byte) ([]byte, error)
}, error) {
	salt := make([]byte, 0, len(share)+len(recipient))
	salt = append(append(salt, share...), recipient...)
	key, err := hkdf.Key(sha256.New, shared, salt, x25519Label, chacha20poly1305.KeySize)
	if err != nil {
		return nil, err
	}
	return chacha20poly1305.New(key)
}

// Bech32 (BIP 173), as age writes its keys: the checksum over the
// human-readable part and the data in 5-bit groups, one case throughout.

const bech32Charset = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"

var bech32Generator = [5]uint32{0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3}

func bech32Polymod(values []byte) uint32 {
	chk := uint32(1)
	for _, v := range values {
		top := chk >> 25
		chk = (chk&0x1ffffff)<<5 ^ uint32(v)
		for i := range 5 {
			if (top>>i)&1 == 1 {
				chk ^= bech32Generator[i]
			}
		}
	}
	return chk
}

func bech32HRPExpand(hrp string) []byte {
	out := make([]byte, 0, 2*len(hrp)+1)
	for i := range len(hrp) {
		out = append(out, hrp[i]>>5)
	}
	out = append(out, 0)
	for i := range len(hrp) {
		out = append(out, hrp[i]&31)
	}
	return out
}

// convertBits regroups data from groups of from bits to groups of to bits;
// with pad, a last partial group is padded with zeros, without it any
// leftover must be zero padding.
func convertBits(data []byte, from, to uint, pad bool) ([]byte, error) {
	var acc, bits uint
	maxv := uint(1)<<to - 1
	var out []byte
	for _, b := range data {
		if uint(b)>>from != 0 {
			return nil, errors.New("invalid data range")
		}
		acc = acc<<from | uint(b)
		bits += from
		for bits >= to {
			bits -= to
			out = append(out, byte(acc>>bits&maxv))
		}
	}
	if pad {
		if bits > 0 {
			out = append(out, byte(acc<<(to-bits)&maxv))
		}
	} else if bits >= from || acc<<(to-bits)&maxv != 0 {
		return nil, errors.New("invalid padding")
	}
	return out, nil
}

// bech32Encode writes data (bytes) under hrp, in lower case.
func bech32Encode(hrp string, data []byte) string {
	values, _ := convertBits(data, 8, 5, true)
	check := append(bech32HRPExpand(hrp), values...)
	check = append(check, 0, 0, 0, 0, 0, 0)
	mod := bech32Polymod(check) ^ 1
	var b strings.Builder
	b.WriteString(hrp)
	b.WriteByte('1')
	for _, v := range values {
		b.WriteByte(bech32Charset[v])
	}
	for i := range 6 {
		b.WriteByte(bech32Charset[(mod>>(5*(5-i)))&31])
	}
	return b.String()
}

// bech32Decode reads s and returns its human-readable part, in lower case,
// and its data as bytes. A string of mixed case is refused; age's keys
// are longer than BIP 173's 90 characters allow, so no limit is set.
func bech32Decode(s string) (string, []byte, error) {
	if strings.ToLower(s) != s && strings.ToUpper(s) != s {
		return "", nil, errors.New("mixed case")
	}
	s = strings.ToLower(s)
	pos := strings.LastIndexByte(s, '1')
	if pos < 1 || pos+7 > len(s) {
		return "", nil, errors.New("separator '1' at invalid position")
	}
	hrp := s[:pos]
	for i := range len(hrp) {
		if hrp[i] < 33 || hrp[i] > 126 {
			return "", nil, errors.New("invalid character in human-readable part")
		}
	}
	values := make([]byte, 0, len(s)-pos-1)
	for i := pos + 1; i < len(s); i++ {
		v := strings.IndexByte(bech32Charset, s[i])
		if v < 0 {
			return "", nil, errors.New("invalid character in data part")
		}
		values = append(values, byte(v))
	}
	if bech32Polymod(append(bech32HRPExpand(hrp), values...)) != 1 {
		return "", nil, errors.New("invalid checksum")
	}
	data, err := convertBits(values[:len(values)-6], 5, 8, false)
	if err != nil {
		return "", nil, err
	}
	return hrp, data, nil
}
