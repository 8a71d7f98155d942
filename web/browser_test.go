package web_test

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/google/uuid"

	cases "github.com/remedy-cases/remedy/case"
	"github.com/remedy-cases/remedy/storage"
)

var updateScreenshots = flag.Bool("update-screenshots", false, "write the README's screenshots to docs/")

// chromium finds Debian's browser, or the one REMEDY_CHROMIUM names. With
// CI set a missing browser fails the test: CI never skips it.
func chromium(t *testing.T) string {
	t.Helper()
	for _, p := range []string{os.Getenv("REMEDY_CHROMIUM"), "/usr/bin/chromium", "chromium"} {
		if p == "" {
			continue
		}
		if path, err := exec.LookPath(p); err == nil {
			return path
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("no chromium: CI must run the browser tests (.ci/run installs Debian's chromium)")
	}
	t.Skip("no chromium (apt-get install chromium): skipping the browser tests")
	return ""
}

// walker drives one headless Chromium at a phone's size, in Chinese, and
// checks every page it reaches with axe-core.
type walker struct {
	t        *testing.T
	e        *env
	ctx      context.Context
	axe      string
	mu       sync.Mutex
	console  []string
	shots    string // where failure screenshots go
	step     string
	audited  map[string]bool
	docsPath string
}

func newWalker(t *testing.T, e *env) *walker {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromium(t)), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck, chromedp.UserDataDir(t.TempDir()),
		// Without these, Chromium keeps calling hosts this machine cannot reach.
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("disable-quic", true), chromedp.Flag("disable-default-apps", true),
		chromedp.Flag("disable-extensions", true), chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-features", "Translate,OptimizationHints,MediaRouter,AutofillServerCommunication"),
		chromedp.Flag("metrics-recording-only", true), chromedp.Flag("no-pings", true),
		chromedp.Flag("lang", "zh-CN"), chromedp.Flag("accept-lang", "zh-CN,zh"),
	}
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(alloc)
	ctx, cancelTimeout := context.WithTimeout(ctx, 3*time.Minute)
	axe, err := os.ReadFile(filepath.Join("testdata", "axe.min.js"))
	must(t, err)
	w := &walker{t: t, e: e, ctx: ctx, axe: string(axe), audited: map[string]bool{}}
	t.Cleanup(func() {
		if t.Failed() {
			w.keepScreenshot()
		}
		cancelTimeout()
		cancel()
		cancelAlloc()
	})
	// The first Do starts the browser; then listen to its console.
	w.do("start", chromedp.EmulateViewport(360, 740, chromedp.EmulateScale(2)))
	go func() {
		for m, err := range chromedp.Console(ctx) {
			if err != nil {
				return
			}
			// A refused form answers 422 or 409 on purpose; the browser logs it.
			if strings.Contains(m.Text, "status of 422") || strings.Contains(m.Text, "status of 409") {
				continue
			}
			if m.Type == chromedp.ConsoleType("error") || m.Type == chromedp.ConsoleType("exception") || m.Type == chromedp.ConsoleType("warning") {
				w.mu.Lock()
				w.console = append(w.console, string(m.Type)+": "+m.Text)
				w.mu.Unlock()
			}
		}
	}()
	return w
}

// keepScreenshot saves the page as it was when the test failed, in a
// directory that outlives the test, and names it in the log.
func (w *walker) keepScreenshot() {
	dir, err := os.MkdirTemp("", "remedy-browser-")
	if err != nil {
		return
	}
	ctx, cancel := context.WithTimeout(w.ctx, 10*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(90))
	if err != nil {
		return
	}
	path := filepath.Join(dir, "failure.png")
	if os.WriteFile(path, png, 0o644) == nil {
		w.t.Logf("screenshot of the failed step %q: %s", w.step, path)
	}
}

func (w *walker) do(step string, actions ...chromedp.Action[chromedp.Void]) {
	w.t.Helper()
	w.step = step
	if err := chromedp.Do(w.ctx, actions...); err != nil {
		w.t.Fatalf("%s: %v", step, err)
	}
}

