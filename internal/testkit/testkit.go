// Package testkit holds the test helpers that the api and cmd/remedy tests
// share: a log buffer safe for concurrent writers, and JSON requests to a
// server with their answers read whole. It is imported by tests only.
package testkit

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
)

// SyncBuffer collects output written from several goroutines, such as the
// log of a server under test.
type SyncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *SyncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns everything written so far.
func (b *SyncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Response is an HTTP answer, its body read whole.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
	// Close reports whether the server closes the connection after this
	// answer ("Connection: close", which net/http removes from Header).
	Close bool
}

// Decode unmarshals the body as JSON into v, failing tb if it cannot.
func (r Response) Decode(tb testing.TB, v any) {
	tb.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		tb.Fatalf("decoding %s: %v", r.Body, err)
	}
}

// MustRequest builds a request to url. A body that is neither a string nor
// a byte slice is marshalled as JSON; any body sets Content-Type to
// application/json. A token becomes "Authorization: Bearer token". headers
// are name, value pairs.
func MustRequest(tb testing.TB, method, url, token string, body any, headers ...string) *http.Request {
	tb.Helper()
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		r = strings.NewReader(b)
	case []byte:
		r = bytes.NewReader(b)
	default:
		data, err := json.Marshal(b)
		if err != nil {
			tb.Fatal(err)
		}
		r = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, url, r)
	if err != nil {
		tb.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	return req
}

// MustDo sends req with client (http.DefaultClient if nil) and reads the
// answer whole, failing tb if the request cannot be made.
func MustDo(tb testing.TB, client *http.Client, req *http.Request) Response {
	tb.Helper()
	if client == nil {
		client = http.DefaultClient
	}
	res, err := client.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	return Read(tb, res)
}

// Read reads the answer res whole and closes its body, failing tb if it
// cannot.
func Read(tb testing.TB, res *http.Response) Response {
	tb.Helper()
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	if err != nil {
		tb.Fatal(err)
	}
	return Response{Status: res.StatusCode, Header: res.Header, Body: data, Close: res.Close}
}
