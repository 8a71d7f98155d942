package web_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/google/uuid"

	cases "github.com/remedy-cases/remedy/case"
	"github.com/remedy-cases/remedy/storage"
	"github.com/remedy-cases/remedy/storage/storagetest"
)

// reportForm is a complete filing form for the fixture's client and factory.
func reportForm(e *env, name string) url.Values {
	return url.Values{
		"client_id": {e.f.Client.ID.String()}, "factory_id": {e.f.Factory.ID.String()}, "found_on": {"2026-10-28"},
		"gender": {"female"}, "presence": {"employed"}, "job": {"thread trimming"}, "hazards": {"machinery", "long_hours"},
		"hours_per_week": {"60"}, "monthly_wage": {"2800"}, "wage_currency": {"CNY"}, "recruitment": {"borrowed_id"},
		"removed_from_work": {"on"}, "child_safe": {"on"}, "full_name": {name}, "claimed_birth_date": {"2008-05-17"},
		"id_document_type": {"id_card"}, "id_number": {"441900200805170000"}, "id_suspected": {"borrowed"},
		"narrative": {"Found at a trimming table."}, "once": {uuid.NewString()},
	}
}

// journey is one case walked through the pages.
type journey struct {
	t  *testing.T
	e  *env
	id string
}

func (j *journey) path(suffix string) string { return "/cases/" + j.id + suffix }

// version reads the case's version from the domain.
func (j *journey) version() string {
	j.t.Helper()
	uid := uuid.MustParse(j.id)
	c, err := j.e.cases.FindCase(ctx, uid)
	must(j.t, err)
	return strconv.Itoa(c.Version)
}

func (j *journey) state() cases.State {
	j.t.Helper()
	c, err := j.e.cases.FindCase(ctx, uuid.MustParse(j.id))
	must(j.t, err)
	return c.State
}

// act posts a form of the case page, with the case's current version, and
// wants the redirect back to the case.
func (j *journey) act(b *browser, suffix string, form url.Values) {
	j.t.Helper()
	b.get(j.path(""))
	form.Set("version", j.version())
	res := b.post(j.path(suffix), form)
	if res.status != http.StatusSeeOther || !strings.HasPrefix(res.header.Get("Location"), j.path("?done=")) {
		j.t.Fatalf("%s: %d %s", suffix, res.status, res.body)
	}
}

func (j *journey) fire(b *browser, event cases.Event, form url.Values) {
	j.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	form.Set("event", string(event))
	j.act(b, "/transitions", form)
}

