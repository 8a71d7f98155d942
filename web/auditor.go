package web

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"

	cases "github.com/remedy-cases/remedy/case"
)

// The auditor's intake: a phone-first form that works without a
// connection. The page's script (static/intake.js) seals the identity and
// narrative with age to the server's recipient (static/seal.js, built from
// sealjs/), keeps the report in IndexedDB with an idempotency key made on
// the phone, and sends it when it can: on page load, on the online event,
// and with a button. The server opens the sealed part (cases.IntakeService)
// and files the report once per key.

func (h *Handler) routesAuditor() {
	m := h.mux
	m.Handle("GET /intake", h.private(func(q *request) error {
		if !canFile(q.actor.Role) {
			return cases.Errorf(cases.ENOTFOUND, "No such page.")
		}
		q.redirect("/intake/")
		return nil
	}))
	m.Handle("GET /intake/{$}", h.private(h.intakePage))
	m.Handle("POST /intake/reports", h.private(h.intakeReport))
	m.HandleFunc("GET /intake/sw.js", h.intakeWorker)
	m.HandleFunc("GET /intake/manifest.webmanifest", h.intakeManifest)
}

// intakeKeys is the service that opens what a phone sealed: Config's, or
// the case service's own.
func (h *Handler) intakeKeys() cases.IntakeService {
	if h.Intake != nil {
		return h.Intake
	}
	if k, ok := h.Cases.(cases.IntakeService); ok {
		return k
	}
	return nil
}

// intakeView is the offline intake form.
type intakeView struct {
	Recipient    string
	Today        string
	Clients      []*cases.Client
	Factories    []*cases.Factory
	Genders      []cases.Gender
	Presences    []cases.Presence
	Recruitments []cases.Recruitment
	Hazards      []string
	Suspicions   []string
	Documents    []string
	Answers      []cases.Answer
	Guardians    []int
	Currency     string
}

func (h *Handler) intakePage(q *request) error {
	keys := h.intakeKeys()
	if !canFile(q.actor.Role) || keys == nil || keys.IntakeRecipient() == "" {
		return cases.Errorf(cases.ENOTFOUND, "No such page.")
	}
	ctx := q.r.Context()
	v := &intakeView{Recipient: keys.IntakeRecipient(), Today: isoDate(cases.Today(h.Now(), h.Zone)),
		Genders: cases.Genders, Presences: cases.Presences, Recruitments: cases.Recruitments, Hazards: cases.Hazards,
		Suspicions: cases.IDSuspicions, Documents: idDocuments, Answers: cases.Answers, Guardians: []int{1, 2}, Currency: "CNY"}
	clients, err := h.Clients.ListClients(ctx)
	if err != nil {
		return err
	}
	for _, c := range clients {
		if c.Active {
			v.Clients = append(v.Clients, c)
		}
	}
	if v.Factories, err = h.Factories.ListFactories(ctx); err != nil {
		return err
	}
	return q.render(http.StatusOK, "auditor_intake", "", q.loc.T("intake.title"), v)
}

// intakeFields are the facts a phone sends in the clear; the identity and
// the narrative come sealed.
var intakeFields = []string{"client_id", "factory_id", "found_on", "gender", "presence", "job", "hazards", "hours_per_week",
	"monthly_wage", "wage_currency", "recruitment", "removed_from_work", "child_safe", "labour_agent", "factory_consent",
	"other_children_found", "identity", "full_name", "other_names", "claimed_birth_date", "apparent_age", "id_document_type",
	"id_number", "id_suspected", "hometown", "address", "phone", "guardians", "narrative"}

// intakeRequest is what a phone sends: the facts as a form's values, and
// the age ciphertext of the identity and narrative, in base64.
type intakeRequest struct {
	Fields map[string][]string `json:"fields"`
	Sealed string              `json:"sealed"`
}

