package reports

import (
	"bytes"
	"cmp"
	"context"
	"log/slog"
	"maps"
	"slices"
	"time"

	"github.com/google/uuid"
	"golang.org/x/mod/sumdb/note"

	cases "github.com/remedy-cases/remedy/case"
)

// windowedHistories is a report service that can leave the cases closed
// before a report's window out of its histories and sum them up instead, so
// that a month's report does not load every case a client ever had;
// storage's is one. (It belongs in cases.ReportService; until it is there,
// a service without it gives every history.)
type windowedHistories interface {
	CaseHistoriesSince(ctx context.Context, clientID uuid.UUID, since, until time.Time) ([]*cases.CaseHistory, error)
	ClosedBefore(ctx context.Context, clientID uuid.UUID, since, until time.Time) (int, []*cases.LedgerInput, error)
}

// Generator builds, renders and stores a client's monthly report.
type Generator struct {
	Reports cases.ReportService
	Clients cases.ClientService
	Fonts   Fonts
	Zone    *time.Location   // decides days and which month is over
	Now     func() time.Time // the clock; time.Now if nil
	Log     *slog.Logger     // where characters no font has are counted; slog.Default() if nil
	// GraceDays is how long a month's stipend may stay unpaid after it fell
	// due before it counts as arrears (REMEDY_ARREARS_DAYS); the default if 0.
	GraceDays int
	// Signer, if set, signs every stored report (the organisation's
	// report-signing key); its id is printed in every page's footer.
	Signer note.Signer
	// Witness, if set, gives the audit trail's latest signed checkpoint,
	// which every report carries.
	Witness Witness
}

// Witness gives the audit trail's latest signed checkpoint, made now if
// there is none for the trail's current head.
type Witness interface {
	Checkpoint(ctx context.Context) (note []byte, err error)
}

// Time returns the generator's present.
func (g *Generator) Time() time.Time {
	if g.Now != nil {
		return g.Now()
	}
	return time.Now()
}

// Render builds and renders client's month, without storing it. Returns
// ENOTFOUND for an unknown client, EINVALID for a month not yet over.
func (g *Generator) Render(ctx context.Context, clientID uuid.UUID, month cases.Month) ([]byte, *Figures, error) {
	pdf, f, _, err := g.render(ctx, clientID, month, false)
	return pdf, f, err
}

// render renders client's month; with signed, for storing, the footer
// names the key that is to sign it and the last page carries a checkpoint
// of the audit trail.
func (g *Generator) render(ctx context.Context, clientID uuid.UUID, month cases.Month, signed bool) ([]byte, *Figures, *cases.Client, error) {
	if current := cases.MonthOf(g.Time().In(g.Zone)); !month.Before(current) {
		return nil, nil, nil, &cases.Error{Code: cases.EINVALID, Message: "The report is not valid.",
			Failed: []cases.Failure{{Name: "month", Message: "month must be over: the latest is " + current.Add(-1).String()}}}
	}
	client, err := g.Clients.FindClientByID(ctx, clientID)
	if err != nil {
		return nil, nil, nil, err
	}
	// Cases filed up to the end of the month's last day in the zone.
	end := month.End()
	until := time.Date(end.Year(), end.Month(), end.Day(), 0, 0, 0, 0, g.Zone)
	grace := g.GraceDays
	if grace == 0 {
		grace = cases.DefaultGraceDays
	}
	var f *Figures
	if w, ok := g.Reports.(windowedHistories); ok {
		// Only the cases of the window in full; those closed before, summed.
		since := Window(month, g.Zone)
		histories, err := w.CaseHistoriesSince(ctx, clientID, since, until)
		if err != nil {
			return nil, nil, nil, err
		}
		closed, ledgers, err := w.ClosedBefore(ctx, clientID, since, until)
		if err != nil {
			return nil, nil, nil, err
		}
		f = BuildFrom(client.Name, month, g.Zone, grace, histories, Earlier{Closed: closed, Ledgers: ledgers})
	} else {
		histories, err := g.Reports.CaseHistories(ctx, clientID, until)
		if err != nil {
			return nil, nil, nil, err
		}
		f = BuildWithGrace(client.Name, month, g.Zone, grace, histories)
	}
	att := Attestation{Language: client.ReportLanguage}
	if signed && g.Signer != nil {
		att.KeyID = KeyID(g.Signer)
	}
	if signed && g.Witness != nil {
		cp, err := g.Witness.Checkpoint(ctx)
		if err != nil {
			return nil, nil, nil, err
		}
		att.Checkpoint = string(cp)
	}
	var buf bytes.Buffer
	missing, err := RenderAttested(&buf, f, g.Fonts, att)
	if err != nil {
		return nil, nil, nil, err
	}
	g.logMissing(ctx, clientID, month, missing)
	return buf.Bytes(), f, client, nil
}

// logMissing logs, by id, the names with characters that no font has and
// that the report shows as U+FFFD, so that someone can add a font.
func (g *Generator) logMissing(ctx context.Context, clientID uuid.UUID, month cases.Month, m Missing) {
	log := cmp.Or(g.Log, slog.Default())
	if m.Client > 0 {
		log.LogAttrs(ctx, slog.LevelWarn, "report glyphs missing", slog.String("client_id", clientID.String()),
			slog.String("month", month.String()), slog.Int("count", m.Client))
	}
	ids := slices.SortedFunc(maps.Keys(m.Factories), func(a, b uuid.UUID) int { return bytes.Compare(a[:], b[:]) })
	for _, id := range ids {
		log.LogAttrs(ctx, slog.LevelWarn, "report glyphs missing", slog.String("client_id", clientID.String()),
			slog.String("month", month.String()), slog.String("factory_id", id.String()), slog.Int("count", m.Factories[id]))
	}
}

// Generate renders client's month and stores it as a new version; with
// firstOnly, only if the month has none yet (created tells).
func (g *Generator) Generate(ctx context.Context, actor cases.Actor, clientID uuid.UUID, month cases.Month, firstOnly bool) (r *cases.MonthlyReport, created bool, err error) {
	if firstOnly {
		// Skip the rendering when the month is already done: the common case
		// of a retried or repeated run.
		r, err := g.Reports.FirstReport(ctx, clientID, month)
		if err == nil {
			return r, false, nil
		} else if cases.ErrorCode(err) != cases.ENOTFOUND {
			return nil, false, err
		}
	}
	pdf, f, client, err := g.render(ctx, clientID, month, true)
	if err != nil {
		return nil, false, err
	}
	n := cases.NewMonthlyReport{ClientID: clientID, Month: month, PDF: pdf, CaseCount: len(f.Rows)}
	if g.Signer != nil {
		n.Sign = func(pdf []byte, version int) ([]byte, []byte, string, error) {
			signed, sig, err := Sign(pdf, clientID, client.Name, month, version, g.Signer)
			return signed, sig, KeyID(g.Signer), err
		}
	}
	return g.Reports.StoreReport(ctx, actor, n, firstOnly)
}
