package api_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/remedy-cases/remedy/api"
	"github.com/remedy-cases/remedy/storage"
)

// TestHeaders: /v1 answers are never cached, request ids are kept or made,
// and CORS is off unless origins are configured.
func TestHeaders(t *testing.T) {
	e := newTestEnv(t, storage.SQLite)
	res := e.do("GET", "/v1/cases", e.tokens["supervisor"], nil, "X-Request-Id", "trace-12345678", "Origin", "https://evil.example")
	if res.header.Get("Cache-Control") != "no-store" || res.header.Get("X-Request-Id") != "trace-12345678" {
		t.Fatalf("headers %v", res.header)
	}
	if res.header.Get("Access-Control-Allow-Origin") != "" {
		t.Fatal("CORS answered with no origins configured")
	}
	res = e.do("GET", "/v1/cases", e.tokens["supervisor"], nil, "X-Request-Id", "bad id with spaces\u00e9")
	if id := res.header.Get("X-Request-Id"); id == "" || strings.Contains(id, " ") {
		t.Fatalf("request id %q", id)
	}
	if !strings.Contains(e.logs.String(), `"request_id":"trace-12345678"`) {
		t.Fatal("the request id is not in the log")
	}

	srv, err := api.NewServer(api.Config{Services: api.Services{}, DB: e.db, SigningKey: e.key, Issuer: "i", Audience: "a",
		CORSOrigins: []string{"https://app.example.org"}})
	must(t, err)
	req := httptest.NewRequest("OPTIONS", "/v1/cases", nil)
	req.Header.Set("Origin", "https://app.example.org")
	req.Header.Set("Access-Control-Request-Method", "POST")
	rec := httptest.NewRecorder()
	srv.Handler().ServeHTTP(rec, req)
	if rec.Header().Get("Access-Control-Allow-Origin") != "https://app.example.org" {
		t.Fatalf("preflight from the configured origin: %d %v", rec.Code, rec.Header())
	}
	req.Header.Set("Origin", "https://evil.example")
	rec = httptest.NewRecorder()
	srv.Handler().ServeHTTP(rec, req)
	if rec.Header().Get("Access-Control-Allow-Origin") != "" {
		t.Fatal("preflight from another origin was allowed")
	}
	if res := e.do("GET", "/nowhere", "", nil); res.status != http.StatusNotFound || res.header.Get("Content-Type") != "application/problem+json" {
		t.Fatalf("unknown route: %d %v", res.status, res.header)
	}
}

