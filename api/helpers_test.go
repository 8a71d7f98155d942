package api_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"golang.org/x/mod/sumdb/note"

	"github.com/remedy-cases/remedy/api"
	cases "github.com/remedy-cases/remedy/case"
	"github.com/remedy-cases/remedy/internal/testkit"
	"github.com/remedy-cases/remedy/reports"
	"github.com/remedy-cases/remedy/storage"
	"github.com/remedy-cases/remedy/storage/storagetest"
)

var ctx = context.Background()

const password = "correct horse battery staple"

// passwordHash is hashed once: argon2id is slow on purpose.
var passwordHash = sync.OnceValue(func() string {
	h, err := api.HashPassword(password)
	if err != nil {
		panic(err)
	}
	return h
})

// testEnv is a server over a real database, with one user of each role,
// signed in, and two tenants: "own" and "other".
type testEnv struct {
	t       testing.TB
	db      *storage.DB
	srv     *api.Server
	http    *httptest.Server
	key     ed25519.PrivateKey
	cases   *storage.CaseService
	fixture *storagetest.Fixture
	users   map[string]*cases.User // by role name, plus "other_*" variants
	tokens  map[string]string      // by the same names
	now     time.Time
	logs    *testkit.SyncBuffer // the server's JSON log lines
	// generator serves on-demand reports without a job queue.
	generator *reports.Generator
	signIns   int
	// verifier holds the published key of the generator's signer.
	verifier *reports.Verifier
	signed   []byte // a signed report, made once by signedReport
}

// signedReport returns a stored, signed report of the own tenant's October.
func (e *testEnv) signedReport() []byte {
	e.t.Helper()
	if e.signed == nil {
		r, _, err := e.generator.Generate(ctx, cases.SystemActor, e.fixture.Client.ID, cases.Month{Year: 2026, Month: 10}, false)
		must(e.t, err)
		e.signed, err = storage.NewReportService(e.db).ReportPDF(ctx, r.ID)
		must(e.t, err)
	}
	return e.signed
}

// generateNow generates on demand; delivery has its own tests.
type generateNow struct{ g *reports.Generator }

func (n generateNow) GenerateNow(ctx context.Context, a cases.Actor, client uuid.UUID, m cases.Month) (*cases.MonthlyReport, error) {
	r, _, err := n.g.Generate(ctx, a, client, m, false)
	return r, err
}

