package api_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/remedy-cases/remedy/api"
	"github.com/remedy-cases/remedy/storage"
)

func TestWebhooksAPI(t *testing.T) {
	e := newTestEnv(t, storage.SQLite)
	create := func(role string, body map[string]any) response {
		return e.do("POST", "/v1/webhooks", e.tokens[role], body)
	}
	t.Run("OK", func(t *testing.T) {
		res := create("client", map[string]any{"url": "https://93.184.216.34/hook", "events": []string{"case.filed", "report.generated"}})
		if res.status != http.StatusCreated {
			t.Fatalf("%d %s", res.status, res.body)
		}
		var w api.CreatedWebhook
		res.decode(t, &w)
		if !strings.HasPrefix(w.Secret, "whsec_") || w.ClientId == nil || *w.ClientId != e.fixture.Client.ID {
			t.Fatalf("got %+v", w)
		}
		list := e.do("GET", "/v1/webhooks", e.tokens["client"], nil)
		if list.status != http.StatusOK || strings.Contains(string(list.body), w.Secret) || strings.Contains(string(list.body), "whsec_") {
			t.Fatalf("the list shows the secret, or fails: %d %s", list.status, list.body)
		}
		if other := e.do("GET", "/v1/webhooks", e.tokens["other_client"], nil); strings.Contains(string(other.body), w.Id.String()) {
			t.Errorf("another brand sees the endpoint: %s", other.body)
		}
		deliveries := e.do("GET", "/v1/webhooks/"+w.Id.String()+"/deliveries", e.tokens["admin"], nil)
		if deliveries.status != http.StatusOK {
			t.Errorf("deliveries: %d %s", deliveries.status, deliveries.body)
		}
	})
	for name, tc := range map[string]struct {
		role string
		body map[string]any
	}{
		"ErrLoopback":     {"admin", map[string]any{"url": "https://127.0.0.1/hook", "events": []string{"case.filed"}}},
		"ErrLocalhost":    {"admin", map[string]any{"url": "https://localhost:8443/hook", "events": []string{"case.filed"}}},
		"ErrMetadata":     {"admin", map[string]any{"url": "https://169.254.169.254/latest", "events": []string{"case.filed"}}},
		"ErrPrivate":      {"client", map[string]any{"url": "https://[fd00::1]/hook", "events": []string{"case.filed"}}},
		"ErrPlainHTTP":    {"admin", map[string]any{"url": "http://93.184.216.34/hook", "events": []string{"case.filed"}}},
		"ErrOtherBrand":   {"client", map[string]any{"client_id": e.fixture.OtherClient.ID, "url": "https://93.184.216.34/hook", "events": []string{"case.filed"}}},
		"ErrUnknownEvent": {"admin", map[string]any{"url": "https://93.184.216.34/hook", "events": []string{"case.read"}}},
	} {
		t.Run(name, func(t *testing.T) {
			res := create(tc.role, tc.body)
			if res.status != http.StatusUnprocessableEntity && res.status != http.StatusBadRequest {
				t.Errorf("%d %s", res.status, res.body)
			}
		})
	}
	t.Run("AllowPrivate", func(t *testing.T) {
		e := newTestEnv(t, storage.SQLite, func(c *api.Config) { c.WebhookAllowPrivate = true })
		res := e.do("POST", "/v1/webhooks", e.tokens["admin"], map[string]any{"url": "https://127.0.0.1:8443/hook", "events": []string{"case.closed"}})
		if res.status != http.StatusCreated {
			t.Errorf("%d %s", res.status, res.body)
		}
	})
}
