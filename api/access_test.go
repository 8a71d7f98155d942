package api_test

import (
	"bytes"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/remedy-cases/remedy/api"
	cases "github.com/remedy-cases/remedy/case"
	"github.com/remedy-cases/remedy/storage"
)

// call says how to make a valid request of one operation: the state the
// case must be in (for operations on one case) and the request to send.
type call struct {
	state cases.State
	build func(e *testEnv, c *cases.Case, tenant string) (query string, body any)
}

func noBody(*testEnv, *cases.Case, string) (string, any) { return "", nil }

// calls has one entry per operation of the document; the matrix test fails
// if an operation is missing.
var calls = map[string]call{
	"getHealth":     {build: noBody},
	"getReady":      {build: noBody},
	"getMetrics":    {build: noBody},
	"getOpenAPI":    {build: noBody},
	"getJWKS":       {build: noBody},
	"getReportKeys": {build: noBody},
	"verifyReport": {build: func(e *testEnv, _ *cases.Case, _ string) (string, any) {
		return "", uploadBody(e.t, nil, "report.pdf", e.signedReport())
	}},
	"downloadMonthlyReportSignature": {build: noBody},
	"putReportLanguage": {build: func(*testEnv, *cases.Case, string) (string, any) {
		return "", map[string]any{"report_language": "both"}
	}},
	"listAuditCheckpoints": {build: noBody},
	"listWebhooks":         {build: noBody},
	"createWebhook": {build: func(e *testEnv, _ *cases.Case, tenant string) (string, any) {
		return "", map[string]any{"url": "https://93.184.216.34/hook", "events": []string{"case.filed"}}
	}},
	"disableWebhook":        {build: noBody}, // the endpoint is made in prepare
	"listWebhookDeliveries": {build: noBody},
	"createToken": {build: func(e *testEnv, _ *cases.Case, _ string) (string, any) {
		return "", map[string]string{"email": e.users["auditor"].Email, "password": password}
	}},
	"getWorkflow":        {build: noBody},
	"getIntakeRecipient": {build: noBody},
	"fileCase":           {build: func(e *testEnv, _ *cases.Case, _ string) (string, any) { return "", e.report(nil) }},
	"listCases":          {build: noBody},
	"getCase":            {state: cases.StateIntake, build: noBody},
	"transitionCase": {state: cases.StateIntake, build: func(_ *testEnv, c *cases.Case, _ string) (string, any) {
		return "", map[string]any{"event": "begin_verification", "version": c.Version}
	}},
	"assignCase": {state: cases.StateIntake, build: func(_ *testEnv, c *cases.Case, _ string) (string, any) {
		return "", map[string]any{"caseworker_id": c.AssigneeID.UUID, "version": c.Version}
	}},
	"confirmRemoval": {state: cases.StateIntake, build: func(_ *testEnv, c *cases.Case, _ string) (string, any) {
		return "", map[string]any{"removed_from_work": true, "child_safe": true, "version": c.Version}
	}},
	"recordVerification": {state: cases.StateVerification, build: func(_ *testEnv, c *cases.Case, _ string) (string, any) {
		return "", map[string]any{"method": "school_record", "verified_birth_date": "2011-05-17", "version": c.Version}
	}},
	"putPlan": {state: cases.StatePlanning, build: func(_ *testEnv, c *cases.Case, _ string) (string, any) {
		return "", map[string]any{"school": "Yucai Middle School", "version": c.Version}
	}},
	"addFollowUp": {state: cases.StateFollowUp, build: func(*testEnv, *cases.Case, string) (string, any) {
		return "", map[string]any{"date": "2026-11-03", "contact": "visit", "attending_school": true, "working_again": false}
	}},
	"listCaseEvents": {state: cases.StateIntake, build: noBody},
	"correctFacts": {state: cases.StateIntake, build: func(_ *testEnv, c *cases.Case, _ string) (string, any) {
		return "", map[string]any{"presence": "accompanying", "recruitment": "relative_or_friend", "version": c.Version}
	}},
	"resolveAlert": {state: cases.StateFollowUp, build: func(e *testEnv, c *cases.Case, _ string) (string, any) {
		_, err := e.cases.AddFollowUp(ctx, e.fixture.Supervisor.Actor(), c.ID, cases.FollowUpInput{Date: e.now, Contact: "visit", WorkingAgain: true})
		must(e.t, err)
		return "", map[string]any{"reason": "Back at school; the uncle was spoken to.", "version": c.Version}
	}},
	"readNotes": {state: cases.StateIntake, build: func(*testEnv, *cases.Case, string) (string, any) {
		return "?reason=safeguarding", nil
	}},
	"listAuditEntries": {build: func(*testEnv, *cases.Case, string) (string, any) { return "?action=case.filed&limit=5", nil }},
	"getCaseLedger":    {state: cases.StateFollowUp, build: noBody},
	"recordPayment": {state: cases.StateFollowUp, build: func(*testEnv, *cases.Case, string) (string, any) {
		return "", map[string]any{"payer": "brand", "amount": 80000, "currency": "CNY", "paid_on": "2026-11-02",
			"month": "2026-11", "method": "bank_transfer", "proof_ref": "BANK-" + uuid.NewString()[:8]}
	}},
	"reversePayment": {state: cases.StateFollowUp, build: noBody}, // the payment is made in prepare
	"getBrandLedger": {build: func(e *testEnv, _ *cases.Case, tenant string) (string, any) {
		return "?client_id=" + e.client(tenant).ID.String() + "&from=2026-09&to=2026-11", nil
	}},
	"exportBrandLedger": {build: func(e *testEnv, _ *cases.Case, tenant string) (string, any) {
		return "?client_id=" + e.client(tenant).ID.String() + "&from=2026-09&to=2026-11&format=csv", nil
	}},
	"mergeFactory": {build: func(e *testEnv, _ *cases.Case, _ string) (string, any) {
		return "", map[string]any{"into": e.fixture.Factory.ID}
	}},
	"readIdentity": {state: cases.StateIntake, build: func(*testEnv, *cases.Case, string) (string, any) {
		return "?reason=verify_age", nil
	}},
	"correctIdentity": {state: cases.StateIntake, build: func(_ *testEnv, c *cases.Case, _ string) (string, any) {
		return "", map[string]any{"identity": map[string]any{"full_name": "Corrected Name", "apparent_age": 14}, "version": c.Version}
	}},
	"listClients": {build: noBody},
	"createClient": {build: func(*testEnv, *cases.Case, string) (string, any) {
		return "", map[string]any{"name": "Brand " + uuid.NewString()}
	}},
	"disableClient":     {build: noBody}, // the path id is made in the test
	"getReportContacts": {build: noBody},
	"putReportContacts": {build: func(*testEnv, *cases.Case, string) (string, any) {
		return "", map[string]any{"emails": []string{"compliance@brand.example"}}
	}},
	"listMonthlyReports": {build: noBody},
	"createMonthlyReport": {build: func(e *testEnv, _ *cases.Case, tenant string) (string, any) {
		return "", map[string]any{"client_id": e.client(tenant).ID, "month": "2026-10"}
	}},
	"downloadMonthlyReport": {build: noBody},
	"listFactories":         {build: noBody},
	"createFactory": {build: func(*testEnv, *cases.Case, string) (string, any) {
		return "", map[string]any{"name": "工厂 " + uuid.NewString(), "province": "江苏", "city": "苏州"}
	}},
	"listUsers": {build: noBody},
	"createUser": {build: func(*testEnv, *cases.Case, string) (string, any) {
		return "", map[string]any{"email": uuid.NewString() + "@example.org", "name": "New", "role": "auditor"}
	}},
	"disableUser": {build: noBody},
	"uploadDocument": {state: cases.StateVerification, build: func(e *testEnv, _ *cases.Case, _ string) (string, any) {
		return "", uploadBody(e.t, [][2]string{{"kind", "id_document"}, {"step", "verification"}}, "id.jpg", smallJPEG(e.t))
	}},
	"listDocuments": {state: cases.StateVerification, build: noBody},
	"readDocument": {state: cases.StateVerification, build: func(*testEnv, *cases.Case, string) (string, any) {
		return "?reason=verify_age", nil
	}}, // the document is attached in prepare
}