// config is the configuration of a server over e's database.
func (e *testEnv) config() api.Config {
	db := e.db
	svc := api.Services{Cases: e.cases, Clients: storage.NewClientService(db), Factories: storage.NewFactoryService(db),
		Users: storage.NewUserService(db), Audit: storage.NewAuditService(db), Reports: storage.NewReportService(db),
		Ledger: storage.NewLedgerService(db), Documents: storage.NewDocumentService(db),
		SignIns: storage.NewSignInThrottleService(db), Webhooks: storage.NewWebhookService(db)}
	if e.generator == nil {
		e.generator = &reports.Generator{Reports: svc.Reports, Clients: svc.Clients, Fonts: reports.DefaultFonts(),
			Zone: time.UTC, Now: db.Now}
		skey, vkey, err := note.GenerateKey(rand.Reader, "remedy-reports")
		must(e.t, err)
		e.generator.Signer, err = note.NewSigner(skey)
		must(e.t, err)
		e.verifier, err = reports.NewVerifier([]string{vkey})
		must(e.t, err)
	}
	log := slog.New(slog.NewJSONHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	return api.Config{Services: svc, DB: db, Log: log, SigningKey: e.key, Issuer: "remedy-test",
		Audience: "remedy-test-api", Now: func() time.Time { return db.Now() }, Generator: generateNow{e.generator},
		ReportKeys: e.verifier}
}

// newTestEnv starts a server over a fresh database of dialect; options
// change its configuration before it is built.
func newTestEnv(t testing.TB, dialect storage.Dialect, options ...func(*api.Config)) *testEnv {
	t.Helper()
	return newTestEnvOn(t, storagetest.Open(t, dialect), options...)
}

// newServerOn starts another server over e's database, as a second replica
// would run.
func newServerOn(t testing.TB, e *testEnv, options ...func(*api.Config)) *httptest.Server {
	t.Helper()
	cfg := e.config()
	for _, o := range options {
		o(&cfg)
	}
	srv, err := api.NewServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	h := httptest.NewServer(srv.Handler())
	t.Cleanup(h.Close)
	return h
}

// newTestEnvOn is newTestEnv over an open database.
func newTestEnvOn(t testing.TB, db *storage.DB, options ...func(*api.Config)) *testEnv {
	t.Helper()
	now := time.Date(2026, 11, 3, 9, 30, 0, 0, time.UTC)
	db.Now = func() time.Time { return now }
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	e := &testEnv{t: t, db: db, key: key, cases: storage.NewCaseService(db), now: now, logs: &testkit.SyncBuffer{},
		fixture: storagetest.NewFixture(t, db), users: map[string]*cases.User{}, tokens: map[string]string{}}
	cfg := e.config()
	for _, o := range options {
		o(&cfg)
	}
	srv, err := api.NewServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	e.srv = srv
	e.http = httptest.NewServer(srv.Handler())
	t.Cleanup(e.http.Close)

	f := e.fixture
	e.users["auditor"], e.users["caseworker"], e.users["supervisor"] = f.Auditor, f.Worker, f.Supervisor
	e.users["other_caseworker"], e.users["other_supervisor"] = f.OtherWorker, f.OtherSupervisor
	us := storage.NewUserService(db)
	mk := func(name string, n cases.NewUser) {
		u, err := us.CreateUser(ctx, cases.SystemActor, n)
		if err != nil {
			t.Fatal(err)
		}
		e.users[name] = u
	}
	mk("client", cases.NewUser{Email: "brand@example.org", Name: "Brand", Role: cases.RoleClient,
		ClientID: uuid.NullUUID{UUID: f.Client.ID, Valid: true}})
	mk("other_client", cases.NewUser{Email: "otherbrand@example.org", Name: "Other brand", Role: cases.RoleClient,
		ClientID: uuid.NullUUID{UUID: f.OtherClient.ID, Valid: true}})
	mk("admin", cases.NewUser{Email: "admin@example.org", Name: "Admin", Role: cases.RoleAdmin})
	mk("other_auditor", cases.NewUser{Email: "auditor2@example.org", Name: "Auditor 2", Role: cases.RoleAuditor})
	for name, u := range e.users {
		if err := us.SetPasswordHash(ctx, cases.SystemActor, u.ID, passwordHash()); err != nil {
			t.Fatal(err)
		}
		e.tokens[name] = e.signIn(u.Email)
	}
	return e
}

// signIn signs email in. Each sign-in comes from an address of its own
// (believed only where a test trusts the loopback as a proxy), so that a
// test of the per-address limit starts with its addresses untouched.
func (e *testEnv) signIn(email string) string {
	e.t.Helper()
	e.signIns++
	from := fmt.Sprintf("192.0.2.%d", e.signIns%250+1)
	res := e.do("POST", "/v1/auth/token", "", map[string]string{"email": email, "password": password}, "X-Forwarded-For", from)
	if res.status != http.StatusOK {
		e.t.Fatalf("sign in %s: %d %s", email, res.status, res.body)
	}
	var tok api.Token
	res.decode(e.t, &tok)
	return tok.AccessToken
}

type response struct {
	status int
	header http.Header
	body   []byte
	close  bool // the server closes the connection after this answer
}

func (r response) decode(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decoding %s: %v", r.body, err)
	}
}

