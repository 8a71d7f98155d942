package storage_test

import (
	"bytes"
	"crypto/rand"
	"io"
	"strings"
	"testing"

	"filippo.io/age"
	"github.com/google/uuid"

	cases "github.com/remedy-cases/remedy/case"
	"github.com/remedy-cases/remedy/storage"
	"github.com/remedy-cases/remedy/storage/storagetest"
)

// TestSealedIsAge: a sealed identity is an age file that age itself opens
// with the case key, with the case id and purpose inside.
func TestSealedIsAge(t *testing.T) {
	keys := storagetest.Keyring(t)
	ck, _, err := keys.NewCaseKey()
	if err != nil {
		t.Fatal(err)
	}
	caseID := uuid.Must(uuid.NewV7())
	sealed, err := storage.SealIdentity(ck, caseID, cases.Identity{FullName: "王芳"})
	if err != nil {
		t.Fatal(err)
	}
	r, err := age.Decrypt(bytes.NewReader(sealed), ck.Identity())
	if err != nil {
		t.Fatal(err)
	}
	plain, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	if want := "remedy-sealed/v1\n" + caseID.String() + "\nidentity\n"; !strings.HasPrefix(string(plain), want) || !strings.Contains(string(plain), "王芳") {
		t.Fatalf("plaintext %q does not start with %q", plain, want)
	}
}

// TestDecryptAll opens what age encrypts, of every size around the 64 KiB
// chunk (one chunk is opened directly, more through age's reader), and
// refuses every ciphertext that was changed, cut or extended, and every
// wrong key.
func TestDecryptAll(t *testing.T) {
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	other, _ := age.GenerateX25519Identity()
	encrypt := func(plain []byte) []byte {
		var buf bytes.Buffer
		w, err := age.Encrypt(&buf, id.Recipient())
		if err != nil {
			t.Fatal(err)
		}
		w.Write(plain)
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	for _, size := range []int{0, 1, 100, 64<<10 - 1, 64 << 10, 64<<10 + 1, 200 << 10} {
		plain := make([]byte, size)
		rand.Read(plain)
		ct := encrypt(plain)
		got, err := storage.DecryptAll(ct, id)
		if err != nil || !bytes.Equal(got, plain) {
			t.Fatalf("size %d: %d bytes, %v", size, len(got), err)
		}
		if _, err := storage.DecryptAll(ct, other); err == nil {
			t.Fatalf("size %d: opened with another key", size)
		}
		if size > 1000 {
			continue // each byte of the small ones is enough
		}
		for i := range ct {
			bad := bytes.Clone(ct)
			bad[i] ^= 0x01
			if got, err := storage.DecryptAll(bad, id); err == nil {
				t.Fatalf("size %d: byte %d flipped, still opened (%d bytes)", size, i, len(got))
			}
		}
		for _, bad := range [][]byte{ct[:len(ct)-1], append(bytes.Clone(ct), 0), ct[:len(ct)/2]} {
			if _, err := storage.DecryptAll(bad, id); err == nil {
				t.Fatalf("size %d: a ciphertext of %d bytes instead of %d opened", size, len(bad), len(ct))
			}
		}
	}
}