// TestMetrics: the build is named in remedy_build_info, and a method no
// standard names is counted as "other", so that clients cannot mint series.
func TestMetrics(t *testing.T) {
	e := newTestEnv(t, storage.SQLite, func(c *api.Config) {
		c.Build = api.BuildInfo{Version: "v1.2.3", Revision: "0123abcd", GoVersion: "go1.26.0"}
	})
	for _, method := range []string{"FOOBAR", "BREW", "X" + strings.Repeat("Y", 1000)} {
		if res := e.do(method, "/v1/cases", e.tokens["supervisor"], nil); res.status < 400 {
			t.Fatalf("%.10s /v1/cases answered %d", method, res.status)
		}
	}
	e.do("GET", "/healthz", "", nil)
	res := e.do("GET", "/metrics", "", nil)
	body := string(res.body)
	for _, want := range []string{
		`remedy_build_info{goversion="go1.26.0",revision="0123abcd",version="v1.2.3"} 1`,
		`remedy_http_requests_total{method="GET",route="/healthz",status="200"} 1`,
		`method="other"`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	for _, never := range []string{"FOOBAR", "BREW", "XYYY"} {
		if strings.Contains(body, never) {
			t.Errorf("/metrics has a series labelled %s", never)
		}
		if strings.Contains(e.logs.String(), never) {
			t.Errorf("the log names the method %s", never)
		}
	}
}

// TestRequestID: a client's X-Request-Id is kept only when it is 8 to 64
// letters, digits, '.', '_' or '-'; anything else is replaced by a UUID,
// which the problem document and the log line carry too.
func TestRequestID(t *testing.T) {
	e := newTestEnv(t, storage.SQLite)
	uuidLike := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
	for _, id := range []string{"trace-12345678", "a.b_c-D", strings.Repeat("x", 64)} {
		t.Run("OK"+id[:min(len(id), 8)], func(t *testing.T) {
			if id == "a.b_c-D" { // 7 characters: too short, replaced
				res := e.do("GET", "/nowhere", "", nil, "X-Request-Id", id)
				if got := res.header.Get("X-Request-Id"); !uuidLike.MatchString(got) {
					t.Fatalf("request id %q, want a new UUID", got)
				}
				return
			}
			res := e.do("GET", "/nowhere", "", nil, "X-Request-Id", id)
			var p api.Problem
			res.decode(t, &p)
			if got := res.header.Get("X-Request-Id"); got != id || p.RequestId == nil || *p.RequestId != id {
				t.Fatalf("header %q, problem %v; want %q in both", got, p.RequestId, id)
			}
		})
	}
	for name, id := range map[string]string{
		"ErrTooLong": strings.Repeat("x", 65), "ErrSpace": "trace 12345678", "ErrMarkup": "<script>alert(1)</script>",
		"ErrNonASCII": "trace-1234567é", "ErrQuote": `trace-"12345678`, "ErrJSON": `x","level":"ERROR`,
	} {
		t.Run(name, func(t *testing.T) {
			res := e.do("GET", "/nowhere", "", nil, "X-Request-Id", id)
			got := res.header.Get("X-Request-Id")
			var p api.Problem
			res.decode(t, &p)
			if !uuidLike.MatchString(got) || p.RequestId == nil || *p.RequestId != got {
				t.Fatalf("header %q, problem %v; want one new UUID in both", got, p.RequestId)
			}
			if strings.Contains(e.logs.String(), id) {
				t.Fatal("the log repeats the refused request id")
			}
			if !strings.Contains(e.logs.String(), `"request_id":"`+got+`"`) {
				t.Fatal("the log lacks the new request id")
			}
		})
	}
}

// TestDuplicateKeys: a body with a key twice in one object is refused with
// 400 naming the key's path, before validation, and changes nothing.
// encoding/json would keep the last value silently, and match keys to
// fields without regard to case.
func TestDuplicateKeys(t *testing.T) {
	e := newTestEnv(t, storage.SQLite)
	report, err := json.Marshal(e.report(map[string]any{"full_name": "Wang Fang", "apparent_age": 14}))
	must(t, err)
	withTail := func(tail string) string { return string(report[:len(report)-1]) + "," + tail + "}" }
	for _, tt := range []struct {
		name, path, token, body, failed string
	}{
		{"ErrTopLevel", "/v1/cases", "auditor", withTail(`"gender":"male"`), "gender"},
		{"ErrNested", "/v1/cases", "auditor", strings.Replace(string(report), `"full_name":"Wang Fang"`, `"full_name":"Wang Fang","full_name":"Li Lei"`, 1), "identity.full_name"},
		{"ErrCase", "/v1/cases", "auditor", withTail(`"GENDER":"male"`), "GENDER"},
		{"ErrEscaped", "/v1/cases", "auditor", withTail(`"\u0067ender":"male"`), "gender"},
		{"ErrSignIn", "/v1/auth/token", "", `{"email":"supervisor@example.org","password":"x","password":"` + password + `"}`, "password"},
		{"ErrSanitised", "/v1/cases", "auditor", withTail(`"<b>x</b>":1,"<b>x</b>":2`), "?b?x??b?"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cases0, audit0 := e.countCases(), e.auditCount()
			res := e.do("POST", tt.path, e.tokens[tt.token], tt.body)
			if res.status != http.StatusBadRequest {
				t.Fatalf("status %d, want 400: %s", res.status, res.body)
			}
			if names := problemNames(t, res); !slices.Equal(names, []string{tt.failed}) {
				t.Fatalf("the problem names %q, want [%s]", names, tt.failed)
			}
			if strings.Contains(string(res.body), "Li Lei") || strings.Contains(string(res.body), "<b>") {
				t.Fatalf("the problem repeats input: %s", res.body)
			}
			if e.countCases() != cases0 || e.auditCount() != audit0 {
				t.Fatal("a refused request changed the data")
			}
		})
	}
	t.Run("OKSameKeyInTwoObjects", func(t *testing.T) {
		got, dup := api.DuplicateKey([]byte(`{"a":{"x":1},"b":{"x":2},"c":[{"x":1},{"x":2}]}`))
		if dup {
			t.Fatalf("reported %q", got)
		}
	})
	t.Run("ErrInArray", func(t *testing.T) {
		got, dup := api.DuplicateKey([]byte(`{"a":[{"b":1},{"b":1,"c":[1,{"d":0,"D":1}]}]}`))
		if want := "a.1.c.1.D"; !dup || got != want {
			t.Fatalf("got %q, %v; want %q", got, dup, want)
		}
	})
	t.Run("ErrDeep", func(t *testing.T) {
		body := strings.Repeat(`{"k":`, 20) + `{"x":1,"x":2}` + strings.Repeat("}", 20)
		got, dup := api.DuplicateKey([]byte(body))
		if want := "k.k.k.k.….k.k.x"; !dup || got != want {
			t.Fatalf("got %q, %v; want %q", got, dup, want)
		}
	})
}

