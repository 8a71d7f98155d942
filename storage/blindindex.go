package storage

import (
	"crypto/hmac"
	"crypto/sha256"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/mozillazg/go-pinyin"
	"golang.org/x/text/unicode/norm"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/google/uuid"

	cases "github.com/remedy-cases/remedy/case"
)

// The blind index recognises a child found again, at another factory or for
// another brand, without decrypting anything: it stores keyed hashes of the
// normalised ID number, and of the normalised name with a date of birth.
// Without the blind-index key the hashes cannot be tested against guesses.

const (
	kindIDNumber      = "id_number"
	kindNameBirthDate = "name_birth_date"
	// kindNameVariant is a name written in another order or in pinyin, with
	// a date of birth: a weaker hint than the exact name (homophones share
	// their pinyin), never more than a link for a case worker to check.
	kindNameVariant = "name_variant_birth_date"
)

type fingerprint struct {
	kind string
	hash []byte
}

// maxPasses bounds the normalisation loops; each pass that changes anything
// removes a character or recomposes, so they settle in two or three.
const maxPasses = 8

// settle applies f until the string stops changing: removing a separator can
// let the characters around it combine (e, space, U+0301 becomes é once the
// space goes), so one pass is not enough for equal inputs to give equal
// fingerprints.
func settle(s string, f func(string) string) string {
	for range maxPasses {
		next := f(s)
		if next == s {
			return s
		}
		s = next
	}
	return s
}

// normalizeIDNumber folds full-width characters (NFKC), drops spaces,
// hyphens, dots and slashes, and upper-cases the check letter X, until
// nothing changes.
func normalizeIDNumber(s string) string {
	return settle(s, func(s string) string {
		return strings.Map(func(r rune) rune {
			if unicode.IsSpace(r) || r == '-' || r == '.' || r == '/' {
				return -1
			}
			return unicode.ToUpper(r)
		}, norm.NFKC.String(s))
	})
}

// isNameSeparator tells the characters between the parts of a name: spaces,
// the middle dots of transliterated names, hyphens and dots.
func isNameSeparator(r rune) bool {
	return unicode.IsSpace(r) || r == '·' || r == '•' || r == '-' || r == '.' || r == '・'
}

// normalizeName folds width and case and drops separators, until nothing
// changes.
func normalizeName(s string) string {
	return settle(s, func(s string) string {
		return strings.Map(func(r rune) rune {
			if isNameSeparator(r) {
				return -1
			}
			return unicode.ToLower(r)
		}, norm.NFKC.String(s))
	})
}

// foldLatin lowers a name part, writes ü as v (as Chinese passports and
// pinyin input do: 吕 is LV), and drops tone marks and other diacritics.
func foldLatin(s string) string {
	return settle(s, func(s string) string {
		s = strings.ReplaceAll(norm.NFD.String(strings.ToLower(norm.NFKC.String(s))), "u\u0308", "v")
		var b strings.Builder
		for _, r := range s {
			if !unicode.Is(unicode.Mn, r) {
				b.WriteRune(unicode.ToLower(r))
			}
		}
		return norm.NFC.String(b.String())
	})
}

var pinyinArgs = pinyin.NewArgs() // no tones, the most common reading

// nameParts splits a name into its parts: Latin words as written, and one
// part per hanzi in its pinyin (a hanzi without one stays itself).
func nameParts(name string) (parts []string, han bool) {
	name = norm.NFKC.String(name)
	var word strings.Builder
	flush := func() {
		if word.Len() > 0 {
			if w := foldLatin(word.String()); w != "" {
				parts = append(parts, w)
			}
			word.Reset()
		}
	}
	for _, r := range name {
		switch {
		case isNameSeparator(r):
			flush()
		case unicode.Is(unicode.Han, r):
			flush()
			han = true
			if py := pinyin.SinglePinyin(r, pinyinArgs); len(py) > 0 && py[0] != "" {
				parts = append(parts, py[0])
			} else {
				parts = append(parts, string(r))
			}
		default:
			word.WriteRune(r)
		}
	}
	flush()
	return parts, han
}

