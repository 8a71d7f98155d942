// Package storagetest opens throwaway Remedy databases for tests: an SQLite
// file in a temporary directory always, and a fresh schema of the PostgreSQL
// server named by REMEDY_TEST_POSTGRES_URL when it is set. With CI set, a
// missing PostgreSQL fails the test instead of skipping it.
package storagetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	"filippo.io/age"
	"github.com/google/uuid"
	_ "github.com/jackc/pgx/v5/stdlib"

	cases "github.com/remedy-cases/remedy/case"
	"github.com/remedy-cases/remedy/storage"
)

// PostgresURLEnv names the variable that points the tests at PostgreSQL.
const PostgresURLEnv = "REMEDY_TEST_POSTGRES_URL"

// Dialects returns the databases to test against.
func Dialects(tb testing.TB) []storage.Dialect {
	tb.Helper()
	if PostgresURL(tb) == "" {
		return []storage.Dialect{storage.SQLite}
	}
	return []storage.Dialect{storage.SQLite, storage.Postgres}
}

// PostgresURL returns the test server's URL, or "" when PostgreSQL is not
// configured outside CI. In CI, its absence fails tb.
func PostgresURL(tb testing.TB) string {
	tb.Helper()
	u := os.Getenv(PostgresURLEnv)
	if u == "" && os.Getenv("CI") != "" {
		tb.Fatalf("%s is not set, and CI must test PostgreSQL", PostgresURLEnv)
	}
	return u
}

// RequirePostgres returns the test server's URL or skips tb (fails in CI).
func RequirePostgres(tb testing.TB) string {
	tb.Helper()
	u := PostgresURL(tb)
	if u == "" {
		tb.Skipf("%s is not set: skipping a PostgreSQL-only test", PostgresURLEnv)
	}
	return u
}

// Each runs fn as a subtest on a fresh, migrated database of every dialect.
func Each(t *testing.T, fn func(t *testing.T, db *storage.DB)) {
	t.Helper()
	for _, d := range Dialects(t) {
		t.Run(string(d), func(t *testing.T) { fn(t, Open(t, d)) })
	}
}

// Keyring returns a fresh keyring with one server identity.
func Keyring(tb testing.TB) *storage.Keyring {
	tb.Helper()
	id, err := age.GenerateX25519Identity()
	if err != nil {
		tb.Fatal(err)
	}
	return KeyringOf(tb, []*age.X25519Identity{id}, []*age.X25519Recipient{id.Recipient()}, BlindIndexKey)
}

// BlindIndexKey is a fixed blind-index key for tests.
var BlindIndexKey = make([]byte, storage.BlindIndexKeySize)

// KeyringOf returns a keyring that unwraps with ids and wraps to recipients.
func KeyringOf(tb testing.TB, ids []*age.X25519Identity, recipients []*age.X25519Recipient, blindIndexKey []byte) *storage.Keyring {
	tb.Helper()
	identities := make([]age.Identity, len(ids))
	for i, id := range ids {
		identities[i] = id
	}
	k, err := storage.NewKeyring(identities, recipients, blindIndexKey)
	if err != nil {
		tb.Fatal(err)
	}
	return k
}

// Open returns a fresh, migrated database of dialect, closed at cleanup.
func Open(tb testing.TB, d storage.Dialect) *storage.DB {
	tb.Helper()
	return OpenWith(tb, Config(tb, d), Keyring(tb))
}

// OpenWith opens and migrates cfg with keys, closing it at cleanup.
func OpenWith(tb testing.TB, cfg storage.Config, keys *storage.Keyring) *storage.DB {
	tb.Helper()
	ctx := context.Background()
	db, err := storage.Open(ctx, cfg, keys)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(ctx); err != nil {
		tb.Fatal(err)
	}
	return db
}

