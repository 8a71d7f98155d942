package api

import (
	"bytes"
	"fmt"
	"net/http"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"
	openapi_types "github.com/oapi-codegen/runtime/types"

	"github.com/remedy-cases/remedy/api/jsondate"
	cases "github.com/remedy-cases/remedy/case"
	"github.com/remedy-cases/remedy/reports"
)

// The stipend ledger: a case's, for its staff and its brand; a brand's, for
// the brand and staff; and the brand's export.

func (h handlers) GetCaseLedger(c echo.Context, id CaseID) error {
	var found *cases.Case
	var err error
	if actorOf(c).Role == cases.RoleAdmin {
		// An admin sees no case, but every ledger, as a brand sees it.
		found, err = h.Cases.FindCase(c.Request().Context(), id)
	} else {
		found, err = h.caseFor(c, id)
	}
	if err != nil {
		return err
	}
	l, payments, err := h.Ledger.CaseLedger(c.Request().Context(), id)
	if err != nil {
		return err
	}
	role := actorOf(c).Role
	staff := role != cases.RoleClient && role != cases.RoleAdmin
	out := CaseLedger{CaseId: id, Code: found.Code, Lines: linesView(l.Lines), Totals: totalsView(l.Totals),
		Payments: make([]Payment, len(payments)), UnpaidFrom: monthPtr(l.UnpaidFrom), ArrearsSince: monthPtr(l.ArrearsSince)}
	if l.Currency != "" {
		out.Currency = &l.Currency
	}
	for i, p := range payments {
		out.Payments[i] = paymentView(p, staff)
	}
	return c.JSON(http.StatusOK, out)
}

func (h handlers) RecordPayment(c echo.Context, id CaseID) error {
	var req PaymentInput
	if err := decode(c, &req); err != nil {
		return err
	}
	if _, err := h.caseFor(c, id); err != nil {
		return err
	}
	m, err := cases.ParseMonth(req.Month)
	if err != nil {
		return err
	}
	p, err := h.Ledger.RecordPayment(c.Request().Context(), actorOf(c), id, cases.PaymentInput{
		Payer: cases.Payer(req.Payer), Amount: req.Amount, Currency: req.Currency, PaidOn: req.PaidOn.Time,
		Month: m, Method: string(req.Method), ProofRef: req.ProofRef})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, paymentView(p, true))
}

func (h handlers) ReversePayment(c echo.Context, id CaseID, paymentID openapi_types.UUID) error {
	if _, err := h.caseFor(c, id); err != nil {
		return err
	}
	p, err := h.Ledger.ReversePayment(c.Request().Context(), actorOf(c), id, paymentID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, paymentView(p, true))
}

// brandLedgerFilter reads the brand and range of a ledger request: a client
// user's own brand, whatever it names; staff must name one that exists.
func (h handlers) brandLedgerFilter(c echo.Context, clientID *openapi_types.UUID, from, to Month) (cases.LedgerFilter, *cases.Client, error) {
	var f cases.LedgerFilter
	a := actorOf(c)
	switch {
	case a.Role == cases.RoleClient && clientID != nil && *clientID != a.ClientID.UUID:
		return f, nil, cases.Errorf(cases.ENOTFOUND, "Client not found.")
	case a.Role == cases.RoleClient:
		f.ClientID = a.ClientID.UUID
	case clientID == nil:
		return f, nil, &cases.Error{Code: cases.EINVALID, Message: "The ledger's brand is missing.",
			Failed: []cases.Failure{{Name: "client_id", Message: "client_id is required"}}}
	default:
		f.ClientID = *clientID
	}
	client, err := h.Clients.FindClientByID(c.Request().Context(), f.ClientID)
	if err != nil {
		return f, nil, err
	}
	if f.From, err = cases.ParseMonth(from); err != nil {
		return f, nil, err
	}
	if f.To, err = cases.ParseMonth(to); err != nil {
		return f, nil, err
	}
	return f, client, nil
}

