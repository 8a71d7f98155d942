package web_test

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"text/template/parse"
	"time"
	"unicode"

	"github.com/google/uuid"
	"golang.org/x/net/html"

	cases "github.com/remedy-cases/remedy/case"
	"github.com/remedy-cases/remedy/workflow"
)

// catalogue reads a locale's JSON catalogue as key -> message (a plural
// message counts as one key).
func catalogue(t *testing.T, code string) map[string]any {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("locales", code+".json"))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatalf("%s: %v", code, err)
	}
	// Further catalogues of the language, such as part2.en.json.
	more, _ := filepath.Glob(filepath.Join("locales", "*."+code+".json"))
	for _, file := range more {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		var part map[string]any
		if err := json.Unmarshal(data, &part); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		for k, v := range part {
			if _, dup := m[k]; dup {
				t.Errorf("%s repeats %q", file, k)
			}
			m[k] = v
		}
	}
	return m
}

// TestCataloguesComplete: zh-CN and English have the same keys, none empty.
func TestCataloguesComplete(t *testing.T) {
	zh, en := catalogue(t, "zh-CN"), catalogue(t, "en")
	for k, v := range zh {
		if _, ok := en[k]; !ok {
			t.Errorf("en lacks %q", k)
		}
		if v == "" {
			t.Errorf("zh-CN %q is empty", k)
		}
	}
	for k, v := range en {
		if _, ok := zh[k]; !ok {
			t.Errorf("zh-CN lacks %q", k)
		}
		if v == "" {
			t.Errorf("en %q is empty", k)
		}
	}
	if len(zh) < 300 {
		t.Fatalf("only %d messages: the catalogues did not load", len(zh))
	}
}

