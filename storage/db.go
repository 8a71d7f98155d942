// Package storage keeps Remedy's data in PostgreSQL (production) or an
// embedded SQLite file (the default), through gorm, with numbered SQL
// migrations per database and every identity and note sealed with age.
package storage

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	gosqlite "github.com/glebarez/go-sqlite"
	"github.com/glebarez/sqlite"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	cases "github.com/remedy-cases/remedy/case"
)

// Dialect names the database behind a DB.
type Dialect string

const (
	Postgres Dialect = "postgres"
	SQLite   Dialect = "sqlite"
)

//go:embed migrations
var migrations embed.FS

// Config says where the data lives.
type Config struct {
	// DatabaseURL is a postgres:// URL; empty selects SQLite in DataDir.
	DatabaseURL string
	// DataDir holds the SQLite file when DatabaseURL is empty.
	DataDir string
	// Logger receives slow-query warnings and database errors, never with
	// parameter values. Nil logs nothing.
	Logger *slog.Logger
	// TraceSQL logs every statement (parameterised) at debug level.
	TraceSQL bool
	// Zone is the organisation's time zone: it decides the calendar month of
	// an instant, such as the month a plan was approved in. UTC if nil.
	Zone *time.Location
	// ArrearsDays is how long a month's stipend may stay unpaid after the
	// month's first day before the case is in arrears; 10 if zero.
	ArrearsDays int
	// Blobs keeps the sealed documents (FileBlobs in the data directory, or
	// S3). Nil: documents cannot be attached.
	Blobs BlobStore
	// MaxDocumentBytes is the size limit of one document;
	// cases.DefaultMaxDocumentBytes if zero.
	MaxDocumentBytes int64
	// ManualAuditSeal keeps the background audit sealer from running on
	// PostgreSQL: entries stay queued until SealAudit, Verify or Close.
	// For tests that look at the queue.
	ManualAuditSeal bool
}

// DB is an open database with its services.
type DB struct {
	gorm    *gorm.DB
	dialect Dialect
	keys    *Keyring
	log     *slog.Logger
	blobs   BlobStore
	maxDoc  int64

	// Now returns the current time; tests replace it. Rules that depend on
	// time take it from here, never from time.Now directly.
	Now func() time.Time
	// Zone decides calendar months and days (Config.Zone).
	Zone *time.Location
	// GraceDays is Config.ArrearsDays.
	GraceDays int

	autoSeal   bool         // run the background audit sealer (PostgreSQL)
	sparesOnce sync.Once    // the spare case keys' maker starts with the first filing
	spares     *spareKeys   // case keys made ahead (spares.go); nil until the first filing
	sealerOnce sync.Once    // it starts with the first entry this process appends
	sealer     *auditSealer // the background audit sealer; nil until it starts
	users      *userCache   // users by id, for the check of every request

	factoryNames nameCache // factory names by id (FactoryNames)

	// sqliteWriter is SQLite's one write slot (oneWriter); nil on PostgreSQL.
	sqliteWriter chan struct{}
}

// oneWriter waits for SQLite's one write slot and returns its release; on
// PostgreSQL it returns at once. Every transaction on SQLite writes (it
// begins IMMEDIATE), and SQLite lets one at a time hold the lock: the
// others waited in its busy handler, which sleeps 1, 2, 5… up to 100 ms
// between tries, so that under load a filing sat asleep while the lock
// was free (p99 99 ms, a worst of 683 ms at 16 clients). Queued here,
// the next one goes the moment the last is done, and a request that is
// cancelled stops waiting. It waits no longer than SQLite's busy timeout
// did (sqliteBusy), and answers as SQLite did then: busy, try again.
func (db *DB) oneWriter(ctx context.Context) (func(), error) {
	if db.sqliteWriter == nil {
		return func() {}, nil
	}
	select {
	case db.sqliteWriter <- struct{}{}:
		return func() { <-db.sqliteWriter }, nil
	default:
	}
	busy := time.NewTimer(sqliteBusy)
	defer busy.Stop()
	select {
	case db.sqliteWriter <- struct{}{}:
		return func() { <-db.sqliteWriter }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-busy.C:
		return nil, cases.Errorf(cases.ECONFLICT, "The database is busy; try again.")
	}
}

// sqliteBusy is SQLite's busy timeout (the DSN's busy_timeout, in ms);
// a test shortens it.
var sqliteBusy = 10 * time.Second

