package storage

import (
	"bufio"
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"filippo.io/age"
)

// KeyFiles names the server's secret files. Each is created with mode 0600
// and never overwritten. Keep them apart from database backups: with them,
// a stolen backup reveals every child.
type KeyFiles struct {
	Identity   string // age identities: the first is the server's; older ones may follow during a rotation
	Recipients string // age recipients every case key is wrapped to: the server's and offline recovery keys
	BlindIndex string // 32-byte HMAC key of the blind index, hex
	Signing    string // Ed25519 private key that signs access tokens, PKCS#8 PEM
	Report     string // Ed25519 signed-note keys that sign reports and audit checkpoints, the current first
}

// DefaultKeyFiles returns the key files inside dir.
func DefaultKeyFiles(dir string) KeyFiles {
	return KeyFiles{
		Identity:   filepath.Join(dir, "age-identity.txt"),
		Recipients: filepath.Join(dir, "age-recipients.txt"),
		BlindIndex: filepath.Join(dir, "blind-index.key"),
		Signing:    filepath.Join(dir, "signing.key"),
		Report:     filepath.Join(dir, "report-signing.key"),
	}
}

// InitKeys creates whichever key files are missing and returns their
// names. It never overwrites a file.
func InitKeys(f KeyFiles) ([]string, error) {
	var created []string
	create := func(path string, content func() ([]byte, error)) error {
		if _, err := os.Stat(path); err == nil {
			return nil
		}
		data, err := content()
		if err != nil {
			return err
		}
		if err := writeSecret(path, data); err != nil {
			return err
		}
		created = append(created, path)
		return nil
	}
	var server *age.X25519Identity
	err := create(f.Identity, func() ([]byte, error) {
		id, err := age.GenerateX25519Identity()
		server = id
		return fmt.Appendf(nil, "# Remedy server age identity. Keep it apart from database backups.\n# public key: %s\n%s\n", id.Recipient(), id), err
	})
	if err != nil {
		return created, err
	}
	if server == nil {
		ids, err := readIdentities(f.Identity)
		if err != nil {
			return created, err
		}
		server = ids[0]
	}
	steps := []struct {
		path    string
		content func() ([]byte, error)
	}{
		{f.Recipients, func() ([]byte, error) {
			return fmt.Appendf(nil, "# Every case key is wrapped to these age recipients. Add offline recovery\n# recipients with `remedy keys rotate --add`.\n%s\n", server.Recipient()), nil
		}},
		{f.BlindIndex, func() ([]byte, error) {
			k := make([]byte, BlindIndexKeySize)
			_, err := rand.Read(k)
			return []byte(hex.EncodeToString(k) + "\n"), err
		}},
		{f.Signing, func() ([]byte, error) {
			_, priv, err := ed25519.GenerateKey(rand.Reader)
			if err != nil {
				return nil, err
			}
			der, err := x509.MarshalPKCS8PrivateKey(priv)
			return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), err
		}},
		{f.Report, func() ([]byte, error) {
			skey, err := newReportKey()
			return reportKeyFile([]string{skey}), err
		}},
	}
	for _, s := range steps {
		if s.path == "" {
			continue
		}
		if err := create(s.path, s.content); err != nil {
			return created, err
		}
	}
	return created, nil
}

func writeSecret(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("keys: create %s: %w", path, err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// LoadKeyring reads the identity, recipients and blind-index files.
func LoadKeyring(f KeyFiles) (*Keyring, error) {
	ids, err := readIdentities(f.Identity)
	if err != nil {
		return nil, err
	}
	recipients, err := ReadRecipients(f.Recipients)
	if errors.Is(err, os.ErrNotExist) {
		recipients = []*age.X25519Recipient{ids[0].Recipient()}
	} else if err != nil {
		return nil, err
	}
	blind, err := os.ReadFile(f.BlindIndex)
	if err != nil {
		return nil, fmt.Errorf("keys: read %s: %w", f.BlindIndex, err)
	}
	key, err := hex.DecodeString(strings.TrimSpace(string(blind)))
	if err != nil || len(key) != BlindIndexKeySize {
		return nil, fmt.Errorf("keys: %s must hold %d bytes in hex", f.BlindIndex, BlindIndexKeySize)
	}
	identities := make([]age.Identity, len(ids))
	for i, id := range ids {
		identities[i] = id
	}
	return NewKeyring(identities, recipients, key)
}

// ServerRecipient returns the public key of the server's identity.
func ServerRecipient(f KeyFiles) (*age.X25519Recipient, error) {
	ids, err := readIdentities(f.Identity)
	if err != nil {
		return nil, err
	}
	return ids[0].Recipient(), nil
}

func readIdentities(path string) ([]*age.X25519Identity, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("keys: read %s: %w", path, err)
	}
	parsed, err := age.ParseIdentities(bytes.NewReader(data))
	if err != nil {
		// The parse error could quote key material: name the file only.
		return nil, fmt.Errorf("keys: %s does not hold age identities", path)
	}
	var ids []*age.X25519Identity
	for _, p := range parsed {
		x, ok := p.(*age.X25519Identity)
		if !ok {
			return nil, fmt.Errorf("keys: %s must hold X25519 age identities only", path)
		}
		ids = append(ids, x)
	}
	return ids, nil
}

// ReadRecipients reads an age recipients file: one age1… key a line,
// '#' comments and blank lines ignored.
func ReadRecipients(path string) ([]*age.X25519Recipient, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []*age.X25519Recipient
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		r, err := age.ParseX25519Recipient(line)
		if err != nil {
			return nil, fmt.Errorf("keys: %s line %d is not an age X25519 recipient", path, n)
		}
		out = append(out, r)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("keys: %s lists no recipient", path)
	}
	return out, nil
}

// WriteRecipients replaces the recipients file, atomically, mode 0600.
func WriteRecipients(path string, recipients []*age.X25519Recipient) error {
	var b strings.Builder
	b.WriteString("# Every case key is wrapped to these age recipients.\n")
	for _, r := range recipients {
		b.WriteString(r.String() + "\n")
	}
	tmp := path + ".tmp"
	os.Remove(tmp)
	if err := writeSecret(tmp, []byte(b.String())); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// LoadSigningKey reads the Ed25519 token-signing key.
func LoadSigningKey(path string) (ed25519.PrivateKey, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("keys: read %s: %w", path, err)
	}
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, fmt.Errorf("keys: %s is not PEM", path)
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("keys: %s is not a PKCS#8 private key", path)
	}
	priv, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("keys: %s is not an Ed25519 key", path)
	}
	return priv, nil
}
