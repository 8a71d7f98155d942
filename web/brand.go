package web

import (
	"bytes"
	"fmt"
	"html/template"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	cases "github.com/remedy-cases/remedy/case"
	"github.com/remedy-cases/remedy/reports"
	"github.com/remedy-cases/remedy/workflow"
)

// A brand's pages: its cases as the API shows them to a brand, the figures
// of its monthly report with charts drawn on the server, its reports and
// its stipend ledger. A brand user reaches nothing else; every other
// brand's page answers 404, exactly as a missing one.

// routesPart2 registers the pages of the brand, the auditor's offline
// intake and the admin (issue 17).
func (h *Handler) routesPart2() {
	m := h.mux
	m.Handle("GET /brand/cases/{id}", h.private(h.brandCase))
	m.Handle("GET /brand/reports", h.private(h.brandReports))
	m.Handle("GET /brand/reports/{id}", h.private(h.brandReportPDF))
	m.Handle("GET /brand/ledger", h.private(h.brandLedger))
	m.Handle("GET /brand/ledger.csv", h.private(h.brandLedgerExport))
	m.Handle("GET /brand/ledger.xlsx", h.private(h.brandLedgerExport))
	h.routesAuditor()
	h.routesAdmin()
}

// roleHome is each role's home: the brand's dashboard, the admin's
// overview, or the staff's and auditor's work.
func (h *Handler) roleHome(q *request) error {
	switch {
	case q.actor.Role == cases.RoleClient && q.brandOnly() == nil:
		return h.brandHome(q)
	case q.actor.Role == cases.RoleAdmin && q.adminOnly() == nil:
		return h.adminHome(q)
	}
	// Without the services their pages need, they get part 1's home.
	return h.home(q)
}

// brandOnly refuses anyone but a brand user with a brand, as a missing page.
func (q *request) brandOnly() error {
	if q.actor.Role != cases.RoleClient || !q.actor.ClientID.Valid || q.h.Reports == nil || q.h.Ledger == nil {
		return cases.Errorf(cases.ENOTFOUND, "No such page.")
	}
	return nil
}

// brandRow is one case as a brand sees it: pseudonymised facts only.
type brandRow struct {
	ID           uuid.UUID
	Code         string
	Factory      string
	Age          *int
	Gender       cases.Gender
	State        cases.State
	Outcome      cases.Outcome
	DaysOpen     int
	LastFollowUp *time.Time
	AttendKnown  bool // a follow-up said whether the child attends school
	Attending    bool
	Stipend      int64 // monthly, minor units
	PaidMonth    int64 // paid for the shown month, both payers
	Currency     string
	InArrears    bool
}

// brandView is a brand's dashboard.
type brandView struct {
	Client    string
	Month     string
	Months    []string // the months one may choose, newest first
	Figures   *reports.Figures
	Rows      []brandRow
	Charts    []chart
	ClosedAny bool
	Attended  int // percent of the children seen who attend school; -1 if none
}

// chart is an SVG drawn on the server, with the table it draws for those
// who cannot see it.
type chart struct {
	ID    string
	Title string
	SVG   template.HTML
	Head  []string
	Rows  [][]string
}