// Open connects to the database named by cfg. It does not migrate.
func Open(ctx context.Context, cfg Config, keys *Keyring) (*DB, error) {
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	gcfg := gormConfig(log, cfg.TraceSQL)
	zone := cfg.Zone
	if zone == nil {
		zone = time.UTC
	}
	grace := cfg.ArrearsDays
	if grace == 0 {
		grace = cases.DefaultGraceDays
	}
	maxDoc := cfg.MaxDocumentBytes
	if maxDoc == 0 {
		maxDoc = cases.DefaultMaxDocumentBytes
	}
	db := &DB{keys: keys, log: log, Now: func() time.Time { return time.Now() }, Zone: zone, GraceDays: grace,
		blobs: cfg.Blobs, maxDoc: maxDoc, users: newUserCache()}
	var err error
	if cfg.DatabaseURL == "" {
		db.dialect = SQLite
		db.sqliteWriter = make(chan struct{}, 1)
		db.gorm, err = openSQLite(cfg.DataDir, gcfg)
	} else {
		db.dialect = Postgres
		db.gorm, err = openPostgres(cfg.DatabaseURL, gcfg)
	}
	if err != nil {
		return nil, err
	}
	if err := db.Ping(ctx); err != nil {
		db.Close()
		return nil, err
	}
	db.autoSeal = db.dialect == Postgres && !cfg.ManualAuditSeal
	return db, nil
}

func sqlLogLevel(trace bool) logger.LogLevel {
	if trace {
		return logger.Info
	}
	return logger.Warn
}

func openSQLite(dir string, gcfg *gorm.Config) (*gorm.DB, error) {
	if dir == "" {
		return nil, errors.New("storage: no database URL and no data directory")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("storage: create data directory: %w", err)
	}
	// A relative path in a file: URI is read as a host name and fails with
	// a misleading "out of memory"; the default ./remedy-data is relative.
	dir, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("storage: data directory: %w", err)
	}
	// Immediate transactions take the write lock at BEGIN, so two writers
	// queue on the busy timeout instead of failing to upgrade a read lock.
	// No _time_format: the driver stops reading parameters after it, which
	// would silently drop _txlock; its default format is UTC-sortable anyway.
	dsn := (&url.URL{Scheme: "file", Path: filepath.Join(dir, "remedy.db"), RawQuery: strings.Join([]string{
		"_pragma=foreign_keys(1)", "_pragma=journal_mode(WAL)", "_pragma=busy_timeout(" + strconv.FormatInt(sqliteBusy.Milliseconds(), 10) + ")",
		"_pragma=synchronous(NORMAL)", "_txlock=immediate",
	}, "&")}).String()
	g, err := gorm.Open(sqlite.Open(dsn), gcfg)
	if err != nil {
		return nil, fmt.Errorf("storage: open sqlite: %w", err)
	}
	sqlDB, err := g.DB()
	if err != nil {
		return nil, err
	}
	// One writer at a time is all SQLite allows; a few readers go alongside in WAL.
	sqlDB.SetMaxOpenConns(4)
	return g, nil
}

func openPostgres(dsn string, gcfg *gorm.Config) (*gorm.DB, error) {
	pcfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		// The DSN may hold a password: say what failed, not the DSN.
		return nil, fmt.Errorf("storage: open postgres: %w", redactDSN(err, dsn))
	}
	conns := stdlib.OpenDB(*pcfg, stdlib.OptionAfterConnect(func(_ context.Context, c *pgx.Conn) error {
		registerUUIDs(c.TypeMap())
		return nil
	}))
	g, err := gorm.Open(postgres.New(postgres.Config{Conn: conns}), gcfg)
	if err != nil {
		// The DSN may hold a password: say what failed, not the DSN.
		return nil, fmt.Errorf("storage: open postgres: %w", redactDSN(err, dsn))
	}
	sqlDB, err := g.DB()
	if err != nil {
		return nil, err
	}
	sqlDB.SetMaxOpenConns(20)
	sqlDB.SetMaxIdleConns(20)
	sqlDB.SetConnMaxIdleTime(5 * time.Minute)
	return g, nil
}

