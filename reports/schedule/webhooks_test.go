package schedule_test

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	cases "github.com/remedy-cases/remedy/case"
	"github.com/remedy-cases/remedy/reports/schedule"
	"github.com/remedy-cases/remedy/storage"
	"github.com/remedy-cases/remedy/webhooks"
)

// receiver is an HTTPS endpoint that checks each request's signature and
// refuses the first refuse requests.
type receiver struct {
	mu       sync.Mutex
	secret   string
	refuse   int
	bodies   []string
	ids      []string
	badSigns int
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	defer r.mu.Unlock()
	ts, _ := strconv.ParseInt(req.Header.Get("webhook-timestamp"), 10, 64)
	if !webhooks.Verify(r.secret, req.Header.Get("webhook-id"), ts, body, req.Header.Get("webhook-signature"), time.Now(), 5*time.Minute) {
		r.badSigns++
	}
	if r.refuse > 0 {
		r.refuse--
		http.Error(w, "not now", http.StatusServiceUnavailable)
		return
	}
	r.bodies = append(r.bodies, string(body))
	r.ids = append(r.ids, req.Header.Get("webhook-id"))
	w.WriteHeader(http.StatusNoContent)
}

func (r *receiver) got() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.bodies...)
}

// TestWebhooks: a case filed and closed and a report generated reach the
// brand's endpoint, signed per Standard Webhooks, once each, after the
// endpoint's refusal is retried; the other brand's endpoint gets its own
// report only, and
// no payload holds a name, an ID number or a note (canaries).
func TestWebhooks(t *testing.T) {
	eachDialect(t, func(t *testing.T, cfg storage.Config, db *storage.DB) {
		w := newWorld(t, db)
		hooks := storage.NewWebhookService(db)
		own := &receiver{refuse: 1}
		other := &receiver{}
		ownSrv, otherSrv := httptest.NewTLSServer(own), httptest.NewTLSServer(other)
		defer ownSrv.Close()
		defer otherSrv.Close()
		events := cases.WebhookEvents
		// Registered before the case is filed: an endpoint hears of nothing older than itself.
		saved := db.Now
		db.Now = func() time.Time { return time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC) }
		h, secret, err := hooks.CreateWebhook(ctx, w.fixture.Supervisor.Actor(), cases.NewWebhook{
			ClientID: uuid.NullUUID{UUID: w.fixture.Client.ID, Valid: true}, URL: ownSrv.URL + "/hook", Events: events})
		must(t, err)
		own.secret = secret.Reveal()
		_, otherSecret, err := hooks.CreateWebhook(ctx, w.fixture.Supervisor.Actor(), cases.NewWebhook{
			ClientID: uuid.NullUUID{UUID: w.fixture.OtherClient.ID, Valid: true}, URL: otherSrv.URL, Events: events})
		must(t, err)
		other.secret = otherSecret.Reveal()

		// Canaries: what a filed case holds that no payload may.
		db.Now = func() time.Time { return time.Date(2026, 10, 5, 10, 0, 0, 0, time.UTC) }
		f, svc := w.fixture, storage.NewCaseService(db)
		r := f.Report(time.Date(2026, 10, 2, 0, 0, 0, 0, time.UTC))
		r.Presence = cases.PresenceAccompanying
		r.Identity.FullName = "Canary Childname"
		r.Narrative = cases.NewNote("canary narrative note")
		c, err := svc.FileCase(ctx, f.Auditor.Actor(), r)
		must(t, err)
		c, err = svc.Assign(ctx, f.Supervisor.Actor(), c.ID, c.Version, f.Worker.ID)
		must(t, err)
		_, _, err = svc.Transition(ctx, f.Worker.Actor(), c.ID, c.Version,
			cases.TransitionRequest{Event: cases.EventDismiss, Reason: cases.NewNote("canary reason note")})
		must(t, err)
		db.Now = saved

		tlsConfig := ownSrv.Client().Transport.(*http.Transport).TLSClientConfig
		tlsConfig.RootCAs.AppendCertsFromPEM(pemOf(t, otherSrv))
		withHooks := func(c *schedule.Config) {
			c.Webhooks, c.WebhookInterval = hooks, time.Second
			c.WebhookClient = webhooks.Client(true, 5*time.Second, tlsConfig)
		}
		w.scheduler(t, cfg, nil, withHooks)
		w.scheduler(t, cfg, nil, withHooks)

		waitFor(t, "the three events", func() bool { return len(own.got()) >= 3 })
		time.Sleep(1500 * time.Millisecond) // another dispatch: nothing is sent twice
		got := own.got()
		var types []string
		for _, b := range got {
			var p struct {
				Type string         `json:"type"`
				Data map[string]any `json:"data"`
			}
			must(t, json.Unmarshal([]byte(b), &p))
			types = append(types, p.Type)
			if p.Data["client_id"] != w.fixture.Client.ID.String() {
				t.Errorf("%s for another client: %s", p.Type, b)
			}
			for _, canary := range []string{"Canary", "canary", r.Identity.IDNumber, "44190020110517"} {
				if strings.Contains(b, canary) {
					t.Errorf("a payload holds %q: %s", canary, b)
				}
			}
		}
		want := map[string]bool{cases.EventCaseFiled: true, cases.EventCaseClosed: true, cases.EventReportGenerated: true}
		if len(got) != 3 || !want[types[0]] || !want[types[1]] || !want[types[2]] || types[0] == types[1] {
			t.Errorf("events %v, want each of %v once", types, cases.WebhookEvents)
		}
		if own.badSigns != 0 {
			t.Errorf("%d requests with a bad signature", own.badSigns)
		}
		// The other brand hears of its own report only.
		for _, b := range other.got() {
			if !strings.Contains(b, `"type":"report.generated"`) || !strings.Contains(b, w.fixture.OtherClient.ID.String()) {
				t.Errorf("the other brand's endpoint got %s", b)
			}
		}
		log, err := hooks.WebhookDeliveries(ctx, h.ID, 10)
		must(t, err)
		retried := 0
		for _, d := range log {
			if d.State != cases.DeliveryDelivered || d.LastStatus != http.StatusNoContent {
				t.Errorf("delivery %s: %s, status %d, %q", d.Event, d.State, d.LastStatus, d.LastError)
			}
			if d.Attempts > 1 {
				retried++
			}
		}
		if len(log) != 3 || retried != 1 {
			t.Errorf("%d deliveries, %d retried; want 3 and 1", len(log), retried)
		}
	})
}

func pemOf(t *testing.T, srv *httptest.Server) []byte {
	t.Helper()
	var b strings.Builder
	b.WriteString("-----BEGIN CERTIFICATE-----\n")
	der := srv.Certificate().Raw
	enc := base64.StdEncoding.EncodeToString(der)
	for len(enc) > 64 {
		b.WriteString(enc[:64] + "\n")
		enc = enc[64:]
	}
	b.WriteString(enc + "\n-----END CERTIFICATE-----\n")
	return []byte(b.String())
}
