package web_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	cases "github.com/remedy-cases/remedy/case"
	"github.com/remedy-cases/remedy/storage"
)

func TestSecurityHeaders(t *testing.T) {
	e := newEnv(t, storage.SQLite)
	b := e.signIn(e.f.Worker, "zh-CN")
	res := b.get("/")
	h := res.header
	for name, want := range map[string]string{
		"Cache-Control":   "no-store",
		"Referrer-Policy": "no-referrer",
		"X-Frame-Options": "DENY",
	} {
		if got := h.Get(name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	csp := h.Get("Content-Security-Policy")
	for _, part := range []string{"default-src 'none'", "script-src 'self'", "frame-ancestors 'none'", "form-action 'self'"} {
		if !strings.Contains(csp, part) {
			t.Errorf("CSP %q lacks %q", csp, part)
		}
	}
	if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") {
		t.Errorf("CSP allows inline code: %q", csp)
	}
	// No inline script and no on… handler in any page.
	if regexp.MustCompile(`<script>|<script [^>]*>[^<]|\son[a-z]+=`).Match(res.body) {
		t.Errorf("the page has inline script")
	}

	t.Run("assets", func(t *testing.T) {
		css := regexp.MustCompile(`/static/[0-9a-f]{12}/app\.css`).Find(res.body)
		if css == nil {
			t.Fatalf("no hashed stylesheet in %s", res.body)
		}
		a := b.get(string(css), "Accept-Encoding", "gzip")
		if a.status != 200 || a.header.Get("Cache-Control") != "public, max-age=31536000, immutable" ||
			a.header.Get("Content-Encoding") != "gzip" || !strings.HasPrefix(a.header.Get("Content-Type"), "text/css") {
			t.Fatalf("asset: %d %v", a.status, a.header)
		}
		stale := b.get("/static/000000000000/app.css")
		if stale.status != http.StatusNotFound || stale.header.Get("Cache-Control") != "no-store" {
			t.Fatalf("a stale hash: %d %v", stale.status, stale.header)
		}
	})
	t.Run("the API keeps its own", func(t *testing.T) {
		for path, want := range map[string]int{"/v1/cases": 401, "/v1/nothing": 404, "/healthz": 200, "/.well-known/nothing": 404} {
			res := b.get(path)
			if res.status != want {
				t.Errorf("%s: %d, want %d", path, res.status, want)
			}
			if res.status >= 400 && res.header.Get("Content-Type") != "application/problem+json" {
				t.Errorf("%s answered %s, want a problem document", path, res.header.Get("Content-Type"))
			}
			if strings.HasPrefix(path, "/v1/") && res.header.Get("Cache-Control") != "no-store" {
				t.Errorf("%s: Cache-Control %q", path, res.header.Get("Cache-Control"))
			}
		}
	})
	t.Run("not found", func(t *testing.T) {
		res := b.get("/no/such/page")
		if res.status != http.StatusNotFound || !strings.Contains(res.text(), "未找到") {
			t.Fatalf("%d %s", res.status, res.body)
		}
	})
}

func TestSignIn(t *testing.T) {
	e := newEnv(t, storage.SQLite)
	t.Run("OK", func(t *testing.T) {
		b := e.signIn(e.f.Worker, "zh-CN")
		res := b.get("/")
		if res.status != 200 || !strings.Contains(res.text(), "我的工作") || !strings.Contains(res.text(), e.f.Worker.Name) {
			t.Fatalf("home: %d", res.status)
		}
		var cookie *http.Cookie
		for _, c := range b.client.Jar.Cookies(mustURL(e.srv.URL)) {
			if c.Name == "remedy_session" {
				cookie = c
			}
		}
		if cookie == nil {
			t.Fatal("no session cookie")
		}
	})
	t.Run("cookie flags", func(t *testing.T) {
		b := e.browser("en")
		b.get("/signin")
		res := b.post("/signin", url.Values{"email": {e.f.Worker.Email}, "password": {password}})
		c := res.header.Get("Set-Cookie")
		if !strings.Contains(c, "remedy_session=") || !strings.Contains(c, "HttpOnly") || !strings.Contains(c, "SameSite=Lax") || strings.Contains(c, "Secure") {
			t.Fatalf("over HTTP: Set-Cookie %q", c)
		}
		// Behind the trusted proxy, over HTTPS: Secure, and the __Host- prefix.
		b2 := e.browser("en")
		b2.get("/signin", "X-Forwarded-Proto", "https")
		res = b2.post("/signin", url.Values{"email": {e.f.Worker.Email}, "password": {password}}, "X-Forwarded-Proto", "https")
		c = res.header.Get("Set-Cookie")
		if !strings.Contains(c, "__Host-remedy_session=") || !strings.Contains(c, "Secure") || res.header.Get("Strict-Transport-Security") == "" {
			t.Fatalf("over HTTPS: %d Set-Cookie %q", res.status, c)
		}
	})
	t.Run("ErrWrongPassword", func(t *testing.T) {
		b := e.browser("zh-CN")
		b.get("/signin")
		res := b.post("/signin", url.Values{"email": {e.f.Supervisor.Email}, "password": {"wrong password!"}})
		if res.status != http.StatusUnauthorized || !strings.Contains(res.text(), "邮箱或密码错误") {
			t.Fatalf("%d %s", res.status, res.body)
		}
		if strings.Contains(res.text(), "wrong password!") {
			t.Fatal("the password came back")
		}
		if b.get("/").status != http.StatusSeeOther {
			t.Fatal("signed in with a wrong password")
		}
	})
	t.Run("signed out is sent to sign in", func(t *testing.T) {
		b := e.browser("zh-CN")
		res := b.get("/cases")
		if res.status != http.StatusSeeOther || res.header.Get("Location") != "/signin" {
			t.Fatalf("%d %v", res.status, res.header)
		}
		res = b.get("/cases", "HX-Request", "true")
		if res.header.Get("HX-Redirect") != "/signin" {
			t.Fatalf("htmx: %d %v", res.status, res.header)
		}
	})
	t.Run("sign out", func(t *testing.T) {
		b := e.signIn(e.f.Worker, "zh-CN")
		stolen := b.client.Jar.Cookies(mustURL(e.srv.URL))
		res := b.post("/signout", nil)
		if res.status != http.StatusSeeOther || res.header.Get("Location") != "/signin" {
			t.Fatalf("%d", res.status)
		}
		// The old cookie, replayed, is dead: the session is gone server-side.
		thief := e.browser("zh-CN")
		thief.client.Jar.SetCookies(mustURL(e.srv.URL), stolen)
		if thief.get("/").status != http.StatusSeeOther {
			t.Fatal("a signed-out session still works")
		}
	})
	t.Run("timeouts", func(t *testing.T) {
		b := e.signIn(e.f.Worker, "zh-CN")
		e.advance(29 * time.Minute)
		if b.get("/").status != 200 {
			t.Fatal("ended before the idle timeout")
		}
		e.advance(31 * time.Minute)
		if b.get("/").status != http.StatusSeeOther {
			t.Fatal("lives past the idle timeout")
		}
		b = e.signIn(e.f.Worker, "zh-CN")
		for range 25 {
			e.advance(29 * time.Minute)
			b.get("/")
		}
		if b.get("/").status != http.StatusSeeOther {
			t.Fatal("a busy session lives past the absolute timeout")
		}
	})
	t.Run("disabled at once", func(t *testing.T) {
		b := e.signIn(e.f.OtherWorker, "zh-CN")
		must(t, e.users.DisableUser(ctx, cases.SystemActor, e.f.OtherWorker.ID))
		if res := b.get("/"); res.status != http.StatusSeeOther {
			t.Fatalf("a disabled user's session works: %d", res.status)
		}
	})
}

// TestThrottleShared: failures through the web app count for the API, and
// the other way round: one throttle for both doors.
func TestThrottleShared(t *testing.T) {
	e := newEnv(t, storage.SQLite)
	b := e.browser("en")
	b.get("/signin")
	for range 5 {
		b.post("/signin", url.Values{"email": {e.f.Supervisor.Email}, "password": {"not the password"}})
	}
	res := b.post("/signin", url.Values{"email": {e.f.Supervisor.Email}, "password": {password}})
	if res.status != http.StatusTooManyRequests || res.header.Get("Retry-After") == "" || !strings.Contains(res.text(), "Too many failed attempts") {
		t.Fatalf("web after 5 failures: %d %s", res.status, res.header)
	}
	req, _ := http.NewRequest("POST", e.srv.URL+"/v1/auth/token", strings.NewReader(`{"email":"`+e.f.Supervisor.Email+`","password":"`+password+`"}`))
	req.Header.Set("Content-Type", "application/json")
	api, err := http.DefaultClient.Do(req)
	must(t, err)
	api.Body.Close()
	if api.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("the API after 5 web failures: %d, want 429", api.StatusCode)
	}

	// A successful sign-in leaves OWASP's device cookie: random, naming no
	// one, sent back at the next sign-in.
	w := e.browser("en")
	w.get("/signin")
	w.post("/signin", url.Values{"email": {e.f.Worker.Email}, "password": {password}})
	site, _ := url.Parse(e.srv.URL)
	var device *http.Cookie
	for _, c := range w.client.Jar.Cookies(site) {
		if c.Name == "remedy_device" {
			device = c
		}
	}
	if device == nil || len(device.Value) != 43 || strings.Contains(device.Value, "worker") {
		t.Fatalf("device cookie %+v", device)
	}
}