// registerUUIDs teaches pgx to encode uuid.UUID and uuid.NullUUID as a
// uuid directly. pgx reached them through driver.Valuer, as a string,
// failed to encode that in binary, built an error and tried again in text:
// for every id of every statement (12% of the server's time under load).
// A uuidArray is encoded as a binary uuid[] too: pgx would take its text
// form from Value, parse it and encode it again.
//
// Scanning is the same story backwards: uuid.UUID is an sql.Scanner, which
// pgx prefers to its own plans, so every uuid read by pgx itself (a list
// page has 200) was formatted as text and parsed again. uuidCodec reads
// the 16 bytes straight into uuid.UUID and uuid.NullUUID.
func registerUUIDs(m *pgtype.Map) {
	m.RegisterType(&pgtype.Type{Name: "uuid", OID: pgtype.UUIDOID, Codec: uuidCodec{}})
	m.TryWrapEncodePlanFuncs = append([]pgtype.TryWrapEncodePlanFunc{func(value any) (pgtype.WrappedEncodePlanNextSetter, any, bool) {
		if u, ok := asPgUUID(value); ok {
			return &uuidPlan{}, u, true
		}
		if a, ok := value.(uuidArray); ok {
			return &uuidArrayPlan{}, a.pg(), true
		}
		return nil, nil, false
	}}, m.TryWrapEncodePlanFuncs...)
}

type uuidArrayPlan struct{ next pgtype.EncodePlan }

func (p *uuidArrayPlan) SetNext(next pgtype.EncodePlan) { p.next = next }

func (p *uuidArrayPlan) Encode(value any, buf []byte) ([]byte, error) {
	return p.next.Encode(value.(uuidArray).pg(), buf)
}

func (a uuidArray) pg() []pgtype.UUID {
	out := make([]pgtype.UUID, len(a))
	for i, id := range a {
		out[i] = pgtype.UUID{Bytes: id, Valid: true}
	}
	return out
}

func asPgUUID(value any) (pgtype.UUID, bool) {
	switch v := value.(type) {
	case uuid.UUID:
		return pgtype.UUID{Bytes: v, Valid: true}, true
	case uuid.NullUUID:
		return pgtype.UUID{Bytes: v.UUID, Valid: v.Valid}, true
	case *uuid.UUID: // a row's own field, as caseRow.values gives it
		if v != nil {
			return pgtype.UUID{Bytes: *v, Valid: true}, true
		}
	case *uuid.NullUUID:
		if v != nil {
			return pgtype.UUID{Bytes: v.UUID, Valid: v.Valid}, true
		}
	}
	return pgtype.UUID{}, false
}

// uuidCodec is pgx's uuid codec, with binary plans of its own to scan into
// uuid.UUID and uuid.NullUUID.
type uuidCodec struct{ pgtype.UUIDCodec }

func (c uuidCodec) PlanScan(m *pgtype.Map, oid uint32, format int16, target any) pgtype.ScanPlan {
	if format == pgtype.BinaryFormatCode {
		switch target.(type) {
		case *uuid.UUID:
			return scanUUID{}
		case *uuid.NullUUID:
			return scanNullUUID{}
		}
	}
	return c.UUIDCodec.PlanScan(m, oid, format, target)
}

type (
	scanUUID     struct{}
	scanNullUUID struct{}
)

func (scanUUID) Scan(src []byte, dst any) error {
	if src == nil {
		return errors.New("cannot scan NULL into a uuid.UUID")
	}
	if len(src) != len(uuid.UUID{}) {
		return fmt.Errorf("a binary uuid of %d bytes", len(src))
	}
	copy(dst.(*uuid.UUID)[:], src)
	return nil
}

func (scanNullUUID) Scan(src []byte, dst any) error {
	n := dst.(*uuid.NullUUID)
	if src == nil {
		*n = uuid.NullUUID{}
		return nil
	}
	n.Valid = true
	return scanUUID{}.Scan(src, &n.UUID)
}

type uuidPlan struct{ next pgtype.EncodePlan }

func (p *uuidPlan) SetNext(next pgtype.EncodePlan) { p.next = next }

func (p *uuidPlan) Encode(value any, buf []byte) ([]byte, error) {
	u, _ := asPgUUID(value)
	return p.next.Encode(u, buf)
}

// quietLogger passes gorm's trace of a statement on only when it is worth
// a line: an error, a slow statement, or tracing on. gorm's slog logger
// renders every statement's SQL (regular expressions over the text) before
// deciding, 3% of the server's time. For the same reason raw queries are
// read with Find, not Scan: gorm's Scan renders the SQL whatever the level.
type quietLogger struct {
	logger.Interface
	slow  time.Duration
	trace bool
}