// intakeAnswer is the reply a phone reads: the case code once filed, or
// every refusal in the user's language, by field.
type intakeAnswer struct {
	Code     string            `json:"code,omitempty"`
	Replayed bool              `json:"replayed,omitempty"`
	Errors   map[string]string `json:"errors,omitempty"`
	Summary  []string          `json:"summary,omitempty"`
}

var idempotencyKey = regexp.MustCompile(`^[A-Za-z0-9_-]{16,100}$`)

// intakeReport files one report sent from a phone, once per its
// Idempotency-Key: a report sent again, because the answer was lost on
// the way back, answers the case filed the first time.
func (h *Handler) intakeReport(q *request) error {
	keys := h.intakeKeys()
	if !canFile(q.actor.Role) || keys == nil {
		return cases.Errorf(cases.ENOTFOUND, "No such page.")
	}
	f := newForm("intake", intakeFields...)
	key := q.r.Header.Get("Idempotency-Key")
	body, err := io.ReadAll(http.MaxBytesReader(q.w, q.r.Body, maxFormBytes))
	var req intakeRequest
	if err == nil {
		dec := json.NewDecoder(strings.NewReader(string(body)))
		dec.DisallowUnknownFields()
		err = dec.Decode(&req)
		if err == nil && dec.More() {
			err = fmt.Errorf("trailing data")
		}
	}
	if !idempotencyKey.MatchString(key) || err != nil ||
		!strings.HasPrefix(strings.ToLower(q.r.Header.Get("Content-Type")), "application/json") {
		f.Summary = append(f.Summary, q.loc.T("intake.bad_request"))
		return q.intakeAnswer(http.StatusBadRequest, intakeAnswer{Summary: f.Summary})
	}
	r := &reader{v: url.Values(req.Fields), f: f, loc: q.loc, zone: h.Zone}
	rep := cases.Report{Gender: cases.Gender(r.Str("gender")), Presence: cases.Presence(r.Str("presence")),
		Job: r.Str("job"), HoursPerWeek: r.Int("hours_per_week"), FoundOn: r.Date("found_on"),
		MonthlyWage: cases.Money{Amount: r.Money("monthly_wage"), Currency: r.Str("wage_currency")},
		Recruitment: cases.Recruitment(r.Str("recruitment")), RemovedFromWork: r.Bool("removed_from_work"),
		ChildSafe: r.Bool("child_safe"), LabourAgent: cases.Answer(r.Str("labour_agent")),
		FactoryConsent: cases.Answer(r.Str("factory_consent")), OtherChildrenFound: r.Int("other_children_found")}
	if rep.MonthlyWage.Amount == 0 {
		rep.MonthlyWage.Currency = ""
	}
	rep.ClientID, _ = parseUUID(r.Str("client_id"))
	rep.FactoryID, _ = parseUUID(r.Str("factory_id"))
	rep.Hazards = append(rep.Hazards, req.Fields["hazards"]...)
	sealed, err := base64.StdEncoding.DecodeString(req.Sealed)
	if err != nil {
		sealed = nil
	}
	id, narrative, err := keys.OpenIntake(key, sealed)
	if err != nil {
		f.addFailures(q.loc, cases.ErrorFailures(err))
	}
	rep.Identity, rep.Narrative = id, narrative
	rep.Normalize()
	if err := rep.Validate(cases.Today(h.Now(), h.Zone)); err != nil || f.Failed() {
		f.addFailures(q.loc, cases.ErrorFailures(err))
		return q.intakeAnswer(http.StatusUnprocessableEntity, intakeAnswer{Errors: f.Errors, Summary: f.Summary})
	}
	c, replayed, err := h.Cases.FileCaseOnce(q.r.Context(), q.actor, cases.IdempotencyKey{Key: "intake-" + key,
		RequestHash: sha256.Sum256(body)}, rep)
	if cases.ErrorCode(err) == cases.EINVALID {
		f.addFailures(q.loc, cases.ErrorFailures(err))
		return q.intakeAnswer(http.StatusUnprocessableEntity, intakeAnswer{Errors: f.Errors, Summary: f.Summary})
	} else if err != nil {
		return err
	}
	status := http.StatusCreated
	if replayed {
		status = http.StatusOK
	}
	return q.intakeAnswer(status, intakeAnswer{Code: c.Code, Replayed: replayed})
}

