package webhooks_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"testing"
	"time"

	"github.com/remedy-cases/remedy/webhooks"
)

// The Standard Webhooks specification's test vector.
func TestSignVector(t *testing.T) {
	got, err := webhooks.Sign("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, []byte(`{"test": 2432232314}`))
	if err != nil {
		t.Fatal(err)
	}
	if want := "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

func TestForbidden(t *testing.T) {
	for addr, want := range map[string]bool{
		"127.0.0.1": true, "::1": true, "10.1.2.3": true, "172.16.0.1": true, "192.168.1.1": true,
		"169.254.169.254": true, "fe80::1": true, "fc00::1": true, "0.0.0.0": true, "::": true,
		"100.64.0.1": true, "::ffff:127.0.0.1": true, "224.0.0.1": true,
		"93.184.216.34": false, "2606:2800:220:1::": false, "1.1.1.1": false,
	} {
		if got := webhooks.Forbidden(netip.MustParseAddr(addr)); got != want {
			t.Errorf("Forbidden(%s) = %v, want %v", addr, got, want)
		}
	}
}

func TestSend(t *testing.T) {
	const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	got := make(chan bool, 1)
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		ts, _ := strconv.ParseInt(r.Header.Get("webhook-timestamp"), 10, 64)
		got <- webhooks.Verify(secret, r.Header.Get("webhook-id"), ts, body, r.Header.Get("webhook-signature"), time.Now(), 5*time.Minute)
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	msg := webhooks.Message{ID: "msg_1", Timestamp: time.Now(), Body: []byte(`{"type":"case.filed"}`)}
	tlsConfig := srv.Client().Transport.(*http.Transport).TLSClientConfig

	t.Run("OK", func(t *testing.T) {
		status, err := webhooks.Send(context.Background(), webhooks.Client(true, 5*time.Second, tlsConfig), srv.URL, secret, msg)
		if err != nil || status != http.StatusNoContent {
			t.Fatalf("status %d, %v", status, err)
		}
		if !<-got {
			t.Error("the receiver could not verify the signature")
		}
	})
	t.Run("ErrLoopback", func(t *testing.T) {
		// The test server listens on 127.0.0.1: refused before a byte is sent.
		_, err := webhooks.Send(context.Background(), webhooks.Client(false, 5*time.Second, tlsConfig), srv.URL, secret, msg)
		if !errors.Is(err, webhooks.ErrForbiddenAddress) {
			t.Fatalf("got %v, want ErrForbiddenAddress", err)
		}
		select {
		case <-got:
			t.Error("the request reached the loopback endpoint")
		default:
		}
	})
	t.Run("ErrStatus", func(t *testing.T) {
		failing := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "a secret answer", http.StatusInternalServerError)
		}))
		defer failing.Close()
		status, err := webhooks.Send(context.Background(), webhooks.Client(true, 5*time.Second, tlsConfig), failing.URL, secret, msg)
		if err == nil || status != 500 || err.Error() != "the endpoint answered 500" {
			t.Fatalf("status %d, %v", status, err)
		}
	})
	t.Run("ErrUntrustedCertificate", func(t *testing.T) {
		_, err := webhooks.Send(context.Background(), webhooks.Client(true, 5*time.Second, nil), srv.URL, secret, msg)
		if err == nil || err.Error() != "the endpoint's TLS certificate does not verify" {
			t.Fatalf("got %v", err)
		}
	})
}