// ParamsFilter drops a statement's parameters before gorm renders it for
// the log: they may hold names searched for, emails, hashes or sealed
// blobs. gorm asks the logger it was given, this one; without this method
// the wrapped logger's ParameterizedQueries was never consulted, and an
// error or a slow statement was logged with its values.
func (l quietLogger) ParamsFilter(_ context.Context, sql string, _ ...any) (string, []any) {
	return sql, nil
}

func (l quietLogger) LogMode(level logger.LogLevel) logger.Interface {
	return quietLogger{Interface: l.Interface.LogMode(level), slow: l.slow, trace: l.trace}
}

func (l quietLogger) Trace(ctx context.Context, begin time.Time, fc func() (string, int64), err error) {
	if l.trace || (err != nil && !errors.Is(err, gorm.ErrRecordNotFound)) || time.Since(begin) > l.slow {
		l.Interface.Trace(ctx, begin, fc, err)
	}
}

func redactDSN(err error, dsn string) error {
	if u, perr := url.Parse(dsn); perr == nil && u.User != nil {
		if p, ok := u.User.Password(); ok && p != "" {
			return errors.New(strings.ReplaceAll(err.Error(), p, "xxxxx"))
		}
	}
	return err
}

func init() {
	// gorm's Scan records its statement with a Recorder that renders the
	// values unless this filter drops them; quietLogger.ParamsFilter covers
	// every other path. storage is the only user of gorm in the program.
	logger.RecorderParamsFilter = func(_ context.Context, sql string, _ ...any) (string, []any) {
		return sql, nil
	}
}

// queryPgx runs the SELECT gorm builds for q (as q.Find(dest) would) with
// pgx itself, on a connection of the pool, and calls each for every row;
// the statement is logged as gorm logs its own. PostgreSQL only.
func (db *DB) queryPgx(ctx context.Context, q *gorm.DB, dest any, each func(pgx.Rows) error) error {
	stmt := q.Session(&gorm.Session{DryRun: true}).Find(dest).Statement
	if stmt.Error != nil {
		return stmt.Error
	}
	return db.rawPgx(ctx, stmt.SQL.String(), stmt.Vars, each)
}

// rawPgx runs query, PostgreSQL's SQL with $1… placeholders, with pgx
// itself on a connection of the pool, and calls each for every row it
// returns; outside a transaction, a statement is one of its own. The
// statements of every request (a filing's two, a list's) go this way:
// gorm and database/sql around pgx were a tenth of the server's time.
func (db *DB) rawPgx(ctx context.Context, query string, vars []any, each func(pgx.Rows) error) error {
	sqlDB, err := db.gorm.DB()
	if err != nil {
		return err
	}
	conn, err := sqlDB.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	begin := time.Now()
	var n int64
	err = conn.Raw(func(dc any) error {
		c, ok := dc.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("storage: a PostgreSQL connection is a %T", dc)
		}
		rows, err := c.Conn().Query(ctx, query, vars...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			n++
			if err := each(rows); err != nil {
				return err
			}
		}
		return rows.Err()
	})
	db.gorm.Logger.Trace(ctx, begin, func() (string, int64) { return query, n }, err)
	return err
}

// numbered rewrites the ? placeholders of query, SQL built here with no
// other question mark, as PostgreSQL's $1, $2…
func numbered(query string) string {
	var b strings.Builder
	b.Grow(len(query) + strings.Count(query, "?")*3)
	n := 0
	for {
		i := strings.IndexByte(query, '?')
		if i < 0 {
			b.WriteString(query)
			return b.String()
		}
		n++
		b.WriteString(query[:i])
		b.WriteByte('$')
		b.WriteString(strconv.Itoa(n))
		query = query[i+1:]
	}
}

// anyOf is a condition that column is one of ids, and its one argument.
// On PostgreSQL it is "column = ANY(?)" with ids as one uuid[]: one
// parameter, where gorm writes IN with one per id (a page's links query
// had a hundred) and a statement of its own for every count of them. On
// SQLite it is "column IN ?".
func (db *DB) anyOf(column string, ids []uuid.UUID) (string, any) {
	if db.dialect != Postgres {
		return column + " IN ?", ids
	}
	return column + " = ANY(?::uuid[])", uuidArray(ids)
}

// uuidArray is a PostgreSQL uuid[]: pgx encodes it in binary
// (registerUUIDs); Value gives its text form to any other driver.
type uuidArray []uuid.UUID

