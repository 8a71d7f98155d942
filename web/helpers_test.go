package web_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/remedy-cases/remedy/api"
	"github.com/remedy-cases/remedy/auth"
	cases "github.com/remedy-cases/remedy/case"
	"github.com/remedy-cases/remedy/reports"
	"github.com/remedy-cases/remedy/storage"
	"github.com/remedy-cases/remedy/storage/storagetest"
	"github.com/remedy-cases/remedy/web"
)

var ctx = context.Background()

const password = "correct horse battery staple"

// passwordHash is hashed once: argon2id is slow on purpose.
var passwordHash = sync.OnceValue(func() string {
	h, err := auth.HashPassword(password)
	if err != nil {
		panic(err)
	}
	return h
})

// env is the real server (the API with the web app mounted at /) over a
// real database, at a time the test sets.
type env struct {
	t       testing.TB
	db      *storage.DB
	now     time.Time
	mu      sync.Mutex
	f       *storagetest.Fixture
	cases   *storage.CaseService
	users   *storage.UserService
	srv     *httptest.Server
	logs    *syncBuffer
	handler *web.Handler
	// signer signs reports; the web app's verifier knows its public key.
	signer note.Signer
}

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func newEnv(t testing.TB, dialect storage.Dialect) *env {
	t.Helper()
	return newEnvWith(t, storagetest.Open(t, dialect))
}

func newEnvWith(t testing.TB, db *storage.DB) *env {
	t.Helper()
	e := &env{t: t, db: db, now: time.Date(2026, 11, 3, 9, 30, 0, 0, time.UTC), logs: &syncBuffer{}}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("the server's log:\n%s", e.logs.String())
		}
	})
	db.Now = e.clock
	e.f = storagetest.NewFixture(t, db)
	e.cases, e.users = storage.NewCaseService(db), storage.NewUserService(db)
	for _, u := range []*cases.User{e.f.Auditor, e.f.Worker, e.f.OtherWorker, e.f.Supervisor, e.f.OtherSupervisor} {
		if err := e.users.SetPasswordHash(ctx, cases.SystemActor, u.ID, passwordHash()); err != nil {
			t.Fatal(err)
		}
	}
	log := slog.New(slog.NewJSONHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	svc := api.Services{Cases: e.cases, Clients: storage.NewClientService(db), Factories: storage.NewFactoryService(db),
		Users: e.users, Audit: storage.NewAuditService(db), Reports: storage.NewReportService(db),
		Documents: storage.NewDocumentService(db), Ledger: storage.NewLedgerService(db)}
	authn := auth.New(svc.Users, svc.Audit, storage.NewSignInThrottleService(db))
	authn.Now = e.clock
	skey, vkey, err := note.GenerateKey(rand.Reader, "remedy-reports")
	if err != nil {
		t.Fatal(err)
	}
	if e.signer, err = note.NewSigner(skey); err != nil {
		t.Fatal(err)
	}
	verifier, err := reports.NewVerifier([]string{vkey})
	if err != nil {
		t.Fatal(err)
	}
	_, proxy, _ := net.ParseCIDR("127.0.0.1/32")
	trusted := []*net.IPNet{proxy}
	h, err := web.New(web.Config{
		Services: web.Services{Cases: svc.Cases, Clients: svc.Clients, Factories: svc.Factories, Users: svc.Users,
			Locales: e.users, Sessions: storage.NewSessionService(db), Auth: authn, Documents: svc.Documents,
			Reports: svc.Reports, Ledger: svc.Ledger, Audit: svc.Audit, Verifier: verifier},
		Log: log, Now: e.clock, Zone: time.UTC, TrustedProxies: trusted,
		MissingMessage: func(locale, id string) { t.Errorf("catalogue %s has no message %q", locale, id) },
	})
	if err != nil {
		t.Fatal(err)
	}
	e.handler = h
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	srv, err := api.NewServer(api.Config{Services: svc, DB: db, Log: log, SigningKey: key, Issuer: "remedy-test",
		Audience: "remedy-test-api", Now: e.clock, Auth: authn, Web: h})
	if err != nil {
		t.Fatal(err)
	}
	e.srv = httptest.NewServer(srv.Handler())
	t.Cleanup(e.srv.Close)
	return e
}

func (e *env) clock() time.Time {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.now
}

// advance moves the clock on.
func (e *env) advance(d time.Duration) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.now = e.now.Add(d)
}

// browser is one person's browser: a cookie jar, a language, and the CSRF
// token of the last page it read.
type browser struct {
	e      *env
	client *http.Client
	lang   string
	csrf   string
}

