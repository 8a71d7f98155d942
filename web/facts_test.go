package web_test

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	cases "github.com/remedy-cases/remedy/case"
	"github.com/remedy-cases/remedy/storage"
)

// TestCorrectFacts: the facts filed at intake, the field's facts included
// (other children, a labour agent, the factory's consent), are shown on the
// case page and corrected there during verification; a bad value is refused
// beside its field, a stale version shows the fresh case, the audit trail
// names what changed. The report form records the field's facts too.
func TestCorrectFacts(t *testing.T) {
	e := newEnv(t, storage.SQLite)
	c := e.caseIn(cases.StateVerification, e.f.Report(e.now.AddDate(0, 0, -10)))
	path := "/cases/" + c.ID.String()
	b := e.signIn(e.f.Worker, "zh-CN")
	page := b.get(path).text()
	for _, want := range []string{`action="` + path + `/facts"`, "同次走访发现的其他儿童", "经劳务中介招用", "工厂同意开展童工补救"} {
		if !strings.Contains(page, want) {
			t.Errorf("the case page lacks %q", want)
		}
	}
	form := func(version int) url.Values {
		return url.Values{"version": {strconv.Itoa(version)}, "presence": {"accompanying"}, "job": {"none"},
			"hazards": {"noise"}, "hours_per_week": {"0"}, "monthly_wage": {""}, "wage_currency": {"CNY"},
			"recruitment": {"holiday_work"}, "other_children_found": {"2"}, "labour_agent": {"no"}, "factory_consent": {"yes"}}
	}
	t.Run("ErrInvalid", func(t *testing.T) {
		bad := form(c.Version)
		bad.Set("hours_per_week", "200")
		bad.Set("other_children_found", "-1")
		res := b.post(path+"/facts", bad)
		if res.status != http.StatusUnprocessableEntity || fieldError(res.text(), "facts", "hours_per_week") != "应在0至168小时之间。" ||
			fieldError(res.text(), "facts", "other_children_found") != "请输入 0 到 1000 之间的数字。" {
			t.Fatalf("%d %q %q", res.status, fieldError(res.text(), "facts", "hours_per_week"), fieldError(res.text(), "facts", "other_children_found"))
		}
	})
	t.Run("ErrStale", func(t *testing.T) {
		res := b.post(path+"/facts", form(c.Version-1))
		if res.status != http.StatusConflict || !strings.Contains(res.text(), "在您操作期间，其他人修改了此个案") {
			t.Fatalf("stale: %d", res.status)
		}
	})
	t.Run("OK", func(t *testing.T) {
		res := b.post(path+"/facts", form(c.Version))
		if res.status != http.StatusSeeOther || res.header.Get("Location") != path+"?done=facts" {
			t.Fatalf("%d", res.status)
		}
		got, err := e.cases.FindCase(ctx, c.ID)
		must(t, err)
		if got.Presence != cases.PresenceAccompanying || got.OtherChildrenFound != 2 || got.FactoryConsent != cases.AnswerYes ||
			got.LabourAgent != cases.AnswerNo || strings.Join(got.Hazards, ",") != "noise" {
			t.Fatalf("facts now %+v", got.Facts())
		}
		entries, err := storage.NewAuditService(e.db).CaseEntries(ctx, c.ID)
		must(t, err)
		found := false
		for _, en := range entries {
			found = found || en.Action == cases.ActionFactsCorrected && strings.Contains(en.Details["changed"], "presence")
		}
		if !found {
			t.Error("no audit entry names the facts that changed")
		}
	})
	t.Run("report form", func(t *testing.T) {
		sup := e.signIn(e.f.Supervisor, "en")
		sup.get("/cases/new")
		r := reportForm(e, "Someone")
		r.Set("other_children_found", "3")
		r.Set("labour_agent", "yes")
		r.Set("factory_consent", "no")
		res := sup.post("/cases", r)
		if res.status != http.StatusSeeOther {
			t.Fatalf("file: %d", res.status)
		}
		list, err := e.cases.ListCases(ctx, cases.CaseFilter{Limit: 1})
		must(t, err)
		got := list.Cases[0]
		if got.OtherChildrenFound != 3 || got.LabourAgent != cases.AnswerYes || got.FactoryConsent != cases.AnswerNo {
			t.Fatalf("filed %+v", got.Facts())
		}
	})
}