func (a uuidArray) Value() (driver.Value, error) {
	b := make([]byte, 0, 2+len(a)*37)
	b = append(b, '{')
	for i, id := range a {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, id.String()...)
	}
	return string(append(b, '}')), nil
}

// slowSQL is how long a statement may take before it is logged.
const slowSQL = 500 * time.Millisecond

// gormConfig is gorm's configuration: statements logged to log only when
// they fail, are slow, or trace is on, and never with their parameters.
func gormConfig(log *slog.Logger, trace bool) *gorm.Config {
	return &gorm.Config{
		Logger: quietLogger{slow: slowSQL, trace: trace, Interface: logger.NewSlogLogger(log, logger.Config{
			SlowThreshold:             slowSQL,
			LogLevel:                  sqlLogLevel(trace),
			IgnoreRecordNotFoundError: true,
			// Parameters may hold sealed blobs, hashes or user emails: never
			// log them (quietLogger.ParamsFilter is what gorm asks).
			ParameterizedQueries: true,
		})},
		NowFunc:                func() time.Time { return time.Now().UTC().Truncate(time.Microsecond) },
		SkipDefaultTransaction: true,
	}
}

// Dialect tells which database this is.
func (db *DB) Dialect() Dialect { return db.dialect }

// Gorm exposes the connection to this package's tests and tools.
func (db *DB) Gorm() *gorm.DB { return db.gorm }

// Ping checks that the database answers.
func (db *DB) Ping(ctx context.Context) error {
	sqlDB, err := db.gorm.DB()
	if err != nil {
		return err
	}
	if err := sqlDB.PingContext(ctx); err != nil {
		return fmt.Errorf("storage: ping: %w", err)
	}
	return nil
}

// Close stops the audit sealer, seals what is pending, and closes the
// connection pool.
func (db *DB) Close() error {
	db.stopSpares()
	db.stopAuditSealer()
	sqlDB, err := db.gorm.DB()
	if err != nil {
		return err
	}
	return sqlDB.Close()
}

// Migrate applies every pending migration of this database and returns the
// versions it applied. Concurrent callers on PostgreSQL queue on an advisory
// lock, so several processes may start at once.
func (db *DB) Migrate(ctx context.Context) ([]int64, error) {
	p, err := db.migrator()
	if err != nil {
		return nil, err
	}
	results, err := p.Up(ctx)
	if err != nil {
		return nil, fmt.Errorf("storage: migrate: %w", err)
	}
	applied := make([]int64, 0, len(results))
	for _, r := range results {
		applied = append(applied, r.Source.Version)
	}
	if slices.Contains(applied, ledgerMigration) {
		// The ledger's first unpaid month follows from rules in Go.
		if err := db.RecomputeLedgers(ctx); err != nil {
			return applied, fmt.Errorf("storage: migrate: the ledger: %w", err)
		}
	}
	return applied, nil
}

// ledgerMigration is the migration that made the stipend ledger.
const ledgerMigration = 7