func (q *request) intakeAnswer(status int, a intakeAnswer) error {
	body, err := json.Marshal(a)
	if err != nil {
		return err
	}
	hd := q.w.Header()
	hd.Set("Content-Type", "application/json; charset=utf-8")
	hd.Set("Content-Length", fmt.Sprint(len(body)))
	q.w.WriteHeader(status)
	_, _ = q.w.Write(body)
	return nil
}

// intakeWorker is the service worker of /intake/: it keeps the form's page
// and assets (never a report: those are in IndexedDB, sealed) so that the
// form opens without a connection after one visit. Its cache is named by
// the assets' hashes, so a new release replaces it.
func (h *Handler) intakeWorker(w http.ResponseWriter, r *http.Request) {
	assets := []string{h.assets.url("app.css"), h.assets.url("part2.css"), h.assets.url("app.js"), h.assets.url("htmx.min.js"),
		h.assets.url("intake.js"), h.assets.url("seal.js"), h.assets.url("favicon.svg")}
	list, _ := json.Marshal(assets)
	sum := sha256.Sum256(list)
	hd := w.Header()
	hd.Set("Content-Type", "text/javascript; charset=utf-8")
	hd.Set("Cache-Control", "no-cache")
	hd.Set("Service-Worker-Allowed", "/intake/")
	fmt.Fprintf(w, serviceWorker, base64.RawURLEncoding.EncodeToString(sum[:9]), list)
}

const serviceWorker = `// Remedy's offline intake: the form's page and assets, never a report.
"use strict";
const CACHE = "remedy-intake-%s";
const ASSETS = %s;
const PAGE = "/intake/";
self.addEventListener("install", (e) => {
  e.waitUntil(caches.open(CACHE).then((c) => c.addAll(ASSETS)).then(() => self.skipWaiting()));
});
self.addEventListener("activate", (e) => {
  e.waitUntil(caches.keys()
    .then((keys) => Promise.all(keys.filter((k) => k !== CACHE).map((k) => caches.delete(k))))
    .then(() => self.clients.claim()));
});
self.addEventListener("fetch", (e) => {
  const url = new URL(e.request.url);
  if (e.request.method !== "GET" || url.origin !== self.location.origin) { return; }
  if (url.pathname === PAGE) {
    // The network first, for a fresh token and lists; the kept page offline.
    e.respondWith(fetch(e.request).then((res) => {
      if (res.ok && res.type === "basic" && !res.redirected) {
        const copy = res.clone();
        caches.open(CACHE).then((c) => c.put(PAGE, copy));
      }
      return res;
    }).catch(() => caches.match(PAGE).then((res) => res || Response.error())));
    return;
  }
  if (ASSETS.includes(url.pathname)) {
    e.respondWith(caches.match(url.pathname).then((res) => res || fetch(e.request)));
  }
});
`

// intakeManifest lets the form be put on a phone's home screen.
func (h *Handler) intakeManifest(w http.ResponseWriter, r *http.Request) {
	loc := h.i18n.locale(h.i18n.negotiate(r.Header.Get("Accept-Language")))
	m := map[string]any{"name": loc.T("intake.app_name"), "short_name": loc.T("app.name"), "start_url": "/intake/",
		"scope": "/intake/", "display": "standalone", "background_color": "#ffffff", "theme_color": "#0b5394",
		"lang": loc.Code, "icons": []map[string]string{{"src": h.assets.url("favicon.svg"), "sizes": "any", "type": "image/svg+xml"}}}
	body, _ := json.Marshal(m)
	hd := w.Header()
	hd.Set("Content-Type", "application/manifest+json")
	hd.Set("Cache-Control", "no-cache")
	_, _ = w.Write(body)
}