func (e *env) browser(lang string) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{e: e, lang: lang, client: &http.Client{Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// signIn signs u in from a fresh browser in lang, and lands on home.
func (e *env) signIn(u *cases.User, lang string) *browser {
	e.t.Helper()
	b := e.browser(lang)
	b.get("/signin")
	res := b.post("/signin", url.Values{"email": {u.Email}, "password": {password}})
	if res.status != http.StatusSeeOther || res.header.Get("Location") != "/" {
		e.t.Fatalf("sign in %s: %d %s", u.Email, res.status, res.text())
	}
	b.get("/")
	return b
}

type response struct {
	status int
	header http.Header
	body   []byte
	url    string
}

func (r response) text() string { return string(r.body) }

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func (b *browser) do(req *http.Request) response {
	b.e.t.Helper()
	if b.lang != "" {
		req.Header.Set("Accept-Language", b.lang)
	}
	res, err := b.client.Do(req)
	if err != nil {
		b.e.t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if m := csrfField.FindSubmatch(body); m != nil {
		b.csrf = string(m[1])
	}
	return response{status: res.StatusCode, header: res.Header, body: body, url: req.URL.String()}
}

func (b *browser) get(path string, headers ...string) response {
	b.e.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, b.e.srv.URL+path, nil)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	return b.do(req)
}

// post sends a form as the page's own form would: with the CSRF token of
// the last page, from this origin.
func (b *browser) post(path string, form url.Values, headers ...string) response {
	b.e.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	if form.Get("csrf") == "" && b.csrf != "" {
		form.Set("csrf", b.csrf)
	}
	req, _ := http.NewRequest(http.MethodPost, b.e.srv.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	req.Header.Set("Origin", b.e.srv.URL)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	return b.do(req)
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// caseIn files a case for the fixture's client and walks it to state
// through the domain, as the API tests do.
func (e *env) caseIn(state cases.State, r cases.Report) *cases.Case {
	e.t.Helper()
	f := e.f
	c, err := e.cases.FileCase(ctx, f.Auditor.Actor(), r)
	must(e.t, err)
	step := func(next *cases.Case, err error) {
		e.t.Helper()
		must(e.t, err)
		c = next
	}
	fire := func(u *cases.User, req cases.TransitionRequest) {
		e.t.Helper()
		next, _, err := e.cases.Transition(ctx, u.Actor(), c.ID, c.Version, req)
		step(next, err)
	}
	step(e.cases.Assign(ctx, f.Supervisor.Actor(), c.ID, c.Version, f.Worker.ID))
	if state == cases.StateIntake {
		return c
	}
	fire(f.Worker, cases.TransitionRequest{Event: cases.EventBeginVerification})
	if state == cases.StateVerification {
		return c
	}
	step(e.cases.RecordVerification(ctx, f.Worker.Actor(), c.ID, c.Version, cases.Verification{
		Method: "household_register", VerifiedBirthDate: time.Date(2011, 5, 17, 0, 0, 0, 0, time.UTC),
		Notes: cases.NewNote("verification note")}))
	fire(f.Worker, cases.TransitionRequest{Event: cases.EventConfirmChildLabour})
	if state == cases.StatePlanning {
		return c
	}
	consent := time.Date(2026, 10, 20, 0, 0, 0, 0, time.UTC)
	step(e.cases.PutPlan(ctx, f.Worker.Actor(), c.ID, c.Version, cases.PlanInput{
		School: "Xinhua Middle School", Grade: "8", EnrolmentDate: time.Date(2026, 10, 25, 0, 0, 0, 0, time.UTC),
		Currency: "CNY", MonthlyStipend: 80000, Payer: cases.PayerBrand, GuardianConsent: true, ConsentDate: &consent}))
	fire(f.Supervisor, cases.TransitionRequest{Event: cases.EventApprovePlan})
	if state == cases.StateFollowUp {
		return c
	}
	fire(f.Supervisor, cases.TransitionRequest{Event: cases.EventClose, Outcome: cases.OutcomeCompleted, Reason: cases.NewNote("closing note")})
	return c
}

// user creates a user who can sign in with the test password.
func (e *env) user(role cases.Role, email, name string) *cases.User {
	e.t.Helper()
	u, err := e.users.CreateUser(ctx, cases.SystemActor, cases.NewUser{Email: email, Name: name, Role: role, PasswordHash: passwordHash()})
	must(e.t, err)
	return u
}