func (w *walker) url(path string) string { return w.e.srv.URL + path }

// text returns the visible text of the main part of the page.
func (w *walker) text() string {
	w.t.Helper()
	s, err := chromedp.Run(w.ctx, chromedp.Text(chromedp.CSS("#main")))
	if err != nil {
		w.t.Fatalf("%s: reading the page: %v", w.step, err)
	}
	return s
}

// waitFor waits until the page's main part shows text and htmx has
// settled what it swapped in (a click while the new content still moves
// can land beside its button); a navigation in between (which ends the
// page's JavaScript context) is waited out.
func (w *walker) waitFor(step, text string) {
	w.t.Helper()
	js := fmt.Sprintf(`!!document.querySelector("#main") && document.querySelector("#main").innerText.includes(%q)`+
		` && !document.querySelector(".htmx-request, .htmx-swapping, .htmx-settling, .htmx-added")`, text)
	w.step = step
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		if ok, err := chromedp.Run(w.ctx, chromedp.Evaluate[bool](js)); err == nil && ok {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	w.t.Fatalf("%s: the page never showed %q; it shows:\n%s", step, text, w.text())
}

// audit runs axe-core on the page and fails on a serious or critical
// violation of WCAG 2.2 A/AA or best practice. axe is a test file: the
// app never serves it.
func (w *walker) audit(name string) {
	w.t.Helper()
	if w.audited[name] {
		return
	}
	w.audited[name] = true
	w.step = "axe " + name
	res := w.violations()
	var violations []struct {
		ID, Impact, Help string
		Nodes            []string
	}
	must(w.t, json.Unmarshal([]byte(res), &violations))
	for _, v := range violations {
		if v.Impact == "serious" || v.Impact == "critical" {
			w.t.Errorf("axe, %s: %s (%s): %s at %v", name, v.ID, v.Impact, v.Help, v.Nodes)
		} else {
			w.t.Logf("axe, %s: %s (%s) at %v", name, v.ID, v.Impact, v.Nodes)
		}
	}
}

// violations runs axe-core on the page and returns its violations as JSON.
func (w *walker) violations() string {
	w.t.Helper()
	if _, err := chromedp.Run(w.ctx, chromedp.Evaluate[any](w.axe+";0")); err != nil {
		w.t.Fatalf("inject axe: %v", err)
	}
	res, err := chromedp.Run(w.ctx, chromedp.Evaluate[string](`axe.run(document, {resultTypes: ["violations"],
		runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]}})
		.then(r => JSON.stringify(r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map(n => n.target.join(" "))}))))`,
		chromedp.EvalAwaitPromise))
	if err != nil {
		w.t.Fatalf("axe at %s: %v", w.step, err)
	}
	return res
}

// screenshot writes docs/<name>.png when -update-screenshots asks.
func (w *walker) screenshot(name string) {
	w.t.Helper()
	if !*updateScreenshots {
		return
	}
	png, err := chromedp.Run(w.ctx, chromedp.CaptureScreenshot())
	must(w.t, err)
	must(w.t, os.WriteFile(filepath.Join("..", "docs", "web-"+name+".png"), png, 0o644))
}

func (w *walker) signIn(u *cases.User) {
	w.t.Helper()
	w.do("sign in "+u.Email, chromedp.Navigate(w.url("/signin")), chromedp.WaitVisible(chromedp.CSS("#email")),
		chromedp.SendKeys(chromedp.CSS("#email"), u.Email), chromedp.SendKeys(chromedp.CSS("#password"), password),
		chromedp.Click(chromedp.CSS("main form button[type=submit]")))
	w.waitFor("home of "+u.Email, "我的工作")
}

func (w *walker) signOut() {
	w.t.Helper()
	w.do("sign out", chromedp.Click(chromedp.CSS(`form[action="/signout"] button`)), chromedp.WaitVisible(chromedp.CSS("#email")))
}

// fill sets each field by its id; "on" ticks a checkbox.
func fill(fields map[string]string) []chromedp.Action[chromedp.Void] {
	var out []chromedp.Action[chromedp.Void]
	for id, v := range fields {
		sel := chromedp.CSS("#" + id)
		if v == "on" {
			out = append(out, chromedp.Click(sel))
		} else {
			out = append(out, chromedp.SetValue(sel, v))
		}
	}
	return out
}

// TestBrowser walks a case from filing to closure entirely through the
// pages, in Chinese, at 360×740, as a supervisor and a case worker, with
// axe-core on every kind of page. go test ./web -run Browser -update-screenshots
// rewrites the README's screenshots.
func TestBrowser(t *testing.T) {
	e := newEnv(t, storage.SQLite)
	supervisor := e.user(cases.RoleSupervisor, "zhang.wei@example.org", "张伟")
	worker := e.user(cases.RoleCaseWorker, "li.na@example.org", "李娜")
	seedDemo(t, e, worker, e.f.OtherWorker)
	w := newWalker(t, e)
	const name = "CANARY-浏览器-李小明"

	w.do("sign-in page", chromedp.Navigate(w.url("/signin")), chromedp.WaitVisible(chromedp.CSS("#email")))
	w.audit("sign-in")
	w.screenshot("signin")
	// The check itself: axe must see an input without a label.
	if _, err := chromedp.Run(w.ctx, chromedp.Evaluate[any](`document.querySelector("main").append(document.createElement("input")), 0`)); err != nil {
		t.Fatal(err)
	}
	if got := w.violations(); !strings.Contains(got, `"label"`) {
		t.Fatalf("axe did not see an unlabelled input: %s", got)
	}

	// A supervisor files the report.
	w.signIn(supervisor)
	w.audit("supervisor home, empty")
	w.do("report form", chromedp.Navigate(w.url("/cases/new")), chromedp.WaitVisible(chromedp.CSS("#f-file-client_id")))
	w.audit("report form")
	w.do("fill the report", fill(map[string]string{
		"f-file-client_id": e.f.Client.ID.String(), "f-file-factory_id": e.f.Factory.ID.String(), "f-file-found_on": "2026-10-28",
		"f-file-full_name": name, "f-file-apparent_age": "14", "f-file-gender": "female", "f-file-id_document_type": "id_card",
		"f-file-id_number": "CANARY-ID-4419", "f-file-presence": "employed", "f-file-job": "剪线头", "hz-long_hours": "on",
		"f-file-hours_per_week": "66", "f-file-monthly_wage": "2600", "f-file-recruitment": "borrowed_id",
		"f-file-removed_from_work": "on", "f-file-child_safe": "on", "f-file-narrative": "CANARY-在剪线工位发现",
	})...)
	w.do("file", chromedp.Click(chromedp.CSS(`form[action="/cases"] button[type=submit]`)))
	w.waitFor("the new case", "报告已提交")
	loc, err := chromedp.Run(w.ctx, chromedp.Location())
	must(t, err)
	id := strings.TrimSuffix(strings.TrimPrefix(loc, w.url("/cases/")), "?done=filed")
	caseID, err := uuid.Parse(id)
	if err != nil {
		t.Fatalf("filed to %s", loc)
	}
	casePath := "/cases/" + id
	// Refused in words: nobody is assigned yet.
	if !strings.Contains(w.text(), "尚未分配个案工作者") {
		t.Error("the refused step does not say why")
	}
	w.audit("case page, intake")
	w.do("assign", chromedp.Click(chromedp.CSS("#w-assign > summary")),
		chromedp.SetValue(chromedp.CSS("#f-assign-worker"), worker.ID.String()),
		chromedp.Click(chromedp.CSS("#w-assign button[type=submit]")))
	w.waitFor("assigned", "已分配个案工作者")
	w.signOut()

	// The case worker verifies, confirms and plans.
	w.signIn(worker)
	w.screenshot("worker-home")
	w.audit("case worker home")
	w.do("open the case", chromedp.Click(chromedp.CSS(`a.case-link[href="`+casePath+`"]`)), chromedp.WaitVisible(chromedp.CSS("#act-begin_verification")))
	w.do("begin verification", chromedp.Click(chromedp.CSS("#act-begin_verification button[type=submit]")))
	w.waitFor("verification begun", "已开始年龄核实")
	// A bad date is refused beside its field, in Chinese; what was typed stays.
	w.do("verification, wrong", fill(map[string]string{"f-verification-method": "household_register", "f-verification-notes": "CANARY-户口簿核实"})...)
	w.do("submit without a date", chromedp.RemoveAttribute(chromedp.CSS("#f-verification-verified_birth_date"), "required"),
		chromedp.Click(chromedp.CSS("#w-verification button[type=submit]")))
	w.waitFor("the error beside the field", "请输入早于发现日期的出生日期。")
	if v, _ := chromedp.Run(w.ctx, chromedp.Value(chromedp.CSS("#f-verification-notes"))); v != "CANARY-户口簿核实" {
		t.Errorf("the notes typed were lost: %q", v)
	}
	w.audit("case page, a refused form")
	w.do("verification", chromedp.SetValue(chromedp.CSS("#f-verification-verified_birth_date"), "2012-03-09"),
		chromedp.Click(chromedp.CSS("#w-verification button[type=submit]")))
	w.waitFor("verified", "已记录年龄核实")
	w.do("confirm", chromedp.Click(chromedp.CSS("#act-confirm_child_labour button[type=submit]")))
	w.waitFor("confirmed", "已确认为童工")
	w.do("write the plan", fill(map[string]string{"f-plan-school": "新华中学", "f-plan-grade": "初二", "f-plan-enrolment_date": "2026-11-09",
		"f-plan-monthly_stipend": "800", "f-plan-tuition_cost": "1200", "f-plan-travel_cost": "450", "f-plan-payer": "split",
		"f-plan-factory_share_pct": "50", "f-plan-guardian_consent": "on", "f-plan-consent_date": "2026-11-02"})...)
	w.do("save the plan", chromedp.Click(chromedp.CSS("#w-plan button[type=submit]")))
	w.waitFor("plan saved", "复学计划已保存")
	w.screenshot("case")
	w.audit("case page, planning")

	// Revealing the identity: a reason from the list, then the plaintext on that page only.
	w.do("reveal", chromedp.Click(chromedp.CSS("#reveal")), chromedp.WaitVisible(chromedp.CSS("#f-reveal-reason")))
	w.audit("reveal form")
	w.do("reason", chromedp.SetValue(chromedp.CSS("#f-reveal-reason"), "arrange_schooling"),
		chromedp.Click(chromedp.CSS(`main form button[type=submit]`)))
	w.waitFor("revealed", name)
	title, err := chromedp.Run(w.ctx, chromedp.Title())
	must(t, err)
	here, err := chromedp.Run(w.ctx, chromedp.Location())
	must(t, err)
	if strings.Contains(title, name) || strings.Contains(here, "CANARY") {
		t.Errorf("the identity is in the title %q or the URL %q", title, here)
	}
	// Nothing in browser storage but htmx's note of the current path (a
	// case's id, on the other pages: the reveal page loads no htmx).
	stored, err := chromedp.Run(w.ctx, chromedp.Evaluate[string](`JSON.stringify({local: Object.entries(localStorage),
		session: Object.entries(sessionStorage), cookie: document.cookie})`))
	must(t, err)
	var storage struct {
		Local, Session [][2]string
		Cookie         string
	}
	must(t, json.Unmarshal([]byte(stored), &storage))
	if len(storage.Local) > 0 || storage.Cookie != "" || strings.Contains(stored, "CANARY") {
		t.Errorf("browser storage after the reveal: %s", stored)
	}
	for _, kv := range storage.Session {
		if kv[0] != "htmx-current-path-for-history" || strings.HasSuffix(kv[1], "/reveal") {
			t.Errorf("sessionStorage holds %q = %q", kv[0], kv[1])
		}
	}
	w.audit("reveal page")
	w.do("leave the reveal page", chromedp.Click(chromedp.CSS("main a.button.primary")), chromedp.WaitVisible(chromedp.CSS("#reveal")))
	if strings.Contains(w.text(), name) {
		t.Error("the identity is still shown after leaving")
	}
	w.signOut()

	// The supervisor approves from home.
	w.signIn(supervisor)
	w.waitFor("to approve", "待批准的复学计划")
	w.screenshot("supervisor-home")
	w.audit("supervisor home")
	w.do("approve", chromedp.Click(chromedp.CSS(`form[action="`+casePath+`/transitions"] button[type=submit]`)))
	w.waitFor("approved", "复学计划已批准")
	w.signOut()

	// A month's follow-up by the case worker.
	w.signIn(worker)
	w.do("open the case again", chromedp.Navigate(w.url(casePath)), chromedp.WaitVisible(chromedp.CSS("#w-follow-up")))
	w.do("follow-up", chromedp.Click(chromedp.CSS("#w-follow-up > summary")))
	w.do("fill the follow-up", fill(map[string]string{"f-follow-up-contact": "visit", "f-follow-up-attending_school": "on",
		"f-follow-up-attendance_pct": "96", "f-follow-up-stipend_paid": "800", "f-follow-up-stipend_paid_on": "2026-11-03",
		"f-follow-up-stipend_proof_ref": "TX-20261103", "f-follow-up-stipend_payer": "factory",
		"f-follow-up-concerns": "CANARY-无"})...)
	w.do("save the follow-up", chromedp.Click(chromedp.CSS("#w-follow-up button[type=submit]")))
	w.waitFor("followed up", "回访已记录")
	w.audit("case page, follow-up")
	// The brand's share paid apart from a visit: the ledger's own form.
	w.do("open the payment form", chromedp.Click(chromedp.CSS("#w-payment > summary")))
	w.do("fill the payment", fill(map[string]string{"f-payment-payer": "brand", "f-payment-month": "2026-11",
		"f-payment-amount": "400", "f-payment-method": "bank_transfer", "f-payment-proof_ref": "BT-20261103"})...)
	w.do("record the payment", chromedp.Click(chromedp.CSS("#w-payment button[type=submit]")))
	w.waitFor("paid", "付款已记录")
	w.audit("case page, the ledger")
	w.signOut()

	// The supervisor closes it with an outcome.
	w.signIn(supervisor)
	w.do("open to close", chromedp.Navigate(w.url(casePath)), chromedp.WaitVisible(chromedp.CSS("#act-close")))
	w.do("close", chromedp.SetValue(chromedp.CSS("#f-t-close-outcome"), "completed"),
		chromedp.SendKeys(chromedp.CSS("#f-t-close-reason"), "CANARY-已完成复学"),
		chromedp.Click(chromedp.CSS("#act-close button[type=submit]")))
	w.waitFor("closed", "个案已结案")
	w.audit("case page, closed")
	w.do("search", chromedp.Navigate(w.url("/cases?state=closed")), chromedp.WaitVisible(chromedp.CSS("#results")))
	w.audit("search")
	w.do("home after closing", chromedp.Navigate(w.url("/")), chromedp.WaitVisible(chromedp.CSS("#b-reopen")))
	w.audit("supervisor home, closed cases to reopen")

	c, err := e.cases.FindCase(ctx, caseID)
	must(t, err)
	if c.State != cases.StateClosed || c.Outcome != cases.OutcomeCompleted {
		t.Fatalf("the case ended %s %s", c.State, c.Outcome)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, m := range w.console {
		t.Errorf("browser console: %s", m)
	}
}
