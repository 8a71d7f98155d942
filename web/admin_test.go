package web_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	cases "github.com/remedy-cases/remedy/case"
	"github.com/remedy-cases/remedy/storage"
	"github.com/remedy-cases/remedy/storage/storagetest"
)

var resetLink = regexp.MustCompile(`/reset/([A-Za-z0-9_-]{40,})`)

// TestAdmin: an admin creates a user, gives it a brand, a one-time password
// link that works once, disables it; creates a brand with its report
// contacts; merges duplicate factories; reads the audit trail verified.
// Bad input is refused beside its field in the admin's language and
// changes nothing; every change is audited; no page shows an identity.
func TestAdmin(t *testing.T) {
	for _, d := range storagetest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			e := newEnv(t, d)
			admin := e.user(cases.RoleAdmin, "admin@example.org", "管理员")
			// A case with the canary identity, which no admin page may show.
			r := e.f.Report(e.now.AddDate(0, 0, -3))
			r.Identity.FullName, r.Narrative = canaries[0], cases.NewNote(canaries[8])
			c, err := e.cases.FileCase(ctx, e.f.Auditor.Actor(), r)
			must(t, err)
			b := e.signIn(admin, "zh-CN")
			var pages []response
			seen := func(res response) response { pages = append(pages, res); return res }

			home := seen(b.get("/"))
			if home.status != http.StatusOK || !strings.Contains(home.text(), `id="audit-verified"`) {
				t.Fatalf("admin home: %d", home.status)
			}
			users, err := e.users.ListUsers(ctx)
			must(t, err)
			before := len(users)

			// A bad user is refused beside its field, in Chinese.
			seen(b.get("/admin/users"))
			bad := seen(b.post("/admin/users", url.Values{"email": {"not an email"}, "name": {"王芳"}, "role": {"client"}}))
			if bad.status != http.StatusUnprocessableEntity || !strings.Contains(bad.text(), `id="f-user-email-error">请填写有效的邮箱地址`) ||
				!strings.Contains(bad.text(), `id="f-user-client_id-error">`) {
				t.Errorf("a bad user: %d", bad.status)
			}
			if users, _ = e.users.ListUsers(ctx); len(users) != before {
				t.Fatal("a refused user was created")
			}
			// A brand user, then its access changed.
			res := b.post("/admin/users", url.Values{"email": {"wang.fang@polaris.example"}, "name": {"王芳"}, "role": {"client"},
				"client_id": {e.f.Client.ID.String()}})
			if res.status != http.StatusSeeOther {
				t.Fatalf("create a user: %d %s", res.status, res.text())
			}
			u, err := e.users.FindUserByEmail(ctx, "wang.fang@polaris.example")
			must(t, err)
			if u.Role != cases.RoleClient || u.ClientID.UUID != e.f.Client.ID {
				t.Fatalf("created %s %v", u.Role, u.ClientID)
			}
			seen(b.get("/admin/users?done=user_created"))
			res = b.post("/admin/users/"+u.ID.String()+"/access", url.Values{"role": {"client"}, "client_id": {e.f.OtherClient.ID.String()}})
			if u, _ = e.users.FindUserByID(ctx, u.ID); res.status != http.StatusSeeOther || u.ClientID.UUID != e.f.OtherClient.ID {
				t.Errorf("change the brand: %d", res.status)
			}
			if res := b.post("/admin/users/"+admin.ID.String()+"/access", url.Values{"role": {"auditor"}}); res.status != http.StatusUnprocessableEntity {
				t.Errorf("an admin demotes itself: %d", res.status)
			}
			// A brand user without a brand: refused beside the brand, nothing changed.
			res = b.post("/admin/users/"+u.ID.String()+"/access", url.Values{"role": {"client"}, "client_id": {""}})
			if !strings.Contains(res.text(), `id="client-`+u.ID.String()+`-error">`+"请选择有效的品牌。") {
				t.Errorf("a brandless brand user: %d", res.status)
			}
			if u, _ = e.users.FindUserByID(ctx, u.ID); u.ClientID.UUID != e.f.OtherClient.ID {
				t.Error("a refused change changed the user")
			}

			// The password link works once.
			link := seen(b.post("/admin/users/"+u.ID.String()+"/reset", nil))
			m := resetLink.FindStringSubmatch(link.text())
			if link.status != http.StatusOK || m == nil {
				t.Fatalf("reset link: %d", link.status)
			}
			if link.header.Get("Content-Encoding") != "" {
				t.Error("the page with the link is compressed")
			}
			nb := e.browser("en")
			if res := nb.get("/reset/" + m[1]); res.status != http.StatusOK {
				t.Fatalf("the link's page: %d", res.status)
			}
			if res := nb.post("/reset/"+m[1], url.Values{"password": {"short"}, "confirm": {"short"}}); res.status != http.StatusUnprocessableEntity ||
				!strings.Contains(res.text(), "at least 12 characters") {
				t.Errorf("a short password: %d", res.status)
			}
			const newPassword = "a brand new passphrase"
			if res := nb.post("/reset/"+m[1], url.Values{"password": {newPassword}, "confirm": {newPassword}}); res.status != http.StatusSeeOther {
				t.Fatalf("set the password: %d %s", res.status, res.text())
			}
			if res := nb.get("/reset/" + m[1]); res.status != http.StatusNotFound {
				t.Errorf("the link used twice: %d", res.status)
			}
			nb.get("/signin")
			if res := nb.post("/signin", url.Values{"email": {u.Email}, "password": {newPassword}}); res.status != http.StatusSeeOther {
				t.Fatalf("sign in with the new password: %d", res.status)
			}
			if res := nb.get("/"); res.status != http.StatusOK || !strings.Contains(res.text(), "Our cases") {
				t.Errorf("the brand user's home: %d", res.status)
			}
			// Disabled: signed out at once.
			if res := b.post("/admin/users/"+u.ID.String()+"/disable", nil); res.status != http.StatusSeeOther {
				t.Fatalf("disable: %d", res.status)
			}
			if res := nb.get("/"); res.status != http.StatusSeeOther {
				t.Errorf("a disabled user's session: %d", res.status)
			}

			// A brand and its report contacts.
			seen(b.get("/admin/clients"))
			if res := b.post("/admin/clients", url.Values{"name": {""}}); res.status != http.StatusUnprocessableEntity ||
				!strings.Contains(res.text(), `id="f-client-name-error">名称必填`) {
				t.Errorf("a nameless brand: %d", res.status)
			}
			if res := b.post("/admin/clients", url.Values{"name": {"南风鞋业 Southwind Shoes"}}); res.status != http.StatusSeeOther {
				t.Fatalf("create a brand: %d %s", res.status, res.text())
			}
			cl := seen(b.get("/admin/clients/" + e.f.Client.ID.String()))
			if cl.status != http.StatusOK {
				t.Fatalf("a brand's page: %d", cl.status)
			}
			res = b.post("/admin/clients/"+e.f.Client.ID.String()+"/contacts", url.Values{"emails": {"ok@polaris.example\nnot-an-email"}})
			if res.status != http.StatusUnprocessableEntity || !strings.Contains(res.text(), "not-an-email 不是有效的邮箱地址") {
				t.Errorf("a bad contact: %d", res.status)
			}
			reports := storage.NewReportService(e.db)
			if got, _ := reports.ReportContacts(ctx, e.f.Client.ID); len(got) != 0 {
				t.Errorf("a refused list was saved: %v", got)
			}
			if res := b.post("/admin/clients/"+e.f.Client.ID.String()+"/contacts", url.Values{"emails": {"ok@polaris.example\ncsr@polaris.example"}}); res.status != http.StatusSeeOther {
				t.Errorf("contacts: %d", res.status)
			}
			if got, _ := reports.ReportContacts(ctx, e.f.Client.ID); len(got) != 2 {
				t.Errorf("contacts saved: %v", got)
			}

			// Merge a duplicate factory.
			dup, err := storage.NewFactoryService(e.db).CreateFactory(ctx, e.f.Supervisor.Actor(), cases.NewFactory{Name: "华美制衣 (重复)",
				Province: "广东", City: "东莞"})
			must(t, err)
			seen(b.get("/admin/factories"))
			if res := b.post("/admin/factories/merge", url.Values{"from": {dup.ID.String()}, "into": {dup.ID.String()}}); res.status != http.StatusUnprocessableEntity {
				t.Errorf("merge a factory into itself: %d", res.status)
			}
			if res := b.post("/admin/factories/merge", url.Values{"from": {dup.ID.String()}, "into": {e.f.Factory.ID.String()}}); res.status != http.StatusSeeOther {
				t.Fatalf("merge: %d %s", res.status, res.text())
			}
			if _, err := storage.NewFactoryService(e.db).FindFactoryByID(ctx, dup.ID); cases.ErrorCode(err) != cases.ENOTFOUND {
				t.Errorf("the duplicate is still there: %v", err)
			}

			// The audit trail, verified, with every change above.
			audit := seen(b.get("/admin/audit"))
			if audit.status != http.StatusOK || !strings.Contains(audit.text(), `id="audit-verified"`) || !strings.Contains(audit.text(), cases.ActionFactoriesMerged) {
				t.Errorf("audit: %d", audit.status)
			}
			seen(b.get("/admin/audit?action=" + cases.ActionUserCreated))
			log := storage.NewAuditService(e.db)
			for _, action := range []string{cases.ActionUserCreated, cases.ActionUserAccessSet, cases.ActionPasswordResetIssued,
				cases.ActionPasswordSet, cases.ActionUserDisabled, cases.ActionClientCreated, cases.ActionReportContacts, cases.ActionFactoriesMerged} {
				page, err := log.ListEntries(ctx, cases.AuditFilter{Action: action})
				must(t, err)
				if len(page.Entries) == 0 {
					t.Errorf("%s was not audited", action)
				}
			}
			// No identity anywhere; no case page for an admin.
			for _, p := range pages {
				if l := leaked(p.text()); l != nil {
					t.Errorf("%s leaks %v", p.url, l)
				}
			}
			for _, p := range []string{"/cases/" + c.ID.String(), "/cases", "/brand/ledger", "/intake/", "/cases/" + c.ID.String() + "/reveal"} {
				if res := b.get(p); res.status != http.StatusNotFound {
					t.Errorf("admin GET %s: %d, want 404", p, res.status)
				}
			}
			// Nobody else reaches the admin's pages.
			sup := e.signIn(e.f.Supervisor, "en")
			for _, p := range []string{"/admin/users", "/admin/clients", "/admin/factories", "/admin/audit", "/admin/clients/" + e.f.Client.ID.String()} {
				if res := sup.get(p); res.status != http.StatusNotFound {
					t.Errorf("supervisor GET %s: %d, want 404", p, res.status)
				}
			}
			if res := sup.post("/admin/users/"+e.f.Worker.ID.String()+"/disable", nil); res.status != http.StatusNotFound {
				t.Errorf("supervisor disables a user: %d", res.status)
			}
			if w, _ := e.users.FindUserByID(ctx, e.f.Worker.ID); w.Disabled {
				t.Error("a supervisor disabled a user")
			}
		})
	}
}