// nameVariants returns the order-free and pinyin forms of a name: for a
// Latin name, its parts joined as written and sorted (Xiaomei Li and
// Li Xiaomei meet); for a hanzi name, its pinyin surname first and given
// name first, with a one- or two-syllable surname (李小梅 meets both; 欧阳娜娜
// meets Nana Ouyang).
func nameVariants(name string) []string {
	parts, han := nameParts(name)
	if len(parts) == 0 {
		return nil
	}
	set := map[string]bool{strings.Join(parts, ""): true}
	if han {
		for surname := 1; surname <= 2 && surname < len(parts); surname++ {
			set[strings.Join(parts[surname:], "")+strings.Join(parts[:surname], "")] = true
		}
	} else {
		sorted := slices.Clone(parts)
		slices.Sort(sorted)
		set[strings.Join(sorted, "")] = true
	}
	out := make([]string, 0, len(set))
	for v := range set {
		out = append(out, v)
	}
	slices.Sort(out)
	return out
}

func (k *Keyring) mac(kind, value string) []byte {
	m := hmac.New(sha256.New, k.blindIndex)
	m.Write([]byte(kind))
	m.Write([]byte{0})
	m.Write([]byte(value))
	return m.Sum(nil)
}

// fingerprints returns the blind-index hashes of an identity: its ID number;
// its name with each known date of birth (claimed and verified); and each
// variant of its name and other names with each date of birth. Only HMACs
// leave this function: neither the name nor its pinyin is stored.
func fingerprints(k *Keyring, id cases.Identity) []fingerprint {
	var out []fingerprint
	if n := normalizeIDNumber(id.IDNumber); len(n) >= 6 {
		out = append(out, fingerprint{kindIDNumber, k.mac(kindIDNumber, n)})
	}
	var dates []string
	for _, d := range []*time.Time{id.ClaimedBirthDate, id.VerifiedBirthDate} {
		if d != nil && !slices.Contains(dates, d.UTC().Format(time.DateOnly)) {
			dates = append(dates, d.UTC().Format(time.DateOnly))
		}
	}
	if len(dates) == 0 {
		return out
	}
	seen := map[string]bool{}
	add := func(kind, value string) {
		if value == "" || seen[kind+"\x00"+value] {
			return
		}
		seen[kind+"\x00"+value] = true
		for _, d := range dates {
			out = append(out, fingerprint{kind, k.mac(kind, value+"|"+d)})
		}
	}
	add(kindNameBirthDate, normalizeName(id.FullName))
	for _, name := range append([]string{id.FullName}, id.OtherNames...) {
		for _, v := range nameVariants(name) {
			add(kindNameVariant, v)
		}
	}
	return out
}

// link stores a case's fingerprints and links it to every earlier case that
// shares one, auditing each new link. Nothing is decrypted.
func (s *CaseService) link(tx *gorm.DB, actor cases.Actor, row *caseRow, fps []fingerprint) error {
	if len(fps) == 0 {
		return nil
	}
	matches, err := s.storeFingerprints(tx, row.ID, fps)
	if err != nil {
		return err
	}
	return s.linkMatches(tx, actor, row, matches)
}

// linkMatches links row's case to the cases of matches, the other cases'
// fingerprints equal to one of its own, once each.
func (s *CaseService) linkMatches(tx *gorm.DB, actor cases.Actor, row *caseRow, matches []fingerprintRow) error {
	// The strongest match names the link: an ID number, then the exact name,
	// then a variant of it.
	strength := map[string]int{kindIDNumber: 0, kindNameBirthDate: 1, kindNameVariant: 2}
	slices.SortStableFunc(matches, func(a, b fingerprintRow) int { return strength[a.Kind] - strength[b.Kind] })
	done := map[uuid.UUID]bool{}
	for _, m := range matches {
		if done[m.CaseID] {
			continue
		}
		done[m.CaseID] = true
		link := caseLinkRow{CaseID: row.ID, LinkedID: m.CaseID, MatchedOn: m.Kind, CreatedAt: s.db.now()}
		if m.CaseID.String() < row.ID.String() {
			link.CaseID, link.LinkedID = m.CaseID, row.ID
		}
		res := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&link)
		if res.Error != nil {
			return s.db.interpret(res.Error, "Case link")
		}
		if res.RowsAffected == 0 {
			continue
		}
		err := s.db.appendAudit(tx, actor, auditEvent{action: cases.ActionCaseLinked,
			caseID: uuid.NullUUID{UUID: row.ID, Valid: true}, subject: row.Code,
			details: map[string]string{"linked_case_id": m.CaseID.String(), "matched_on": m.Kind}})
		if err != nil {
			return err
		}
	}
	return nil
}