func (h handlers) GetBrandLedger(c echo.Context, params GetBrandLedgerParams) error {
	f, _, err := h.brandLedgerFilter(c, params.ClientId, params.From, params.To)
	if err != nil {
		return err
	}
	bl, err := h.Ledger.BrandLedger(c.Request().Context(), f)
	if err != nil {
		return err
	}
	out := BrandLedger{ClientId: f.ClientID, From: bl.From.String(), To: bl.To.String(), Totals: totalsView(bl.Totals)}
	for _, m := range bl.Months {
		out.Months = append(out.Months, struct {
			Lines []LedgerLine `json:"lines"`
			Month Month        `json:"month"`
		}{Lines: linesView(m.Lines), Month: m.Month.String()})
	}
	out.InArrears = make([]struct {
		CaseId      openapi_types.UUID `json:"case_id"`
		Code        string             `json:"code"`
		UnpaidDueOn jsondate.Date      `json:"unpaid_due_on"`
	}, len(bl.InArrears))
	for i, a := range bl.InArrears {
		out.InArrears[i].CaseId, out.InArrears[i].Code, out.InArrears[i].UnpaidDueOn = a.CaseID, a.Code, date(a.UnpaidDueOn)
	}
	return c.JSON(http.StatusOK, out)
}

// ExportBrandLedger answers the brand's ledger as a CSV or XLSX file, by case
// code only, and audits the export.
func (h handlers) ExportBrandLedger(c echo.Context, params ExportBrandLedgerParams) error {
	f, client, err := h.brandLedgerFilter(c, params.ClientId, params.From, params.To)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	f.WithLines = true
	bl, err := h.Ledger.BrandLedger(ctx, f)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	contentType, ext := "text/csv; charset=utf-8", "csv"
	if params.Format == Xlsx {
		contentType, ext = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx"
		err = reports.LedgerXLSX(&buf, client.Name, bl)
	} else {
		err = reports.LedgerCSV(&buf, bl)
	}
	if err != nil {
		return err
	}
	err = h.Audit.Append(ctx, actorOf(c), cases.ActionLedgerExported, f.ClientID.String(),
		map[string]string{"client_id": f.ClientID.String(), "from": f.From.String(), "to": f.To.String(), "format": ext})
	if err != nil {
		return err
	}
	// The file name names the range and a short id, never the brand: a name
	// may not survive a header.
	name := fmt.Sprintf("remedy-ledger-%s-%s-%s.%s", f.From, f.To, shortID(f.ClientID), ext)
	c.Response().Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	return c.Blob(http.StatusOK, contentType, buf.Bytes())
}

func shortID(id uuid.UUID) string { return id.String()[:8] }

func monthPtr(m *cases.Month) *Month {
	if m == nil {
		return nil
	}
	s := m.String()
	return &s
}

func linesView(lines []cases.LedgerLine) []LedgerLine {
	out := make([]LedgerLine, len(lines))
	for i, l := range lines {
		out[i] = LedgerLine{Month: l.Month.String(), Payer: LedgerLinePayer(l.Payer), Currency: l.Currency,
			Due: l.Due, Paid: l.Paid, Balance: l.Balance()}
	}
	return out
}

func totalsView(totals []cases.PayerTotals) []PayerTotals {
	out := make([]PayerTotals, len(totals))
	for i, t := range totals {
		out[i] = PayerTotals{Payer: PayerTotalsPayer(t.Payer), Currency: t.Currency, Due: t.Due, Paid: t.Paid,
			Balance: t.Balance(), Arrears: t.Arrears, Credit: t.Credit}
	}
	return out
}

// paymentView gives a brand the payment's facts only: not its proof
// reference (a transfer's reference can name a family's account), nor who
// recorded it.
func paymentView(p *cases.Payment, staff bool) Payment {
	v := Payment{Id: p.ID, Payer: PaymentPayer(p.Payer), Amount: p.Amount.Amount, Currency: p.Amount.Currency,
		PaidOn: date(p.PaidOn), Month: p.Month.String(), Method: PaymentMethod(p.Method)}
	if p.ProofDocuments > 0 {
		v.ProofDocuments = &p.ProofDocuments
	}
	if p.ReversalOf.Valid {
		v.ReversalOf = &p.ReversalOf.UUID
	}
	if p.ReversedBy.Valid {
		v.ReversedBy = &p.ReversedBy.UUID
	}
	if staff {
		v.ProofRef, v.RecordedBy = &p.ProofRef, &p.RecordedBy
		if p.FollowUpID.Valid {
			v.FollowUpId = &p.FollowUpID.UUID
		}
	}
	return v
}