func (h *Handler) brandHome(q *request) error {
	if err := q.brandOnly(); err != nil {
		return err
	}
	ctx := q.r.Context()
	now := h.Now()
	current := cases.MonthOf(now.In(h.Zone))
	month := current
	if s := q.r.URL.Query().Get("month"); s != "" {
		m, err := cases.ParseMonth(s)
		if err != nil || current.Before(m) || m.Before(current.Add(-23)) {
			return cases.Errorf(cases.ENOTFOUND, "No such month.")
		}
		month = m
	}
	client, err := h.Clients.FindClientByID(ctx, q.actor.ClientID.UUID)
	if err != nil {
		return err
	}
	// Every case filed up to the month's end, in the organisation's zone;
	// for the current month, that is every case so far.
	next := month.Add(1)
	until := time.Date(next.Year, next.Month, 1, 0, 0, 0, 0, h.Zone)
	asOf := now
	if until.Before(now) {
		asOf = until
	}
	histories, err := h.Reports.CaseHistories(ctx, client.ID, until)
	if err != nil {
		return err
	}
	f := reports.BuildWithGrace(client.Name, month, h.Zone, h.graceDays(), histories)
	v := &brandView{Client: client.Name, Month: month.String(), Figures: f, Attended: f.Attendance.Percent()}
	for _, o := range f.Closed {
		v.ClosedAny = v.ClosedAny || o.Count > 0
	}
	for i := 0; i < 24; i++ {
		v.Months = append(v.Months, current.Add(-i).String())
	}
	inMonth := map[string]reports.Row{}
	for _, r := range f.Rows {
		inMonth[r.Code] = r
	}
	for _, hs := range histories {
		c := hs.Case
		end := asOf
		if c.ClosedAt != nil && c.ClosedAt.Before(asOf) {
			end = *c.ClosedAt
		}
		row := brandRow{ID: c.ID, Code: c.Code, Factory: hs.Factory, Age: c.AgeAtFound, Gender: c.Gender, State: c.State,
			Outcome: c.Outcome, DaysOpen: int(cases.Date(end).Sub(cases.Date(c.CreatedAt)).Hours() / 24),
			LastFollowUp: c.LastFollowUp}
		if n := len(hs.FollowUps); n > 0 {
			row.AttendKnown, row.Attending = true, hs.FollowUps[n-1].AttendingSchool
		}
		if p := c.Plan; p != nil {
			row.Stipend, row.Currency = p.MonthlyStipend, p.Currency
		}
		if r, ok := inMonth[c.Code]; ok {
			row.PaidMonth, row.InArrears, row.State = r.StipendPaid, r.InArrears, r.State
			if r.Currency != "" {
				row.Currency = r.Currency
			}
		}
		v.Rows = append(v.Rows, row)
	}
	slices.SortFunc(v.Rows, func(a, b brandRow) int { return strings.Compare(b.Code, a.Code) })
	v.Charts = append(v.Charts, q.stateChart(f), q.newCasesChart(f))
	bl, err := h.Ledger.BrandLedger(ctx, cases.LedgerFilter{ClientID: client.ID, From: month.Add(-11), To: month})
	if err != nil {
		return err
	}
	if c, ok := q.stipendChart(bl); ok {
		v.Charts = append(v.Charts, c)
	}
	return q.render(http.StatusOK, "brand_home", "", q.loc.T("brand.title"), v)
}

func (h *Handler) graceDays() int {
	if h.GraceDays > 0 {
		return h.GraceDays
	}
	return cases.DefaultGraceDays
}

// Charts: plain SVG with presentation attributes only (the
// Content-Security-Policy allows no inline style), every label escaped.

const (
	chartBar   = "#2f6f4f"
	chartDue   = "#b7c9bf"
	chartPaid  = "#2f6f4f"
	chartInk   = "#222222"
	chartMuted = "#666666"
)

func esc(s string) string { return template.HTMLEscapeString(s) }

// stateChart draws the cases by state at the month's end, one bar a state.
func (q *request) stateChart(f *reports.Figures) chart {
	c := chart{ID: "chart-state", Title: q.loc.T("brand.chart.state"), Head: []string{q.loc.T("brand.col.state"), q.loc.T("brand.col.count")}}
	most := 1
	for _, s := range f.ByState {
		most = max(most, s.Count)
	}
	const w, rowH, labelW = 320, 28, 110
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" viewBox="0 0 %d %d" role="img" aria-labelledby="%s-t"><title id="%s-t">%s</title>`,
		w, rowH*len(f.ByState)+4, c.ID, c.ID, esc(c.Title))
	for i, s := range f.ByState {
		label := q.loc.Enum("state", s.State)
		y := i*rowH + 4
		bw := (w - labelW - 40) * s.Count / most
		fmt.Fprintf(&b, `<text x="0" y="%d" font-size="13" fill="%s">%s</text>`, y+16, chartInk, esc(label))
		fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%d" height="18" fill="%s"></rect>`, labelW, y+3, bw, chartBar)
		fmt.Fprintf(&b, `<text x="%d" y="%d" font-size="13" fill="%s">%s</text>`, labelW+bw+6, y+16, chartInk, esc(q.loc.Number(int64(s.Count))))
		c.Rows = append(c.Rows, []string{label, q.loc.Number(int64(s.Count))})
	}
	b.WriteString(`</svg>`)
	c.SVG = template.HTML(b.String())
	return c
}