// TestUnknownFieldEchoed: the name of an unknown field is repeated only in a
// bounded, sanitised form: no markup, no long text, no non-ASCII.
func TestUnknownFieldEchoed(t *testing.T) {
	e := newTestEnv(t, storage.SQLite)
	for _, tt := range []struct{ name, field, want string }{
		{"OKPlain", "favourite_colour", "favourite_colour"},
		{"ErrMarkup", `<img src=x onerror=alert(1)>`, "?img?src?x?onerror?alert?1??"},
		{"ErrLong", strings.Repeat("A", 5000), strings.Repeat("A", 40) + "…"},
		{"ErrChinese", "王芳的身份证", "??????"},
		{"ErrControl", "a\nb\x00c", "a?b?c"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := e.report(nil)
			r[tt.field] = "x"
			res := e.do("POST", "/v1/cases", e.tokens["auditor"], r)
			if res.status != http.StatusBadRequest {
				t.Fatalf("status %d: %s", res.status, res.body)
			}
			if names := problemNames(t, res); !slices.Contains(names, tt.want) {
				t.Fatalf("the problem names %q, want %q among them", names, tt.want)
			}
			if tt.field != tt.want && strings.Contains(string(res.body), tt.field) {
				t.Fatalf("the problem repeats the field's name: %.300s", res.body)
			}
			if len(res.body) > 2000 {
				t.Fatalf("a %d-byte problem document", len(res.body))
			}
		})
	}
}

// rawRequest opens a TCP connection to addr and sends head, then body. It
// returns the connection, with a deadline a generous bound away: the test
// fails rather than hangs if the server never answers.
func rawRequest(t *testing.T, addr, head, body string) net.Conn {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	conn.SetDeadline(time.Now().Add(15 * time.Second))
	if _, err := io.WriteString(conn, head+"\r\n"+body); err != nil {
		t.Fatal(err)
	}
	return conn
}

