package api

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	cases "github.com/remedy-cases/remedy/case"
	"github.com/remedy-cases/remedy/webhooks"
)

var errNoWebhooks = cases.Errorf(cases.ENOTFOUND, "Webhooks are not enabled on this server.")

func (h handlers) ListWebhooks(c echo.Context, params ListWebhooksParams) error {
	if h.Webhooks == nil {
		return errNoWebhooks
	}
	filter, none := clientScope(actorOf(c), params.ClientId)
	if none {
		return c.JSON(http.StatusOK, WebhookList{Items: []Webhook{}})
	}
	list, err := h.Webhooks.ListWebhooks(c.Request().Context(), filter)
	if err != nil {
		return err
	}
	out := WebhookList{Items: make([]Webhook, len(list))}
	for i, w := range list {
		out.Items[i] = webhookView(w)
	}
	return c.JSON(http.StatusOK, out)
}

func (h handlers) CreateWebhook(c echo.Context) error {
	if h.Webhooks == nil {
		return errNoWebhooks
	}
	var req NewWebhook
	if err := decode(c, &req); err != nil {
		return err
	}
	a := actorOf(c)
	n := cases.NewWebhook{URL: req.Url}
	for _, e := range req.Events {
		n.Events = append(n.Events, string(e))
	}
	if req.ClientId != nil {
		n.ClientID = uuid.NullUUID{UUID: *req.ClientId, Valid: true}
	}
	if a.Role == cases.RoleClient {
		if !a.ClientID.Valid || (n.ClientID.Valid && n.ClientID != a.ClientID) {
			return &cases.Error{Code: cases.EINVALID, Message: "The webhook is not valid.",
				Failed: []cases.Failure{{Name: "client_id", Message: "client_id must be your own brand's"}}}
		}
		n.ClientID = a.ClientID
	}
	if err := n.Validate(); err != nil {
		return err
	}
	if !h.WebhookAllowPrivate {
		if err := guardHost(c.Request().Context(), n.URL); err != nil {
			return err
		}
	}
	w, secret, err := h.Webhooks.CreateWebhook(c.Request().Context(), a, n)
	if err != nil {
		return err
	}
	v := webhookView(w)
	return c.JSON(http.StatusCreated, CreatedWebhook{Id: v.Id, ClientId: v.ClientId, Url: v.Url, Events: v.Events,
		Active: v.Active, CreatedAt: v.CreatedAt, Secret: secret.Reveal()})
}

// guardHost refuses a URL whose host is, or resolves to, a loopback,
// private or link-local address. A name that does not resolve now is let
// through: every delivery's connection is guarded again as it is dialled.
func guardHost(ctx context.Context, raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return err
	}
	refuse := &cases.Error{Code: cases.EINVALID, Message: "The webhook is not valid.",
		Failed: []cases.Failure{{Name: "url", Message: "url must not resolve to a loopback, private or link-local address"}}}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	addrs, err := net.DefaultResolver.LookupNetIP(ctx, "ip", u.Hostname())
	if err != nil {
		return nil
	}
	for _, ip := range addrs {
		if webhooks.Forbidden(ip) {
			return refuse
		}
	}
	return nil
}

// ownWebhook finds an endpoint the caller may act on: a brand's user, its
// brand's only.
func (h handlers) ownWebhook(c echo.Context, id uuid.UUID) (*cases.Webhook, error) {
	if h.Webhooks == nil {
		return nil, errNoWebhooks
	}
	w, err := h.Webhooks.FindWebhook(c.Request().Context(), id)
	if err != nil {
		return nil, err
	}
	if a := actorOf(c); a.Role == cases.RoleClient && (!a.ClientID.Valid || !w.ClientID.Valid || a.ClientID.UUID != w.ClientID.UUID) {
		return nil, cases.Errorf(cases.ENOTFOUND, "Webhook not found.")
	}
	return w, nil
}

func (h handlers) DisableWebhook(c echo.Context, id EntityID) error {
	if _, err := h.ownWebhook(c, id); err != nil {
		return err
	}
	if err := h.Webhooks.DisableWebhook(c.Request().Context(), actorOf(c), id); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

func (h handlers) ListWebhookDeliveries(c echo.Context, id EntityID, params ListWebhookDeliveriesParams) error {
	if _, err := h.ownWebhook(c, id); err != nil {
		return err
	}
	limit := 50
	if params.Limit != nil {
		limit = *params.Limit
	}
	list, err := h.Webhooks.WebhookDeliveries(c.Request().Context(), id, limit)
	if err != nil {
		return err
	}
	out := WebhookDeliveryList{Items: make([]WebhookDelivery, len(list))}
	for i, d := range list {
		v := WebhookDelivery{Id: d.ID, Event: d.Event, State: WebhookDeliveryState(d.State), Attempts: d.Attempts,
			CreatedAt: d.CreatedAt, LastAttemptAt: d.AttemptAt, DeliveredAt: d.Delivered}
		if err := json.Unmarshal(d.Payload, &v.Payload); err != nil {
			return err
		}
		if d.LastStatus != 0 {
			v.LastStatus = &d.LastStatus
		}
		if d.LastError != "" {
			v.LastError = &d.LastError
		}
		out.Items[i] = v
	}
	return c.JSON(http.StatusOK, out)
}

func webhookView(w *cases.Webhook) Webhook {
	v := Webhook{Id: w.ID, Url: w.URL, Events: w.Events, Active: w.Active, CreatedAt: w.CreatedAt}
	if w.ClientID.Valid {
		id := w.ClientID.UUID
		v.ClientId = &id
	}
	return v
}
