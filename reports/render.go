package reports

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/go-pdf/fpdf"

	cases "github.com/remedy-cases/remedy/case"
)

// The default font: a GB 2312 subset of LXGW WenKai, renamed as the OFL asks
// of a modified version. fonts/subset.sh cuts it.
var (
	//go:embed fonts/RemedyKai-Regular.ttf
	kaiRegular []byte
	//go:embed fonts/RemedyKai-Bold.ttf
	kaiBold []byte
)

// Fonts are the TrueType fonts a report is set in. They must cover every
// character of the client's and factories' names.
type Fonts struct{ Regular, Bold []byte }

// DefaultFonts returns the embedded font, which covers Latin text and the
// 6,763 hanzi of GB 2312.
func DefaultFonts() Fonts { return Fonts{Regular: kaiRegular, Bold: kaiBold} }

// LoadFont reads a TrueType font file to use for both weights. fpdf reads
// only TrueType outlines: a collection (.ttc) or a CFF-based OpenType file
// (.otf such as Noto Sans CJK) is refused here rather than at the first report.
func LoadFont(path string) (Fonts, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Fonts{}, fmt.Errorf("report font: %w", err)
	}
	switch {
	case bytes.HasPrefix(b, []byte("ttcf")):
		return Fonts{}, fmt.Errorf("report font %s is a font collection (.ttc); extract one TrueType font from it", path)
	case bytes.HasPrefix(b, []byte("OTTO")):
		return Fonts{}, fmt.Errorf("report font %s has CFF outlines (.otf); fpdf needs a TrueType (.ttf) font", path)
	case !bytes.HasPrefix(b, []byte{0, 1, 0, 0}) && !bytes.HasPrefix(b, []byte("true")):
		return Fonts{}, fmt.Errorf("report font %s is not a TrueType font", path)
	}
	f := Fonts{Regular: b, Bold: b}
	if err := Render(io.Discard, Build("Probe 探测", cases.Month{Year: 2026, Month: 1}, time.UTC, nil), f); err != nil {
		return Fonts{}, fmt.Errorf("report font %s: %w", path, err)
	}
	return f, nil
}

// Layout, in millimetres on A4 portrait.
const (
	pageW, pageH = 210.0, 297.0
	margin       = 15.0
	contentW     = pageW - 2*margin
	footerTop    = pageH - 18
	family       = "kai"
)

// Colours: a dark teal for structure, one colour a state.
var (
	ink        = [3]int{33, 37, 41}
	muted      = [3]int{108, 117, 125}
	teal       = [3]int{18, 82, 96}
	rule       = [3]int{206, 212, 218}
	band       = [3]int{241, 245, 247}
	warn       = [3]int{176, 58, 46}
	stateColor = map[cases.State][3]int{
		cases.StateIntake:       {108, 117, 125},
		cases.StateVerification: {214, 137, 16},
		cases.StatePlanning:     {40, 116, 166},
		cases.StateFollowUp:     {30, 132, 73},
		cases.StateClosed:       {52, 73, 94},
	}
)

var stateLabel = map[cases.State]string{
	cases.StateIntake: "Intake", cases.StateVerification: "Verification", cases.StatePlanning: "Planning",
	cases.StateFollowUp: "Follow-up", cases.StateClosed: "Closed",
}

var outcomeLabel = map[cases.Outcome]string{
	cases.OutcomeCompleted: "Completed", cases.OutcomeNotChildLabour: "Not child labour",
	cases.OutcomeLostContact: "Lost contact", cases.OutcomeRefused: "Refused",
	cases.OutcomeReturnedToWork: "Returned to work", cases.OutcomeTransferred: "Transferred",
}

var payerLabel = map[cases.Payer]string{cases.PayerFactory: "Factory", cases.PayerBrand: "Brand", cases.PayerSplit: "Split"}

const confidentiality = "Confidential. Children appear by case code only: no name, birth date, ID number, address, phone or note."

