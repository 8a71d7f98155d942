package storage

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"filippo.io/age"
)

// The X25519 types of x25519.go are age's format written another way: age
// itself must read what they write, and they must read what age writes.

func ageEncrypt(t testing.TB, plaintext []byte, to ...age.Recipient) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := age.Encrypt(&buf, to...)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(plaintext); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func ageDecrypt(ciphertext []byte, ids ...age.Identity) ([]byte, error) {
	r, err := age.Decrypt(bytes.NewReader(ciphertext), ids...)
	if err != nil {
		return nil, err
	}
	return io.ReadAll(r)
}

func TestX25519KeysAreAge(t *testing.T) {
	for range 50 {
		theirs, err := age.GenerateX25519Identity()
		if err != nil {
			t.Fatal(err)
		}
		ours, err := parseX25519Identity(theirs.String())
		if err != nil {
			t.Fatal(err)
		}
		if ours.secret() != theirs.String() {
			t.Fatal("an identity does not read back as age wrote it")
		}
		if ours.Recipient().String() != theirs.Recipient().String() {
			t.Fatalf("recipient %s, age says %s", ours.Recipient(), theirs.Recipient())
		}
		r, err := parseX25519Recipient(theirs.Recipient().String())
		if err != nil || r.String() != theirs.Recipient().String() {
			t.Fatalf("recipient %s does not read back: %v", theirs.Recipient(), err)
		}
		made, err := newX25519Identity()
		if err != nil {
			t.Fatal(err)
		}
		back, err := age.ParseX25519Identity(made.secret())
		if err != nil || back.Recipient().String() != made.Recipient().String() {
			t.Fatalf("age does not read a made identity as it is: %v", err)
		}
	}
}

func TestX25519FilesAreAge(t *testing.T) {
	theirs, _ := age.GenerateX25519Identity()
	ours, err := parseX25519Identity(theirs.String())
	if err != nil {
		t.Fatal(err)
	}
	other, _ := age.GenerateX25519Identity()
	plain := []byte("remedy-sealed/v1\n" + strings.Repeat("李小梅 ", 100))

	// Ours to age, age to ours, with another recipient before and after.
	for name, to := range map[string][]age.Recipient{
		"alone":        {ours.Recipient()},
		"second":       {other.Recipient(), ours.Recipient()},
		"first":        {ours.Recipient(), other.Recipient()},
		"age's, alone": {theirs.Recipient()},
		"age's, among": {other.Recipient(), theirs.Recipient()},
	} {
		file := ageEncrypt(t, plain, to...)
		for who, id := range map[string]age.Identity{"age": theirs, "ours": ours} {
			got, err := ageDecrypt(file, id)
			if err != nil || !bytes.Equal(got, plain) {
				t.Errorf("%s, opened by %s: %v", name, who, err)
			}
		}
		// decryptAll, the vault's one-chunk path, opens it too.
		if got, err := decryptAll(file, ours); err != nil || !bytes.Equal(got, plain) {
			t.Errorf("%s, decryptAll: %v", name, err)
		}
	}

	// Another key's file is not ours: age says no identity matched.
	stranger, _ := newX25519Identity()
	file := ageEncrypt(t, plain, stranger.Recipient())
	var none *age.NoIdentityMatchError
	if _, err := ageDecrypt(file, ours); !errors.As(err, &none) {
		t.Errorf("another key's file: %v, want no identity matched", err)
	}

	// A stanza altered is refused.
	stanzas, err := ours.Recipient().Wrap(make([]byte, fileKeySize))
	if err != nil {
		t.Fatal(err)
	}
	flipped := *stanzas[0]
	flipped.Body = bytes.Clone(flipped.Body)
	flipped.Body[3] ^= 1
	if _, err := ours.Unwrap([]*age.Stanza{&flipped}); !errors.Is(err, age.ErrIncorrectIdentity) {
		t.Errorf("an altered body: %v, want the incorrect identity", err)
	}
	short := *stanzas[0]
	short.Body = short.Body[:len(short.Body)-1]
	if _, err := ours.Unwrap([]*age.Stanza{&short}); err == nil || errors.Is(err, age.ErrIncorrectIdentity) {
		t.Errorf("a short body: %v, want it refused as malformed", err)
	}
	twoArgs := *stanzas[0]
	twoArgs.Args = append(twoArgs.Args, "x")
	if _, err := ours.Unwrap([]*age.Stanza{&twoArgs}); err == nil || errors.Is(err, age.ErrIncorrectIdentity) {
		t.Errorf("two arguments: %v, want it refused as malformed", err)
	}
	if key, err := ours.Unwrap(stanzas); err != nil || !bytes.Equal(key, make([]byte, fileKeySize)) {
		t.Errorf("the stanza as made: %v", err)
	}
}

// TestX25519IdentityRedacted: an identity or a case key formatted by
// mistake, with any verb, shows no key material.
func TestX25519IdentityRedacted(t *testing.T) {
	id, _ := newX25519Identity()
	secret := id.secret()
	data := id.priv.Bytes()
	for _, v := range []any{id, *id, &caseKey{id: id}, caseKey{id: id}} {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%x", "%q"} {
			out := fmt.Sprintf(verb, v)
			if strings.Contains(strings.ToUpper(out), secret[len("AGE-SECRET-KEY-1"):len("AGE-SECRET-KEY-1")+10]) ||
				strings.Contains(out, fmt.Sprintf("%x", data[:8])) || strings.Contains(out, fmt.Sprint(data[:8])[1:12]) {
				t.Errorf("%s of %T shows key material: %s", verb, v, out)
			}
		}
	}
}

func TestBech32Refuses(t *testing.T) {
	id, _ := newX25519Identity()
	s := id.secret()
	for name, bad := range map[string]string{
		"mixed case":     strings.ToLower(s[:20]) + s[20:],
		"checksum":       s[:len(s)-1] + map[bool]string{true: "Q", false: "P"}[s[len(s)-1] != 'Q'],
		"no separator":   strings.ReplaceAll(s, "1", ""),
		"a character":    s[:30] + "B" + s[31:],
		"recipient type": id.Recipient().String(),
	} {
		if _, err := parseX25519Identity(bad); err == nil {
			t.Errorf("%s: parsed", name)
		}
	}
	if _, err := parseX25519Recipient(s); err == nil {
		t.Error("an identity parsed as a recipient")
	}
}

// BenchmarkX25519Wrap wraps a file key as age does and as x25519.go does:
// four scalar multiplications against two.
func BenchmarkX25519Wrap(b *testing.B) {
	theirs, _ := age.GenerateX25519Identity()
	ours, _ := parseX25519Identity(theirs.String())
	key := make([]byte, fileKeySize)
	for name, r := range map[string]age.Recipient{"age": theirs.Recipient(), "remedy": ours.Recipient()} {
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				if _, err := r.Wrap(key); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
