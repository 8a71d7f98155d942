package storage

import (
	"bytes"
	"context"
	"errors"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	cases "github.com/remedy-cases/remedy/case"
)

// CaseService implements cases.CaseService.
type CaseService struct{ db *DB }

var _ cases.CaseService = (*CaseService)(nil)

// NewCaseService returns the case service of db.
func NewCaseService(db *DB) *CaseService { return &CaseService{db: db} }

// FileCase opens a case in intake. The code is drawn before the filing
// transaction, so that a failed filing leaves a gap instead of holding the
// year's counter locked while the identity is sealed.
func (s *CaseService) FileCase(ctx context.Context, actor cases.Actor, r cases.Report) (*cases.Case, error) {
	return s.fileCase(ctx, actor, nil, r)
}

// FileCaseOnce files a case once per key. The key's row is written in the
// filing's transaction: of two concurrent filings with one key, the second
// waits on the first's row and then fails its insert, and is answered from it.
func (s *CaseService) FileCaseOnce(ctx context.Context, actor cases.Actor, key cases.IdempotencyKey, r cases.Report) (*cases.Case, bool, error) {
	if c, err := s.replay(ctx, actor, key); c != nil || err != nil {
		return c, true, err
	}
	c, err := s.fileCase(ctx, actor, &key, r)
	if cases.ErrorCode(err) == cases.ECONFLICT {
		if c, rerr := s.replay(ctx, actor, key); c != nil || rerr != nil {
			return c, true, rerr
		}
	}
	return c, false, err
}

// replay returns the case an earlier request with key filed, nil if none did,
// or EINVALID if that request was another one.
func (s *CaseService) replay(ctx context.Context, actor cases.Actor, key cases.IdempotencyKey) (*cases.Case, error) {
	var rows []idempotencyKeyRow
	err := s.db.gorm.WithContext(ctx).Where("user_id = ? AND key = ?", actor.UserID, key.Key).Limit(1).Find(&rows).Error
	if err != nil {
		return nil, s.db.interpret(err, "Idempotency key")
	}
	if len(rows) == 0 {
		return nil, nil
	}
	if !bytes.Equal(rows[0].RequestHash, key.RequestHash[:]) {
		return nil, &cases.Error{Code: cases.EINVALID, Message: "This Idempotency-Key was used for another request.",
			Failed: []cases.Failure{{Name: "idempotency_key", Message: "use a new key for a new report; resend the same body to retry"}}}
	}
	return s.FindCase(ctx, rows[0].CaseID)
}

