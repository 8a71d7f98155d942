package testkit_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/remedy-cases/remedy/internal/testkit"
)

func TestSyncBuffer(t *testing.T) {
	var b testkit.SyncBuffer
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 100 {
				b.Write([]byte("line\n"))
			}
		})
	}
	wg.Wait()
	if got, want := strings.Count(b.String(), "line\n"), 800; got != want {
		t.Fatalf("got %d lines, want %d", got, want)
	}
}

func TestRequestAndResponse(t *testing.T) {
	var gotBody, gotType, gotAuth, gotTrace string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		data, _ := io.ReadAll(r.Body)
		gotBody, gotType = string(data), r.Header.Get("Content-Type")
		gotAuth, gotTrace = r.Header.Get("Authorization"), r.Header.Get("X-Trace")
		w.Header().Set("X-Answer", "yes")
		w.WriteHeader(http.StatusCreated)
		io.WriteString(w, `{"n":7}`)
	}))
	defer srv.Close()

	t.Run("OK", func(t *testing.T) {
		res := testkit.MustDo(t, srv.Client(), testkit.MustRequest(t, "POST", srv.URL, "tok", map[string]int{"a": 1}, "X-Trace", "t1"))
		if gotBody != `{"a":1}` || gotType != "application/json" || gotAuth != "Bearer tok" || gotTrace != "t1" {
			t.Fatalf("the server got body %q, type %q, auth %q, trace %q", gotBody, gotType, gotAuth, gotTrace)
		}
		var v struct{ N int }
		res.Decode(t, &v)
		if res.Status != http.StatusCreated || res.Header.Get("X-Answer") != "yes" || v.N != 7 {
			t.Fatalf("got %d %v %+v", res.Status, res.Header, v)
		}
	})
	t.Run("OKRawBodyNoToken", func(t *testing.T) {
		testkit.MustDo(t, nil, testkit.MustRequest(t, "PUT", srv.URL, "", "{not json"))
		if gotBody != "{not json" || gotAuth != "" {
			t.Fatalf("the server got body %q, auth %q", gotBody, gotAuth)
		}
		testkit.MustDo(t, nil, testkit.MustRequest(t, "GET", srv.URL, "", nil))
		if gotBody != "" || gotType != "" {
			t.Fatalf("a request without a body sent %q as %q", gotBody, gotType)
		}
	})
}
