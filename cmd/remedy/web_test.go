package main

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// TestServeWeb is the README's promise: serve --demo answers the web app at
// /, where the demo case worker signs in and finds their cases, beside the
// API.
func TestServeWeb(t *testing.T) {
	vars := map[string]string{"REMEDY_DATA_DIR": t.TempDir(), "REMEDY_DEMO_PASSWORD": "demo-password-1"}
	addr, _, stop := startServe(t, vars, "--demo")
	defer stop()
	base := "http://" + addr
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	get := func(path string) string {
		t.Helper()
		res, err := c.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d", path, res.StatusCode)
		}
		return string(body)
	}
	page := get("/signin")
	token := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(page)
	if token == nil || !strings.Contains(page, "童工补救个案系统") {
		t.Fatalf("the sign-in page:\n%s", page)
	}
	res, err := c.PostForm(base+"/signin", url.Values{"csrf": {token[1]}, "email": {"caseworker1@demo.remedy"}, "password": {"demo-password-1"}})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || !strings.Contains(string(body), "我的工作") || !strings.Contains(string(body), "CL-") {
		t.Fatalf("after signing in: %d\n%s", res.StatusCode, body)
	}
	if !strings.Contains(get("/healthz"), "ok") {
		t.Fatal("the API is not beside the web app")
	}
}