func (s *CaseService) fileCase(ctx context.Context, actor cases.Actor, once *cases.IdempotencyKey, r cases.Report) (*cases.Case, error) {
	now := s.db.now()
	r.FoundOn = cases.Date(r.FoundOn)
	r.Normalize()
	if err := r.Validate(s.db.today()); err != nil {
		return nil, err
	}
	if actor.Role != cases.RoleAuditor && actor.Role != cases.RoleSupervisor {
		return nil, cases.Errorf(cases.EFORBIDDEN, "Only auditors and supervisors file reports.")
	}
	fps := fingerprints(s.db.keys, r.Identity)
	code, refs, err := s.drawCode(ctx, now.Year(), r.ClientID, r.FactoryID, fps)
	if err != nil {
		return nil, err
	}
	if err := refs.check(); err != nil {
		return nil, err
	}
	id := uuid.Must(uuid.NewV7())
	key, wrapped, recipients, err := s.db.newCaseKey()
	if err != nil {
		return nil, err
	}
	// One encryption for the identity and the narrative together.
	identity, err := sealIdentity(key, id, r.Identity, r.Narrative)
	if err != nil {
		return nil, err
	}
	row := caseRow{
		ID: id, Code: code, ClientID: r.ClientID, FactoryID: r.FactoryID, State: string(cases.StateIntake),
		Version: 1, FiledBy: actor.UserID, FoundOn: r.FoundOn, Gender: string(r.Gender), Presence: string(r.Presence),
		Job: strings.TrimSpace(r.Job), Hazards: strings.Join(r.Hazards, ","), HoursPerWeek: r.HoursPerWeek,
		WageAmount: r.MonthlyWage.Amount, WageCurrency: r.MonthlyWage.Currency, Recruitment: string(r.Recruitment),
		RemovedFromWork: r.RemovedFromWork, ChildSafe: r.ChildSafe,
		OtherChildrenFound: r.OtherChildrenFound, LabourAgent: string(r.LabourAgent), FactoryConsent: string(r.FactoryConsent),
		IDChecksumValid: r.Identity.IDChecksumValid(),
		IdentitySealed:  identity, CreatedAt: now, UpdatedAt: now,
	}
	filed := auditEvent{action: cases.ActionCaseFiled,
		caseID: uuid.NullUUID{UUID: id, Valid: true}, subject: code,
		details: map[string]string{"client_id": r.ClientID.String(), "factory_id": r.FactoryID.String()}}
	if testHookFiling != nil {
		testHookFiling()
	}
	if s.db.dialect == Postgres && !refs.Matched {
		return s.fileAlone(ctx, actor, once, &row, wrapped, recipients, !refs.Supplies, fps, filed)
	}
	err = s.db.transact(ctx, func(tx *gorm.DB) error {
		if s.db.dialect == Postgres {
			matches, err := s.insertFiled(tx, actor, once, &row, wrapped, recipients, !refs.Supplies, fps, filed)
			if err != nil {
				return err
			}
			return s.linkMatches(tx, actor, &row, matches)
		}
		code, err := s.nextCode(tx, now.Year())
		if err != nil {
			return err
		}
		row.Code, filed.subject = code, code
		if err := tx.Create(&row).Error; err != nil {
			return s.db.interpret(err, "Case")
		}
		if !refs.Supplies {
			// The factory supplies the brand that commissions the case.
			err = tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&factoryClientRow{FactoryID: r.FactoryID, ClientID: r.ClientID}).Error
			if err != nil {
				return s.db.interpret(err, "Factory's brand")
			}
		}
		err = tx.Create(&caseKeyRow{CaseID: id, Wrapped: wrapped, CreatedAt: now, Recipients: recipients}).Error
		if err != nil {
			return s.db.interpret(err, "Case key")
		}
		if once != nil {
			err := tx.Create(&idempotencyKeyRow{UserID: actor.UserID, Key: once.Key, RequestHash: once.RequestHash[:],
				CaseID: id, CreatedAt: now}).Error
			if err != nil {
				return s.db.interpret(err, "Idempotency key")
			}
		}
		// The filing's entry comes first, then those of its links, as on
		// PostgreSQL.
		if err := s.db.appendAudit(tx, actor, filed); err != nil {
			return err
		}
		return s.link(tx, actor, &row, fps)
	})
	if err != nil {
		return nil, err
	}
	return row.domain(), nil
}

// testHookFiling, if set by a test, runs between a filing's drawing of its
// code and its writing.
var testHookFiling func()

// fileAlone files a case on PostgreSQL whose fingerprints matched no
// other case's when its code was drawn: insertFiled's one statement is
// then the whole filing, atomic as any statement, with no BEGIN and
// COMMIT around it (two round trips of four). If a filing of the same
// child committed in between, the statement returns its fingerprints and
// the links are made in a transaction of their own just after; a crash
// between the two leaves the case filed and unlinked, as two such
// filings at the same moment always could (neither sees the other's
// uncommitted fingerprints).
func (s *CaseService) fileAlone(ctx context.Context, actor cases.Actor, once *cases.IdempotencyKey, row *caseRow,
	wrapped []byte, recipients string, supplies bool, fps []fingerprint, filed auditEvent) (*cases.Case, error) {
	matches, err := s.insertFiledAlone(ctx, actor, once, row, wrapped, recipients, supplies, fps, filed)
	if err != nil {
		return nil, err
	}
	s.db.wakeSealer()
	if len(matches) > 0 {
		err := s.db.transact(ctx, func(tx *gorm.DB) error { return s.linkMatches(tx, actor, row, matches) })
		if err != nil {
			// The case is filed: the caller must not file it again.
			s.db.log.Error("link a filed case", "case_id", row.ID.String(), "error", err.Error())
		}
	}
	return row.domain(), nil
}