func TestCSRF(t *testing.T) {
	e := newEnv(t, storage.SQLite)
	c, err := e.cases.FileCase(ctx, e.f.Auditor.Actor(), e.f.Report(e.now.AddDate(0, 0, -3)))
	must(t, err)
	b := e.signIn(e.f.Supervisor, "en")
	b.get("/cases/" + c.ID.String())
	assign := func(form url.Values, headers ...string) int {
		form.Set("version", "1")
		form.Set("worker", e.f.Worker.ID.String())
		return b.post("/cases/"+c.ID.String()+"/assign", form, headers...).status
	}
	for name, try := range map[string]func() int{
		"no token": func() int { return assign(url.Values{"csrf": {"-"}}) },
		"another's token": func() int {
			other := e.signIn(e.f.OtherSupervisor, "en")
			return assign(url.Values{"csrf": {other.csrf}})
		},
		"cross-site":       func() int { return assign(url.Values{}, "Sec-Fetch-Site", "cross-site") },
		"another origin":   func() int { return assign(url.Values{}, "Sec-Fetch-Site", "", "Origin", "https://evil.example") },
		"a mangled header": func() int { return assign(url.Values{"csrf": {""}}, "X-CSRF-Token", b.csrf[:20]) },
	} {
		if got := try(); got != http.StatusForbidden {
			t.Errorf("%s: %d, want 403", name, got)
		}
	}
	got, err := e.cases.FindCase(ctx, c.ID)
	must(t, err)
	if got.Version != 1 || got.AssigneeID.Valid {
		t.Fatalf("a refused request changed the case: %+v", got)
	}
	// The page's own token, in the form or in htmx's header, is accepted.
	b.get("/cases/" + c.ID.String())
	if status := b.post("/cases/"+c.ID.String()+"/assign", url.Values{"csrf": {""}, "version": {"1"}, "worker": {e.f.Worker.ID.String()}},
		"X-CSRF-Token", b.csrf, "HX-Request", "true"); status.status != http.StatusOK {
		t.Fatalf("htmx with the header: %d %s", status.status, status.body)
	}
}

