package reports

import (
	"github.com/remedy-cases/remedy/reports/internal/subset"
	"github.com/remedy-cases/remedy/reports/internal/typeset"
)

// A report is set in fonts cut to what it may draw: fpdf reads the whole
// of a font it is given twice a report (when it is added, and when fpdf
// cuts it to the codes drawn at output), most of what a report allocates
// for the 3.5 MB main font. The codes a report may draw are known before it
// is set: its labels, its figures' names and the few characters render.go
// writes itself. What fpdf embeds from a cut font is what it embeds from
// the whole one; only the fonts' resource names in the PDF, a hash of
// what fpdf read, differ.
//
// Should a report draw a code its face's cut lacks (a label that
// render.go writes without the catalogue, say), renderCut sets it again
// with the whole fonts: never a wrong glyph, only a slower report, which
// TestRenderTakesTheCutFonts catches.

// drawnByRender are the characters render.go draws of its own, beside
// labels and names: numbers, percentages, amounts, the dash of an empty
// cell, the dot between client and month, the mark of arrears, and the
// ellipsis of text cut to fit.
const drawnByRender = " !\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`" +
	"abcdefghijklmnopqrstuvwxyz{|}~–·…"

// planCuts returns the codes each face may draw in the report of f, in
// either weight, with the languages of a: those of the catalogues of its
// languages, of the names and other text of f and a, and drawnByRender.
// Each face's codes include 0 to 0xFF, which fpdf reads of every font
// whatever it draws (it embeds codes 1 to 56, and gives the widths of all
// the font has up to 0xFF), so that fpdf writes the same from the cut.
func planCuts(f *Figures, chain typeset.Chain, a Attestation) map[*typeset.Face]*subset.Codes {
	plan := map[*typeset.Face]*subset.Codes{}
	add := func(s string) {
		for _, bold := range []bool{false, true} {
			for face, code := range chain.Glyphs(s, bold) {
				codes := plan[face]
				if codes == nil {
					codes = &subset.Codes{}
					codes.AddRange(0, 0xFF)
					plan[face] = codes
				}
				codes.Add(code)
			}
		}
	}
	add(drawnByRender)
	for _, lang := range passes(a.Language) {
		for _, msg := range catalogues[lang] {
			add(msg)
		}
	}
	add(f.Client)
	add(f.Zone)
	for _, s := range f.Stipends {
		add(s.Currency)
	}
	for _, row := range f.Rows {
		add(row.Factory)
		add(row.Code)
		add(row.LastFollowUp)
		add(row.Currency)
	}
	add(a.KeyID)
	add(a.Checkpoint)
	return plan
}

// cutsHold tells whether every code drawn with a cut face is in its cut.
func (r *renderer) cutsHold() bool {
	for _, c := range r.cut {
		if _, lacks := c.kept.Missing(c.drawn); lacks {
			return false
		}
	}
	return true
}