// drawCode draws the next code of year and looks up the report's client
// and factory (fileRefs), before the filing's transaction: inside it they
// were no safer (nothing locks the client), only a round trip dearer. On
// PostgreSQL both are one statement, which also tells whether another
// case has one of the fingerprints fps.
func (s *CaseService) drawCode(ctx context.Context, year int, client, factory uuid.UUID, fps []fingerprint) (string, fileRefs, error) {
	var drawn struct {
		N                                  int
		Client, Factory, Supplies, Matched bool
	}
	g := s.db.gorm.WithContext(ctx)
	refsArgs := []any{client, factory, factory, client}
	var code string
	if s.db.dialect == Postgres {
		hashes := make([][]byte, len(fps))
		for i, f := range fps {
			hashes[i] = f.hash
		}
		err := s.db.rawPgx(ctx, drawCodeSQL, append(append([]any{year}, refsArgs...), hashes), func(rows pgx.Rows) error {
			return rows.Scan(&drawn.N, &drawn.Client, &drawn.Factory, &drawn.Supplies, &drawn.Matched)
		})
		if err == nil && drawn.N == 0 {
			err = errors.New("next_case_code returned no row")
		}
		if err != nil {
			return "", fileRefs{}, s.db.interpret(err, "Case code")
		}
		code = cases.FormatCode(year, drawn.N)
	} else {
		// SQLite draws it in the filing's transaction (nextCode): writers
		// go one at a time there, and a transaction of its own was one more
		// commit for every filing.
		if err := g.Raw(`SELECT `+refsColumns, refsArgs...).Find(&drawn).Error; err != nil {
			return "", fileRefs{}, s.db.interpret(err, "Lookup")
		}
	}
	return code, fileRefs{Client: drawn.Client, Factory: drawn.Factory, Supplies: drawn.Supplies, Matched: drawn.Matched}, nil
}

// fileRefs say whether a report's client is active and its factory known,
// and whether the factory is already known to supply the client, as
// refsColumns selects them from the client, factory, factory, client ids;
// and, on PostgreSQL, whether another case shares a fingerprint.
type fileRefs struct{ Client, Factory, Supplies, Matched bool }

// drawCodeSQL is drawCode's one statement on PostgreSQL.
var drawCodeSQL = numbered(`SELECT next_case_code(?) AS n, ` + refsColumns + `,
	EXISTS (SELECT 1 FROM case_fingerprints WHERE hash = ANY(?)) AS matched`)

const refsColumns = `EXISTS (SELECT 1 FROM clients WHERE id = ? AND active) AS client,
	EXISTS (SELECT 1 FROM factories WHERE id = ?) AS factory,
	EXISTS (SELECT 1 FROM factory_clients WHERE factory_id = ? AND client_id = ?) AS supplies`

func (f fileRefs) check() error {
	var v cases.Validation
	v.Check(f.Client, "client_id", "no active client has this id")
	v.Check(f.Factory, "factory_id", "no factory has this id")
	return v.Err("The report is not valid.")
}

// insertCase opens insertFiled's statement: the case's own INSERT.
var insertCase = func() string {
	var sql strings.Builder
	sql.WriteString("WITH filed AS (INSERT INTO cases (" + strings.Join(caseColumns, ", ") + ") VALUES ")
	writeTuples(&sql, 1, len(caseColumns))
	return sql.String()
}()

// insertFiled writes a new case on PostgreSQL in one statement: the case,
// the factory's brand if it is new, the case key, the idempotency key, the
// fingerprints and the audit entry, each an INSERT in a WITH; the SELECT
// after them, seeing the snapshot from before, returns the other cases'
// fingerprints equal to the new ones. That is one round trip where gorm
// would take six. The foreign keys between them are checked at the end of
// the statement, when all the rows are there.
func (s *CaseService) insertFiled(tx *gorm.DB, actor cases.Actor, once *cases.IdempotencyKey, row *caseRow,
	wrapped []byte, recipients string, supplies bool, fps []fingerprint, filed auditEvent) ([]fingerprintRow, error) {
	query, args, err := s.filedStatement(actor, once, row, wrapped, recipients, supplies, fps, filed)
	if err != nil {
		return nil, err
	}
	var matches []fingerprintRow
	if err := tx.Raw(query, args...).Find(&matches).Error; err != nil {
		return nil, s.db.interpret(err, "Case")
	}
	return matches, s.db.appended(tx)
}

// insertFiledAlone runs insertFiled's statement with pgx itself, as a
// transaction of its own.
func (s *CaseService) insertFiledAlone(ctx context.Context, actor cases.Actor, once *cases.IdempotencyKey, row *caseRow,
	wrapped []byte, recipients string, supplies bool, fps []fingerprint, filed auditEvent) ([]fingerprintRow, error) {
	query, args, err := s.filedStatement(actor, once, row, wrapped, recipients, supplies, fps, filed)
	if err != nil {
		return nil, err
	}
	var matches []fingerprintRow
	err = s.db.rawPgx(ctx, numbered(query), args, func(rows pgx.Rows) error {
		var m fingerprintRow
		if err := rows.Scan(&m.CaseID, &m.Kind, &m.Hash); err != nil {
			return err
		}
		matches = append(matches, m)
		return nil
	})
	if err != nil {
		return nil, s.db.interpret(err, "Case")
	}
	return matches, nil
}