// TestJourney takes a case from filing to closure through the pages only,
// in Chinese, on both databases, as a supervisor and a case worker.
func TestJourney(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		e := newEnvOn(t, db)
		sup := e.signIn(e.f.Supervisor, "zh-CN")
		worker := e.signIn(e.f.Worker, "zh-CN")

		// A supervisor files the report; a retry of the same form files nothing new.
		sup.get("/cases/new")
		form := reportForm(e, "王小红")
		res := sup.post("/cases", form)
		loc := res.header.Get("Location")
		if res.status != http.StatusSeeOther || !strings.HasPrefix(loc, "/cases/") {
			t.Fatalf("filing: %d %s", res.status, res.body)
		}
		j := &journey{t: t, e: e, id: strings.TrimSuffix(strings.TrimPrefix(loc, "/cases/"), "?done=filed")}
		if again := sup.post("/cases", form); again.header.Get("Location") != loc {
			t.Fatalf("a retried filing went to %q, want %q", again.header.Get("Location"), loc)
		}
		page := sup.get(j.path("?done=filed")).text()
		if !strings.Contains(page, "报告已提交") || !strings.Contains(page, "接案") {
			t.Fatal("the new case page does not show the filing")
		}
		// Begin verification is refused, in words: nobody is assigned.
		if !strings.Contains(page, "尚未分配个案工作者") {
			t.Fatal("the refused step does not name its failed guard")
		}
		// The case worker cannot see it yet: 404, as for a case that does not exist.
		if got, missing := worker.get(j.path("")), worker.get("/cases/"+uuid.NewString()); got.status != 404 || missing.status != 404 || len(got.body) != len(missing.body) {
			t.Fatalf("someone else's case: %d (%d bytes), a missing one: %d (%d bytes)", got.status, len(got.body), missing.status, len(missing.body))
		}

		j.act(sup, "/assign", url.Values{"worker": {e.f.Worker.ID.String()}})
		home := worker.get("/").text()
		if !strings.Contains(home, "接案：开始年龄核实") || !strings.Contains(home, j.id) {
			t.Fatal("the worker's home does not list the new case")
		}
		j.fire(worker, cases.EventBeginVerification, nil)

		// Bad input: a message beside the field in Chinese; nothing changes.
		before := j.version()
		worker.get(j.path(""))
		bad := worker.post(j.path("/verification"), url.Values{"version": {before}, "method": {"household_register"},
			"verified_birth_date": {"17/05/2011"}, "notes": {"母亲电话确认"}})
		if bad.status != http.StatusUnprocessableEntity || !strings.Contains(bad.text(), "请输入日期，例如 2026-11-03。") {
			t.Fatalf("bad date: %d", bad.status)
		}
		if strings.Contains(bad.text(), "母亲电话确认") || strings.Contains(bad.text(), "17/05/2011") {
			t.Fatal("a sealed field was sent back")
		}
		if j.version() != before {
			t.Fatal("a refused form changed the case")
		}
		j.act(worker, "/verification", url.Values{"method": {"household_register"}, "verified_birth_date": {"2011-05-17"},
			"guardians_contacted": {"on"}, "notes": {"母亲电话确认"}})
		j.fire(worker, cases.EventConfirmChildLabour, nil)

		// An incomplete plan: the supervisor's approve button names what lacks.
		j.act(worker, "/plan", url.Values{"school": {"新华中学"}, "grade": {"初二"}, "currency": {"CNY"}})
		if page := sup.get(j.path("")).text(); !strings.Contains(page, "复学计划不完整") || !strings.Contains(page, "尚未记录监护人同意") {
			t.Fatal("approval is not refused in words")
		}
		j.act(worker, "/plan", url.Values{"school": {"新华中学"}, "grade": {"初二"}, "enrolment_date": {"2026-11-10"},
			"currency": {"CNY"}, "monthly_stipend": {"800"}, "tuition_cost": {"1200.50"}, "payer": {"brand"},
			"guardian_consent": {"on"}, "consent_date": {"2026-11-02"}})
		if home := sup.get("/").text(); !strings.Contains(home, "待批准的复学计划") || !strings.Contains(home, j.id) {
			t.Fatal("the plan is not on the supervisor's home")
		}
		// From the home page, as the supervisor's inline button does.
		sup.get("/")
		res = sup.post(j.path("/transitions"), url.Values{"event": {"approve_plan"}, "version": {j.version()}})
		if res.status != http.StatusSeeOther || j.state() != cases.StateFollowUp {
			t.Fatalf("approval from home: %d, state %s", res.status, j.state())
		}
		if page := sup.get(j.path("")).text(); !strings.Contains(page, "¥800.00") || !strings.Contains(page, "¥1,200.50") {
			t.Fatal("the plan's money is not shown per locale")
		}

		j.act(worker, "/follow-ups", url.Values{"date": {"2026-11-03"}, "contact": {"visit"}, "attending_school": {"on"},
			"attendance_pct": {"95"}, "stipend_paid": {"800"}, "stipend_paid_on": {"2026-11-03"}, "stipend_proof_ref": {"TX-1"},
			"concerns": {"一切正常"}})
		page = worker.get(j.path("")).text()
		if !strings.Contains(page, "已记录关注事项（保密）") || strings.Contains(page, "一切正常") {
			t.Fatal("the follow-up's concerns are not sealed on the page")
		}

		// Closing needs an outcome; the worker may not close.
		if strings.Contains(worker.get(j.path("")).text(), `value="close"`) {
			t.Fatal("a case worker is offered to close")
		}
		sup.get(j.path(""))
		refused := sup.post(j.path("/transitions"), url.Values{"event": {"close"}, "version": {j.version()}})
		if refused.status != http.StatusUnprocessableEntity || !strings.Contains(refused.text(), "请选择结案结果。") {
			t.Fatalf("close without an outcome: %d", refused.status)
		}
		j.fire(sup, cases.EventClose, url.Values{"outcome": {"completed"}, "reason": {"已满16周岁"}})
		if j.state() != cases.StateClosed {
			t.Fatalf("state %s", j.state())
		}
		page = sup.get(j.path("")).text()
		if !strings.Contains(page, "完成") || !strings.Contains(page, "已记录原因（保密）") || !strings.Contains(page, "重新开启") {
			t.Fatal("the closed case page")
		}
		if _, err := storage.NewAuditService(db).Verify(ctx); err != nil {
			t.Fatal(err)
		}
	})
}