// storeFingerprints stores a case's fingerprints and returns the other
// cases' fingerprints that equal one of them. On PostgreSQL it is one
// statement: the insert in a WITH, and a SELECT that, seeing the snapshot
// from before it, finds only the other cases' rows.
func (s *CaseService) storeFingerprints(tx *gorm.DB, caseID uuid.UUID, fps []fingerprint) ([]fingerprintRow, error) {
	hashes := make([][]byte, len(fps))
	for i, f := range fps {
		hashes[i] = f.hash
	}
	var matches []fingerprintRow
	if s.db.dialect == Postgres {
		var sql strings.Builder
		args := make([]any, 0, 3*len(fps)+2)
		sql.WriteString("WITH stored AS (INSERT INTO case_fingerprints (case_id, kind, hash) VALUES ")
		writeTuples(&sql, len(fps), 3)
		for _, f := range fps {
			args = append(args, caseID, f.kind, f.hash)
		}
		sql.WriteString(" ON CONFLICT DO NOTHING) SELECT case_id, kind, hash FROM case_fingerprints WHERE hash IN ? AND case_id <> ?")
		args = append(args, hashes, caseID)
		if err := tx.Raw(sql.String(), args...).Find(&matches).Error; err != nil {
			return nil, s.db.interpret(err, "Fingerprints")
		}
		return matches, nil
	}
	rows := make([]fingerprintRow, len(fps))
	for i, f := range fps {
		rows[i] = fingerprintRow{CaseID: caseID, Kind: f.kind, Hash: f.hash}
	}
	if err := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&rows).Error; err != nil {
		return nil, s.db.interpret(err, "Fingerprint")
	}
	if err := tx.Where("hash IN ? AND case_id <> ?", hashes, caseID).Find(&matches).Error; err != nil {
		return nil, s.db.interpret(err, "Fingerprints")
	}
	return matches, nil
}

// links loads the cases linked to id, with their codes.
func (s *CaseService) links(tx *gorm.DB, id uuid.UUID) ([]cases.Link, error) {
	byCase, err := s.linksOf(tx, []uuid.UUID{id})
	return byCase[id], err
}

// rowLinks is links for a case whose row was read in tx: a case not marked
// linked (the database marks both cases of every new link) has none, and
// its links are not read.
func (s *CaseService) rowLinks(tx *gorm.DB, row *caseRow) ([]cases.Link, error) {
	if !row.Linked {
		return nil, nil
	}
	return s.links(tx, row.ID)
}

// linksOf loads the links of every case of ids, with the codes of the cases
// they link, in one query.
func (s *CaseService) linksOf(tx *gorm.DB, ids []uuid.UUID) (map[uuid.UUID][]cases.Link, error) {
	var rows []struct {
		CaseID, LinkedID     uuid.UUID
		MatchedOn            string
		CaseCode, LinkedCode string
	}
	inCases, set := s.db.anyOf("l.case_id", ids)
	inLinked, _ := s.db.anyOf("l.linked_id", ids)
	err := tx.Raw(`SELECT l.case_id, l.linked_id, l.matched_on, a.code AS case_code, b.code AS linked_code
		FROM case_links l JOIN cases a ON a.id = l.case_id JOIN cases b ON b.id = l.linked_id
		WHERE `+inCases+` OR `+inLinked+`
		ORDER BY l.created_at, l.case_id, l.linked_id`, set, set).Find(&rows).Error
	if err != nil {
		return nil, s.db.interpret(err, "Case links")
	}
	wanted := make(map[uuid.UUID]bool, len(ids))
	for _, id := range ids {
		wanted[id] = true
	}
	out := map[uuid.UUID][]cases.Link{}
	for _, r := range rows {
		if wanted[r.CaseID] {
			out[r.CaseID] = append(out[r.CaseID], cases.Link{CaseID: r.LinkedID, Code: r.LinkedCode, MatchedOn: r.MatchedOn})
		}
		if wanted[r.LinkedID] {
			out[r.LinkedID] = append(out[r.LinkedID], cases.Link{CaseID: r.CaseID, Code: r.CaseCode, MatchedOn: r.MatchedOn})
		}
	}
	return out, nil
}

// writeTuples writes n comma-separated tuples of width placeholders, the
// VALUES of a multi-row INSERT: "(?, ?), (?, ?)".
func writeTuples(sql *strings.Builder, n, width int) {
	for i := range n {
		if i > 0 {
			sql.WriteString(", ")
		}
		sql.WriteString("(?")
		sql.WriteString(strings.Repeat(", ?", width-1))
		sql.WriteString(")")
	}
}