// filedStatement is insertFiled's statement, with ? placeholders, and its
// arguments, none of them a slice but []byte.
func (s *CaseService) filedStatement(actor cases.Actor, once *cases.IdempotencyKey, row *caseRow,
	wrapped []byte, recipients string, supplies bool, fps []fingerprint, filed auditEvent) (string, []any, error) {
	var sql strings.Builder
	args := make([]any, 0, len(caseColumns)+32)
	sql.WriteString(insertCase)
	args = append(args, row.values()...)
	sql.WriteString("), case_key AS (INSERT INTO case_keys (case_id, wrapped, created_at, recipients) VALUES (?, ?, ?, ?))")
	args = append(args, row.ID, wrapped, row.CreatedAt, recipients)
	if supplies {
		sql.WriteString(", supplier AS (INSERT INTO factory_clients (factory_id, client_id) VALUES (?, ?) ON CONFLICT DO NOTHING)")
		args = append(args, row.FactoryID, row.ClientID)
	}
	if once != nil {
		sql.WriteString(", once AS (INSERT INTO idempotency_keys (user_id, key, request_hash, case_id, created_at) VALUES (?, ?, ?, ?, ?))")
		args = append(args, actor.UserID, once.Key, once.RequestHash[:], row.ID, row.CreatedAt)
	}
	audit, err := s.db.auditArgs(actor, filed)
	if err != nil {
		return "", nil, err
	}
	sql.WriteString(", audit AS (INSERT INTO audit_log " + auditColumns + " VALUES ")
	writeTuples(&sql, 1, len(audit))
	sql.WriteString(")")
	args = append(args, audit...)
	if len(fps) == 0 {
		// Nothing to store, and nothing can match.
		sql.WriteString(" SELECT case_id, kind, hash FROM case_fingerprints WHERE false")
		return sql.String(), args, nil
	}
	sql.WriteString(", fingerprinted AS (INSERT INTO case_fingerprints (case_id, kind, hash) VALUES ")
	writeTuples(&sql, len(fps), 3)
	sql.WriteString(" ON CONFLICT DO NOTHING)")
	for _, f := range fps {
		args = append(args, row.ID, f.kind, f.hash)
	}
	// ARRAY[?, ?], not IN (?, ?): gorm spreads a []byte that follows a
	// parenthesis into its bytes.
	sql.WriteString(" SELECT case_id, kind, hash FROM case_fingerprints WHERE case_id <> ? AND hash = ANY(ARRAY[?")
	sql.WriteString(strings.Repeat(", ?", len(fps)-1))
	sql.WriteString("]::bytea[])")
	args = append(args, row.ID)
	for _, f := range fps {
		args = append(args, f.hash)
	}
	return sql.String(), args, nil
}

// nextCode draws the next code of year on SQLite, in tx, the filing's
// transaction. (On PostgreSQL drawCode calls next_case_code, which commits
// without waiting for the disk (migration 00008): the counter's row is
// locked only for the statement, not for an fsync, so filings do not queue
// on it. That is safe: a case that commits flushes the WAL up to its own
// commit, past the counter's, so a code in a stored case is never drawn
// again after a crash; one drawn for a filing that did not commit may be,
// which is a gap filled.)
func (s *CaseService) nextCode(tx *gorm.DB, year int) (string, error) {
	var n int
	err := tx.Raw(`INSERT INTO case_code_counters (year, last) VALUES (?, 1)
		 ON CONFLICT (year) DO UPDATE SET last = case_code_counters.last + 1
		 RETURNING last`, year).Find(&n).Error
	if err != nil {
		return "", s.db.interpret(err, "Case code")
	}
	return cases.FormatCode(year, n), nil
}

// exists reports whether a row of model matches; a database error is
// returned, not mistaken for absence.
func (db *DB) exists(tx *gorm.DB, model any, query string, args ...any) (bool, error) {
	var n int64
	if err := tx.Model(model).Where(query, args...).Count(&n).Error; err != nil {
		return false, db.interpret(err, "Lookup")
	}
	return n > 0, nil
}

// FindCase returns the case with its plan.
func (s *CaseService) FindCase(ctx context.Context, id uuid.UUID) (*cases.Case, error) {
	return s.reload(s.db.gorm.WithContext(ctx), id)
}

