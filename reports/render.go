package reports

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"maps"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf16"

	"github.com/google/uuid"

	"github.com/go-pdf/fpdf"

	cases "github.com/remedy-cases/remedy/case"
	"github.com/remedy-cases/remedy/reports/internal/subset"
	"github.com/remedy-cases/remedy/reports/internal/typeset"
)

// Layout, in millimetres on A4 portrait.
const (
	pageW, pageH = 210.0, 297.0
	margin       = 15.0
	contentW     = pageW - 2*margin
	footerTop    = pageH - 18
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

// Missing counts, per name, the characters that no report font has: the
// report draws each as U+FFFD. A caller logs them by id, never the name.
type Missing struct {
	Client    int               // in the client's name
	Factories map[uuid.UUID]int // in factories' names, by Row.FactoryID; only those missing some
}

// Render writes figures as a PDF. The same figures and fonts give the same
// bytes: the document's dates are the month's end, and its catalogue is
// sorted. Any name is drawn, whatever it holds: a character no font has
// becomes U+FFFD, counted in Missing; invalid UTF-8 and control characters
// are drawn as U+FFFD too. Render fails only on a figure's month that does
// not parse, empty fonts, or a failure to write.
func Render(w io.Writer, f *Figures, fonts Fonts) (Missing, error) {
	return RenderAttested(w, f, fonts, Attestation{})
}

// Attestation is what a report shows of the trust a reader can check: the
// key that signs it, in every page's footer, and the latest signed
// checkpoint of the audit trail, on its last page.
type Attestation struct {
	KeyID      string // name+hash of the report-signing key; empty for an unsigned report
	Checkpoint string // a signed note in the checkpoint format; empty for none
	// Language is the client's report language: en (the default), zh-CN,
	// or both (the report in English, then in Chinese).
	Language string
}

// RenderAttested is Render with the signing key's id and the audit
// trail's latest checkpoint printed in the report.
func RenderAttested(w io.Writer, f *Figures, fonts Fonts, a Attestation) (Missing, error) {
	missing, _, err := renderCut(w, f, fonts, a, planCuts(f, fonts.chain, a))
	return missing, err
}

// renderCut is RenderAttested with each face of plan given to fpdf cut to
// the codes plan lists for it (see planCuts). Should the report draw a code
// that a face's cut lacks, or fail, it is set again with the whole fonts,
// and whole tells so: a cut never changes what the report draws.
func renderCut(w io.Writer, f *Figures, fonts Fonts, a Attestation, plan map[*typeset.Face]*subset.Codes) (_ Missing, whole bool, _ error) {
	month, err := cases.ParseMonth(f.Month)
	if err != nil {
		return Missing{}, false, err
	}
	if len(fonts.chain) == 0 {
		return Missing{}, false, errNoFont
	}
	missing := Missing{Client: fonts.chain.Missing(f.Client), Factories: map[uuid.UUID]int{}}
	for _, row := range f.Rows {
		if _, seen := missing.Factories[row.FactoryID]; !seen {
			missing.Factories[row.FactoryID] = fonts.chain.Missing(row.Factory)
		}
	}
	maps.DeleteFunc(missing.Factories, func(_ uuid.UUID, n int) bool { return n == 0 })

	r, err := layout(f, month, fonts.chain, a, plan)
	if plan != nil && (err != nil || !r.cutsHold()) {
		// A code the cut lacks, or an error fpdf might not give with the
		// whole fonts.
		whole = true
		r, err = layout(f, month, fonts.chain, a, nil)
	}
	if err != nil {
		return Missing{}, whole, err
	}
	if err := r.output(w); err != nil {
		return Missing{}, whole, err
	}
	return missing, whole, nil
}

// layout sets the report in an fpdf document, ready for output: each face
// of plan cut to its codes, the others whole.
func layout(f *Figures, month cases.Month, chain typeset.Chain, a Attestation, plan map[*typeset.Face]*subset.Codes) (*renderer, error) {
	pdf := fpdf.New("P", "mm", "A4", "")
	stamp := month.End()
	pdf.SetCreationDate(stamp)
	pdf.SetModificationDate(stamp)
	pdf.SetCatalogSort(true)
	// deflatePages compresses the pages, with one writer for them all.
	pdf.SetCompression(false)
	pdf.SetTitle(metadata(fmt.Sprintf("%s: remediation report, %s %d", f.Client, month.Month, month.Year)), false)
	pdf.SetSubject("Monthly child-labour remediation report", true)
	pdf.SetCreator("Remedy", true)
	pdf.SetAuthor("Remedy", true)
	pdf.SetMargins(margin, 24, margin)
	pdf.SetAutoPageBreak(false, 0)
	// The footer's "{nb}", the number of pages, is replaced by deflatePages.

	r := &renderer{pdf: pdf, f: f, month: month, chain: chain, att: a,
		added: map[*typeset.Face]bool{}, astral: map[*typeset.Face]map[rune]bool{},
		plan: plan, cut: map[*typeset.Face]cut{}}
	pdf.SetHeaderFunc(r.header)
	pdf.SetFooterFunc(r.footer)
	// fpdf draws a cell's fill and border only with a font set.
	r.font("", 9, ink)
	r.use(chain[0].Regular)
	for _, lang := range passes(a.Language) {
		r.lang = lang
		r.summary()
		r.table()
	}
	r.checkpoint()
	if pdf.Err() {
		return nil, fmt.Errorf("render report: %w", pdf.Error())
	}
	return r, nil
}

// output writes the document laid out, its pages compressed and numbered,
// and its astral codes mapped back to their characters.
func (r *renderer) output(w io.Writer) error {
	if len(r.astral) == 0 {
		if err := r.pdf.Output(&deflater{w: w, alias: nbAlias}); err != nil {
			return fmt.Errorf("write report: %w", err)
		}
		return nil
	}
	var buf bytes.Buffer
	if err := r.pdf.Output(&deflater{w: &buf, alias: nbAlias}); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	doc, err := mapAstral(buf.Bytes(), r.astral)
	if err != nil {
		return fmt.Errorf("render report: %w", err)
	}
	if _, err := w.Write(doc); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	return nil
}

// metadata encodes s as a PDF text string, UTF-16BE with its byte order
// mark, for fpdf to take as is: fpdf's own conversion knows neither
// characters beyond the BMP nor invalid UTF-8.
func metadata(s string) string {
	var units []uint16
	for _, r := range strings.ToValidUTF8(s, string(typeset.Replacement)) {
		if unicode.IsControl(r) {
			r = typeset.Replacement
		}
		units = utf16.AppendRune(units, r)
	}
	b := make([]byte, 2, 2+2*len(units))
	b[0], b[1] = 0xFE, 0xFF
	for _, u := range units {
		b = append(b, byte(u>>8), byte(u))
	}
	return string(b)
}

type renderer struct {
	att      Attestation
	lang     string // of the labels being set: en or zh-CN
	pageLang string // of the current page's header, for its footer
	pdf      *fpdf.Fpdf
	f        *Figures
	month    cases.Month
	chain    typeset.Chain

	bold bool    // the weight text is set in
	size float64 // and its size, in points

	added    map[*typeset.Face]bool          // the faces the document has
	plan     map[*typeset.Face]*subset.Codes // the codes to cut faces to; nil for whole fonts
	cut      map[*typeset.Face]cut           // the faces given to fpdf cut
	astral   map[*typeset.Face]map[rune]bool // codes drawn with faces that draw astral characters
	face     *typeset.Face                   // fpdf's current font; nil when unknown
	faceSize float64
}

// font sets the weight ("" or "B"), size and colour of the text that follows.
func (r *renderer) font(style string, size float64, color [3]int) {
	r.bold, r.size = style == "B", size
	r.pdf.SetTextColor(color[0], color[1], color[2])
}

func (r *renderer) fill(c [3]int) { r.pdf.SetFillColor(c[0], c[1], c[2]) }

// em is the current font size in millimetres.
func (r *renderer) em() float64 { return r.size / r.pdf.GetConversionRatio() }

// units converts millimetres to thousandths of the current font size, the
// unit of typeset's widths.
func (r *renderer) units(mm float64) float64 { return mm * 1000 / r.em() }

// fit sets s in the current font to fit w millimetres, with an ellipsis if
// it must be cut.
func (r *renderer) fit(s string, w float64) typeset.Line {
	return r.chain.Fit(s, r.bold, r.units(w))
}

// cell is fpdf's CellFormat for text in any script: the cell is filled and
// bordered as asked, and the position moved as ln says (0 right, 1 to the
// next line, 2 below). Like CellFormat, it draws all of s, even past the
// cell: for text of our own.
func (r *renderer) cell(w, h float64, s, border string, ln int, align string, fill bool) {
	r.cellLine(w, h, r.chain.Set(s, r.bold), border, ln, align, fill)
}

// fitCell is cell for text from the figures: s is cut with an ellipsis to
// fit within the cell's margins.
func (r *renderer) fitCell(w, h float64, s, border string, ln int, align string, fill bool) {
	r.cellLine(w, h, r.fit(s, w-2*r.pdf.GetCellMargin()), border, ln, align, fill)
}

func (r *renderer) cellLine(w, h float64, l typeset.Line, border string, ln int, align string, fill bool) {
	p := r.pdf
	x, y := p.GetXY()
	p.CellFormat(w, h, "", border, ln, align, fill, 0, "")
	width := float64(l.Width) * r.em() / 1000
	tx := x + p.GetCellMargin()
	switch align {
	case "R":
		tx = x + w - p.GetCellMargin() - width
	case "C":
		tx = x + (w-width)/2
	}
	// fpdf's baseline for a cell's text.
	r.draw(tx, y+.5*h+.3*r.em(), l)
}

// paragraph is fpdf's MultiCell, left-aligned, for text in any script, on
// at most lines lines: the last one ends with an ellipsis if s goes on.
func (r *renderer) paragraph(w, h float64, s string, lines int) {
	p := r.pdf
	x := p.GetX()
	for _, l := range r.chain.Wrap(s, r.bold, r.units(w-2*p.GetCellMargin()), lines) {
		p.SetX(x)
		r.cellLine(w, h, l, "", 2, "L", false)
	}
	p.SetX(margin)
}

// draw sets l's runs side by side from x on the baseline y, each in its
// face, adding a face to the document the first time it draws.
func (r *renderer) draw(x, y float64, l typeset.Line) {
	p := r.pdf
	for _, run := range l.Runs {
		f := run.Face
		r.use(f)
		if c, ok := r.cut[f]; ok {
			for _, code := range run.Text {
				c.drawn.Add(code)
			}
		}
		if f.Astral() {
			codes := r.astral[f]
			if codes == nil {
				codes = map[rune]bool{}
				r.astral[f] = codes
			}
			for _, c := range run.Text {
				codes[c] = true
			}
		}
		p.Text(x, y, run.Text)
		x += float64(run.Width) * r.em() / 1000
	}
}

// cut is a face given to fpdf cut to some codes, and the codes drawn with it.
type cut struct{ kept, drawn *subset.Codes }

// use makes f fpdf's font, at the current size. A face of the plan is
// given to fpdf cut to its codes, or whole if it cannot be cut.
func (r *renderer) use(f *typeset.Face) {
	if !r.added[f] {
		ttf := f.Bytes()
		if codes := r.plan[f]; codes != nil {
			if b, err := subset.Cut(ttf, codes); err == nil {
				ttf = b
				r.cut[f] = cut{kept: codes, drawn: &subset.Codes{}}
			}
		}
		r.pdf.AddUTF8FontFromBytes(f.Name(), "", ttf)
		r.added[f] = true
	}
	if r.face != f || r.faceSize != r.size {
		r.pdf.SetFont(f.Name(), "", r.size)
		r.face, r.faceSize = f, r.size
	}
}

// addPage starts a page; fpdf's font is then whatever it restored.
func (r *renderer) addPage() {
	r.pdf.AddPage()
	r.face = nil
}

func (r *renderer) header() {
	r.face = nil
	r.pageLang = r.lang
	p := r.pdf
	r.font("B", 9, teal)
	p.SetXY(margin, 10)
	r.cell(contentW/2, 5, r.t("report.header"), "", 0, "L", false)
	r.font("", 9, muted)
	l := r.fit(r.f.Client, contentW/2-20).Join(r.chain.Set(" · "+r.monthName(r.month), false))
	r.cellLine(contentW/2, 5, l, "", 1, "R", false)
	p.SetDrawColor(teal[0], teal[1], teal[2])
	p.SetLineWidth(0.4)
	p.Line(margin, 16, pageW-margin, 16)
	p.SetY(24)
}

func (r *renderer) footer() {
	r.face = nil
	// fpdf draws a page's footer as the next page begins: in the language
	// of the page, not of the next pass.
	saved := r.lang
	r.lang = r.pageLang
	defer func() { r.lang = saved }()
	p := r.pdf
	p.SetDrawColor(rule[0], rule[1], rule[2])
	p.SetLineWidth(0.2)
	p.Line(margin, footerTop, pageW-margin, footerTop)
	p.SetXY(margin, footerTop+2)
	r.font("", 7.5, muted)
	r.fitCell(contentW-25, 4, r.t("footer.confidential"), "", 0, "L", false)
	r.cellLine(25, 4, r.chain.Set(r.t("footer.page", p.PageNo()), false), "", 0, "R", false)
	if r.att.KeyID != "" {
		p.SetXY(margin, footerTop+6)
		r.fitCell(contentW, 4, r.t("footer.signed", r.att.KeyID), "", 0, "L", false)
	}
}

// checkpoint prints the audit trail's latest signed checkpoint: a witness,
// in every brand's hands, of how far the trail reached.
func (r *renderer) checkpoint() {
	if r.att.Checkpoint == "" {
		return
	}
	p := r.pdf
	lines := strings.Split(strings.TrimSuffix(r.att.Checkpoint, "\n"), "\n")
	if p.GetY()+16+4*float64(len(lines)) > footerTop-3 {
		r.addPage()
	}
	p.Ln(6)
	r.section(r.t("checkpoint.title"))
	r.font("", 8.5, muted)
	r.paragraph(contentW, 4, r.t("checkpoint.text"), 3)
	p.Ln(1)
	r.font("", 7.5, ink)
	for _, l := range lines {
		r.fitCell(contentW, 4, l, "", 1, "L", false)
	}
}

func (r *renderer) summary() {
	p, f := r.pdf, r.f
	r.addPage()
	r.font("B", 20, ink)
	r.paragraph(contentW, 9, f.Client, 3)
	r.font("", 13, muted)
	r.cell(contentW, 7, r.t("report.subtitle", r.monthName(r.month)), "", 1, "L", false)
	p.Ln(4)

	due := r.t("tile.due_none")
	if f.FollowUps.Due > 0 {
		due = r.t("tile.due_of", f.FollowUps.Due)
	}
	school := r.t("tile.no_visits")
	if pct := f.Attendance.Percent(); pct >= 0 {
		school = fmt.Sprintf("%d%%", pct)
	}
	tiles := []struct {
		value, label string
		alert        bool
	}{
		{strconv.Itoa(f.NewCases), r.t("tile.new"), false},
		{strconv.Itoa(f.OpenAtEnd), r.t("tile.open"), false},
		{strconv.Itoa(f.FollowUps.Done), r.t("tile.followups", due), false},
		{strconv.Itoa(f.FollowUps.Overdue), r.t("tile.overdue"), f.FollowUps.Overdue > 0},
		{school, r.t("tile.school", f.Attendance.Attending, f.Attendance.Seen), false},
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
		r.cell(tileW-4, 9, t.value, "", 2, "L", false)
		r.font("", 7.5, muted)
		p.SetX(x + 2)
		r.paragraph(tileW-4, 3.6, t.label, 4)
	}
	p.SetY(y + 30)

	chartTop := p.GetY()
	r.section(r.t("section.by_state"))
	r.stateChart(margin, p.GetY()+1, contentW/2-5)
	p.SetXY(margin+contentW/2+5, chartTop)
	r.sectionAt(margin+contentW/2+5, r.t("section.per_month"))
	r.monthChart(margin+contentW/2+5, p.GetY()+1, contentW/2-5, 42)
	p.SetY(chartTop + 60)

	left, top := margin, p.GetY()
	r.section(r.t("section.closed"))
	total := 0
	for _, o := range f.Closed {
		total += o.Count
	}
	for _, o := range f.Closed {
		r.keyValue(left, contentW/2-5, r.t("outcome."+string(o.Outcome)), strconv.Itoa(o.Count))
	}
	r.keyValue(left, contentW/2-5, r.t("closed.total"), strconv.Itoa(total))

	leftBottom := p.GetY()

	// The service promises of the month, beside the closures.
	x := margin + contentW/2 + 5
	p.SetXY(x, top)
	r.sectionAt(x, r.t("section.promises"))
	clock := func(label string, k ClockFigures, unit string, per float64) {
		median := "–"
		if k.MedianHours != nil {
			median = r.t(unit, int(float64(*k.MedianHours)/per))
		}
		p.SetX(x)
		r.font("", 9.5, ink)
		r.fitCell(contentW/2-5, 5.5, label, "", 1, "L", false)
		p.SetX(x)
		color := muted
		if k.Breaches > 0 {
			color = warn
		}
		r.font("", 8.5, color)
		r.fitCell(contentW/2-5, 5, r.t("clock.line", k.Met, median, k.Breaches), "", 1, "L", false)
		p.Ln(1)
	}
	clock(r.t("clock.first_contact"), f.Clocks.FirstContact, "clock.hours", 1)
	clock(r.t("clock.plan"), f.Clocks.PlanApproved, "clock.days", 24)
	r.keyValue(x, contentW/2-5, r.t("past_end"), strconv.Itoa(f.DueToClose))

	// The stipends, due against paid, by payer, across the page.
	p.SetY(max(p.GetY(), leftBottom) + 3)
	r.section(r.t("section.stipends"))
	cols := []struct {
		title string
		w     float64
	}{{r.t("stipend.payer"), 25}, {r.t("stipend.due_month"), 29}, {r.t("stipend.paid_month"), 29}, {r.t("stipend.due_date"), 29}, {r.t("stipend.paid_date"), 29}, {r.t("stipend.arrears"), contentW - 25 - 4*29}}
	r.font("B", 8.5, muted)
	for i, c := range cols {
		align := "R"
		if i == 0 {
			align = "L"
		}
		ln := 0
		if i == len(cols)-1 {
			ln = 1
		}
		r.fitCell(c.w, 6, c.title, "B", ln, align, false)
	}
	if len(f.Stipends) == 0 {
		r.font("", 9.5, ink)
		r.cell(contentW, 6, r.t("stipend.none_owed"), "", 1, "L", false)
	}
	for _, s := range f.Stipends {
		r.font("", 9.5, ink)
		r.fitCell(cols[0].w, 6, r.t("payer."+string(s.Payer)), "", 0, "L", false)
		for i, v := range []int64{s.DueThisMonth, s.PaidThisMonth, s.DueToDate, s.PaidToDate} {
			r.fitCell(cols[i+1].w, 6, money(v, s.Currency), "", 0, "R", false)
		}
		color := ink
		if s.Arrears > 0 {
			color = warn
		}
		r.font("B", 9.5, color)
		r.fitCell(cols[5].w, 6, money(s.Arrears, s.Currency), "", 1, "R", false)
	}
	leftBottom = p.GetY()

	p.SetY(leftBottom + 4)
	r.font("", 8, muted)
	r.paragraph(contentW, 4, r.t("summary.notes", r.f.Zone), 12)
}

func (r *renderer) section(title string) { r.sectionAt(margin, title) }

func (r *renderer) sectionAt(x float64, title string) {
	r.font("B", 11, teal)
	r.pdf.SetX(x)
	r.cell(contentW/2-5, 7, title, "", 1, "L", false)
}

func (r *renderer) keyValue(x, w float64, key, value string) { r.keyValueWide(x, w, 20, key, value) }

// keyValueWide is keyValue with valueW millimetres for the value.
func (r *renderer) keyValueWide(x, w, valueW float64, key, value string) {
	p := r.pdf
	p.SetX(x)
	r.font("", 9.5, ink)
	r.fitCell(w-valueW, 5.5, key, "", 0, "L", false)
	r.fitCell(valueW, 5.5, value, "", 1, "R", false)
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
		r.fitCell(labelW, barH, r.t("state."+string(s.State)), "", 0, "L", false)
		barW := (w - labelW - 12) * float64(s.Count) / float64(most)
		r.fill(stateColor[s.State])
		if barW > 0 {
			p.Rect(x+labelW, yy+0.8, barW, barH-1.6, "F")
		}
		p.SetXY(x+labelW+barW+1.5, yy)
		r.cell(10, barH, strconv.Itoa(s.Count), "", 0, "L", false)
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
		r.cell(slot, 4, strconv.Itoa(m.Count), "", 0, "C", false)
		mm, _ := cases.ParseMonth(m.Month)
		r.font("", 6.5, muted)
		p.SetXY(cx, base+0.5)
		r.cell(slot, 3.5, r.t(fmt.Sprintf("month.short.%d", int(mm.Month))), "", 0, "C", false)
		if mm.Month == time.January || i == 0 {
			p.SetXY(cx, base+3.5)
			r.cell(slot, 3, strconv.Itoa(mm.Year), "", 0, "C", false)
		}
	}
}