// TestStaleVersion: of two people acting on one version, the second sees
// "someone else changed this case" with the fresh state, and nothing of
// theirs is written.
func TestStaleVersion(t *testing.T) {
	e := newEnv(t, storage.SQLite)
	c := e.caseIn(cases.StatePlanning, e.f.Report(e.now.AddDate(0, 0, -20)))
	worker := e.signIn(e.f.Worker, "zh-CN")
	sup := e.signIn(e.f.Supervisor, "zh-CN")
	path := "/cases/" + c.ID.String()
	worker.get(path)
	sup.get(path)
	seen := strconv.Itoa(c.Version)
	if res := sup.post(path+"/plan", url.Values{"version": {seen}, "school": {"红星中学"}, "currency": {"CNY"}}); res.status != http.StatusSeeOther {
		t.Fatalf("first writer: %d", res.status)
	}
	for _, htmx := range []bool{false, true} {
		var headers []string
		if htmx {
			headers = []string{"HX-Request", "true"}
		}
		res := worker.post(path+"/plan", url.Values{"version": {seen}, "school": {"育才中学"}, "currency": {"CNY"}}, headers...)
		if res.status != http.StatusConflict || !strings.Contains(res.text(), "其他人修改了此个案") {
			t.Fatalf("htmx %v: second writer: %d", htmx, res.status)
		}
		// The fresh state is shown, and the second writer's input is kept in the form.
		if !strings.Contains(res.text(), "红星中学") || !strings.Contains(res.text(), `value="育才中学"`) {
			t.Fatalf("htmx %v: the conflict page lacks the fresh state or the user's input", htmx)
		}
	}
	got, err := e.cases.FindCase(ctx, c.ID)
	must(t, err)
	if got.Plan.School != "红星中学" || got.Version != c.Version+1 {
		t.Fatalf("plan %q version %d: an update was lost", got.Plan.School, got.Version)
	}
}

// TestHTMXErrors: a refused htmx form gets its errors swapped in beside
// the fields, out of band, and the page around them stays.
func TestHTMXErrors(t *testing.T) {
	e := newEnv(t, storage.SQLite)
	c := e.caseIn(cases.StatePlanning, e.f.Report(e.now.AddDate(0, 0, -20)))
	b := e.signIn(e.f.Worker, "en")
	path := "/cases/" + c.ID.String()
	b.get(path)
	res := b.post(path+"/plan", url.Values{"version": {strconv.Itoa(c.Version)}, "monthly_stipend": {"eight hundred"},
		"currency": {"yuan"}, "payer": {"split"}}, "HX-Request", "true")
	if res.status != http.StatusUnprocessableEntity || res.header.Get("HX-Reswap") != "none" {
		t.Fatalf("%d %v", res.status, res.header)
	}
	body := res.text()
	for _, want := range []string{`id="f-plan-monthly_stipend-error" hx-swap-oob="true">Enter an amount such as 800 or 800.50.`,
		`id="f-plan-school-error" hx-swap-oob="true"></p>`} {
		if !strings.Contains(body, want) {
			t.Errorf("the answer lacks %q:\n%s", want, body)
		}
	}
	// Parse errors come first; fixed, the domain names the rest, translated by name.
	res = b.post(path+"/plan", url.Values{"version": {strconv.Itoa(c.Version)}, "currency": {"yuan"}, "payer": {"split"}}, "HX-Request", "true")
	for _, want := range []string{"Enter a currency code such as CNY.", "Between 1 and 99 for a split; empty otherwise."} {
		if !strings.Contains(res.text(), want) {
			t.Errorf("the answer lacks %q: %d %s", want, res.status, res.body)
		}
	}
	if strings.Contains(res.text(), "ISO 4217") {
		t.Error("the domain's English message was shown instead of the catalogue's")
	}
}

// newEnvOn is newEnv on a database a storagetest.Each gives.
func newEnvOn(t *testing.T, db *storage.DB) *env {
	t.Helper()
	return newEnvWith(t, db)
}