// TestCataloguesCoverDomain: every value the pages translate by kind, and
// every failure the domain can name, has a message in both languages.
func TestCataloguesCoverDomain(t *testing.T) {
	var keys []string
	add := func(kind string, values ...any) {
		for _, v := range values {
			keys = append(keys, kind+"."+fmt.Sprint(v))
		}
	}
	for _, s := range cases.States {
		add("state", s)
	}
	for _, e := range cases.Events {
		add("event", e)
		add("done", e)
	}
	for _, o := range cases.Outcomes {
		add("outcome", o)
	}
	for _, g := range cases.Genders {
		add("gender", g)
	}
	for _, p := range cases.Presences {
		add("presence", p)
	}
	for _, r := range cases.Recruitments {
		add("recruitment", r)
	}
	for _, h := range cases.Hazards {
		add("hazard", h)
	}
	for _, m := range cases.VerificationMethods {
		add("method", m)
	}
	for _, c := range cases.Contacts {
		add("contact", c)
	}
	for _, p := range cases.Payers {
		add("payer", p)
	}
	for _, r := range append(cases.Roles, cases.RoleSystem) {
		add("role", r)
	}
	for _, r := range cases.ReadReasons {
		add("reason", r)
	}
	for _, s := range cases.IDSuspicions {
		add("suspected", s)
	}
	for _, a := range cases.Answers {
		add("answer", a)
	}
	for _, m := range cases.PaymentMethods {
		add("payment_method", m)
	}
	for _, k := range cases.DocumentKinds {
		add("kind", k)
	}
	for _, s := range cases.DocumentSteps {
		add("step", s)
	}
	add("matched", "id_number", "name_birth_date")
	for _, l := range cases.Locales {
		add("lang", l)
	}
	// Guards, by the workflow's own table.
	for _, r := range workflow.Table {
		for _, g := range r.Guards {
			add("fail", g.Name)
		}
	}
	// Field failures, by asking the domain's validations with every field wrong.
	now := time.Date(2026, 11, 3, 0, 0, 0, 0, time.UTC)
	long := strings.Repeat("x", cases.MaxNoteBytes+1)
	neg := -1
	bad := []error{
		(&cases.Report{FoundOn: now.AddDate(1, 0, 0), Gender: "x", Presence: "x", Job: strings.Repeat("x", 101),
			Hazards: []string{"x"}, HoursPerWeek: -1, MonthlyWage: cases.Money{Amount: -1, Currency: "x"}, Recruitment: "x",
			Narrative: cases.NewNote(long)}).Validate(now),
		(&cases.Report{ClientID: uuid.New(), Identity: cases.Identity{FullName: strings.Repeat("x", 201), OtherNames: make([]string, 11),
			ApparentAge: 40, IDDocumentType: strings.Repeat("x", 51), IDNumber: strings.Repeat("x", 51), IDSuspected: "x",
			Hometown: strings.Repeat("x", 201), Address: strings.Repeat("x", 501), Phone: strings.Repeat("x", 51),
			Guardians: make([]cases.Guardian, 6)}}).Validate(now),
		(&cases.Verification{Notes: cases.NewNote(long), ChildWishes: cases.NewNote(long), GuardiansContactMethod: "x",
			GuardiansContactedOn: &now}).Validate(now, now),
		(&cases.PlanInput{School: strings.Repeat("x", 201), Grade: strings.Repeat("x", 201), Currency: "x", TuitionCost: -1,
			TravelCost: -1, MonthlyStipend: -1, Payer: "x", FactorySharePct: 200, EnrolmentDate: now, EndDate: now.AddDate(-1, 0, 0),
			ConsentDate: &now}).Validate(),
		(&cases.FollowUpInput{AttendancePct: &neg, StipendPaid: -1, StipendPaidOn: &now, StipendProofRef: strings.Repeat("x", 101),
			Concerns: cases.NewNote(long)}).Validate(now),
		cases.ReadReason{Detail: cases.NewNote(long)}.Validate(),
	}
	for _, err := range bad {
		fs := cases.ErrorFailures(err)
		if len(fs) == 0 {
			t.Fatalf("a validation named nothing: %v", err)
		}
		for _, f := range fs {
			add("fail", f.Name)
		}
	}
	for _, f := range (&cases.Plan{}).Missing() {
		add("fail", f.Name)
	}
	// Failures the storage and the web add.
	add("fail", "assignee_id", "idempotency_key", "state", "identity.verified_birth_date", "unknown")
	for _, code := range cases.Locales {
		m := catalogue(t, code)
		for _, k := range keys {
			if _, ok := m[k]; !ok {
				t.Errorf("%s lacks %q", code, k)
			}
		}
	}
}

