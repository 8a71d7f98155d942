package reports

import (
	"bytes"
	"testing"
	"time"

	"github.com/go-pdf/fpdf"
)

// deflatePages writes what fpdf writes itself with compression on and the
// alias for the number of pages, in one-byte and in UTF-8 fonts.
func TestDeflatePagesIsFpdfsCompression(t *testing.T) {
	doc := func(compress bool) *fpdf.Fpdf {
		p := fpdf.New("P", "mm", "A4", "")
		stamp := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
		p.SetCreationDate(stamp)
		p.SetModificationDate(stamp)
		p.SetCatalogSort(true)
		p.SetCompression(compress)
		if compress {
			p.AliasNbPages(nbAlias)
		}
		p.AddUTF8FontFromBytes("kai", "", kaiRegular)
		for i := range 3 {
			p.AddPage()
			p.SetFont("kai", "", 12)
			p.Text(20, 20, "第 1 页，共 {nb} 页")
			p.SetFont("Helvetica", "", 12)
			p.Text(20, 40, "Page {nb}, twice: {nb}")
			for j := range 40 * (i + 1) {
				p.Text(20, 50+float64(j%200), "(line) \\ {n} ")
			}
		}
		return p
	}
	var want, got bytes.Buffer
	if err := doc(true).Output(&want); err != nil {
		t.Fatal(err)
	}
	if err := doc(false).Output(&deflater{w: &got, alias: nbAlias}); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Bytes(), want.Bytes()) {
		t.Errorf("deflatePages wrote %d bytes unlike fpdf's %d", got.Len(), want.Len())
	}
}

func TestDeflatePagesRefusesAnotherLayout(t *testing.T) {
	for _, doc := range []string{"", "%PDF-1.4\n", "%PDF-1.4\nxref\n0 1\n\nstartxref\n9\n%%EOF\n"} {
		if err := deflatePages(&bytes.Buffer{}, []byte(doc), nbAlias); err == nil {
			t.Errorf("deflatePages(%q) = nil, want an error", doc)
		}
	}
}
