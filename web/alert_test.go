package web_test

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	cases "github.com/remedy-cases/remedy/case"
	"github.com/remedy-cases/remedy/storage"
)

// TestCaseAlerts: the case page says what a home's bucket says (missed
// months, due to close, working again), and a supervisor decides on a
// working-again alert there, with a reason the domain requires and audits.
func TestCaseAlerts(t *testing.T) {
	e := newEnv(t, storage.SQLite)
	e.advance(-80 * 24 * time.Hour)
	overdue := e.caseIn(cases.StateFollowUp, e.f.Report(e.now.AddDate(0, 0, -5)))
	e.advance(80 * 24 * time.Hour)
	alerted := e.caseIn(cases.StateFollowUp, e.f.Report(e.now.AddDate(0, -1, 0)))
	_, err := e.cases.AddFollowUp(ctx, e.f.Worker.Actor(), alerted.ID, cases.FollowUpInput{Date: e.now, Contact: "phone", WorkingAgain: true})
	must(t, err)
	worker := e.signIn(e.f.Worker, "zh-CN")
	sup := e.signIn(e.f.Supervisor, "zh-CN")

	page := worker.get("/cases/" + overdue.ID.String()).text()
	if !strings.Contains(page, "无回访的月份： 2026年8月、2026年9月、2026年10月") {
		t.Error("the case page does not name the missed months")
	}
	path := "/cases/" + alerted.ID.String()
	page = worker.get(path).text()
	if !strings.Contains(page, "2026年11月3日的回访发现儿童再次工作") || strings.Contains(page, `action="`+path+`/alert"`) {
		t.Fatal("the worker sees no alert, or a decision that is not theirs")
	}
	fresh, err := e.cases.FindCase(ctx, alerted.ID)
	must(t, err)
	version := strconv.Itoa(fresh.Version)
	if res := worker.post(path+"/alert", url.Values{"version": {version}, "reason": {"x"}}); res.status != http.StatusForbidden {
		t.Errorf("a worker decides: %d", res.status)
	}
	page = sup.get(path).text()
	if !strings.Contains(page, `action="`+path+`/alert"`) {
		t.Fatal("the supervisor has no decision form")
	}
	res := sup.post(path+"/alert", url.Values{"version": {version}, "reason": {""}})
	if res.status != http.StatusUnprocessableEntity || fieldError(res.text(), "alert", "reason") != "请填写原因。" {
		t.Fatalf("without a reason: %d %q", res.status, fieldError(res.text(), "alert", "reason"))
	}
	res = sup.post(path+"/alert", url.Values{"version": {version}, "reason": {"back at school, the factory warned"}})
	if res.status != http.StatusSeeOther || res.header.Get("Location") != path+"?done=alert" {
		t.Fatalf("decide: %d", res.status)
	}
	if fresh, err = e.cases.FindCase(ctx, alerted.ID); err != nil || fresh.Alert() {
		t.Fatalf("still alerted: %v", err)
	}
	if page := sup.get(path + "?done=alert").text(); !strings.Contains(page, "决定已记录") || strings.Contains(page, `id="alert"`) {
		t.Error("the page after the decision")
	}
}