var matrixRoles = []string{"anonymous", "auditor", "caseworker", "supervisor", "client", "admin"}

// expectedStatus is the access rule written out: no token 401; a role the
// operation does not list 403; a case the role may not see 404 (supervisors
// see every case; the others only their own tenant's); otherwise success.
func expectedStatus(op *api.Operation, role, tenant string) int {
	switch {
	case op.Public():
		return op.SuccessStatus()
	case role == "anonymous":
		return http.StatusUnauthorized
	case !op.Allows(cases.Role(role)):
		return http.StatusForbidden
	case op.ID == "getCaseLedger" && role == "admin":
		return op.SuccessStatus()
	case strings.HasPrefix(op.Path, "/v1/cases/{id}") && role != "supervisor" && tenant == "other":
		return http.StatusNotFound
	case (op.ID == "downloadMonthlyReport" || op.ID == "downloadMonthlyReportSignature" || op.ID == "disableWebhook") && role == "client" && tenant == "other":
		return http.StatusNotFound
	case (op.ID == "getBrandLedger" || op.ID == "exportBrandLedger") && role == "client" && tenant == "other":
		return http.StatusNotFound
	}
	return op.SuccessStatus()
}

// prepare makes what a valid call of op on tenant needs (a case in the
// right state, an entity to act on) and returns its path, query and body.
func (e *testEnv) prepare(t *testing.T, op *api.Operation, spec call, tenant string) (path, query string, body any) {
	t.Helper()
	path = op.Path
	var c *cases.Case
	if spec.state != "" {
		c = e.caseIn(tenant, spec.state)
		path = strings.Replace(path, "{id}", c.ID.String(), 1)
	}
	switch op.ID {
	case "disableClient":
		cl, err := storage.NewClientService(e.db).CreateClient(ctx, cases.SystemActor, cases.NewClient{Name: "To disable " + uuid.NewString()})
		must(t, err)
		path = strings.Replace(path, "{id}", cl.ID.String(), 1)
	case "getReportContacts", "putReportContacts", "putReportLanguage":
		path = strings.Replace(path, "{id}", e.client(tenant).ID.String(), 1)
	case "downloadMonthlyReport", "downloadMonthlyReportSignature":
		r, _, err := storage.NewReportService(e.db).StoreReport(ctx, cases.SystemActor,
			cases.NewMonthlyReport{ClientID: e.client(tenant).ID, Month: cases.Month{Year: 2026, Month: 9}, PDF: []byte("%PDF-1.3"),
				Sign: func(pdf []byte, _ int) ([]byte, []byte, string, error) {
					return pdf, []byte("a signature\n"), "remedy-reports+00000000", nil
				}}, false)
		must(t, err)
		path = strings.Replace(path, "{id}", r.ID.String(), 1)
	case "disableWebhook", "listWebhookDeliveries":
		w, _, err := storage.NewWebhookService(e.db).CreateWebhook(ctx, cases.SystemActor, cases.NewWebhook{
			ClientID: uuid.NullUUID{UUID: e.client(tenant).ID, Valid: true}, URL: "https://93.184.216.34/hook", Events: []string{"case.filed"}})
		must(t, err)
		path = strings.Replace(path, "{id}", w.ID.String(), 1)
	case "reversePayment":
		p, err := storage.NewLedgerService(e.db).RecordPayment(ctx, e.fixture.Supervisor.Actor(), c.ID, cases.PaymentInput{
			Payer: cases.PayerBrand, Amount: 1000, Currency: "CNY", PaidOn: e.now, Month: cases.MonthOf(e.now),
			Method: "cash", ProofRef: "CASH-" + uuid.NewString()[:8]})
		must(t, err)
		path = strings.Replace(path, "{payment_id}", p.ID.String(), 1)
	case "readDocument":
		d, err := storage.NewDocumentService(e.db).AttachDocument(ctx, e.fixture.Supervisor.Actor(), c.ID,
			cases.NewDocument{Kind: "photo", Name: cases.NewFileName("photo.jpg")}, bytes.NewReader(smallJPEG(t)))
		must(t, err)
		path = strings.Replace(path, "{document_id}", d.ID.String(), 1)
	case "mergeFactory":
		f, err := storage.NewFactoryService(e.db).CreateFactory(ctx, cases.SystemActor,
			cases.NewFactory{Name: "重复工厂 " + uuid.NewString(), Province: "广东", City: "东莞"})
		must(t, err)
		path = strings.Replace(path, "{id}", f.ID.String(), 1)
	case "disableUser":
		u, err := storage.NewUserService(e.db).CreateUser(ctx, cases.SystemActor,
			cases.NewUser{Email: uuid.NewString() + "@example.org", Name: "To disable", Role: cases.RoleAuditor})
		must(t, err)
		path = strings.Replace(path, "{id}", u.ID.String(), 1)
	}
	query, body = spec.build(e, c, tenant)
	return path, query, body
}