// FindCaseByCode returns the case of code with its plan.
func (s *CaseService) FindCaseByCode(ctx context.Context, code string) (*cases.Case, error) {
	var ids []uuid.UUID
	err := s.db.gorm.WithContext(ctx).Model(&caseRow{}).Where("code = ?", code).Limit(1).Pluck("id", &ids).Error
	if err != nil {
		return nil, s.db.interpret(err, "Case")
	} else if len(ids) == 0 {
		return nil, cases.Errorf(cases.ENOTFOUND, "Case not found.")
	}
	return s.FindCase(ctx, ids[0])
}

func (s *CaseService) load(tx *gorm.DB, id uuid.UUID) (*caseRow, *cases.Plan, error) {
	return s.loadFor(tx, id, false)
}

// loadFor is load; with update, the case's row stays locked until tx ends
// (lockCase), as for a change that may refresh the case's ledger.
func (s *CaseService) loadFor(tx *gorm.DB, id uuid.UUID, update bool) (*caseRow, *cases.Plan, error) {
	var row caseRow
	q := tx.Where("id = ?", id)
	if update {
		q = s.db.lockCase(q)
	}
	if err := q.Take(&row).Error; err != nil {
		return nil, nil, s.db.interpret(err, "Case")
	}
	if !mayHavePlan(row.State) {
		return &row, nil, nil
	}
	var plan planRow
	err := tx.Where("case_id = ?", id).Take(&plan).Error
	if err == gorm.ErrRecordNotFound {
		return &row, nil, nil
	} else if err != nil {
		return nil, nil, s.db.interpret(err, "Plan")
	}
	return &row, plan.domain(), nil
}

// mayHavePlan tells whether a case in state can have a plan: one is written
// in planning, so a case in intake or verification has none (a dismissed
// case reopened into verification never reached planning), and asking the
// database for it is a round trip for nothing.
func mayHavePlan(state string) bool {
	return state != string(cases.StateIntake) && state != string(cases.StateVerification)
}

// ListCases returns a page of cases, newest first, by keyset on id.
func (s *CaseService) ListCases(ctx context.Context, f cases.CaseFilter) (*cases.CasePage, error) {
	limit := f.Limit
	if limit == 0 {
		limit = 50
	}
	if limit < 1 || limit > 200 {
		return nil, &cases.Error{Code: cases.EINVALID, Message: "The filter is not valid.",
			Failed: []cases.Failure{{Name: "limit", Message: "limit must be between 1 and 200"}}}
	}
	if f.State != "" && !f.State.Valid() {
		return nil, &cases.Error{Code: cases.EINVALID, Message: "The filter is not valid.",
			Failed: []cases.Failure{{Name: "state", Message: "state is not a known state"}}}
	}
	f.Code, f.Query = strings.ToUpper(cases.NormalizeText(f.Code)), cases.NormalizeText(f.Query)
	var v cases.Validation
	v.Check(cases.ValidText(f.Code, 40), "code", "code must be at most 40 characters")
	v.Check(cases.ValidText(f.Query, 100), "q", "q must be at most 100 characters")
	if err := v.Err("The filter is not valid."); err != nil {
		return nil, err
	}
	factories, err := s.searchFactories(s.db.gorm.WithContext(ctx), f.Query)
	if err != nil {
		return nil, err
	}
	page := &cases.CasePage{}
	var linked []uuid.UUID  // only these have links (caseRow.Linked)
	var planned []uuid.UUID // a case has a plan only once it reached planning
	err = s.scanFacts(ctx, s.listQuery(s.db.gorm.WithContext(ctx), f, factories, limit+1), func(row *caseRow) {
		if len(page.Cases) == limit { // one more than the page: there is a next page
			page.Next = uuid.NullUUID{UUID: page.Cases[limit-1].ID, Valid: true}
			return
		}
		page.Cases = append(page.Cases, row.domain())
		if row.Linked {
			linked = append(linked, row.ID)
		}
		if mayHavePlan(row.State) {
			planned = append(planned, row.ID)
		}
	})
	if err != nil {
		return nil, err
	}
	byCase, err := s.pagePlans(ctx, planned)
	if err != nil {
		return nil, err
	}
	var links map[uuid.UUID][]cases.Link
	if len(linked) > 0 {
		if links, err = s.linksOf(s.db.gorm.WithContext(ctx), linked); err != nil {
			return nil, err
		}
	}
	for _, c := range page.Cases {
		c.Plan = byCase[c.ID]
		c.Links = links[c.ID]
	}
	return page, nil
}

