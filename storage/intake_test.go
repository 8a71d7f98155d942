package storage_test

import (
	"bytes"
	"io"
	"testing"
	"time"

	"filippo.io/age"

	cases "github.com/remedy-cases/remedy/case"
	"github.com/remedy-cases/remedy/storage"
	"github.com/remedy-cases/remedy/storage/storagetest"
)

// sealIntake seals plaintext to recipient as a phone does.
func sealIntake(t *testing.T, recipient, plaintext string) []byte {
	t.Helper()
	r, err := age.ParseX25519Recipient(recipient)
	if err != nil {
		t.Fatalf("the intake recipient %q: %v", recipient, err)
	}
	var buf bytes.Buffer
	w, err := age.Encrypt(&buf, r)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.WriteString(w, plaintext)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

const intakeJSON = `{"identity":{"full_name":"INTAKE-CANARY 王小红","other_names":["小红"],"claimed_birth_date":"2011-03-04",` +
	`"apparent_age":14,"id_document_type":"id_card","id_number":"440100201103040021","id_suspected":"borrowed",` +
	`"hometown":"贵州","address":"","phone":"","guardians":[{"name":"王母","relation":"mother","phone":"13900000000"}]},` +
	`"narrative":"found at the packing line"}`

// TestOpenIntake: what a phone sealed to the server's recipient opens for
// its own report only, and files as any report; anything else is refused
// without a word of it.
func TestOpenIntake(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		f := storagetest.NewFixture(t, db)
		svc := storage.NewCaseService(db)
		const key = "0b6c3c1e-1f7a-4c1e-9d55-5b8f3f1f2a10"
		sealed := sealIntake(t, svc.IntakeRecipient(), cases.IntakeMagic+key+"\n"+intakeJSON)

		t.Run("OK", func(t *testing.T) {
			id, narrative, err := svc.OpenIntake(key, sealed)
			if err != nil {
				t.Fatal(err)
			}
			if id.FullName != "INTAKE-CANARY 王小红" || id.ClaimedBirthDate == nil || !id.ClaimedBirthDate.Equal(time.Date(2011, 3, 4, 0, 0, 0, 0, time.UTC)) ||
				id.ApparentAge != 14 || len(id.Guardians) != 1 || id.Guardians[0].Relation != "mother" || narrative.Text() != "found at the packing line" {
				t.Fatalf("opened the wrong identity")
			}
			r := f.Report(time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC))
			r.Identity, r.Narrative = id, narrative
			c, err := svc.FileCase(ctx, f.Auditor.Actor(), r)
			if err != nil {
				t.Fatal(err)
			}
			got, err := svc.ReadIdentity(ctx, f.Supervisor.Actor(), c.ID, cases.ReadReason{Code: "verify_age"})
			if err != nil {
				t.Fatal(err)
			}
			if got.Identity.FullName != id.FullName || got.Narrative.Text() != narrative.Text() {
				t.Error("the filed identity is not the one sealed on the phone")
			}
		})
		refused := func(t *testing.T, key string, sealed []byte) {
			t.Helper()
			_, _, err := svc.OpenIntake(key, sealed)
			if cases.ErrorCode(err) != cases.EINVALID {
				t.Fatalf("got %v, want EINVALID", err)
			}
			if bytes.Contains([]byte(err.Error()), []byte("CANARY")) {
				t.Fatal("the error repeats the identity")
			}
		}
		t.Run("ErrOtherReport", func(t *testing.T) { refused(t, "another-key", sealed) })
		t.Run("ErrTampered", func(t *testing.T) {
			bad := bytes.Clone(sealed)
			bad[len(bad)-1] ^= 1
			refused(t, key, bad)
		})
		t.Run("ErrOtherRecipient", func(t *testing.T) {
			other, _ := age.GenerateX25519Identity()
			refused(t, key, sealIntake(t, other.Recipient().String(), cases.IntakeMagic+key+"\n"+intakeJSON))
		})
		t.Run("ErrUnknownField", func(t *testing.T) {
			refused(t, key, sealIntake(t, svc.IntakeRecipient(), cases.IntakeMagic+key+"\n"+`{"identity":{"name":"INTAKE-CANARY"}}`))
		})
		t.Run("ErrNoMagic", func(t *testing.T) {
			refused(t, key, sealIntake(t, svc.IntakeRecipient(), intakeJSON))
		})
		t.Run("ErrBadDate", func(t *testing.T) {
			_, _, err := svc.OpenIntake(key, sealIntake(t, svc.IntakeRecipient(), cases.IntakeMagic+key+"\n"+`{"identity":{"claimed_birth_date":"2011-13-40"}}`))
			if fl := cases.ErrorFailures(err); len(fl) != 1 || fl[0].Name != "identity.claimed_birth_date" {
				t.Fatalf("got %v", err)
			}
		})
	})
}