// RecomputeLedgers recomputes every case's first unpaid month, in batches of
// one transaction each. The migration that made the ledger runs it once.
func (db *DB) RecomputeLedgers(ctx context.Context) error {
	var ids []uuid.UUID
	if err := db.gorm.WithContext(ctx).Model(&planVersionRow{}).Distinct("case_id").Pluck("case_id", &ids).Error; err != nil {
		return db.interpret(err, "Plan versions")
	}
	for start := 0; start < len(ids); start += 200 {
		batch := ids[start:min(start+200, len(ids))]
		err := db.transact(ctx, func(tx *gorm.DB) error {
			for _, id := range batch {
				if err := db.refreshLedger(tx, id); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// MigrationStatus reports the current and the latest schema version.
func (db *DB) MigrationStatus(ctx context.Context) (current, latest int64, err error) {
	p, err := db.migrator()
	if err != nil {
		return 0, 0, err
	}
	if current, err = p.GetDBVersion(ctx); err != nil {
		return 0, 0, err
	}
	sources := p.ListSources()
	if len(sources) > 0 {
		latest = sources[len(sources)-1].Version
	}
	return current, latest, nil
}

func (db *DB) migrator() (*goose.Provider, error) {
	sqlDB, err := db.gorm.DB()
	if err != nil {
		return nil, err
	}
	dir, err := fs.Sub(migrations, "migrations/"+string(db.dialect))
	if err != nil {
		return nil, err
	}
	var opts []goose.ProviderOption
	dialect := goose.DialectSQLite3
	if db.dialect == Postgres {
		dialect = goose.DialectPostgres
		locker, err := lock.NewPostgresSessionLocker()
		if err != nil {
			return nil, err
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	}
	return goose.NewProvider(dialect, sqlDB, dir, opts...)
}

// now is the database's idea of the present: UTC at microsecond precision,
// the precision both databases keep.
func (db *DB) now() time.Time { return db.Now().UTC().Truncate(time.Microsecond) }

// today is the current calendar date in the organisation's zone.
func (db *DB) today() time.Time { return cases.Today(db.Now(), db.Zone) }

// transact runs fn in one transaction, and wakes the audit sealer after a
// commit that appended an entry.
func (db *DB) transact(ctx context.Context, fn func(tx *gorm.DB) error) error {
	release, err := db.oneWriter(ctx)
	if err != nil {
		return err
	}
	defer release()
	var audited bool
	err = db.gorm.WithContext(context.WithValue(ctx, auditedKey{}, &audited)).Transaction(fn)
	if err == nil && audited {
		db.wakeSealer()
	}
	return err
}

// snapshot runs fn in one read-only transaction that sees one state of the
// database throughout (REPEATABLE READ on PostgreSQL; SQLite's transactions
// always do).
func (db *DB) snapshot(ctx context.Context, fn func(tx *gorm.DB) error) error {
	if db.dialect == Postgres {
		return db.gorm.WithContext(ctx).Transaction(fn, &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true})
	}
	release, err := db.oneWriter(ctx)
	if err != nil {
		return err
	}
	defer release()
	return db.gorm.WithContext(ctx).Transaction(fn)
}

// interpret translates a database error into a domain error, in one place.
// Database messages can quote the values of a row, so none is passed on:
// the caller gets a code and a fixed sentence, and the log gets the codes.
func (db *DB) interpret(err error, what string) error {
	if err == nil {
		return nil
	}
	var domain *cases.Error
	if errors.As(err, &domain) {
		return err
	}
	if errors.Is(err, gorm.ErrRecordNotFound) || errors.Is(err, sql.ErrNoRows) {
		return cases.Errorf(cases.ENOTFOUND, "%s not found.", what)
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case "23505": // unique_violation
			return cases.Errorf(cases.ECONFLICT, "%s already exists.", what)
		case "23503": // foreign_key_violation
			return cases.Errorf(cases.EINVALID, "%s refers to something that does not exist.", what)
		case "23514", "23502": // check_violation, not_null_violation
			return cases.Errorf(cases.EINVALID, "%s breaks a rule of the data (%s).", what, pgErr.ConstraintName)
		case "40001", "40P01": // serialization_failure, deadlock_detected
			return cases.Errorf(cases.ECONFLICT, "%s changed concurrently; try again.", what)
		}
		db.log.Error("database error", "sqlstate", pgErr.Code, "constraint", pgErr.ConstraintName, "table", pgErr.TableName)
		return fmt.Errorf("storage: %s: sqlstate %s", what, pgErr.Code)
	}
	var liteErr *gosqlite.Error
	if errors.As(err, &liteErr) {
		switch liteErr.Code() {
		case 2067, 1555: // SQLITE_CONSTRAINT_UNIQUE, _PRIMARYKEY
			return cases.Errorf(cases.ECONFLICT, "%s already exists.", what)
		case 787: // SQLITE_CONSTRAINT_FOREIGNKEY
			return cases.Errorf(cases.EINVALID, "%s refers to something that does not exist.", what)
		case 275, 1299: // SQLITE_CONSTRAINT_CHECK, _NOTNULL
			return cases.Errorf(cases.EINVALID, "%s breaks a rule of the data.", what)
		case 5, 517: // SQLITE_BUSY, SQLITE_BUSY_SNAPSHOT
			return cases.Errorf(cases.ECONFLICT, "%s is busy; try again.", what)
		}
		db.log.Error("database error", "sqlite_code", liteErr.Code())
		return fmt.Errorf("storage: %s: sqlite code %d", what, liteErr.Code())
	}
	db.log.Error("database error", "what", what, "type", fmt.Sprintf("%T", err))
	return fmt.Errorf("storage: %s: %w", what, err)
}

// Blobs is the store of the sealed documents; nil when none is configured.
func (db *DB) Blobs() BlobStore { return db.blobs }
