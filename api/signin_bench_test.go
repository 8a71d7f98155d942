package api_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/remedy-cases/remedy/api"
	"github.com/remedy-cases/remedy/auth"
	"github.com/remedy-cases/remedy/storage"
)

// BenchmarkCaseWorkDuringSignInStorm lists cases, as case work does, while
// 16 clients sign in as fast as they can, with the password hashing
// bounded (the default: half the CPUs) and unbounded (a slot for every
// sign-in). Each op is one list; p50-ms and p99-ms are its latency, and
// sign-ins/s and busy/s what the storm got: hashes done and 503 answers.
//
//	go test ./api -run '^$' -bench SignInStorm -benchtime 200x
func BenchmarkCaseWorkDuringSignInStorm(b *testing.B) {
	for _, bc := range []struct {
		name  string
		limit *auth.HashLimit
	}{
		{"bounded", auth.NewHashLimit(auth.DefaultHashSlots(), time.Second)},
		{"unbounded", auth.NewHashLimit(1000, time.Second)},
	} {
		b.Run(bc.name, func(b *testing.B) {
			e := newTestEnv(b, storage.SQLite, func(c *api.Config) {
				c.Auth = auth.New(c.Users, c.Audit, c.SignIns)
				c.Auth.Hashing = bc.limit
			})
			sup := e.tokens["supervisor"]
			body, _ := json.Marshal(map[string]string{"email": e.users["caseworker"].Email, "password": password})
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
			stop := make(chan struct{})
			var signIns, busy atomic.Int64
			var wg sync.WaitGroup
			for range 16 {
				wg.Go(func() {
					for {
						select {
						case <-stop:
							return
						default:
						}
						res, err := client.Post(e.http.URL+"/v1/auth/token", "application/json", bytes.NewReader(body))
						if err != nil {
							continue
						}
						_, _ = io.Copy(io.Discard, res.Body)
						res.Body.Close()
						switch res.StatusCode {
						case http.StatusOK:
							signIns.Add(1)
						case http.StatusServiceUnavailable:
							busy.Add(1)
						}
					}
				})
			}
			time.Sleep(500 * time.Millisecond) // the storm is on
			signIns.Store(0)
			busy.Store(0)
			var lat []time.Duration
			start := time.Now()
			b.ResetTimer()
			for b.Loop() {
				t0 := time.Now()
				req, _ := http.NewRequest("GET", e.http.URL+"/v1/cases?limit=20", nil)
				req.Header.Set("Authorization", "Bearer "+sup)
				res, err := client.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				_, _ = io.Copy(io.Discard, res.Body)
				res.Body.Close()
				if res.StatusCode != http.StatusOK {
					b.Fatalf("list: %d", res.StatusCode)
				}
				lat = append(lat, time.Since(t0))
			}
			b.StopTimer()
			secs := time.Since(start).Seconds()
			close(stop)
			wg.Wait()
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
			b.ReportMetric(float64(signIns.Load())/secs, "sign-ins/s")
			b.ReportMetric(float64(busy.Load())/secs, "busy/s")
		})
	}
}
