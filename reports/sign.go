package reports

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/google/uuid"
	"golang.org/x/mod/sumdb/note"

	cases "github.com/remedy-cases/remedy/case"
)

// A signed report is the rendered PDF followed by its signature, a signed
// note (C2SP signed-note) whose text binds the bytes to what they are:
//
//	remedy monthly report v1
//	client 0193a7c2-…
//	client-name Acme Apparel
//	month 2026-10
//	version 2
//	sha256 <hex SHA-256 of the PDF as rendered, before the signature>
//
//	— remedy-reports+1a2b3c4d <base64 Ed25519 signature>
//
// The note is appended to the PDF as comment lines (each prefixed "%"),
// between "%remedy-signature v1" and "%remedy-signature end", followed by
// the PDF's own startxref and %%EOF again, so that readers still find the
// cross-reference table at the file's end. Verification accepts exactly
// that layout: nothing may follow the signature, so an incremental update
// appended to a signed report fails it.
const statementHeader = "remedy monthly report v1"

const (
	sigBegin = "%remedy-signature v1\n"
	sigEnd   = "%remedy-signature end\n"
)

// Statement is what a report's signature says about it. Its ClientName
// has control characters as U+FFFD; its KeyID is set by Verify.
type Statement = cases.SignedReport

func statementText(s Statement) string {
	return fmt.Sprintf("%s\nclient %s\nclient-name %s\nmonth %s\nversion %d\nsha256 %s\n", statementHeader,
		s.ClientID, noteSafe(s.ClientName), s.Month, s.Version, hex.EncodeToString(s.SHA256[:]))
}

// noteSafe keeps a name on one line of a note: control and format
// characters, and invalid UTF-8, become U+FFFD.
func noteSafe(s string) string {
	return strings.Map(func(r rune) rune {
		if r == unicode.ReplacementChar || unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			return unicode.ReplacementChar
		}
		return r
	}, strings.ToValidUTF8(s, "\uFFFD"))
}

// Sign appends to pdf the signature of what it is, and returns the signed
// PDF and the signature alone (the signed note).
func Sign(pdf []byte, clientID uuid.UUID, clientName string, month cases.Month, version int, signer note.Signer) (signed, signature []byte, err error) {
	st := Statement{ClientID: clientID, ClientName: clientName, Month: month, Version: version, SHA256: sha256.Sum256(pdf)}
	sig, err := note.Sign(&note.Note{Text: statementText(st)}, signer)
	if err != nil {
		return nil, nil, fmt.Errorf("sign report: %w", err)
	}
	trailer, err := signatureTrailer(pdf, sig)
	if err != nil {
		return nil, nil, err
	}
	return append(bytes.Clone(pdf), trailer...), sig, nil
}

// signatureTrailer is what follows a PDF to carry sig: its lines as
// comments, then the PDF's last startxref again.
func signatureTrailer(pdf, sig []byte) ([]byte, error) {
	xref := bytes.LastIndex(pdf, []byte("startxref"))
	if xref < 0 || !bytes.HasSuffix(pdf, []byte("%%EOF\n")) {
		return nil, errors.New("sign report: the PDF has no startxref and %%EOF at its end")
	}
	var b bytes.Buffer
	b.WriteString(sigBegin)
	for _, line := range strings.SplitAfter(string(sig), "\n") {
		if line != "" {
			b.WriteString("%" + line)
		}
	}
	b.WriteString(sigEnd)
	b.Write(pdf[xref:])
	return b.Bytes(), nil
}

// ErrUnsigned says that a file carries no report signature.
var ErrUnsigned = errors.New("the file carries no Remedy report signature")

// Split separates a signed report into the PDF as rendered and its
// signature, checking that nothing but the signature was appended.
func Split(signed []byte) (pdf, signature []byte, err error) {
	i := bytes.LastIndex(signed, []byte("\n"+sigBegin))
	if i < 0 {
		return nil, nil, ErrUnsigned
	}
	pdf = signed[:i+1]
	rest := signed[i+1+len(sigBegin):]
	end := bytes.Index(rest, []byte(sigEnd))
	if end < 0 {
		return nil, nil, errors.New("the report's signature is truncated")
	}
	var sig bytes.Buffer
	sc := bufio.NewScanner(bytes.NewReader(rest[:end]))
	for sc.Scan() {
		line, ok := strings.CutPrefix(sc.Text(), "%")
		if !ok {
			return nil, nil, errors.New("the report's signature is malformed")
		}
		sig.WriteString(line + "\n")
	}
	trailer, err := signatureTrailer(pdf, sig.Bytes())
	if err != nil || !bytes.Equal(trailer, signed[i+1:]) {
		return nil, nil, errors.New("the report was changed after it was signed (bytes follow or replace its signature)")
	}
	return pdf, sig.Bytes(), nil
}