// pagePlans loads the plans of the cases ids, a list page's, by case. On
// PostgreSQL pgx reads them itself into planRow's fields: through gorm and
// database/sql, a page of plans took half a millisecond of the server's
// CPU, twice its cases' facts.
func (s *CaseService) pagePlans(ctx context.Context, ids []uuid.UUID) (map[uuid.UUID]*cases.Plan, error) {
	byCase := make(map[uuid.UUID]*cases.Plan, len(ids))
	if len(ids) == 0 {
		return byCase, nil
	}
	in, set := s.db.anyOf("case_id", ids)
	if s.db.dialect != Postgres {
		var plans []planRow
		if err := s.db.gorm.WithContext(ctx).Where(in, set).Find(&plans).Error; err != nil {
			return nil, s.db.interpret(err, "Plans")
		}
		for i := range plans {
			byCase[plans[i].CaseID] = plans[i].domain()
		}
		return byCase, nil
	}
	var scratch planRow
	targets := scratch.targets()
	err := s.db.rawPgx(ctx, numbered(`SELECT `+strings.Join(planColumns, ", ")+` FROM plans WHERE `+in), []any{set}, func(rows pgx.Rows) error {
		if err := rows.Scan(targets...); err != nil {
			return err
		}
		byCase[scratch.CaseID] = scratch.domain()
		return nil
	})
	if err != nil {
		return nil, s.db.interpret(err, "Plans")
	}
	return byCase, nil
}

// scanFacts runs q, which selects caseFacts, and calls each with every
// row, one scratch row scanned through one list of targets (a row is 700
// bytes, its targets 42 pointers): the caller keeps what it needs of it.
// On PostgreSQL pgx reads the rows itself: through database/sql each of a
// page's 2,000 values was decoded into an interface, then converted again.
func (s *CaseService) scanFacts(ctx context.Context, q *gorm.DB, each func(*caseRow)) error {
	var scratch caseRow
	targets := scratch.factTargets()
	if s.db.dialect == Postgres {
		var dest []caseRow
		err := s.db.queryPgx(ctx, q, &dest, func(rows pgx.Rows) error {
			if err := rows.Scan(targets...); err != nil {
				return err
			}
			each(&scratch)
			return nil
		})
		return s.db.interpret(err, "Cases")
	}
	rows, err := q.Rows()
	if err != nil {
		return s.db.interpret(err, "Cases")
	}
	defer rows.Close()
	for rows.Next() {
		if err := rows.Scan(targets...); err != nil {
			return s.db.interpret(err, "Cases")
		}
		each(&scratch)
	}
	return s.db.interpret(rows.Err(), "Cases")
}

// searchFactories returns the factories whose Chinese or English name
// contains query (lower() on both sides makes it case-insensitive on
// PostgreSQL; LIKE is on SQLite). The factories are few: this reads them.
func (s *CaseService) searchFactories(tx *gorm.DB, query string) ([]uuid.UUID, error) {
	if query == "" {
		return nil, nil
	}
	like := "%" + escapeLike(query) + "%"
	var ids []uuid.UUID
	err := tx.Model(&factoryRow{}).Where("lower(name) LIKE lower(?) ESCAPE '\\' OR lower(name_en) LIKE lower(?) ESCAPE '\\'", like, like).
		Pluck("id", &ids).Error
	if err != nil {
		return nil, s.db.interpret(err, "Factories")
	}
	return ids, nil
}