// templateTrees parses every template file into its parse trees.
func templateTrees(t *testing.T) map[string]*parse.Tree {
	t.Helper()
	out := map[string]*parse.Tree{}
	funcs := map[string]any{}
	for _, name := range []string{"t", "enum", "fail", "date", "dateP", "time", "num", "money", "month", "asset", "yuan", "iso", "isoP", "fieldID", "has", "inc", "identityData", "receiptData", "answers",
		"and", "or", "not", "eq", "ne", "lt", "le", "gt", "ge", "index", "print", "printf", "println", "len", "slice", "html", "js", "urlquery", "call"} {
		funcs[name] = func(...any) string { return "" }
	}
	err := fs.WalkDir(os.DirFS("templates"), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(filepath.Join("templates", p))
		if err != nil {
			return err
		}
		trees, err := parse.Parse(p, string(data), "{{", "}}", funcs)
		if err != nil {
			return err
		}
		for name, tree := range trees {
			out[p+":"+name] = tree
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// walk visits every node of a tree.
func walk(n parse.Node, visit func(parse.Node)) {
	if n == nil {
		return
	}
	visit(n)
	switch n := n.(type) {
	case *parse.ListNode:
		if n != nil {
			for _, c := range n.Nodes {
				walk(c, visit)
			}
		}
	case *parse.IfNode:
		walk(n.List, visit)
		walk(n.ElseList, visit)
	case *parse.RangeNode:
		walk(n.List, visit)
		walk(n.ElseList, visit)
	case *parse.WithNode:
		walk(n.List, visit)
		walk(n.ElseList, visit)
	case *parse.ActionNode:
		walk(n.Pipe, visit)
	case *parse.PipeNode:
		if n != nil {
			for _, c := range n.Cmds {
				walk(c, visit)
			}
		}
	case *parse.CommandNode:
		for _, a := range n.Args {
			walk(a, visit)
		}
	}
}

// TestTemplatesUseCatalogue: every message a template names exists in both
// catalogues.
func TestTemplatesUseCatalogue(t *testing.T) {
	zh, en := catalogue(t, "zh-CN"), catalogue(t, "en")
	used := 0
	for name, tree := range templateTrees(t) {
		walk(tree.Root, func(n parse.Node) {
			cmd, ok := n.(*parse.CommandNode)
			if !ok || len(cmd.Args) < 2 {
				return
			}
			if id, ok := cmd.Args[0].(*parse.IdentifierNode); !ok || id.Ident != "t" {
				return
			}
			key, ok := cmd.Args[1].(*parse.StringNode)
			if !ok {
				return // a computed key: the domain test above covers its families
			}
			used++
			if _, ok := zh[key.Text]; !ok {
				t.Errorf("%s: zh-CN lacks %q", name, key.Text)
			}
			if _, ok := en[key.Text]; !ok {
				t.Errorf("%s: en lacks %q", name, key.Text)
			}
		})
	}
	if used < 100 {
		t.Fatalf("found only %d messages in the templates", used)
	}
}

// visibleAttrs are the attributes a person reads or hears.
var visibleAttrs = map[string]bool{"placeholder": true, "title": true, "alt": true, "aria-label": true, "value": true, "label": true}

// hardCoded returns the words a template's literal HTML shows, outside
// the catalogue: any letter of any script in text or in a visible
// attribute.
func hardCoded(fragment string) []string {
	var out []string
	z := html.NewTokenizer(strings.NewReader(fragment))
	hasLetter := func(s string) bool { return strings.IndexFunc(s, unicode.IsLetter) >= 0 }
	for {
		switch z.Next() {
		case html.ErrorToken:
			return out
		case html.TextToken:
			if s := strings.TrimSpace(string(z.Text())); hasLetter(s) {
				out = append(out, s)
			}
		case html.StartTagToken, html.SelfClosingTagToken:
			for {
				k, v, more := z.TagAttr()
				if visibleAttrs[string(k)] && hasLetter(string(v)) {
					out = append(out, string(k)+"="+string(v))
				}
				if !more {
					break
				}
			}
		}
	}
}

// actions matches a template action, which the check replaces by a mark.
var actions = regexp.MustCompile(`(?s)\{\{.*?\}\}`)

// TestNoHardCodedText: a template's own HTML shows no letters of any
// script, in text or in a visible attribute: every word comes from the
// catalogue or the data. The check is first shown to fail on a fragment
// with hard-coded words.
func TestNoHardCodedText(t *testing.T) {
	if got := hardCoded(actions.ReplaceAllString(`<h1>Home</h1><input placeholder="搜索" value="{{.V}}"><p>{{t "x"}}</p>`, "\x00")); len(got) != 2 {
		t.Fatalf("the check missed hard-coded text: %v", got)
	}
	allowed := regexp.MustCompile(`^value=(on|1|en|zh-CN|approve_plan)$`)
	files := 0
	err := fs.WalkDir(os.DirFS("templates"), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		files++
		data, err := os.ReadFile(filepath.Join("templates", p))
		if err != nil {
			return err
		}
		for _, s := range hardCoded(actions.ReplaceAllString(string(data), "\x00")) {
			if s = strings.Trim(s, "\x00 "); !allowed.MatchString(s) {
				t.Errorf("%s: hard-coded text %q", p, s)
			}
		}
		return nil
	})
	if err != nil || files < 8 {
		t.Fatalf("read %d templates: %v", files, err)
	}
}
