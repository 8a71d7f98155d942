package api

import (
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/http"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	cases "github.com/remedy-cases/remedy/case"
)

func (h handlers) GetReportContacts(c echo.Context, id EntityID) error {
	ctx := c.Request().Context()
	if _, err := h.Clients.FindClientByID(ctx, id); err != nil {
		return err
	}
	emails, err := h.Reports.ReportContacts(ctx, id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, ReportContacts{Emails: nonNil(emails)})
}

func (h handlers) PutReportContacts(c echo.Context, id EntityID) error {
	var req ReportContacts
	if err := decode(c, &req); err != nil {
		return err
	}
	ctx := c.Request().Context()
	if err := h.Reports.SetReportContacts(ctx, actorOf(c), id, req.Emails); err != nil {
		return err
	}
	return h.GetReportContacts(c, id)
}

func (h handlers) ListMonthlyReports(c echo.Context, params ListMonthlyReportsParams) error {
	filter, none := clientScope(actorOf(c), params.ClientId)
	if none {
		return c.JSON(http.StatusOK, MonthlyReportList{Items: []MonthlyReport{}})
	}
	all, err := h.Reports.ListReports(c.Request().Context(), filter)
	if err != nil {
		return err
	}
	// Newest month and version first.
	list, next, err := keysetPage(all, func(r *cases.MonthlyReport) string {
		return fmt.Sprintf("%s\x00%010d\x00%s", r.Month, r.Version, r.ClientID)
	}, true, params.Limit, params.Cursor)
	if err != nil {
		return err
	}
	out := MonthlyReportList{Items: make([]MonthlyReport, len(list)), NextCursor: next}
	for i, r := range list {
		out.Items[i] = reportView(r)
	}
	return c.JSON(http.StatusOK, out)
}

func (h handlers) CreateMonthlyReport(c echo.Context) error {
	var req NewMonthlyReport
	if err := decode(c, &req); err != nil {
		return err
	}
	month, err := cases.ParseMonth(req.Month)
	if err != nil {
		return &cases.Error{Code: cases.EINVALID, Message: "The report is not valid.",
			Failed: []cases.Failure{{Name: "month", Message: "month must be written as YYYY-MM"}}}
	}
	r, err := h.Generator.GenerateNow(c.Request().Context(), actorOf(c), req.ClientId, month)
	if cases.ErrorCode(err) == cases.ENOTFOUND {
		// The only thing a generation looks up is the client, named in the body.
		return &cases.Error{Code: cases.EINVALID, Message: "The report is not valid.",
			Failed: []cases.Failure{{Name: "client_id", Message: "no client has this id"}}}
	} else if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, reportView(r))
}

func (h handlers) DownloadMonthlyReport(c echo.Context, id EntityID) error {
	if _, err := h.visibleReport(c, id); err != nil {
		return err
	}
	r, pdf, err := h.Reports.DownloadReport(c.Request().Context(), actorOf(c), id)
	if err != nil {
		return err
	}
	hd := c.Response().Header()
	hd.Set("Content-Disposition", fmt.Sprintf(`attachment; filename="remedy-report-%s-v%d.pdf"`, r.Month, r.Version))
	hd.Set("Repr-Digest", "sha-256=:"+base64.StdEncoding.EncodeToString(r.SHA256[:])+":")
	return c.Blob(http.StatusOK, "application/pdf", pdf)
}

// visibleReport finds a monthly report the caller may see: another brand's
// answers exactly as a missing one.
func (h handlers) visibleReport(c echo.Context, id EntityID) (*cases.MonthlyReport, error) {
	r, err := h.Reports.FindReport(c.Request().Context(), id)
	if err != nil {
		return nil, err
	}
	if a := actorOf(c); a.Role == cases.RoleClient && (!a.ClientID.Valid || a.ClientID.UUID != r.ClientID) {
		return nil, cases.Errorf(cases.ENOTFOUND, "Report not found.")
	}
	return r, nil
}

// clientScope narrows a list's client filter to what the caller may see:
// a brand's user sees its own brand only, and nothing (none) when it asks
// for another or has no brand; staff see what they ask for.
func clientScope(a cases.Actor, asked *uuid.UUID) (filter uuid.NullUUID, none bool) {
	if asked != nil {
		filter = uuid.NullUUID{UUID: *asked, Valid: true}
	}
	if a.Role != cases.RoleClient {
		return filter, false
	}
	if !a.ClientID.Valid || (filter.Valid && filter != a.ClientID) {
		return uuid.NullUUID{}, true
	}
	return a.ClientID, false
}

func reportView(r *cases.MonthlyReport) MonthlyReport {
	out := MonthlyReport{Id: r.ID, ClientId: r.ClientID, Month: r.Month.String(), Version: r.Version,
		Sha256: hex.EncodeToString(r.SHA256[:]), Size: r.Size, CaseCount: r.CaseCount,
		GeneratedAt: r.GeneratedAt, SentAt: r.SentAt}
	if r.KeyID != "" {
		out.KeyId = &r.KeyID
	}
	return out
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