// listQuery selects the facts of the cases f selects, newest first, with
// factories the factories that match f.Query. Every filter is served by an
// index; see the migrations and TestListUsesIndexPostgres.
//
// On PostgreSQL an overdue or due-to-close list picks its page's ids first,
// from cases_follow_up_dates_idx alone, and then reads those rows: the
// dates match thousands of cases in follow-up, which the page must sort by
// id, and reading each of them from the table to sort it took most of the
// list's time.
func (s *CaseService) listQuery(tx *gorm.DB, f cases.CaseFilter, factories []uuid.UUID, limit int) *gorm.DB {
	q := tx.Model(&caseRow{})
	if f.ClientID.Valid {
		q = q.Where("client_id = ?", f.ClientID.UUID)
	}
	if f.FactoryID.Valid {
		q = q.Where("factory_id = ?", f.FactoryID.UUID)
	}
	if f.State != "" {
		q = q.Where("state = ?", string(f.State))
	}
	if f.AssigneeID.Valid {
		q = q.Where("assignee_id = ?", f.AssigneeID.UUID)
	}
	if f.FiledBy.Valid {
		q = q.Where("filed_by = ?", f.FiledBy.UUID)
	}
	if f.Unassigned {
		q = q.Where("assignee_id IS NULL")
	}
	if f.Code != "" {
		q = q.Where("code = ?", f.Code)
	}
	if f.Query != "" {
		// LIKE is case-insensitive for Latin letters on SQLite. The code is
		// matched by its trigram index on PostgreSQL; the factories whose
		// name matches were looked up first (searchFactories), so that the
		// planner sees how many there are.
		upper := "%" + escapeLike(strings.ToUpper(f.Query)) + "%"
		if prefix, ok := codePrefix(strings.ToUpper(f.Query)); ok {
			// The same cases, by the code's b-tree index.
			upper = escapeLike(prefix) + "%"
		}
		if len(factories) > 0 {
			q = q.Where("code LIKE ? ESCAPE '\\' OR factory_id IN ?", upper, factories)
		} else {
			q = q.Where("code LIKE ? ESCAPE '\\'", upper)
		}
	}
	if !f.OverdueAsOf.IsZero() {
		today := cases.Today(f.OverdueAsOf, s.db.Zone)
		month := cases.MonthOf(f.OverdueAsOf.In(s.db.Zone)).Start()
		q = q.Where("state = ? AND uncovered_from < ? AND plan_end_on >= ?", string(cases.StateFollowUp), month, today)
	}
	if !f.DueToCloseAsOf.IsZero() {
		q = q.Where("state = ? AND plan_end_on < ?", string(cases.StateFollowUp), cases.Today(f.DueToCloseAsOf, s.db.Zone))
	}
	if f.Alert {
		q = q.Where("working_again_since IS NOT NULL AND state <> ?", string(cases.StateClosed))
	}
	if !f.ArrearsAsOf.IsZero() {
		// Late: the first unpaid month began more than the grace days ago.
		q = q.Where("unpaid_due_on < ?", cases.Today(f.ArrearsAsOf, s.db.Zone).AddDate(0, 0, -s.db.GraceDays))
	}
	if !f.ClosedSince.IsZero() {
		// cases_retention_idx: closed_at of the closed cases not erased.
		q = q.Where("state = ? AND erased_at IS NULL AND closed_at >= ?", string(cases.StateClosed), f.ClosedSince.UTC())
	}
	if f.After.Valid {
		q = q.Where("id < ?", f.After.UUID)
	}
	q = q.Order("id DESC").Limit(limit)
	if s.db.dialect == Postgres && (!f.OverdueAsOf.IsZero() || !f.DueToCloseAsOf.IsZero()) {
		return tx.Model(&caseRow{}).Select(caseFacts).Where("id IN (?)", q.Select("id")).Order("id DESC")
	}
	return q.Select(caseFacts)
}

// yearAndNumber is a part of a code from its year on, such as 2026-004.
var yearAndNumber = regexp.MustCompile(`^[0-9]{4}-[0-9]*$`)

// codePrefix tells whether every code that contains q starts with prefix,
// given that codes are CL-YYYY-N…: q starting with CL- can only be found at
// a code's start, and q of a year, a hyphen and digits only across the
// hyphen after the year (four digits cannot end "CL"). Such a search is a
// prefix search, which the code's b-tree index answers at once; trigrams
// common to every code (CL-2026-) make it slow.
func codePrefix(q string) (string, bool) {
	switch {
	case strings.HasPrefix(q, "CL-"):
		return q, true
	case yearAndNumber.MatchString(q):
		return "CL-" + q, true
	}
	return "", false
}

// escapeLike escapes the wildcards of LIKE in s (the escape is a backslash).
func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, "%", `\%`, "_", `\_`).Replace(s)
}

// change is one edit of a case inside its transaction: it gets the case as
// stored and the time of the edit, may write other rows through tx, and
// returns the case columns to set and the public details to audit.
type change func(tx *gorm.DB, row *caseRow, c *cases.Case, now time.Time) (cols map[string]any, details map[string]string, err error)

// update changes a case in one transaction where its version still
// matches; it bumps the version and the time, and appends the audit entry
// for action in the same transaction.
func (s *CaseService) update(ctx context.Context, actor cases.Actor, id uuid.UUID, version int, action string, fn change) (*cases.Case, error) {
	return s.updateSealed(ctx, actor, id, version, action, func(tx *gorm.DB, row *caseRow, c *cases.Case, now time.Time) (map[string]any, map[string]string, []byte, error) {
		cols, details, err := fn(tx, row, c, now)
		return cols, details, nil, err
	})
}

