package main

import (
	"log/slog"
	"time"

	"github.com/remedy-cases/remedy/api"
	"github.com/remedy-cases/remedy/auth"
	cases "github.com/remedy-cases/remedy/case"
	"github.com/remedy-cases/remedy/storage"
	"github.com/remedy-cases/remedy/web"
)

// webApp builds the web app over the same services as the API, sharing its
// Authenticator (one throttle for both doors). Dates show in the zone of
// the reports, the organisation's.
func webApp(db *storage.DB, svc api.Services, authn *auth.Authenticator, cfg Config, log *slog.Logger, reports cases.ReportVerifier) (*web.Handler, error) {
	zone, err := time.LoadLocation(cfg.ReportZone)
	if err != nil {
		return nil, err
	}
	return web.New(web.Config{
		Services: web.Services{Cases: svc.Cases, Clients: svc.Clients, Factories: svc.Factories, Users: svc.Users,
			Locales: storage.NewUserService(db), Sessions: storage.NewSessionService(db), Auth: authn,
			Documents: svc.Documents, Reports: svc.Reports, Ledger: svc.Ledger, Audit: svc.Audit, Verifier: reports},
		Log: log, Now: func() time.Time { return db.Now() }, Zone: zone, TrustedProxies: cfg.proxies(),
		GraceDays: cfg.ArrearsDays,
	})
}
