package client_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/remedy-cases/remedy/api"
	"github.com/remedy-cases/remedy/auth"
	cases "github.com/remedy-cases/remedy/case"
	"github.com/remedy-cases/remedy/client"
	"github.com/remedy-cases/remedy/storage"
	"github.com/remedy-cases/remedy/storage/storagetest"
)

const password = "correct horse battery staple"

// newServer starts the real API over a fresh database of each dialect,
// with the fixture's users, the supervisor able to sign in.
func newServer(t *testing.T, db *storage.DB) (*httptest.Server, *storagetest.Fixture) {
	t.Helper()
	f := storagetest.NewFixture(t, db)
	users := storage.NewUserService(db)
	hash, err := auth.HashPassword(password)
	if err != nil {
		t.Fatal(err)
	}
	if err := users.SetPasswordHash(context.Background(), cases.SystemActor, f.Supervisor.ID, hash); err != nil {
		t.Fatal(err)
	}
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	srv, err := api.NewServer(api.Config{
		Services: api.Services{Cases: storage.NewCaseService(db), Clients: storage.NewClientService(db),
			Factories: storage.NewFactoryService(db), Users: users, Audit: storage.NewAuditService(db),
			Reports: storage.NewReportService(db), Ledger: storage.NewLedgerService(db),
			Documents: storage.NewDocumentService(db), SignIns: storage.NewSignInThrottleService(db)},
		DB: db, SigningKey: key, Issuer: "remedy-test", Audience: "remedy-test-api",
	})
	if err != nil {
		t.Fatal(err)
	}
	h := httptest.NewServer(srv.Handler())
	t.Cleanup(h.Close)
	return h, f
}

// TestClient drives a real server with the generated client: sign in,
// list clients and cases with the token, and read problems as typed
// values, on both databases.
func TestClient(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		srv, f := newServer(t, db)
		c, err := client.NewClientWithResponses(srv.URL, client.WithHTTPClient(srv.Client()))
		if err != nil {
			t.Fatal(err)
		}

		t.Run("OK", func(t *testing.T) {
			tok, err := c.CreateTokenWithResponse(ctx, client.TokenRequest{Email: f.Supervisor.Email, Password: password})
			if err != nil {
				t.Fatal(err)
			}
			if tok.StatusCode() != http.StatusOK || tok.JSON200 == nil || tok.JSON200.TokenType != client.Bearer ||
				len(tok.JSON200.DeviceToken) != 43 {
				t.Fatalf("sign-in: %d %s", tok.StatusCode(), tok.Body)
			}
			bearer := func(_ context.Context, r *http.Request) error {
				r.Header.Set("Authorization", "Bearer "+tok.JSON200.AccessToken)
				return nil
			}
			orgs, err := c.ListClientsWithResponse(ctx, nil, bearer)
			if err != nil {
				t.Fatal(err)
			}
			if orgs.StatusCode() != http.StatusOK || orgs.JSON200 == nil {
				t.Fatalf("clients: %d %s", orgs.StatusCode(), orgs.Body)
			}
			var names []string
			for _, o := range orgs.JSON200.Items {
				names = append(names, o.Name)
			}
			if len(names) != 2 || (names[0] != f.Client.Name && names[1] != f.Client.Name) {
				t.Fatalf("clients %q, want the fixture's two", names)
			}
			limit := 10
			list, err := c.ListCasesWithResponse(ctx, &client.ListCasesParams{Limit: &limit}, bearer)
			if err != nil {
				t.Fatal(err)
			}
			if list.StatusCode() != http.StatusOK || list.JSON200 == nil || len(list.JSON200.Items) != 0 {
				t.Fatalf("cases: %d %s", list.StatusCode(), list.Body)
			}
			if got := list.HTTPResponse.Header.Get("X-Request-Id"); got == "" {
				t.Error("no X-Request-Id")
			}
		})
		t.Run("ErrUnauthorized", func(t *testing.T) {
			res, err := c.ListCasesWithResponse(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			p := res.ApplicationproblemJSON401
			if res.StatusCode() != http.StatusUnauthorized || p == nil || p.Code == nil || *p.Code != client.ProblemCodeUnauthorized {
				t.Fatalf("without a token: %d %s", res.StatusCode(), res.Body)
			}
			tok, err := c.CreateTokenWithResponse(ctx, client.TokenRequest{Email: f.Supervisor.Email, Password: "not the password"})
			if err != nil {
				t.Fatal(err)
			}
			if tok.StatusCode() != http.StatusUnauthorized || tok.ApplicationproblemJSON401 == nil {
				t.Fatalf("a wrong password: %d %s", tok.StatusCode(), tok.Body)
			}
		})
	})
}