// Render writes figures as a PDF. The same figures and fonts give the same
// bytes: the document's dates are the month's end, and its catalogue is sorted.
func Render(w io.Writer, f *Figures, fonts Fonts) error {
	month, err := cases.ParseMonth(f.Month)
	if err != nil {
		return err
	}
	if len(fonts.Regular) == 0 || len(fonts.Bold) == 0 {
		return errNoFont
	}
	pdf := fpdf.New("P", "mm", "A4", "")
	stamp := month.End()
	pdf.SetCreationDate(stamp)
	pdf.SetModificationDate(stamp)
	pdf.SetCatalogSort(true)
	pdf.SetCompression(true)
	pdf.AddUTF8FontFromBytes(family, "", fonts.Regular)
	pdf.AddUTF8FontFromBytes(family, "B", fonts.Bold)
	if pdf.Err() {
		return fmt.Errorf("load report font: %w", pdf.Error())
	}
	title := fmt.Sprintf("%s: remediation report, %s", f.Client, monthName(month))
	pdf.SetTitle(title, true)
	pdf.SetSubject("Monthly child-labour remediation report", true)
	pdf.SetCreator("Remedy", true)
	pdf.SetAuthor("Remedy", true)
	pdf.SetMargins(margin, 24, margin)
	pdf.SetAutoPageBreak(false, 0)
	pdf.AliasNbPages("{nb}")

	r := &renderer{pdf: pdf, f: f, month: month}
	pdf.SetHeaderFunc(r.header)
	pdf.SetFooterFunc(r.footer)
	r.summary()
	r.table()
	if pdf.Err() {
		return fmt.Errorf("render report: %w", pdf.Error())
	}
	if err := pdf.Output(w); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	return nil
}

type renderer struct {
	pdf   *fpdf.Fpdf
	f     *Figures
	month cases.Month
}

func (r *renderer) font(style string, size float64, color [3]int) {
	r.pdf.SetFont(family, style, size)
	r.pdf.SetTextColor(color[0], color[1], color[2])
}

func (r *renderer) fill(c [3]int) { r.pdf.SetFillColor(c[0], c[1], c[2]) }

func (r *renderer) header() {
	p := r.pdf
	r.font("B", 9, teal)
	p.SetXY(margin, 10)
	p.CellFormat(contentW/2, 5, "Remedy · monthly remediation report", "", 0, "L", false, 0, "")
	r.font("", 9, muted)
	p.CellFormat(contentW/2, 5, fit(p, r.f.Client, contentW/2-20)+" · "+monthName(r.month), "", 1, "R", false, 0, "")
	p.SetDrawColor(teal[0], teal[1], teal[2])
	p.SetLineWidth(0.4)
	p.Line(margin, 16, pageW-margin, 16)
	p.SetY(24)
}

func (r *renderer) footer() {
	p := r.pdf
	p.SetDrawColor(rule[0], rule[1], rule[2])
	p.SetLineWidth(0.2)
	p.Line(margin, footerTop, pageW-margin, footerTop)
	p.SetXY(margin, footerTop+2)
	r.font("", 7.5, muted)
	p.CellFormat(contentW-25, 4, confidentiality, "", 0, "L", false, 0, "")
	p.CellFormat(25, 4, fmt.Sprintf("Page %d of {nb}", p.PageNo()), "", 0, "R", false, 0, "")
}

