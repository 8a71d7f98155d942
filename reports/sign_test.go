package reports

import (
	"bytes"
	"crypto/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/uuid"
	"golang.org/x/mod/sumdb/note"
)

func mustKey(t *testing.T) (note.Signer, note.Verifiers, string) {
	t.Helper()
	skey, vkey, err := note.GenerateKey(rand.Reader, "remedy-reports")
	if err != nil {
		t.Fatal(err)
	}
	s, err := note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	keys, _, err := ParseKeys([]byte("# published\n" + vkey + "\n"))
	if err != nil {
		t.Fatal(err)
	}
	return s, keys, vkey
}

// signedOctober renders the October fixture with its attestation and signs
// it as version 2.
func signedOctober(t *testing.T, s note.Signer) ([]byte, uuid.UUID) {
	t.Helper()
	f := Build("华南童安 Apparel", october, shanghai, october2026())
	var buf bytes.Buffer
	cp := "remedy/audit-chain\n42\nq83vEjuN8lmq0SVJwSFSxoP6Yp4Ggt0nGVmIMOXS7dI=\n\n— remedy-reports+1a2b3c4d AAAA\n"
	if _, err := RenderAttested(&buf, f, DefaultFonts(), Attestation{KeyID: KeyID(s), Checkpoint: cp}); err != nil {
		t.Fatal(err)
	}
	client := uuid.MustParse("0193a7c2-0000-7000-8000-0000000000c1")
	signed, _, err := Sign(buf.Bytes(), client, f.Client, october, 2, s)
	if err != nil {
		t.Fatal(err)
	}
	return signed, client
}

func TestSignedReport(t *testing.T) {
	s, keys, _ := mustKey(t)
	signed, client := signedOctober(t, s)

	t.Run("OK", func(t *testing.T) {
		st, err := Verify(signed, keys)
		if err != nil {
			t.Fatal(err)
		}
		if st.ClientID != client || st.ClientName != "华南童安 Apparel" || st.Month != october || st.Version != 2 || st.KeyID != KeyID(s) {
			t.Errorf("got %+v", st)
		}
		// Still a PDF that readers open, with the key and the checkpoint in it.
		all := strings.Join(pdfText(t, signed), "\n")
		for _, want := range []string{"Signed by " + KeyID(s), "Audit trail checkpoint", "remedy/audit-chain"} {
			if !strings.Contains(all, want) {
				t.Errorf("the PDF's text lacks %q", want)
			}
		}
	})

	qpdfValid(t, signed) // still a well-formed PDF with the signature appended

	t.Run("ErrFlippedByte", func(t *testing.T) {
		// Every byte matters: in the PDF, in the signature, in the trailer.
		begin := bytes.LastIndex(signed, []byte(sigBegin))
		positions := []int{0, 9, len(signed) / 3, len(signed) / 2, begin - 2, begin + 3,
			begin + len(sigBegin) + 30, len(signed) - 40, len(signed) - 2}
		for _, i := range positions {
			tampered := bytes.Clone(signed)
			tampered[i] ^= 0x01
			if st, err := Verify(tampered, keys); err == nil {
				t.Errorf("byte %d of %d flipped: verified as %+v", i, len(signed), st)
			}
		}
	})

	t.Run("ErrAppended", func(t *testing.T) {
		if _, err := Verify(append(bytes.Clone(signed), "1 0 obj\n<<>>\nendobj\n"...), keys); err == nil {
			t.Error("an appended update verified")
		}
	})

	t.Run("ErrUnknownKey", func(t *testing.T) {
		_, other, _ := mustKey(t)
		_, err := Verify(signed, other)
		if err == nil || !strings.Contains(err.Error(), KeyID(s)) {
			t.Errorf("got %v, want an error naming %s", err, KeyID(s))
		}
	})

	t.Run("ErrUnsigned", func(t *testing.T) {
		pdf, _, err := Split(signed)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Verify(pdf, keys); err != ErrUnsigned {
			t.Errorf("got %v, want ErrUnsigned", err)
		}
	})
}

// A name beyond the BMP makes Render rewrite the PDF's cross-references
// (mapAstral): the result still ends as Sign expects, and verifies.
func TestSignAstralName(t *testing.T) {
	s, keys, _ := mustKey(t)
	f := Build("𠮷野 Apparel", october, shanghai, october2026())
	var buf bytes.Buffer
	if _, err := RenderAttested(&buf, f, DefaultFonts(), Attestation{KeyID: KeyID(s), Language: LanguageBoth}); err != nil {
		t.Fatal(err)
	}
	signed, _, err := Sign(buf.Bytes(), uuid.New(), f.Client, october, 1, s)
	if err != nil {
		t.Fatal(err)
	}
	st, err := Verify(signed, keys)
	if err != nil || st.ClientName != "𠮷野 Apparel" {
		t.Fatalf("%+v, %v", st, err)
	}
	if !strings.Contains(strings.ReplaceAll(strings.Join(pdfText(t, signed), ""), "\n", ""), "𠮷野 Apparel") {
		t.Error("the signed PDF no longer reads")
	}
	qpdfValid(t, signed)
}

// qpdfValid runs qpdf --check where qpdf is installed: a signed report is
// still a well-formed PDF.
func qpdfValid(t *testing.T, doc []byte) {
	t.Helper()
	if _, err := exec.LookPath("qpdf"); err != nil {
		t.Log("qpdf is not installed: only the PDF parser checks the file")
		return
	}
	path := filepath.Join(t.TempDir(), "signed.pdf")
	if err := os.WriteFile(path, doc, 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("qpdf", "--check", path).CombinedOutput(); err != nil {
		t.Errorf("qpdf --check: %v\n%s", err, out)
	}
}