// TestAccessMatrix calls every operation of the document as every role, on
// its own tenant and on another, and checks the status.
func TestAccessMatrix(t *testing.T) {
	e := newTestEnv(t, storage.SQLite)
	var rows []string
	for _, op := range e.srv.Spec().Operations() {
		spec, ok := calls[op.ID]
		if !ok {
			t.Errorf("operation %s has no entry in the access matrix", op.ID)
			continue
		}
		for _, role := range matrixRoles {
			for _, tenant := range []string{"own", "other"} {
				path, query, body := e.prepare(t, op, spec, tenant)
				token := ""
				if role != "anonymous" {
					token = e.tokens[role]
				}
				res := e.do(strings.ToUpper(op.Method), path+query, token, body)
				want := expectedStatus(op, role, tenant)
				if res.status != want {
					t.Errorf("%s %s as %s on %s tenant: status %d, want %d: %s", op.Method, op.Path, role, tenant, res.status, want, res.body)
				}
				rows = append(rows, fmt.Sprintf("%-7s %-32s %-10s %-5s %d", op.Method, op.Path, role, tenant, res.status))
			}
		}
	}
	for id := range calls {
		if e.srv.Spec().Operation(id) == nil {
			t.Errorf("the matrix has an entry for %s, which the document lacks", id)
		}
	}
	if testing.Verbose() {
		sort.Strings(rows)
		t.Log("\n" + strings.Join(rows, "\n"))
	}
}

// TestRoutesMatchDocument proves that the router serves exactly the
// document's operations.
func TestRoutesMatchDocument(t *testing.T) {
	e := newTestEnv(t, storage.SQLite)
	var want []string
	for _, op := range e.srv.Spec().Operations() {
		want = append(want, strings.ToUpper(op.Method)+" "+op.EchoPath)
	}
	got := slices.Clone(e.srv.Routes())
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("routes and operations differ:\nrouter:   %v\ndocument: %v", got, want)
	}
}