// sealedChange is a change whose audit entry also carries a note sealed
// under the case key, such as the reason of a decision.
type sealedChange func(tx *gorm.DB, row *caseRow, c *cases.Case, now time.Time) (cols map[string]any, details map[string]string, sealed []byte, err error)

// updateSealed is update for a sealedChange.
func (s *CaseService) updateSealed(ctx context.Context, actor cases.Actor, id uuid.UUID, version int, action string, fn sealedChange) (*cases.Case, error) {
	var out *cases.Case
	planWritten := new(bool)
	ctx = context.WithValue(ctx, planWrittenKey{}, planWritten)
	err := s.db.transact(ctx, func(tx *gorm.DB) error {
		row, plan, err := s.loadFor(tx, id, true)
		if err != nil {
			return err
		}
		if row.Version != version {
			return staleVersion(row.Version, version)
		}
		c := row.domain()
		c.Plan = plan
		now := s.db.now()
		cols, details, sealed, err := fn(tx, row, c, now)
		if err != nil {
			return err
		}
		cols["version"] = version + 1
		cols["updated_at"] = now
		// The case comes back as updated, in the same statement.
		var updated caseRow
		res := tx.Model(&updated).Clauses(clause.Returning{}).Where("id = ? AND version = ?", id, version).Updates(cols)
		if res.Error != nil {
			return s.db.interpret(res.Error, "Case")
		} else if res.RowsAffected == 0 {
			return staleVersion(version+1, version)
		}
		if details == nil {
			details = map[string]string{}
		}
		details["version"] = strconv.Itoa(version + 1)
		err = s.db.appendAudit(tx, actor, auditEvent{action: action, caseID: uuid.NullUUID{UUID: id, Valid: true},
			subject: row.Code, details: details, sealed: sealed})
		if err != nil {
			return err
		}
		if *planWritten || !mayHavePlan(row.State) {
			out, err = s.complete(tx, &updated)
			return err
		}
		// The plan read above is the plan still: only the links are read.
		out = updated.domain()
		out.Plan = plan
		out.Links, err = s.rowLinks(tx, &updated)
		return err
	})
	return out, err
}

// planWrittenKey marks, in the context of an update's transaction, that its
// change wrote the case's plan (notePlanWritten): the case is then answered
// with the plan read again, otherwise with the one read before the change.
type planWrittenKey struct{}

// notePlanWritten tells the update under way in tx that its plan changed.
func notePlanWritten(tx *gorm.DB) {
	if flag, ok := tx.Statement.Context.Value(planWrittenKey{}).(*bool); ok {
		*flag = true
	}
}

// complete turns a case row read in tx into the case with its plan and links.
func (s *CaseService) complete(tx *gorm.DB, row *caseRow) (*cases.Case, error) {
	c := row.domain()
	if mayHavePlan(row.State) {
		var plans []planRow
		if err := tx.Where("case_id = ?", row.ID).Limit(1).Find(&plans).Error; err != nil {
			return nil, s.db.interpret(err, "Plan")
		}
		if len(plans) > 0 {
			c.Plan = plans[0].domain()
		}
	}
	var err error
	if c.Links, err = s.rowLinks(tx, row); err != nil {
		return nil, err
	}
	return c, nil
}

// FindCaseFacts returns the case's own facts, without its plan or links,
// in one query: enough to decide who may see it.
func (s *CaseService) FindCaseFacts(ctx context.Context, id uuid.UUID) (*cases.Case, error) {
	var row caseRow
	if err := s.db.gorm.WithContext(ctx).Select(caseFacts).Where("id = ?", id).Take(&row).Error; err != nil {
		return nil, s.db.interpret(err, "Case")
	}
	return row.domain(), nil
}

// reload reads the case with its plan as the transaction sees it.
func (s *CaseService) reload(tx *gorm.DB, id uuid.UUID) (*cases.Case, error) {
	row, plan, err := s.load(tx, id)
	if err != nil {
		return nil, err
	}
	c := row.domain()
	c.Plan = plan
	if c.Links, err = s.rowLinks(tx, row); err != nil {
		return nil, err
	}
	return c, nil
}

func staleVersion(current, seen int) error {
	return cases.Errorf(cases.ECONFLICT, "The case changed since you read it (version %d, you sent %d); reload it and try again.", current, seen)
}
