package storage

import (
	"bufio"
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"os"
	"strings"

	"golang.org/x/mod/sumdb/note"
)

// ReportKeyName is the signer name of the organisation's report-signing
// keys, as it appears in every signature line and published key.
const ReportKeyName = "remedy-reports"

// ReportKey is one Ed25519 key of the organisation in the signed-note
// format (C2SP signed-note, golang.org/x/mod/sumdb/note): it signs monthly
// reports and audit checkpoints. Its private half stays unexported.
type ReportKey struct {
	signer note.Signer
	// Verifier is the public key, name+hash+base64, as published.
	Verifier string
}

// Signer returns the key's signer.
func (k ReportKey) Signer() note.Signer { return k.signer }

// ID is the key's name and hash, name+hex8: what a signature line names.
func (k ReportKey) ID() string { return fmt.Sprintf("%s+%08x", k.signer.Name(), k.signer.KeyHash()) }

// String redacts the private key.
func (k ReportKey) String() string { return "ReportKey(" + k.ID() + ")" }

// newReportKey returns a fresh key as the line of the key file.
func newReportKey() (string, error) {
	skey, _, err := note.GenerateKey(rand.Reader, ReportKeyName)
	return skey, err
}

func reportKeyFile(skeys []string) []byte {
	var b bytes.Buffer
	b.WriteString("# Remedy report-signing keys (Ed25519, signed-note format). The first signs\n")
	b.WriteString("# reports and audit checkpoints; every one stays to verify what it signed.\n")
	b.WriteString("# Publish only the public keys (/.well-known/remedy-report-keys).\n")
	for _, s := range skeys {
		b.WriteString(s + "\n")
	}
	return b.Bytes()
}

// LoadReportKeys reads the report-signing key file: the first key signs,
// the others are former keys, kept to publish their public halves.
func LoadReportKeys(path string) ([]ReportKey, error) {
	lines, err := readReportKeyLines(path)
	if err != nil {
		return nil, err
	}
	keys := make([]ReportKey, 0, len(lines))
	for n, line := range lines {
		k, err := parseReportKey(line)
		if err != nil {
			// Never quote the line: it is a private key.
			return nil, fmt.Errorf("keys: %s key %d is not a signed-note Ed25519 private key", path, n+1)
		}
		keys = append(keys, k)
	}
	return keys, nil
}

func readReportKeyLines(path string) ([]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("keys: read %s: %w", path, err)
	}
	var lines []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line != "" && !strings.HasPrefix(line, "#") {
			lines = append(lines, line)
		}
	}
	if len(lines) == 0 {
		return nil, fmt.Errorf("keys: %s holds no report-signing key", path)
	}
	return lines, nil
}

// parseReportKey reads PRIVATE+KEY+name+hash+base64(1 || seed) and derives
// the public key.
func parseReportKey(skey string) (ReportKey, error) {
	signer, err := note.NewSigner(skey)
	if err != nil {
		return ReportKey{}, err
	}
	// The name holds no '+'; the base64 key may.
	parts := strings.SplitN(skey, "+", 5)
	if len(parts) != 5 {
		return ReportKey{}, fmt.Errorf("not a signed-note private key")
	}
	raw, err := base64.StdEncoding.DecodeString(parts[4])
	if err != nil || len(raw) != 1+ed25519.SeedSize || raw[0] != 1 {
		return ReportKey{}, fmt.Errorf("not an Ed25519 key")
	}
	pub := ed25519.NewKeyFromSeed(raw[1:]).Public().(ed25519.PublicKey)
	vkey, err := note.NewEd25519VerifierKey(signer.Name(), pub)
	if err != nil {
		return ReportKey{}, err
	}
	return ReportKey{signer: signer, Verifier: vkey}, nil
}

// RotateReportKey puts a new report-signing key first in path and keeps
// the former ones after it, for verification; it returns the new key.
// The file is replaced atomically, mode 0600.
func RotateReportKey(path string) (ReportKey, error) {
	lines, err := readReportKeyLines(path)
	if err != nil {
		return ReportKey{}, err
	}
	skey, err := newReportKey()
	if err != nil {
		return ReportKey{}, err
	}
	k, err := parseReportKey(skey)
	if err != nil {
		return ReportKey{}, err
	}
	tmp := path + ".tmp"
	os.Remove(tmp)
	if err := writeSecret(tmp, reportKeyFile(append([]string{skey}, lines...))); err != nil {
		return ReportKey{}, err
	}
	return k, os.Rename(tmp, path)
}
