package schedule

import (
	"context"
	"time"

	"github.com/google/uuid"
	"github.com/riverqueue/river"

	cases "github.com/remedy-cases/remedy/case"
	"github.com/remedy-cases/remedy/webhooks"
)

// WebhookStore turns the audit chain into deliveries and logs their
// attempts; storage's WebhookService is one.
type WebhookStore interface {
	// Dispatch makes the deliveries of the events chained since its last run.
	Dispatch(ctx context.Context) (int, error)
	// PendingDeliveries returns the deliveries still to make, oldest first.
	PendingDeliveries(ctx context.Context, limit int) ([]uuid.UUID, error)
	// Outbound returns a delivery with its endpoint's URL and secret.
	Outbound(ctx context.Context, id uuid.UUID) (*cases.OutboundWebhook, error)
	// RecordAttempt logs an attempt; final ends a failing delivery.
	RecordAttempt(ctx context.Context, id uuid.UUID, status int, problem string, final bool) error
}

// WebhookDispatchArgs asks for the events chained since the last dispatch
// to become deliveries, and for every pending delivery to be queued.
type WebhookDispatchArgs struct{}

func (WebhookDispatchArgs) Kind() string { return "webhook_dispatch" }

// WebhookDeliverArgs asks for one delivery to be made.
type WebhookDeliverArgs struct {
	DeliveryID uuid.UUID `json:"delivery_id"`
}

func (WebhookDeliverArgs) Kind() string { return "webhook_deliver" }

// WebhookAttempts is how often a delivery is tried, with doubling delays
// (RetryDelay, then twice as long each time), before it is logged failed.
const WebhookAttempts = 10

// DefaultWebhookInterval is how often events are dispatched.
const DefaultWebhookInterval = 15 * time.Second

type webhookDispatchWorker struct {
	river.WorkerDefaults[WebhookDispatchArgs]
	s *Scheduler
}

// Work makes the deliveries and queues one job each; unique by delivery,
// a delivery already queued or made is not queued again.
func (w *webhookDispatchWorker) Work(ctx context.Context, job *river.Job[WebhookDispatchArgs]) error {
	store := w.s.cfg.Webhooks
	if store == nil {
		return nil
	}
	if _, err := store.Dispatch(ctx); err != nil {
		w.s.cfg.Log.Error("webhook dispatch failed; will retry", "attempt", job.Attempt, "code", cases.ErrorCode(err))
		return err
	}
	ids, err := store.PendingDeliveries(ctx, 1000)
	if err != nil {
		return err
	}
	for _, id := range ids {
		if _, err := w.s.client.Insert(ctx, WebhookDeliverArgs{DeliveryID: id},
			&river.InsertOpts{MaxAttempts: WebhookAttempts, UniqueOpts: river.UniqueOpts{ByArgs: true}}); err != nil {
			return err
		}
	}
	return nil
}

type webhookDeliverWorker struct {
	river.WorkerDefaults[WebhookDeliverArgs]
	s *Scheduler
}

func (w *webhookDeliverWorker) Timeout(*river.Job[WebhookDeliverArgs]) time.Duration {
	return time.Minute
}

// Work sends the delivery, signed, through the guarded client, and logs
// the attempt; a failure is retried with doubling delays, and logged
// failed after the last attempt. The log names the delivery, never the URL.
func (w *webhookDeliverWorker) Work(ctx context.Context, job *river.Job[WebhookDeliverArgs]) error {
	store := w.s.cfg.Webhooks
	if store == nil {
		return nil
	}
	out, err := store.Outbound(ctx, job.Args.DeliveryID)
	if cases.ErrorCode(err) == cases.ENOTFOUND {
		return nil
	} else if err != nil {
		return err
	}
	if out.Delivery.State != cases.DeliveryPending {
		return nil
	}
	final := job.Attempt >= job.MaxAttempts
	if !out.Active {
		return store.RecordAttempt(ctx, out.Delivery.ID, 0, "the endpoint was disabled", true)
	}
	client := w.s.cfg.WebhookClient
	if client == nil {
		client = webhooks.Client(false, 30*time.Second, nil)
	}
	status, sendErr := webhooks.Send(ctx, client, out.URL, out.Secret.Reveal(), webhooks.Message{
		ID: "msg_" + out.Delivery.ID.String(), Timestamp: time.Now(), Body: out.Delivery.Payload})
	problem := ""
	if sendErr != nil {
		problem = sendErr.Error()
	}
	if err := store.RecordAttempt(ctx, out.Delivery.ID, status, problem, final); err != nil {
		return err
	}
	if sendErr != nil {
		w.s.cfg.Log.Warn("webhook delivery failed", "delivery_id", out.Delivery.ID, "webhook_id", out.Delivery.WebhookID,
			"attempt", job.Attempt, "status", status, "final", final)
		return sendErr
	}
	return nil
}

// webhookJobs registers the webhook workers and returns the periodic dispatch.
func (s *Scheduler) webhookJobs(workers *river.Workers) []*river.PeriodicJob {
	river.AddWorker(workers, &webhookDispatchWorker{s: s})
	river.AddWorker(workers, &webhookDeliverWorker{s: s})
	if s.cfg.Webhooks == nil {
		return nil
	}
	every := s.cfg.WebhookInterval
	if every == 0 {
		every = DefaultWebhookInterval
	}
	return []*river.PeriodicJob{river.NewPeriodicJob(river.PeriodicInterval(every),
		func() (river.JobArgs, *river.InsertOpts) {
			return WebhookDispatchArgs{}, &river.InsertOpts{UniqueOpts: river.UniqueOpts{ByPeriod: every}}
		},
		&river.PeriodicJobOpts{RunOnStart: true, ID: "webhook_dispatch"})}
}