// Config returns the configuration of a fresh, empty database of dialect:
// a new directory for SQLite, a new schema for PostgreSQL (dropped at
// cleanup), with an embedded blob store in a directory of its own.
func Config(tb testing.TB, d storage.Dialect) storage.Config {
	tb.Helper()
	blobs, err := storage.NewFileBlobs(tb.TempDir())
	if err != nil {
		tb.Fatal(err)
	}
	if d == storage.SQLite {
		return storage.Config{DataDir: tb.TempDir(), Blobs: blobs}
	}
	base := RequirePostgres(tb)
	schema := "test_" + randomHex(tb, 8)
	admin, err := sql.Open("pgx", base)
	if err != nil {
		tb.Fatal(err)
	}
	defer admin.Close()
	if _, err := admin.Exec("CREATE SCHEMA " + schema); err != nil {
		tb.Fatalf("create schema: %v", err)
	}
	tb.Cleanup(func() {
		admin, err := sql.Open("pgx", base)
		if err != nil {
			tb.Error(err)
			return
		}
		defer admin.Close()
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if _, err := admin.ExecContext(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			tb.Errorf("drop schema: %v", err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		tb.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return storage.Config{DatabaseURL: u.String(), Blobs: blobs}
}

func randomHex(tb testing.TB, n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		tb.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// Fixture holds the people and places most tests need.
type Fixture struct {
	Client, OtherClient *cases.Client
	Factory             *cases.Factory
	Auditor             *cases.User
	Worker, OtherWorker *cases.User
	Supervisor          *cases.User
	OtherSupervisor     *cases.User
}

// NewFixture creates clients, a factory and one user of each working role.
func NewFixture(tb testing.TB, db *storage.DB) *Fixture {
	tb.Helper()
	ctx := context.Background()
	clients, factories, users := storage.NewClientService(db), storage.NewFactoryService(db), storage.NewUserService(db)
	f := &Fixture{}
	var err error
	admin := cases.SystemActor
	must := func(err error) {
		tb.Helper()
		if err != nil {
			tb.Fatal(err)
		}
	}
	f.Client, err = clients.CreateClient(ctx, admin, cases.NewClient{Name: "北极星服饰 Polaris Apparel"})
	must(err)
	f.OtherClient, err = clients.CreateClient(ctx, admin, cases.NewClient{Name: "Other Brand"})
	must(err)
	f.Factory, err = factories.CreateFactory(ctx, admin, cases.NewFactory{Name: "东莞华美制衣厂", Province: "广东", City: "东莞"})
	must(err)
	user := func(role cases.Role, email string) *cases.User {
		u, err := users.CreateUser(ctx, admin, cases.NewUser{Email: email, Name: string(role), Role: role})
		must(err)
		return u
	}
	f.Auditor = user(cases.RoleAuditor, "auditor@example.org")
	f.Worker = user(cases.RoleCaseWorker, "worker@example.org")
	f.OtherWorker = user(cases.RoleCaseWorker, "worker2@example.org")
	f.Supervisor = user(cases.RoleSupervisor, "supervisor@example.org")
	f.OtherSupervisor = user(cases.RoleSupervisor, "supervisor2@example.org")
	return f
}

// Report returns a valid report for the fixture's client and factory.
func (f *Fixture) Report(foundOn time.Time) cases.Report {
	claimed := time.Date(2011, 5, 17, 0, 0, 0, 0, time.UTC)
	return cases.Report{
		ClientID: f.Client.ID, FactoryID: f.Factory.ID, FoundOn: foundOn,
		Gender: cases.GenderFemale, Presence: cases.PresenceEmployed, Job: "thread trimming",
		Hazards: []string{"machinery", "long_hours"}, HoursPerWeek: 60,
		MonthlyWage: cases.Money{Amount: 280000, Currency: "CNY"}, Recruitment: "borrowed_id",
		RemovedFromWork: true, ChildSafe: true,
		Identity: cases.Identity{FullName: "Test Child " + uuid.NewString(), ClaimedBirthDate: &claimed,
			IDDocumentType: "id_card", IDNumber: "44190020110517" + randomDigits(4), IDSuspected: "borrowed"},
		Narrative: cases.NewNote("Found at a trimming table during the audit."),
	}
}

func randomDigits(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	for i := range b {
		b[i] = '0' + b[i]%10
	}
	return string(b)
}
