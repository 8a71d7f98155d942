package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	cases "github.com/remedy-cases/remedy/case"
	"github.com/remedy-cases/remedy/internal/pdftext"
	"github.com/remedy-cases/remedy/storage"
)

// TestDemo seeds the embedded database through serve --demo and checks that
// a newcomer finds cases in every state, with follow-ups, and can sign in
// with the printed password; a second start seeds nothing.
func TestDemo(t *testing.T) {
	dir := t.TempDir()
	vars := map[string]string{"REMEDY_DATA_DIR": dir, "REMEDY_DEMO_PASSWORD": "demo password 123"}
	addr, out, stop := startServe(t, vars, "--demo")
	if !strings.Contains(out.String(), "supervisor@demo.remedy") || !strings.Contains(out.String(), "demo password 123") {
		t.Fatalf("the demo did not print its sign-ins:\n%s", out.String())
	}
	api := client{t: t, base: "http://" + addr}
	tok := api.signIn("brand2@demo.remedy", "demo password 123")
	var list struct {
		Items []map[string]any `json:"items"`
	}
	api.call("GET", "/v1/cases?limit=200", tok, nil, &list, 200)
	chinese := false
	for _, c := range list.Items {
		chinese = chinese || strings.ContainsAny(c["factory_name"].(string), "厂司业")
	}
	if len(list.Items) != 20 || !chinese {
		t.Fatalf("the second brand sees %d cases (want 20), Chinese factory names: %v", len(list.Items), chinese)
	}
	stop()

	ctx := context.Background()
	cfg, err := loadConfig(envOf(vars))
	if err != nil {
		t.Fatal(err)
	}
	m := &Main{Stdout: &bytes.Buffer{}, Stderr: &bytes.Buffer{}, Getenv: envOf(vars)}
	db, err := m.open(ctx, cfg, m.logger(cfg))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	byState := map[cases.State]int{}
	page, err := storage.NewCaseService(db).ListCases(ctx, cases.CaseFilter{Limit: 200})
	if err != nil {
		t.Fatal(err)
	}
	followUps := 0
	for _, c := range page.Cases {
		byState[c.State]++
		if c.LastFollowUp != nil {
			followUps++
		}
	}
	for _, s := range cases.States {
		if byState[s] == 0 {
			t.Errorf("no demo case in %s: %v", s, byState)
		}
	}
	if len(page.Cases) != 40 || followUps < 10 {
		t.Errorf("%d demo cases, %d with follow-ups", len(page.Cases), followUps)
	}
	// The paths of case work a newcomer should meet.
	svc := storage.NewCaseService(db)
	now := time.Now()
	for name, f := range map[string]cases.CaseFilter{
		"a case due to close": {DueToCloseAsOf: now}, "an overdue case": {OverdueAsOf: now},
		"a working-again alert": {Alert: true}, "an unassigned case": {Unassigned: true},
		"a case in arrears": {ArrearsAsOf: now},
	} {
		if p, err := svc.ListCases(ctx, f); err != nil || len(p.Cases) == 0 {
			t.Errorf("the demo has no %s (%v)", name, err)
		}
	}
	events := map[string]bool{}
	for _, c := range page.Cases {
		trs, err := svc.Transitions(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, tr := range trs {
			events[string(tr.From)+">"+string(tr.Event)] = true
		}
	}
	for _, want := range []string{"planning>close", "closed>reopen_dismissed"} {
		if !events[want] {
			t.Errorf("the demo has no %s", want)
		}
	}
	// One case overpaid: a credit in its ledger.
	ledger, credit := storage.NewLedgerService(db), false
	for _, c := range page.Cases {
		l, _, err := ledger.CaseLedger(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, tot := range l.Totals {
			credit = credit || tot.Credit > 0
		}
	}
	if !credit {
		t.Error("the demo has no overpaid case")
	}
	if n, err := storage.NewAuditService(db).Verify(ctx); err != nil || n == 0 {
		t.Fatalf("audit chain after the demo: %d entries, %v", n, err)
	}

	_, out, stop = startServe(t, vars, "--demo")
	stop()
	if !strings.Contains(out.String(), "not empty; nothing seeded") {
		t.Fatalf("a second --demo seeded again:\n%s", out.String())
	}
}

// TestUsersAdd creates a user from the command line, with a printed
// password and from standard input, and refuses a bad one naming the field.
func TestUsersAdd(t *testing.T) {
	vars := map[string]string{"REMEDY_DATA_DIR": t.TempDir()}
	ctx := context.Background()
	var out bytes.Buffer
	m := &Main{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &out, Getenv: envOf(vars)}
	if err := m.Run(ctx, []string{"users", "add", "--email", "s@example.org", "--name", "S", "--role", "supervisor"}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "password: ") {
		t.Fatalf("no password printed: %s", out.String())
	}
	err := m.Run(ctx, []string{"users", "add", "--email", "not-an-email", "--name", "X", "--role", "client"})
	if err == nil || !strings.Contains(err.Error(), "email") || !strings.Contains(err.Error(), "client_id") {
		t.Fatalf("a bad user: %v", err)
	}
	m.Stdin = strings.NewReader("short\n")
	err = m.Run(ctx, []string{"users", "add", "--email", "a@example.org", "--name", "A", "--role", "auditor", "--password-stdin"})
	if err == nil || !strings.Contains(err.Error(), "12 characters") {
		t.Fatalf("a short password: %v", err)
	}
}

// TestReportsGenerateCommand renders last month's report of a demo brand
// from the command line, by name, and refuses a month that is not over.
func TestReportsGenerateCommand(t *testing.T) {
	dir := t.TempDir()
	vars := map[string]string{"REMEDY_DATA_DIR": dir, "REMEDY_DEMO_PASSWORD": "demo password 123"}
	_, _, stop := startServe(t, vars, "--demo")
	stop()
	var out bytes.Buffer
	m := &Main{Stdout: &out, Stderr: &out, Getenv: envOf(vars)}
	file := filepath.Join(dir, "report.pdf")
	last := cases.MonthOf(time.Now().In(shanghai(t))).Add(-1).String()
	if err := m.Run(context.Background(), []string{"reports", "generate", "--client", demoClients[1], "--month", last, "--out", file}); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "neither stored nor signed") {
		t.Errorf("generate does not say its file is a preview: %q", out.String())
	}
	pdf, err := os.ReadFile(file)
	if err != nil || !bytes.HasPrefix(pdf, []byte("%PDF-")) {
		t.Fatalf("wrote %d bytes (%v)", len(pdf), err)
	}
	pages, err := pdftext.Pages(pdf)
	if err != nil {
		t.Fatal(err)
	}
	if text := strings.Join(pages, ""); !strings.Contains(text, demoClients[1]) || !strings.Contains(text, "CL-") {
		t.Errorf("the report lacks the brand's name or its cases:\n%.500s", text)
	}
	this := cases.MonthOf(time.Now().In(shanghai(t))).String()
	err = m.Run(context.Background(), []string{"reports", "generate", "--client", demoClients[1], "--month", this, "--out", file})
	if err == nil || !strings.Contains(err.Error(), "not valid") {
		t.Errorf("this month: err = %v, want a refusal", err)
	}
}

func shanghai(t *testing.T) *time.Location {
	z, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	return z
}