// newCasesChart draws the new cases of the twelve months to the shown one.
func (q *request) newCasesChart(f *reports.Figures) chart {
	c := chart{ID: "chart-new", Title: q.loc.T("brand.chart.new"), Head: []string{q.loc.T("brand.col.month"), q.loc.T("brand.col.count")}}
	most := 1
	for _, m := range f.NewPerMonth {
		most = max(most, m.Count)
	}
	const h, colW, top = 140, 26, 16
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" viewBox="0 0 %d %d" role="img" aria-labelledby="%s-t"><title id="%s-t">%s</title>`,
		colW*len(f.NewPerMonth)+4, h+34, c.ID, c.ID, esc(c.Title))
	for i, m := range f.NewPerMonth {
		x := i*colW + 4
		bh := (h - top) * m.Count / most
		fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%d" height="%d" fill="%s"></rect>`, x, h-bh, colW-6, bh, chartBar)
		fmt.Fprintf(&b, `<text x="%d" y="%d" font-size="11" text-anchor="middle" fill="%s">%d</text>`, x+(colW-6)/2, h-bh-3, chartInk, m.Count)
		fmt.Fprintf(&b, `<text x="%d" y="%d" font-size="10" text-anchor="middle" fill="%s">%s</text>`, x+(colW-6)/2, h+14, chartMuted, esc(m.Month[5:]))
		if i == 0 || m.Month[5:] == "01" {
			fmt.Fprintf(&b, `<text x="%d" y="%d" font-size="10" fill="%s">%s</text>`, x, h+28, chartMuted, esc(m.Month[:4]))
		}
		c.Rows = append(c.Rows, []string{m.Month, q.loc.Number(int64(m.Count))})
	}
	b.WriteString(`</svg>`)
	c.SVG = template.HTML(b.String())
	return c
}

// stipendChart draws, month by month, the stipends due against paid in the
// brand's main currency (the one with most due); none when nothing was due.
func (q *request) stipendChart(bl *cases.BrandLedger) (chart, bool) {
	byCurrency := map[string]int64{}
	for _, m := range bl.Months {
		for _, l := range m.Lines {
			byCurrency[l.Currency] += l.Due
		}
	}
	currency := ""
	for cur, due := range byCurrency {
		if currency == "" || due > byCurrency[currency] || due == byCurrency[currency] && cur < currency {
			currency = cur
		}
	}
	if currency == "" {
		return chart{}, false
	}
	c := chart{ID: "chart-stipends", Title: q.loc.T("brand.chart.stipends", "Currency", currency),
		Head: []string{q.loc.T("brand.col.month"), q.loc.T("brand.col.due"), q.loc.T("brand.col.paid")}}
	type dp struct{ due, paid int64 }
	months := make([]dp, len(bl.Months))
	var most int64 = 1
	for i, m := range bl.Months {
		for _, l := range m.Lines {
			if l.Currency == currency {
				months[i].due += l.Due
				months[i].paid += l.Paid
			}
		}
		most = max(most, months[i].due, months[i].paid)
	}
	const h, colW, top = 140, 26, 8
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" viewBox="0 0 %d %d" role="img" aria-labelledby="%s-t"><title id="%s-t">%s</title>`,
		colW*len(months)+4, h+40, c.ID, c.ID, esc(c.Title))
	for i, m := range months {
		x := i*colW + 4
		dh := int(int64(h-top) * m.due / most)
		ph := int(int64(h-top) * m.paid / most)
		fmt.Fprintf(&b, `<rect x="%d" y="%d" width="10" height="%d" fill="%s"></rect>`, x, h-dh, dh, chartDue)
		fmt.Fprintf(&b, `<rect x="%d" y="%d" width="10" height="%d" fill="%s"></rect>`, x+10, h-ph, ph, chartPaid)
		month := bl.Months[i].Month.String()
		fmt.Fprintf(&b, `<text x="%d" y="%d" font-size="10" text-anchor="middle" fill="%s">%s</text>`, x+10, h+14, chartMuted, esc(month[5:]))
		c.Rows = append(c.Rows, []string{month, q.loc.Money(m.due, currency), q.loc.Money(m.paid, currency)})
	}
	fmt.Fprintf(&b, `<rect x="4" y="%d" width="10" height="10" fill="%s"></rect><text x="18" y="%d" font-size="11" fill="%s">%s</text>`,
		h+22, chartDue, h+31, chartInk, esc(q.loc.T("brand.col.due")))
	fmt.Fprintf(&b, `<rect x="90" y="%d" width="10" height="10" fill="%s"></rect><text x="104" y="%d" font-size="11" fill="%s">%s</text>`,
		h+22, chartPaid, h+31, chartInk, esc(q.loc.T("brand.col.paid")))
	b.WriteString(`</svg>`)
	c.SVG = template.HTML(b.String())
	return c, true
}