// do sends a request as the holder of token ("" for none); body is
// marshalled unless it is already a string or bytes.
func (e *testEnv) do(method, path, token string, body any, headers ...string) response {
	e.t.Helper()
	if raw, ok := body.(rawBody); ok { // a body that is not JSON, such as a file upload
		body, headers = raw.data, append([]string{"Content-Type", raw.contentType}, headers...)
	}
	res := testkit.MustDo(e.t, e.http.Client(), testkit.MustRequest(e.t, method, e.http.URL+path, token, body, headers...))
	return response{status: res.Status, header: res.Header, body: res.Body, close: res.Close}
}

// report is a valid filing body for the own client.
func (e *testEnv) report(identity map[string]any) map[string]any {
	if identity == nil {
		identity = map[string]any{"full_name": "Test Child " + uuid.NewString()[:8], "apparent_age": 14}
	}
	return map[string]any{
		"client_id": e.fixture.Client.ID, "factory_id": e.fixture.Factory.ID, "found_on": "2026-10-20",
		"gender": "female", "presence": "employed", "job": "packing", "hazards": []string{"long_hours"},
		"hours_per_week": 60, "monthly_wage": 280000, "wage_currency": "CNY", "recruitment": "borrowed_id",
		"removed_from_work": true, "child_safe": true, "identity": identity,
		"narrative": "Found at the packing line.",
	}
}

// caseIn makes a case of tenant ("own": the own client, filed by the
// auditor, assigned to the case worker; "other": the other client, filed by
// the other auditor, assigned to the other case worker) and walks it to
// state through storage.
func (e *testEnv) caseIn(tenant string, state cases.State) *cases.Case {
	e.t.Helper()
	f := e.fixture
	filer, worker, client := f.Auditor, f.Worker, f.Client
	if tenant == "other" {
		filer, worker, client = e.users["other_auditor"], f.OtherWorker, f.OtherClient
	}
	r := f.Report(e.now.AddDate(0, -1, 0))
	r.ClientID = client.ID
	c, err := e.cases.FileCase(ctx, filer.Actor(), r)
	must(e.t, err)
	step := func(next *cases.Case, err error) {
		e.t.Helper()
		must(e.t, err)
		c = next
	}
	fire := func(u *cases.User, ev cases.Event, outcome cases.Outcome) {
		e.t.Helper()
		next, _, err := e.cases.Transition(ctx, u.Actor(), c.ID, c.Version, cases.TransitionRequest{Event: ev, Outcome: outcome})
		step(next, err)
	}
	step(e.cases.Assign(ctx, f.Supervisor.Actor(), c.ID, c.Version, worker.ID))
	if state == cases.StateIntake {
		return c
	}
	fire(worker, cases.EventBeginVerification, "")
	if state == cases.StateVerification {
		return c
	}
	step(e.cases.RecordVerification(ctx, worker.Actor(), c.ID, c.Version, cases.Verification{
		Method: "household_register", VerifiedBirthDate: time.Date(2011, 5, 17, 0, 0, 0, 0, time.UTC)}))
	fire(worker, cases.EventConfirmChildLabour, "")
	if state == cases.StatePlanning {
		return c
	}
	consent := time.Date(2026, 10, 20, 0, 0, 0, 0, time.UTC)
	step(e.cases.PutPlan(ctx, worker.Actor(), c.ID, c.Version, cases.PlanInput{
		School: "Xinhua Middle School", Grade: "8", EnrolmentDate: time.Date(2026, 10, 25, 0, 0, 0, 0, time.UTC),
		Currency: "CNY", MonthlyStipend: 80000, Payer: cases.PayerBrand, GuardianConsent: true, ConsentDate: &consent}))
	fire(f.Supervisor, cases.EventApprovePlan, "")
	if state == cases.StateFollowUp {
		return c
	}
	fire(f.Supervisor, cases.EventClose, cases.OutcomeCompleted)
	return c
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// client returns the own or other tenant's client.
func (e *testEnv) client(tenant string) *cases.Client {
	if tenant == "other" {
		return e.fixture.OtherClient
	}
	return e.fixture.Client
}