func (r *renderer) summary() {
	p, f := r.pdf, r.f
	p.AddPage()
	r.font("B", 20, ink)
	p.MultiCell(contentW, 9, f.Client, "", "L", false)
	r.font("", 13, muted)
	p.CellFormat(contentW, 7, "Child-labour remediation, "+monthName(r.month), "", 1, "L", false, 0, "")
	p.Ln(4)

	due := "none due"
	if f.FollowUps.Due > 0 {
		due = fmt.Sprintf("of %d due", f.FollowUps.Due)
	}
	school := "no visits"
	if pct := f.Attendance.Percent(); pct >= 0 {
		school = fmt.Sprintf("%d%%", pct)
	}
	tiles := []struct {
		value, label string
		alert        bool
	}{
		{strconv.Itoa(f.NewCases), "new cases", false},
		{strconv.Itoa(f.OpenAtEnd), "open at month end", false},
		{strconv.Itoa(f.FollowUps.Done), "follow-ups done, " + due, false},
		{strconv.Itoa(f.FollowUps.Overdue), "overdue follow-ups", f.FollowUps.Overdue > 0},
		{school, fmt.Sprintf("attending school (%d of %d seen)", f.Attendance.Attending, f.Attendance.Seen), false},
	}
	tileW, gap, y := (contentW-4*3)/5, 3.0, p.GetY()
	for i, t := range tiles {
		x := margin + float64(i)*(tileW+gap)
		r.fill(band)
		p.Rect(x, y, tileW, 24, "F")
		color := teal
		if t.alert {
			color = warn
		}
		r.font("B", 18, color)
		p.SetXY(x+2, y+3)
		p.CellFormat(tileW-4, 9, t.value, "", 2, "L", false, 0, "")
		r.font("", 7.5, muted)
		p.SetX(x + 2)
		p.MultiCell(tileW-4, 3.6, t.label, "", "L", false)
	}
	p.SetY(y + 30)

	chartTop := p.GetY()
	r.section("Cases by state at month end")
	r.stateChart(margin, p.GetY()+1, contentW/2-5)
	p.SetXY(margin+contentW/2+5, chartTop)
	r.sectionAt(margin+contentW/2+5, "New cases per month")
	r.monthChart(margin+contentW/2+5, p.GetY()+1, contentW/2-5, 42)
	p.SetY(chartTop + 60)

	left, top := margin, p.GetY()
	r.section("Cases closed this month")
	total := 0
	for _, o := range f.Closed {
		total += o.Count
	}
	for _, o := range f.Closed {
		r.keyValue(left, contentW/2-5, outcomeLabel[o.Outcome], strconv.Itoa(o.Count))
	}
	r.keyValue(left, contentW/2-5, "Total", strconv.Itoa(total))

	x := margin + contentW/2 + 5
	p.SetXY(x, top)
	r.sectionAt(x, "Stipends paid")
	r.font("B", 8.5, muted)
	p.SetX(x)
	p.CellFormat(30, 6, "Payer", "B", 0, "L", false, 0, "")
	p.CellFormat(25, 6, "This month", "B", 0, "R", false, 0, "")
	p.CellFormat(contentW/2-60, 6, "To date", "B", 1, "R", false, 0, "")
	r.font("", 9.5, ink)
	if len(f.Stipends) == 0 {
		p.SetX(x)
		p.CellFormat(contentW/2-5, 6, "No stipend paid yet.", "", 1, "L", false, 0, "")
	}
	for _, s := range f.Stipends {
		p.SetX(x)
		p.CellFormat(30, 6, payerLabel[s.Payer], "", 0, "L", false, 0, "")
		p.CellFormat(25, 6, money(s.ThisMonth, s.Currency), "", 0, "R", false, 0, "")
		p.CellFormat(contentW/2-60, 6, money(s.ToDate, s.Currency), "", 1, "R", false, 0, "")
	}

	p.SetY(max(p.GetY(), top+60) + 4)
	r.font("", 8, muted)
	p.MultiCell(contentW, 4, "A case is due a follow-up in a month when it was in follow-up on the month's first day, "+
		"and overdue when it is still in follow-up at the month's end without one. Attendance counts the children "+
		"visited in the month whose latest visit found them at school. Ages are in whole years at the date the child "+
		"was found, once verified. Days are counted in the "+r.f.Zone+" time zone.", "", "L", false)
}

func (r *renderer) section(title string) { r.sectionAt(margin, title) }

func (r *renderer) sectionAt(x float64, title string) {
	r.font("B", 11, teal)
	r.pdf.SetX(x)
	r.pdf.CellFormat(contentW/2-5, 7, title, "", 1, "L", false, 0, "")
}

func (r *renderer) keyValue(x, w float64, key, value string) {
	p := r.pdf
	p.SetX(x)
	r.font("", 9.5, ink)
	p.CellFormat(w-20, 5.5, key, "", 0, "L", false, 0, "")
	p.CellFormat(20, 5.5, value, "", 1, "R", false, 0, "")
}

// stateChart draws one horizontal bar a state, scaled to the largest.
func (r *renderer) stateChart(x, y, w float64) {
	p := r.pdf
	most := 1
	for _, s := range r.f.ByState {
		most = max(most, s.Count)
	}
	labelW, barH := 24.0, 6.0
	for i, s := range r.f.ByState {
		yy := y + float64(i)*(barH+3)
		r.font("", 9, ink)
		p.SetXY(x, yy)
		p.CellFormat(labelW, barH, stateLabel[s.State], "", 0, "L", false, 0, "")
		barW := (w - labelW - 12) * float64(s.Count) / float64(most)
		r.fill(stateColor[s.State])
		if barW > 0 {
			p.Rect(x+labelW, yy+0.8, barW, barH-1.6, "F")
		}
		p.SetXY(x+labelW+barW+1.5, yy)
		p.CellFormat(10, barH, strconv.Itoa(s.Count), "", 0, "L", false, 0, "")
	}
}