// ParseKeys reads published verifier keys, one a line ('#' comments and
// blank lines ignored), as /.well-known/remedy-report-keys serves them.
func ParseKeys(data []byte) (note.Verifiers, []string, error) {
	var list []note.Verifier
	var keys []string
	for n, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		v, err := note.NewVerifier(line)
		if err != nil {
			return nil, nil, fmt.Errorf("line %d is not a signed-note verifier key", n+1)
		}
		list = append(list, v)
		keys = append(keys, line)
	}
	if len(list) == 0 {
		return nil, nil, errors.New("no verifier key")
	}
	return note.VerifierList(list...), keys, nil
}

// Verify checks a signed report against the published keys and says what
// it is. It fails if any byte of the PDF or of its signature changed, if
// anything was appended, or if no known key signed it.
func Verify(signed []byte, keys note.Verifiers) (*Statement, error) {
	pdf, sig, err := Split(signed)
	if err != nil {
		return nil, err
	}
	st, err := VerifyDetached(pdf, sig, keys)
	if err != nil {
		return nil, err
	}
	return st, nil
}

// VerifyDetached checks pdf, as rendered, against its signature.
func VerifyDetached(pdf, sig []byte, keys note.Verifiers) (*Statement, error) {
	n, err := note.Open(sig, keys)
	if err != nil {
		var unverified *note.UnverifiedNoteError
		if errors.As(err, &unverified) && len(unverified.Note.UnverifiedSigs) > 0 {
			s := unverified.Note.UnverifiedSigs[0]
			return nil, fmt.Errorf("the report was signed by %s+%08x, which is not among the published keys", s.Name, s.Hash)
		}
		return nil, errors.New("the report's signature does not verify")
	}
	st, err := parseStatement(n.Text)
	if err != nil {
		return nil, err
	}
	if sha256.Sum256(pdf) != st.SHA256 {
		return nil, errors.New("the report's content does not match its signature")
	}
	v := n.Sigs[0]
	st.KeyID = fmt.Sprintf("%s+%08x", v.Name, v.Hash)
	return st, nil
}

func parseStatement(text string) (*Statement, error) {
	bad := errors.New("the signature is not of a Remedy monthly report")
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	if len(lines) != 6 || lines[0] != statementHeader {
		return nil, bad
	}
	field := func(i int, name string) (string, bool) { return strings.CutPrefix(lines[i], name+" ") }
	var st Statement
	var err error
	c, ok1 := field(1, "client")
	name, ok2 := field(2, "client-name")
	m, ok3 := field(3, "month")
	v, ok4 := field(4, "version")
	sum, ok5 := field(5, "sha256")
	if !ok1 || !ok2 || !ok3 || !ok4 || !ok5 {
		return nil, bad
	}
	if st.ClientID, err = uuid.Parse(c); err != nil {
		return nil, bad
	}
	if st.Month, err = cases.ParseMonth(m); err != nil {
		return nil, bad
	}
	if st.Version, err = strconv.Atoi(v); err != nil || st.Version < 1 {
		return nil, bad
	}
	raw, err := hex.DecodeString(sum)
	if err != nil || len(raw) != sha256.Size {
		return nil, bad
	}
	copy(st.SHA256[:], raw)
	st.ClientName = name
	return &st, nil
}

// KeyID returns a signer's name+hash, as a report's footer prints it.
func KeyID(s note.Signer) string { return fmt.Sprintf("%s+%08x", s.Name(), s.KeyHash()) }

// Verifier checks reports against the published keys.
type Verifier struct {
	keys      note.Verifiers
	published []string
}

var _ cases.ReportVerifier = (*Verifier)(nil)

// NewVerifier returns the verifier of the published keys (name+hash+base64).
func NewVerifier(published []string) (*Verifier, error) {
	keys, list, err := ParseKeys([]byte(strings.Join(published, "\n")))
	if err != nil {
		return nil, err
	}
	return &Verifier{keys: keys, published: list}, nil
}

func (v *Verifier) PublishedKeys() []string { return slices.Clone(v.published) }

func (v *Verifier) VerifyReport(signed []byte) (*cases.SignedReport, error) {
	return Verify(signed, v.keys)
}
