package storage_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	cases "github.com/remedy-cases/remedy/case"
	"github.com/remedy-cases/remedy/storage"
	"github.com/remedy-cases/remedy/storage/storagetest"
)

// TestWebhookDispatch: the audit chain's events become one delivery per
// subscribed endpoint of the brand, once; a case falling into arrears, as
// time passes, is announced once; events of another brand, of an event
// not subscribed, or before the endpoint existed, are not sent.
func TestWebhookDispatch(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		e := newEnv(t, db)
		hooks := storage.NewWebhookService(db)
		before := e.mustReach(t, cases.StateIntake) // filed before any endpoint
		db.Now = func() time.Time { return today.Add(time.Hour) }
		all, _, err := hooks.CreateWebhook(ctx, cases.SystemActor, cases.NewWebhook{URL: "https://93.184.216.34/all", Events: cases.WebhookEvents})
		if err != nil {
			t.Fatal(err)
		}
		own, _, err := hooks.CreateWebhook(ctx, cases.SystemActor, cases.NewWebhook{
			ClientID: uuid.NullUUID{UUID: e.Client.ID, Valid: true}, URL: "https://93.184.216.34/own", Events: []string{cases.EventStipendArrears}})
		if err != nil {
			t.Fatal(err)
		}
		other, _, err := hooks.CreateWebhook(ctx, cases.SystemActor, cases.NewWebhook{
			ClientID: uuid.NullUUID{UUID: e.OtherClient.ID, Valid: true}, URL: "https://93.184.216.34/other", Events: cases.WebhookEvents})
		if err != nil {
			t.Fatal(err)
		}
		c := e.mustReach(t, cases.StateFollowUp) // filed, plan approved on 3 November, October and November unpaid
		if n, err := hooks.Dispatch(ctx); err != nil || n != 1 {
			t.Fatalf("dispatch: %d deliveries, %v; want the case filed, to the organisation's endpoint", n, err)
		}
		if n, _ := hooks.Dispatch(ctx); n != 0 {
			t.Fatalf("a second dispatch made %d deliveries", n)
		}
		// On 20 November, ten days after November fell due, the case is in arrears.
		db.Now = func() time.Time { return time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC) }
		if n, err := hooks.Dispatch(ctx); err != nil || n != 2 {
			t.Fatalf("dispatch in arrears: %d deliveries, %v; want one to each endpoint of the brand", n, err)
		}
		if n, _ := hooks.MarkArrears(ctx); n != 0 {
			t.Errorf("the same arrears announced again: %d", n)
		}
		for _, h := range []*cases.Webhook{all, own} {
			log, err := hooks.WebhookDeliveries(ctx, h.ID, 10)
			if err != nil {
				t.Fatal(err)
			}
			var p struct {
				Type string            `json:"type"`
				Data map[string]string `json:"data"`
			}
			if err := json.Unmarshal(log[0].Payload, &p); err != nil {
				t.Fatal(err)
			}
			if p.Type != cases.EventStipendArrears || p.Data["case_code"] != c.Code || p.Data["unpaid_due_on"] != "2026-11-03" ||
				p.Data["client_id"] != e.Client.ID.String() || log[0].State != cases.DeliveryPending {
				t.Errorf("%s: %s", h.URL, log[0].Payload)
			}
			for _, d := range log {
				if strings.Contains(string(d.Payload), before.Code) {
					t.Errorf("an event from before the endpoint: %s", d.Payload)
				}
			}
		}
		if log, _ := hooks.WebhookDeliveries(ctx, other.ID, 10); len(log) != 0 {
			t.Errorf("the other brand's endpoint got %d deliveries", len(log))
		}
		pending, err := hooks.PendingDeliveries(ctx, 10)
		if err != nil || len(pending) != 3 {
			t.Fatalf("pending: %d, %v", len(pending), err)
		}
		out, err := hooks.Outbound(ctx, pending[0])
		if err != nil || !strings.HasPrefix(out.Secret.Reveal(), "whsec_") || strings.Contains(out.Secret.String(), out.Secret.Reveal()) {
			t.Fatalf("outbound: %v", err)
		}
		if err := hooks.RecordAttempt(ctx, pending[0], 503, "the endpoint answered 503", false); err != nil {
			t.Fatal(err)
		}
		if err := hooks.RecordAttempt(ctx, pending[0], 0, "the endpoint could not be reached", true); err != nil {
			t.Fatal(err)
		}
		if out, _ := hooks.Outbound(ctx, pending[0]); out.Delivery.State != cases.DeliveryFailed || out.Delivery.Attempts != 2 {
			t.Errorf("after the last attempt: %+v", out.Delivery)
		}
		if _, err := storage.NewAuditService(db).Verify(ctx); err != nil {
			t.Fatal(err)
		}
	})
}
