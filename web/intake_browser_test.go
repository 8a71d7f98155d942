package web_test

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/google/uuid"

	cases "github.com/remedy-cases/remedy/case"
	"github.com/remedy-cases/remedy/storage"
)

// networkConditions are the parameters of Network.emulateNetworkConditions,
// which this cdproto no longer generates but Chromium still serves.
type networkConditions struct {
	Offline            bool    `json:"offline"`
	Latency            float64 `json:"latency"`
	DownloadThroughput float64 `json:"downloadThroughput"`
	UploadThroughput   float64 `json:"uploadThroughput"`
}

var emulateNetworkConditions = cdp.Command[networkConditions, cdp.Empty]{Method: "Network.emulateNetworkConditions"}

func (w *walker) network(offline bool) {
	w.t.Helper()
	if _, err := chromedp.Call(w.ctx, network.Enable, network.EnableParams{}); err != nil {
		w.t.Fatalf("network enable: %v", err)
	}
	if _, err := chromedp.Call(w.ctx, emulateNetworkConditions, networkConditions{Offline: offline, DownloadThroughput: -1, UploadThroughput: -1}); err != nil {
		w.t.Fatalf("offline %v: %v", offline, err)
	}
}

// eval runs a script that may return a promise.
func (w *walker) eval(step, js string) string {
	w.t.Helper()
	s, err := chromedp.Run(w.ctx, chromedp.Evaluate[string](js, chromedp.EvalAwaitPromise))
	if err != nil {
		w.t.Fatalf("%s: %v", step, err)
	}
	return s
}

// waitCount waits until n elements match sel.
func (w *walker) waitCount(step, sel string, n int) {
	w.t.Helper()
	js := `document.querySelectorAll(` + "`" + sel + "`" + `).length`
	deadline := time.Now().Add(20 * time.Second)
	got := -1
	for time.Now().Before(deadline) {
		if c, err := chromedp.Run(w.ctx, chromedp.Evaluate[int](js)); err == nil {
			if got = c; got == n {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	w.t.Fatalf("%s: %d of %s, want %d; the page shows:\n%s", step, got, sel, n, w.text())
}

// readIntakeDB returns everything the phone keeps in IndexedDB, as JSON.
const readIntakeDB = `new Promise((resolve, reject) => {
  const req = indexedDB.open("remedy-intake", 1);
  req.onsuccess = () => {
    const t = req.result.transaction("reports", "readonly");
    const all = t.objectStore("reports").getAll();
    all.onsuccess = () => { const s = JSON.stringify(all.result); req.result.close(); resolve(s); };
    all.onerror = () => reject(all.error);
  };
  req.onerror = () => reject(req.error);
})`

// TestIntakeOffline: an auditor files two reports with the network off,
// reloads the page (the service worker serves it), and finds them waiting;
// the phone's IndexedDB holds no name, only ciphertext. With the network
// back on, each is filed exactly once, with the identity the auditor typed,
// however often the reports are sent again.
func TestIntakeOffline(t *testing.T) {
	e := newEnv(t, storage.SQLite)
	w := newWalker(t, e)
	names := []string{"CANARY-离线-王小明", "CANARY-离线-李小红"}
	w.signIn(e.f.Auditor)
	w.do("intake form", chromedp.Navigate(w.url("/intake/")), chromedp.WaitVisible(chromedp.CSS("#f-intake-client_id")))
	w.eval("service worker", `navigator.serviceWorker.ready.then(() => "ready")`)
	w.audit("intake form")
	w.screenshot("auditor-intake")

	w.network(true)
	for i, name := range names {
		w.do("fill report "+name, fill(map[string]string{
			"f-intake-client_id": e.f.Client.ID.String(), "f-intake-factory_id": e.f.Factory.ID.String(),
			"f-intake-found_on": "2026-11-02", "f-intake-full_name": name, "f-intake-apparent_age": "14",
			"f-intake-gender": "female", "f-intake-id_number": "CANARY-ID-" + name, "f-intake-job": "剪线头",
			"f-intake-recruitment": "borrowed_id", "f-intake-guardian1_name": "CANARY-GUARDIAN-" + name,
			"f-intake-narrative": "CANARY-NARRATIVE-" + name, "f-intake-removed_from_work": "on", "f-intake-child_safe": "on",
		})...)
		w.do("keep report "+name, chromedp.Click(chromedp.CSS(`#intake-form button[type=submit]`)))
		w.waitCount("kept "+name, `#intake-queue li[data-status=waiting]`, i+1)
	}
	w.do("reload offline", chromedp.Reload())
	w.waitCount("waiting after the reload", `#intake-queue li[data-status=waiting]`, 2)
	if !strings.Contains(w.text(), "无网络连接") {
		t.Error("offline, the page does not say so")
	}
	stored := w.eval("read IndexedDB", readIntakeDB)
	if !strings.Contains(stored, `\"sealed\":`) || strings.Count(stored, `"status":"waiting"`) != 2 {
		t.Fatalf("IndexedDB does not hold the two sealed reports: %s", stored)
	}
	if strings.Count(stored, `"user":"`+e.f.Auditor.ID.String()+`"`) != 2 {
		t.Errorf("the reports are not bound to their auditor: %s", stored)
	}
	for _, s := range []string{"CANARY", "王小明", "李小红"} {
		if strings.Contains(stored, s) {
			t.Errorf("IndexedDB holds %q in the clear", s)
		}
	}
	filed := func() []*cases.Case {
		page, err := e.cases.ListCases(ctx, cases.CaseFilter{FiledBy: uuid.NullUUID{UUID: e.f.Auditor.ID, Valid: true}})
		must(t, err)
		return page.Cases
	}
	if n := len(filed()); n != 0 {
		t.Fatalf("%d reports reached the server while offline", n)
	}

	w.network(false)
	// The online event sends them; the button sends them again at once.
	w.do("send now", chromedp.Click(chromedp.CSS("#intake-send")))
	w.waitCount("filed", `#intake-queue li[data-status=filed]`, 2)
	w.do("send again", chromedp.Click(chromedp.CSS("#intake-send")), chromedp.Reload())
	w.waitCount("still filed after the reload", `#intake-queue li[data-status=filed]`, 2)
	got := filed()
	if len(got) != 2 {
		t.Fatalf("%d cases filed, want 2", len(got))
	}
	seen := map[string]bool{}
	for _, c := range got {
		if !strings.Contains(w.text(), c.Code) {
			t.Errorf("the page does not show %s", c.Code)
		}
		conf, err := e.cases.ReadIdentity(ctx, e.f.Supervisor.Actor(), c.ID, cases.ReadReason{Code: "verify_age"})
		must(t, err)
		seen[conf.Identity.FullName] = true
		if conf.Narrative.Text() != "CANARY-NARRATIVE-"+conf.Identity.FullName || len(conf.Identity.Guardians) != 1 {
			t.Errorf("%s: the narrative or the guardian did not arrive", c.Code)
		}
	}
	if !seen[names[0]] || !seen[names[1]] {
		t.Errorf("the filed identities are not the ones typed: %v", seen)
	}
	stored = w.eval("read IndexedDB", readIntakeDB)
	if strings.Contains(stored, "sealed") {
		t.Errorf("a filed report keeps its sealed identity on the phone: %s", stored)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, m := range w.console {
		// Offline, the failed fetches are the point.
		if strings.Contains(m, "ERR_INTERNET_DISCONNECTED") || strings.Contains(m, "Failed to fetch") {
			t.Logf("browser console, offline: %s", m)
			continue
		}
		t.Errorf("browser console: %s", m)
	}
}
