package web_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	cases "github.com/remedy-cases/remedy/case"
	"github.com/remedy-cases/remedy/storage"
)

// signInTo signs u in through the page and waits for its home to show text.
func (w *walker) signInTo(u *cases.User, text string) {
	w.t.Helper()
	w.do("sign in "+u.Email, chromedp.Navigate(w.url("/signin")), chromedp.WaitVisible(chromedp.CSS("#email")),
		chromedp.SendKeys(chromedp.CSS("#email"), u.Email), chromedp.SendKeys(chromedp.CSS("#password"), password),
		chromedp.Click(chromedp.CSS("main form button[type=submit]")))
	w.waitFor("home of "+u.Email, text)
}

// TestBrowserBrandAndAdmin walks a brand's and an admin's pages in Chinese
// at a phone's size, with axe-core on each, and keeps the README's
// screenshots of their homes (-update-screenshots).
func TestBrowserBrandAndAdmin(t *testing.T) {
	e := newEnv(t, storage.SQLite)
	seedDemo(t, e)
	brand := e.brandUser(e.f.Client, "compliance@polaris.example")
	admin := e.user(cases.RoleAdmin, "admin@example.org", "管理员")
	w := newWalker(t, e)

	w.signInTo(brand, "我们的个案")
	if !strings.Contains(w.text(), "个案编号") {
		t.Error("the brand's dashboard has no case table")
	}
	for _, id := range []string{"#chart-state-t", "#chart-new-t", "#chart-stipends-t"} {
		w.do("chart "+id, chromedp.WaitReady(chromedp.CSS(id)))
	}
	w.audit("brand home")
	w.screenshot("brand-home")
	w.do("a case", chromedp.Click(chromedp.CSS("table.brand-cases tbody tr:first-child a")), chromedp.WaitVisible(chromedp.CSS("#h-timeline")))
	w.audit("brand case")
	if l := leaked(w.text()); l != nil {
		t.Errorf("the brand's case page leaks %v", l)
	}
	w.do("reports", chromedp.Navigate(w.url("/brand/reports")), chromedp.WaitVisible(chromedp.CSS("h1")))
	w.audit("brand reports")
	w.do("ledger", chromedp.Navigate(w.url("/brand/ledger")), chromedp.WaitVisible(chromedp.CSS("#h-totals")))
	w.audit("brand ledger")
	w.signOut()

	w.signInTo(admin, "系统管理")
	w.waitFor("verified", "校验通过")
	w.audit("admin home")
	w.screenshot("admin-home")
	for _, p := range []string{"/admin/users", "/admin/clients", "/admin/clients/" + e.f.Client.ID.String(), "/admin/factories", "/admin/audit"} {
		w.do(p, chromedp.Navigate(w.url(p)), chromedp.WaitVisible(chromedp.CSS("h1")))
		w.audit(p)
	}
	if l := leaked(w.text()); l != nil {
		t.Errorf("the audit trail leaks %v", l)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, m := range w.console {
		t.Errorf("browser console: %s", m)
	}
}