// TestBodiesAfterAuthentication is issue 19's anonymous client that holds a
// connection: it declares a large body and sends one byte. The server,
// started on :0 with its production timeouts (30 s to read a request),
// answers at once without the body, and closes the connection. A public
// operation's body gets a short deadline; an authenticated one the server's.
func TestBodiesAfterAuthentication(t *testing.T) {
	e := newTestEnv(t, storage.SQLite, func(c *api.Config) { c.PublicBodyTimeout = 300 * time.Millisecond })
	must(t, e.srv.Open("127.0.0.1:0"))
	t.Cleanup(func() { e.srv.Close(context.Background()) })
	addr := e.srv.Addr()
	head := func(method, path, token string, length int) string {
		h := method + " " + path + " HTTP/1.1\r\nHost: remedy\r\nContent-Type: application/json\r\n" +
			"Content-Length: " + strconv.Itoa(length) + "\r\n"
		if token != "" {
			h += "Authorization: Bearer " + token + "\r\n"
		}
		return h
	}

	for _, tt := range []struct {
		name, token string
		status      int
	}{
		{"ErrNoToken", "", http.StatusUnauthorized},
		{"ErrBadToken", "not-a-token", http.StatusUnauthorized},
		{"ErrRole", "client", http.StatusForbidden},
	} {
		t.Run(tt.name, func(t *testing.T) {
			token := e.tokens[tt.token]
			if token == "" {
				token = tt.token
			}
			// 200,000 bytes declared, one sent: an answer can only come from
			// a server that did not wait for the body.
			conn := rawRequest(t, addr, head("POST", "/v1/cases", token, 200_000), "{")
			br := bufio.NewReader(conn)
			res, err := http.ReadResponse(br, nil)
			if err != nil {
				t.Fatalf("no answer while the body is pending: %v", err)
			}
			if data, err := io.ReadAll(res.Body); err != nil || !json.Valid(data) {
				t.Fatalf("the answer's body: %v (%q)", err, data)
			}
			if res.StatusCode != tt.status || !res.Close {
				t.Fatalf("status %d, close %v; want %d and the connection closed", res.StatusCode, res.Close, tt.status)
			}
			// Past the answer, the server closes the connection: it does not
			// wait to read the body it refused.
			if n, err := br.Read(make([]byte, 1)); err != io.EOF {
				t.Fatalf("after the answer: %d bytes, %v; want the connection closed", n, err)
			}
		})
	}

	t.Run("ErrSlowSignIn", func(t *testing.T) {
		conn := rawRequest(t, addr, head("POST", "/v1/auth/token", "", 100), `{"email":`)
		res, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatalf("no answer within 15 s (the public body deadline is 300 ms, the server's 30 s): %v", err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusBadRequest || !res.Close {
			t.Fatalf("status %d, close %v; want 400 and the connection closed", res.StatusCode, res.Close)
		}
	})
	t.Run("ErrLargeSignIn", func(t *testing.T) {
		conn := rawRequest(t, addr, head("POST", "/v1/auth/token", "", 5000), "{")
		res, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusRequestEntityTooLarge {
			t.Fatalf("status %d, want 413 for a sign-in body over 4 KiB", res.StatusCode)
		}
	})
	t.Run("OKSlowAuthenticated", func(t *testing.T) {
		body := `{"name":"Slow Brand"}`
		conn := rawRequest(t, addr, head("POST", "/v1/clients", e.tokens["admin"], len(body)), body[:5])
		time.Sleep(3 * 300 * time.Millisecond) // three public deadlines
		if _, err := io.WriteString(conn, body[5:]); err != nil {
			t.Fatal(err)
		}
		res, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusCreated {
			t.Fatalf("status %d, want 201", res.StatusCode)
		}
	})
}

// FuzzDuplicateKey: the check never panics; what it reports is bounded and
// sanitised; and a key repeated at the front of any JSON object is found.
func FuzzDuplicateKey(f *testing.F) {
	for _, seed := range []string{`{}`, `{"a":1}`, `{"a":{"b":[1,2,{"c":null}]},"d":"e"}`, `[{"x":1},{"x":2}]`,
		`{"a":1,"a":2}`, `{"é":1,"É":2}`, `{"k":"\u0000"}`, `not json`, `{"a":`} {
		f.Add([]byte(seed))
	}
	safe := regexp.MustCompile(`^[A-Za-z0-9_?…-]{1,41}(\.[A-Za-z0-9_?…-]{1,41}){0,7}$`)
	f.Fuzz(func(t *testing.T, body []byte) {
		if name, dup := api.DuplicateKey(body); dup && !safe.MatchString(name) {
			t.Fatalf("reported %q", name)
		}
		var obj map[string]json.RawMessage
		if json.Unmarshal(body, &obj) != nil || len(obj) == 0 {
			return
		}
		for k := range obj {
			key, _ := json.Marshal(k)
			again := append(append([]byte("{"), key...), []byte(`:0,`)...)
			again = append(again, bytes.TrimLeft(body, " \t\r\n")[1:]...)
			if name, dup := api.DuplicateKey(again); !dup || name != api.EchoName(k) {
				t.Fatalf("%s: got %q, %v; want %q", again, name, dup, api.EchoName(k))
			}
			return
		}
	})
}

// BenchmarkDuplicateKey walks a typical filing body and a 200 KiB one (a
// long narrative), the check every body now gets before validation.
func BenchmarkDuplicateKey(b *testing.B) {
	filing := map[string]any{"client_id": "0193a1b2-0000-7000-8000-000000000001", "factory_id": "0193a1b2-0000-7000-8000-000000000002",
		"found_on": "2026-10-20", "gender": "female", "presence": "employed", "job": "packing", "hazards": []string{"long_hours"},
		"hours_per_week": 60, "monthly_wage": 280000, "wage_currency": "CNY", "recruitment": "borrowed_id",
		"removed_from_work": true, "child_safe": true, "identity": map[string]any{"full_name": "Wang Fang", "apparent_age": 14},
		"narrative": "Found at the packing line."}
	large := maps.Clone(filing)
	large["narrative"] = strings.Repeat("Found at the packing line. ", 7500)
	for name, r := range map[string]map[string]any{"filing": filing, "200KiB": large} {
		body, _ := json.Marshal(r)
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				if _, dup := api.DuplicateKey(body); dup {
					b.Fatal("duplicate")
				}
			}
		})
	}
}