// TestOOBTargets: every error an htmx answer swaps in has its place on the
// page the form is on; htmx would otherwise drop it (and complain).
func TestOOBTargets(t *testing.T) {
	e := newEnv(t, storage.SQLite)
	oob := regexp.MustCompile(`id="([^"]+)" (?:class="[^"]*" role="alert" )?hx-swap-oob="true"`)
	check := func(name, page string, res response) {
		t.Helper()
		ids := oob.FindAllStringSubmatch(res.text(), -1)
		if res.status != http.StatusUnprocessableEntity || len(ids) < 2 {
			t.Fatalf("%s: %d, %d swaps: %s", name, res.status, len(ids), res.body)
		}
		for _, id := range ids {
			if !strings.Contains(page, `id="`+id[1]+`"`) {
				t.Errorf("%s: the page has no #%s", name, id[1])
			}
		}
	}
	htmx := []string{"HX-Request", "true"}
	for _, tc := range []struct {
		state  cases.State
		user   *cases.User
		action string
		form   url.Values
	}{
		{cases.StateIntake, e.f.Supervisor, "/assign", url.Values{"worker": {"nobody"}}},
		{cases.StateVerification, e.f.Worker, "/verification", url.Values{"verified_birth_date": {"x"}}},
		{cases.StatePlanning, e.f.Worker, "/plan", url.Values{"tuition_cost": {"x"}}},
		{cases.StateFollowUp, e.f.Worker, "/follow-ups", url.Values{"date": {"x"}}},
		{cases.StateFollowUp, e.f.Supervisor, "/transitions", url.Values{"event": {"close"}}},
	} {
		c := e.caseIn(tc.state, e.f.Report(e.now.AddDate(0, 0, -40)))
		b := e.signIn(tc.user, "en")
		page := b.get("/cases/" + c.ID.String()).text()
		tc.form.Set("version", strconv.Itoa(c.Version))
		check(string(tc.state)+tc.action, page, b.post("/cases/"+c.ID.String()+tc.action, tc.form, htmx...))
	}
	sup := e.signIn(e.f.Supervisor, "en")
	page := sup.get("/cases/new").text()
	check("report", page, sup.post("/cases", url.Values{"found_on": {"x"}}, htmx...))
}

// TestCorrectIdentity: from the reveal page, the identity is corrected and
// re-sealed; a refused correction comes back on a page of the reveal's
// kind (unstored, uncompressed), and a stale one changes nothing.
func TestCorrectIdentity(t *testing.T) {
	e := newEnv(t, storage.SQLite)
	c := e.caseIn(cases.StateVerification, e.f.Report(e.now.AddDate(0, 0, -10)))
	b := e.signIn(e.f.Worker, "zh-CN")
	path := "/cases/" + c.ID.String()
	b.get(path + "/reveal")
	page := b.post(path+"/reveal", url.Values{"reason": {"correct_record"}}).text()
	if !strings.Contains(page, `action="`+path+`/identity"`) {
		t.Fatal("the reveal page offers no correction")
	}
	form := url.Values{"version": {strconv.Itoa(c.Version)}, "full_name": {"张小红"}, "other_names": {"小红\n红红"},
		"claimed_birth_date": {"2011-05-17"}, "id_document_type": {"household_register"}, "id_number": {"4419002011051700"},
		"guardian_name_0": {"张母"}, "guardian_relation_0": {"母亲"}, "guardian_phone_0": {"13900000000"}}

	bad := url.Values{}
	for k, v := range form {
		bad[k] = v
	}
	bad.Set("apparent_age", "40")
	res := b.post(path+"/identity", bad, "Accept-Encoding", "gzip")
	if res.status != http.StatusUnprocessableEntity || !strings.Contains(res.text(), "应在0至29岁之间。") ||
		!strings.Contains(res.text(), `value="张小红"`) || res.header.Get("Content-Encoding") != "" ||
		!strings.HasPrefix(res.header.Get("Cache-Control"), "no-store") {
		t.Fatalf("a refused correction: %d %v", res.status, res.header)
	}

	res = b.post(path+"/identity", form)
	if res.status != http.StatusSeeOther || res.header.Get("Location") != path+"?done=identity" {
		t.Fatalf("correction: %d %s", res.status, res.body)
	}
	conf, err := e.cases.ReadIdentity(ctx, e.f.Worker.Actor(), c.ID, cases.ReadReason{Code: "correct_record"})
	must(t, err)
	id := conf.Identity
	if id.FullName != "张小红" || len(id.OtherNames) != 2 || len(id.Guardians) != 1 || id.Guardians[0].Relation != "母亲" ||
		id.VerifiedBirthDate != nil {
		t.Fatalf("stored %#v: %q %v %v", id, id.FullName, id.OtherNames, id.Guardians)
	}
	if strings.Contains(b.get(path+"?done=identity").text(), "张小红") {
		t.Fatal("the case page shows the corrected name")
	}
	// The same form again carries a stale version: nothing changes.
	form.Set("full_name", "张大红")
	res = b.post(path+"/identity", form)
	if res.status != http.StatusConflict || !strings.Contains(res.text(), "其他人修改了此个案") {
		t.Fatalf("a stale correction: %d", res.status)
	}
	conf, err = e.cases.ReadIdentity(ctx, e.f.Worker.Actor(), c.ID, cases.ReadReason{Code: "correct_record"})
	must(t, err)
	if conf.Identity.FullName != "张小红" {
		t.Fatalf("a stale correction was written: %q", conf.Identity.FullName)
	}
}