func TestLanguage(t *testing.T) {
	e := newEnv(t, storage.SQLite)
	t.Run("Accept-Language", func(t *testing.T) {
		for lang, want := range map[string]string{"en-GB,en;q=0.9": "Sign in", "zh-CN,zh;q=0.9": "登录", "zh-TW": "登录", "fr": "登录", "": "登录"} {
			res := e.browser(lang).get("/signin")
			if !strings.Contains(res.text(), "<h1>"+want+"</h1>") {
				t.Errorf("Accept-Language %q: want %q", lang, want)
			}
		}
	})
	t.Run("signed out choice", func(t *testing.T) {
		b := e.browser("zh-CN")
		b.get("/signin")
		res := b.post("/language", url.Values{"locale": {"en"}, "back": {"/signin"}})
		if res.status != http.StatusSeeOther || res.header.Get("Location") != "/signin" {
			t.Fatalf("%d %v", res.status, res.header)
		}
		if !strings.Contains(b.get("/signin").text(), "<h1>Sign in</h1>") {
			t.Fatal("the choice was not kept")
		}
		if res := b.post("/language", url.Values{"locale": {"en"}, "back": {"//evil.example/"}}); res.header.Get("Location") != "/" {
			t.Fatalf("an open redirect: %v", res.header.Get("Location"))
		}
	})
	t.Run("each user's choice is remembered", func(t *testing.T) {
		b := e.signIn(e.f.Worker, "zh-CN")
		if !strings.Contains(b.get("/").text(), "我的工作") {
			t.Fatal("not Chinese first")
		}
		b.post("/language", url.Values{"locale": {"en"}, "back": {"/"}})
		if !strings.Contains(b.get("/").text(), "My work") {
			t.Fatal("the switch did not take")
		}
		// Another browser, asking for Chinese, gets the user's English.
		b2 := e.signIn(e.f.Worker, "zh-CN")
		if !strings.Contains(b2.get("/").text(), "My work") {
			t.Fatal("the choice was not remembered for the user")
		}
		if l, err := e.users.UserLocale(ctx, e.f.Worker.ID); err != nil || l != "en" {
			t.Fatalf("stored locale %q, %v", l, err)
		}
	})
}

func mustURL(s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		panic(err)
	}
	return u
}
