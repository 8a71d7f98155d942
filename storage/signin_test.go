package storage_test

import (
	"bytes"
	"sync"
	"testing"
	"time"

	"github.com/remedy-cases/remedy/storage"
	"github.com/remedy-cases/remedy/storage/storagetest"
)

func TestSignInThrottle(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		now := today
		db.Now = func() time.Time { return now }
		svc := storage.NewSignInThrottleService(db)
		const window = 15 * time.Minute
		pair, addr := "pair:worker@example.org|192.0.2.1", "address:192.0.2.1"

		t.Run("OK", func(t *testing.T) {
			for range 3 {
				if err := svc.FailSignIn(ctx, window, pair, addr); err != nil {
					t.Fatal(err)
				}
			}
			now = now.Add(time.Minute)
			if err := svc.FailSignIn(ctx, window, addr); err != nil {
				t.Fatal(err)
			}
			got, err := svc.SignInFailures(ctx, window, pair, addr, "address:198.51.100.1")
			if err != nil {
				t.Fatal(err)
			}
			if got[0].Count != 3 || !got[0].Last.Equal(now.Add(-time.Minute)) || got[1].Count != 4 ||
				!got[1].Last.Equal(now) || got[2].Count != 0 {
				t.Fatalf("failures = %+v", got)
			}
			// The table holds hashes, never the email or the address.
			var stored [][]byte
			if err := db.Gorm().Raw("SELECT key_hash FROM sign_in_failures").Scan(&stored).Error; err != nil {
				t.Fatal(err)
			}
			for _, h := range stored {
				if len(h) != 32 || bytes.Contains(h, []byte("192.0.2.1")) {
					t.Fatalf("stored key %q", h)
				}
			}
		})
		t.Run("OKWindow", func(t *testing.T) {
			now = now.Add(window - 30*time.Second) // the pair's last failure is 15m30s old, the address's 14m30s
			got, err := svc.SignInFailures(ctx, window, pair, addr)
			if err != nil {
				t.Fatal(err)
			}
			if got[0].Count != 0 || got[1].Count != 4 {
				t.Fatalf("after the pair's window: %+v", got)
			}
			// A failure after the window counts from one again.
			now = now.Add(time.Minute)
			if err := svc.FailSignIn(ctx, window, addr); err != nil {
				t.Fatal(err)
			}
			if got, _ := svc.SignInFailures(ctx, window, addr); got[0].Count != 1 {
				t.Fatalf("a failure after the window: %+v", got)
			}
		})
		t.Run("OKReset", func(t *testing.T) {
			if err := svc.FailSignIn(ctx, window, pair); err != nil {
				t.Fatal(err)
			}
			if err := svc.ResetSignInFailures(ctx, pair); err != nil {
				t.Fatal(err)
			}
			got, err := svc.SignInFailures(ctx, window, pair, addr)
			if err != nil {
				t.Fatal(err)
			}
			if got[0].Count != 0 || got[1].Count != 1 {
				t.Fatalf("after reset: %+v", got)
			}
		})
		t.Run("OKConcurrent", func(t *testing.T) {
			// Two servers counting the same key at once: every failure counts.
			other := storage.NewSignInThrottleService(db)
			key := "address:203.0.113.7"
			var wg sync.WaitGroup
			errs := make(chan error, 20)
			for i := range 20 {
				s := svc
				if i%2 == 1 {
					s = other
				}
				wg.Go(func() { errs <- s.FailSignIn(ctx, window, key) })
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				if err != nil {
					t.Fatal(err)
				}
			}
			if got, err := svc.SignInFailures(ctx, window, key); err != nil || got[0].Count != 20 {
				t.Fatalf("concurrent failures = %+v, %v; want 20", got, err)
			}
		})
		t.Run("OKTrust", func(t *testing.T) {
			device := "device:worker@example.org|token"
			if ok, err := svc.SignInClientTrusted(ctx, device, pair); err != nil || ok {
				t.Fatalf("trusted before any sign-in: %v, %v", ok, err)
			}
			if err := svc.TrustSignInClient(ctx, device, now.Add(time.Hour)); err != nil {
				t.Fatal(err)
			}
			if ok, err := svc.SignInClientTrusted(ctx, "other", device); err != nil || !ok {
				t.Fatalf("trusted = %v, %v", ok, err)
			}
			// Trusting again extends it.
			if err := svc.TrustSignInClient(ctx, device, now.Add(2*time.Hour)); err != nil {
				t.Fatal(err)
			}
			now = now.Add(90 * time.Minute)
			if ok, _ := svc.SignInClientTrusted(ctx, device); !ok {
				t.Fatal("the extension was lost")
			}
			now = now.Add(time.Hour)
			if ok, _ := svc.SignInClientTrusted(ctx, device); ok {
				t.Fatal("trusted after expiry")
			}
			// Expired trust is removed when another is recorded.
			if err := svc.TrustSignInClient(ctx, pair, now.Add(time.Hour)); err != nil {
				t.Fatal(err)
			}
			var n int64
			if err := db.Gorm().Raw("SELECT count(*) FROM sign_in_trust").Scan(&n).Error; err != nil || n != 1 {
				t.Fatalf("%d rows of trust, %v; want 1", n, err)
			}
		})
	})
}