// brandReportsView lists a brand's monthly reports.
type brandReportsView struct {
	Reports []*cases.MonthlyReport
}

func (h *Handler) brandReports(q *request) error {
	if err := q.brandOnly(); err != nil {
		return err
	}
	list, err := h.Reports.ListReports(q.r.Context(), q.actor.ClientID)
	if err != nil {
		return err
	}
	return q.render(http.StatusOK, "brand_reports", "", q.loc.T("brand.reports.title"), &brandReportsView{Reports: list})
}

// brandReportPDF downloads one of the brand's reports, audited; another
// brand's report is exactly a missing one.
func (h *Handler) brandReportPDF(q *request) error {
	if err := q.brandOnly(); err != nil {
		return err
	}
	id, err := uuid.Parse(q.r.PathValue("id"))
	if err != nil {
		return cases.Errorf(cases.ENOTFOUND, "Report not found.")
	}
	ctx := q.r.Context()
	r, err := h.Reports.FindReport(ctx, id)
	if err != nil {
		return err
	}
	if r.ClientID != q.actor.ClientID.UUID {
		return cases.Errorf(cases.ENOTFOUND, "Report not found.")
	}
	r, pdf, err := h.Reports.DownloadReport(ctx, q.actor, id)
	if err != nil {
		return err
	}
	hd := q.w.Header()
	hd.Set("Content-Type", "application/pdf")
	hd.Set("Content-Disposition", fmt.Sprintf(`attachment; filename="remedy-report-%s-v%d.pdf"`, r.Month, r.Version))
	hd.Set("Content-Length", fmt.Sprint(len(pdf)))
	q.w.WriteHeader(http.StatusOK)
	if q.r.Method != http.MethodHead {
		_, _ = q.w.Write(pdf)
	}
	return nil
}

// brandLedgerView is a brand's stipend ledger over twelve months.
type brandLedgerView struct {
	From, To string
	Ledger   *cases.BrandLedger
}

func (q *request) brandLedgerFilter(withLines bool) cases.LedgerFilter {
	to := cases.MonthOf(q.h.Now().In(q.h.Zone))
	return cases.LedgerFilter{ClientID: q.actor.ClientID.UUID, From: to.Add(-11), To: to, WithLines: withLines}
}

func (h *Handler) brandLedger(q *request) error {
	if err := q.brandOnly(); err != nil {
		return err
	}
	f := q.brandLedgerFilter(false)
	bl, err := h.Ledger.BrandLedger(q.r.Context(), f)
	if err != nil {
		return err
	}
	return q.render(http.StatusOK, "brand_ledger", "", q.loc.T("brand.ledger.title"),
		&brandLedgerView{From: f.From.String(), To: f.To.String(), Ledger: bl})
}