// columns of the case table; their widths add up to contentW.
var columns = []struct {
	title string
	width float64
	align string
}{
	{"column.case", 23, "L"}, {"column.factory", 42, "L"}, {"column.age", 8, "R"}, {"column.gender", 15, "L"},
	{"column.state", 16, "L"}, {"column.days", 10, "R"}, {"column.last_visit", 19, "L"},
	{"column.school", 10, "L"}, {"column.due", 18, "R"}, {"column.paid", 19, "R"},
}

const rowH = 6.0

// nbAlias stands for the number of pages in the footer's text.
const nbAlias = "{nb}"

func (r *renderer) table() {
	p := r.pdf
	r.addPage()
	r.font("B", 13, ink)
	r.cell(contentW, 8, r.t("table.title", r.monthName(r.month), len(r.f.Rows)), "", 1, "L", false)
	r.font("", 8.5, muted)
	r.paragraph(contentW, 4, r.t("table.notes"), 3)
	p.Ln(2)
	r.tableHeader()
	if len(r.f.Rows) == 0 {
		r.font("", 9.5, ink)
		r.cell(contentW, rowH*2, r.t("table.none"), "", 1, "C", false)
	}
	for i, row := range r.f.Rows {
		if p.GetY()+rowH > footerTop-3 {
			r.addPage()
			r.tableHeader()
		}
		r.fill(band)
		cells := []string{
			row.Code, row.Factory, orDash(row.Age), r.genderLabel(row.Gender), r.t("state." + string(row.State)),
			strconv.Itoa(row.DaysOpen), orDashS(row.LastFollowUp), r.yesNo(row.AttendingSchool),
			money(row.StipendDue, ""), money(row.StipendPaid, ""),
		}
		if row.StipendDue == 0 && row.StipendPaid == 0 {
			cells[8], cells[9] = "–", "–"
		}
		if row.InArrears {
			cells[9] = "! " + cells[9]
		}
		r.font("", 8.5, ink)
		for j, c := range columns {
			r.fitCell(c.width, rowH, cells[j], "", 0, c.align, i%2 == 1)
		}
		p.Ln(rowH)
	}
}

func (r *renderer) tableHeader() {
	p := r.pdf
	r.fill(teal)
	r.font("B", 8.5, [3]int{255, 255, 255})
	for _, c := range columns {
		r.fitCell(c.width, rowH+1, r.t(c.title), "", 0, c.align, true)
	}
	p.Ln(rowH + 1)
}

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

func (r *renderer) yesNo(b *bool) string {
	switch {
	case b == nil:
		return "–"
	case *b:
		return r.t("value.yes")
	default:
		return r.t("value.no")
	}
}

func (r *renderer) genderLabel(g cases.Gender) string {
	if g == "" {
		return "–"
	}
	return r.t("gender." + string(g))
}

// errNoFont is returned when Fonts is empty.
var errNoFont = errors.New("no report font")
