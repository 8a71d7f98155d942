package reports

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/google/uuid"

	cases "github.com/remedy-cases/remedy/case"
)

// BenchmarkRender1000 builds and renders a brand's month with 1,000 cases
// (about 25 table pages).
func BenchmarkRender1000(b *testing.B) {
	hs := manyCases(1000)
	b.ReportAllocs()
	for b.Loop() {
		f := Build("Big Brand 大品牌", october, shanghai, hs)
		if _, err := Render(io.Discard, f, DefaultFonts()); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRenderEmpty renders a month without cases: what every report
// costs whatever its size, most of it fpdf's for each font it embeds (the
// two weights of the main font): a zlib writer for each of its two
// streams, and a width for each of 65,536 codes, twice.
func BenchmarkRenderEmpty(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		f := Build("Big Brand 大品牌", october, shanghai, nil)
		if _, err := Render(io.Discard, f, DefaultFonts()); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkMonthlyRun generates October for 100 clients of 100 cases each,
// through the Generator, with the histories served from memory: it measures
// what the run adds to the database reads (which storage's tests time).
func BenchmarkMonthlyRun(b *testing.B) {
	mem := &memReports{histories: map[uuid.UUID][]*cases.CaseHistory{}}
	clients := &memClients{}
	for i := range 100 {
		c := &cases.Client{ID: uuid.New(), Name: fmt.Sprintf("品牌 %03d", i), Active: true}
		clients.all = append(clients.all, c)
		mem.histories[c.ID] = manyCases(100)
	}
	g := &Generator{Reports: mem, Clients: clients, Fonts: DefaultFonts(), Zone: shanghai,
		Now: func() time.Time { return time.Date(2026, 11, 1, 6, 0, 0, 0, shanghai) }}
	b.ReportAllocs()
	for b.Loop() {
		for _, c := range clients.all {
			if _, _, err := g.Generate(context.Background(), cases.SystemActor, c.ID, october, false); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(mem.bytes)/float64(mem.stored), "pdf-bytes/report")
}

type memClients struct {
	cases.ClientService
	all []*cases.Client
}

func (m *memClients) FindClientByID(_ context.Context, id uuid.UUID) (*cases.Client, error) {
	for _, c := range m.all {
		if c.ID == id {
			return c, nil
		}
	}
	return nil, cases.Errorf(cases.ENOTFOUND, "Client not found.")
}

type memReports struct {
	cases.ReportService
	histories     map[uuid.UUID][]*cases.CaseHistory
	stored, bytes int
}

func (m *memReports) CaseHistories(_ context.Context, id uuid.UUID, _ time.Time) ([]*cases.CaseHistory, error) {
	return m.histories[id], nil
}

func (m *memReports) StoreReport(_ context.Context, _ cases.Actor, n cases.NewMonthlyReport, _ bool) (*cases.MonthlyReport, bool, error) {
	if !bytes.HasPrefix(n.PDF, []byte("%PDF")) {
		return nil, false, fmt.Errorf("not a PDF")
	}
	m.stored++
	m.bytes += len(n.PDF)
	return &cases.MonthlyReport{ID: uuid.New(), ClientID: n.ClientID, Month: n.Month, Version: 1, Size: len(n.PDF)}, true, nil
}