// brandLedgerExport exports the ledger by case code as CSV or XLSX, as the
// API does, audited.
func (h *Handler) brandLedgerExport(q *request) error {
	if err := q.brandOnly(); err != nil {
		return err
	}
	ctx := q.r.Context()
	f := q.brandLedgerFilter(true)
	bl, err := h.Ledger.BrandLedger(ctx, f)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	ext, ctype := "csv", "text/csv; charset=utf-8"
	if strings.HasSuffix(q.r.URL.Path, ".xlsx") {
		ext, ctype = "xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
		client, err := h.Clients.FindClientByID(ctx, f.ClientID)
		if err != nil {
			return err
		}
		err = reports.LedgerXLSX(&buf, client.Name, bl)
		if err != nil {
			return err
		}
	} else if err := reports.LedgerCSV(&buf, bl); err != nil {
		return err
	}
	if h.Audit != nil {
		err = h.Audit.Append(ctx, q.actor, cases.ActionLedgerExported, f.ClientID.String(),
			map[string]string{"client_id": f.ClientID.String(), "from": f.From.String(), "to": f.To.String(), "format": ext})
		if err != nil {
			return err
		}
	}
	hd := q.w.Header()
	hd.Set("Content-Type", ctype)
	hd.Set("Content-Disposition", fmt.Sprintf(`attachment; filename="remedy-ledger-%s-%s.%s"`, f.From, f.To, ext))
	q.w.WriteHeader(http.StatusOK)
	_, _ = q.w.Write(buf.Bytes())
	return nil
}

// brandCaseView is one of the brand's cases as the API shows it to a
// brand: its facts, the transitions without who made them or why, the
// follow-ups' school and stipend facts without their concerns or proof,
// and the case's stipend ledger.
type brandCaseView struct {
	Row      brandRow
	Timeline []brandEvent
	Ledger   *cases.CaseLedger
}

// brandEvent is a transition or a follow-up, in date order.
type brandEvent struct {
	At         time.Time
	Transition *cases.Transition
	FollowUp   *cases.FollowUp
}

// brandCase shows one of the brand's cases; another brand's case answers
// exactly as a missing one.
func (h *Handler) brandCase(q *request) error {
	if err := q.brandOnly(); err != nil {
		return err
	}
	missing := cases.Errorf(cases.ENOTFOUND, "Case not found.")
	id, err := uuid.Parse(q.r.PathValue("id"))
	if err != nil {
		return missing
	}
	ctx := q.r.Context()
	c, err := h.Cases.FindCase(ctx, id)
	if cases.ErrorCode(err) == cases.ENOTFOUND || err == nil && !workflow.CanSee(q.actor, c) {
		return missing
	} else if err != nil {
		return err
	}
	f, err := h.Factories.FindFactoryByID(ctx, c.FactoryID)
	if err != nil {
		return err
	}
	now := h.Now()
	end := now
	if c.ClosedAt != nil {
		end = *c.ClosedAt
	}
	v := &brandCaseView{Row: brandRow{ID: c.ID, Code: c.Code, Factory: f.Name, Age: c.AgeAtFound, Gender: c.Gender,
		State: c.State, Outcome: c.Outcome, DaysOpen: int(cases.Date(end).Sub(cases.Date(c.CreatedAt)).Hours() / 24),
		LastFollowUp: c.LastFollowUp, InArrears: c.ArrearsAsOf(now, h.Zone, h.graceDays())}}
	if p := c.Plan; p != nil {
		v.Row.Stipend, v.Row.Currency = p.MonthlyStipend, p.Currency
	}
	transitions, err := h.Cases.Transitions(ctx, id)
	if err != nil {
		return err
	}
	followUps, err := h.Cases.FollowUps(ctx, id)
	if err != nil {
		return err
	}
	for _, t := range transitions {
		v.Timeline = append(v.Timeline, brandEvent{At: t.At, Transition: t})
	}
	for _, fu := range followUps {
		v.Timeline = append(v.Timeline, brandEvent{At: fu.Date, FollowUp: fu})
	}
	if n := len(followUps); n > 0 {
		v.Row.AttendKnown, v.Row.Attending = true, followUps[n-1].AttendingSchool
	}
	slices.SortStableFunc(v.Timeline, func(a, b brandEvent) int { return a.At.Compare(b.At) })
	if v.Ledger, _, err = h.Ledger.CaseLedger(ctx, id); err != nil {
		return err
	}
	return q.render(http.StatusOK, "brand_case", "", c.Code, v)
}