// monthChart draws a column a month for the twelve months, with a baseline
// and the largest value as scale.
func (r *renderer) monthChart(x, y, w, h float64) {
	p := r.pdf
	most := 1
	for _, m := range r.f.NewPerMonth {
		most = max(most, m.Count)
	}
	n := float64(len(r.f.NewPerMonth))
	slot := w / n
	base := y + h - 6
	p.SetDrawColor(rule[0], rule[1], rule[2])
	p.SetLineWidth(0.2)
	p.Line(x, base, x+w, base)
	for i, m := range r.f.NewPerMonth {
		colH := (h - 12) * float64(m.Count) / float64(most)
		cx := x + float64(i)*slot
		if i == len(r.f.NewPerMonth)-1 {
			r.fill(teal)
		} else {
			r.fill([3]int{122, 170, 180})
		}
		if colH > 0 {
			p.Rect(cx+slot*0.18, base-colH, slot*0.64, colH, "F")
		}
		r.font("", 7, ink)
		p.SetXY(cx, base-colH-4)
		p.CellFormat(slot, 4, strconv.Itoa(m.Count), "", 0, "C", false, 0, "")
		mm, _ := cases.ParseMonth(m.Month)
		r.font("", 6.5, muted)
		p.SetXY(cx, base+0.5)
		p.CellFormat(slot, 3.5, mm.Month.String()[:3], "", 0, "C", false, 0, "")
		if mm.Month == time.January || i == 0 {
			p.SetXY(cx, base+3.5)
			p.CellFormat(slot, 3, strconv.Itoa(mm.Year), "", 0, "C", false, 0, "")
		}
	}
}

// columns of the case table; their widths add up to contentW.
var columns = []struct {
	title string
	width float64
	align string
}{
	{"Case", 24, "L"}, {"Factory", 42, "L"}, {"Age", 10, "R"}, {"Gender", 15, "L"},
	{"State", 19, "L"}, {"Days open", 15, "R"}, {"Last follow-up", 21, "L"},
	{"At school", 15, "L"}, {"Stipend paid", 19, "R"},
}

const rowH = 6.0

func (r *renderer) table() {
	p := r.pdf
	p.AddPage()
	r.font("B", 13, ink)
	p.CellFormat(contentW, 8, fmt.Sprintf("Cases open during %s (%d)", monthName(r.month), len(r.f.Rows)), "", 1, "L", false, 0, "")
	r.font("", 8.5, muted)
	p.CellFormat(contentW, 5, "Stipend paid is this month's, in the plan's currency. A dash means not yet known.", "", 1, "L", false, 0, "")
	p.Ln(2)
	r.tableHeader()
	if len(r.f.Rows) == 0 {
		r.font("", 9.5, ink)
		p.CellFormat(contentW, rowH*2, "No case was open during the month.", "", 1, "C", false, 0, "")
	}
	for i, row := range r.f.Rows {
		if p.GetY()+rowH > footerTop-3 {
			p.AddPage()
			r.tableHeader()
		}
		r.fill(band)
		cells := []string{
			row.Code, row.Factory, orDash(row.Age), genderLabel(row.Gender), stateLabel[row.State],
			strconv.Itoa(row.DaysOpen), orDashS(row.LastFollowUp), yesNo(row.AttendingSchool), money(row.StipendPaid, ""),
		}
		if row.StipendPaid == 0 {
			cells[8] = "–"
		}
		r.font("", 8.5, ink)
		for j, c := range columns {
			p.CellFormat(c.width, rowH, fit(p, cells[j], c.width-2), "", 0, c.align, i%2 == 1, 0, "")
		}
		p.Ln(rowH)
	}
}

func (r *renderer) tableHeader() {
	p := r.pdf
	r.fill(teal)
	r.font("B", 8.5, [3]int{255, 255, 255})
	for _, c := range columns {
		p.CellFormat(c.width, rowH+1, c.title, "", 0, c.align, true, 0, "")
	}
	p.Ln(rowH + 1)
}

// fit shortens s with an ellipsis until it is at most w wide in the current font.
func fit(p *fpdf.Fpdf, s string, w float64) string {
	if p.GetStringWidth(s) <= w {
		return s
	}
	runes := []rune(s)
	for len(runes) > 0 && p.GetStringWidth(string(runes)+"…") > w {
		runes = runes[:len(runes)-1]
	}
	return string(runes) + "…"
}

func monthName(m cases.Month) string { return fmt.Sprintf("%s %d", m.Month, m.Year) }

// money formats minor units as 1,234.50 followed by the currency, if given.
func money(minor int64, currency string) string {
	s := strconv.FormatInt(minor/100, 10)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	s = fmt.Sprintf("%s.%02d", s, minor%100)
	return strings.TrimSpace(s + " " + currency)
}

func orDash(n *int) string {
	if n == nil {
		return "–"
	}
	return strconv.Itoa(*n)
}

func orDashS(s string) string {
	if s == "" {
		return "–"
	}
	return s
}

func yesNo(b *bool) string {
	switch {
	case b == nil:
		return "–"
	case *b:
		return "yes"
	default:
		return "no"
	}
}

func genderLabel(g cases.Gender) string {
	if g == "" {
		return "–"
	}
	return string(g)
}

// errNoFont is returned when Fonts is empty.
var errNoFont = errors.New("no report font")
