package reports

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"

	"github.com/xuri/excelize/v2"

	cases "github.com/remedy-cases/remedy/case"
)

// The export of a brand's stipend ledger: one row per case, month and payer,
// by case code only, then the totals per payer and currency. Amounts are in
// major units with two decimals (CNY's fen), as a finance team reads them.

var ledgerHeader = []string{"case_code", "month", "payer", "currency", "due", "paid", "balance"}

// ledgerRows are the export's rows, totals last.
func ledgerRows(bl *cases.BrandLedger) [][]string {
	var rows [][]string
	type key struct {
		payer    cases.Payer
		currency string
	}
	sums := map[key]*cases.LedgerLine{}
	var order []key
	for _, c := range bl.Cases {
		for _, l := range c.Lines {
			rows = append(rows, []string{c.Code, l.Month.String(), string(l.Payer), l.Currency,
				decimal(l.Due), decimal(l.Paid), decimal(l.Balance())})
			k := key{l.Payer, l.Currency}
			if sums[k] == nil {
				sums[k] = &cases.LedgerLine{Payer: l.Payer, Currency: l.Currency}
				order = append(order, k)
			}
			sums[k].Due += l.Due
			sums[k].Paid += l.Paid
		}
	}
	for _, k := range order {
		s := sums[k]
		rows = append(rows, []string{"TOTAL", bl.From.String() + "/" + bl.To.String(), string(s.Payer), s.Currency,
			decimal(s.Due), decimal(s.Paid), decimal(s.Balance())})
	}
	return rows
}

// decimal writes minor units as a decimal with two places.
func decimal(minor int64) string {
	sign := ""
	if minor < 0 {
		sign, minor = "-", -minor
	}
	return fmt.Sprintf("%s%d.%02d", sign, minor/100, minor%100)
}

// LedgerCSV writes the brand's ledger as CSV (RFC 4180).
func LedgerCSV(w io.Writer, bl *cases.BrandLedger) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(ledgerHeader); err != nil {
		return err
	}
	if err := cw.WriteAll(ledgerRows(bl)); err != nil {
		return err
	}
	return cw.Error()
}

// LedgerXLSX writes the brand's ledger as an Excel workbook: a header row, a
// row per case, month and payer with numeric amounts, the totals in bold.
func LedgerXLSX(w io.Writer, client string, bl *cases.BrandLedger) error {
	f := excelize.NewFile()
	defer f.Close()
	const sheet = "Ledger"
	if err := f.SetSheetName("Sheet1", sheet); err != nil {
		return err
	}
	bold, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}})
	if err != nil {
		return err
	}
	money, err := f.NewStyle(&excelize.Style{NumFmt: 4}) // #,##0.00
	if err != nil {
		return err
	}
	boldMoney, err := f.NewStyle(&excelize.Style{NumFmt: 4, Font: &excelize.Font{Bold: true}})
	if err != nil {
		return err
	}
	set := func(cell string, v any) {
		if err == nil {
			err = f.SetCellValue(sheet, cell, v)
		}
	}
	set("A1", client)
	set("A2", bl.From.String()+" – "+bl.To.String())
	for i, h := range ledgerHeader {
		cell, _ := excelize.CoordinatesToCellName(i+1, 4)
		set(cell, h)
	}
	if err != nil {
		return err
	}
	if err := f.SetRowStyle(sheet, 4, 4, bold); err != nil {
		return err
	}
	rows := ledgerRows(bl)
	for r, row := range rows {
		y := r + 5
		for x, v := range row {
			cell, _ := excelize.CoordinatesToCellName(x+1, y)
			if x >= 4 {
				n, perr := strconv.ParseFloat(v, 64)
				if perr != nil {
					return perr
				}
				set(cell, n)
			} else {
				set(cell, v)
			}
		}
		style := money
		if row[0] == "TOTAL" {
			style = boldMoney
			if err == nil {
				err = f.SetCellStyle(sheet, fmt.Sprintf("A%d", y), fmt.Sprintf("D%d", y), bold)
			}
		}
		if err == nil {
			err = f.SetCellStyle(sheet, fmt.Sprintf("E%d", y), fmt.Sprintf("G%d", y), style)
		}
	}
	if err != nil {
		return err
	}
	if err := f.SetColWidth(sheet, "A", "A", 16); err != nil {
		return err
	}
	// Reproducible: the workbook says nothing of when it was written.
	if err := f.SetDocProps(&excelize.DocProperties{Creator: "Remedy", Title: "Stipend ledger"}); err != nil {
		return err
	}
	_, err = f.WriteTo(w)
	return err
}
