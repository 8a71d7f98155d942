// Package webhooks sends events to the endpoints brands and the
// organisation register: signed per the Standard Webhooks specification
// (https://www.standardwebhooks.com), over HTTPS, through a dialer that
// refuses loopback, private and link-local addresses (SSRF) unless told
// otherwise.
package webhooks

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Sign returns the webhook-signature header's value for a message: "v1,"
// and the base64 HMAC-SHA256, keyed with the secret's bytes (after
// "whsec_"), of id.timestamp.body.
func Sign(secret, id string, timestamp int64, body []byte) (string, error) {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil || len(key) == 0 {
		return "", errors.New("webhooks: the secret is not whsec_ and base64")
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id + "." + strconv.FormatInt(timestamp, 10) + "."))
	mac.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil)), nil
}

// Verify checks a signature header (space-separated "v1,…" values) as a
// receiver would, within tolerance of now.
func Verify(secret, id string, timestamp int64, body []byte, header string, now time.Time, tolerance time.Duration) bool {
	if d := now.Sub(time.Unix(timestamp, 0)); d > tolerance || d < -tolerance {
		return false
	}
	want, err := Sign(secret, id, timestamp, body)
	if err != nil {
		return false
	}
	for _, sig := range strings.Fields(header) {
		if hmac.Equal([]byte(sig), []byte(want)) {
			return true
		}
	}
	return false
}

// ErrForbiddenAddress says that an endpoint resolved to an address the
// guard refuses.
var ErrForbiddenAddress = errors.New("the endpoint resolves to a loopback, private, link-local or otherwise internal address")

// Forbidden reports whether ip is an address an endpoint may not reach:
// loopback, private (RFC 1918, unique local), link-local, unspecified,
// multicast, CGNAT, or IPv4 mapped into one of them.
func Forbidden(ip netip.Addr) bool {
	ip = ip.Unmap()
	cgnat := netip.MustParsePrefix("100.64.0.0/10")
	return !ip.IsValid() || ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() ||
		ip.IsInterfaceLocalMulticast() || ip.IsMulticast() || ip.IsUnspecified() || cgnat.Contains(ip)
}

// Client is an HTTP client for endpoints: the guard checks the address it
// actually dials (after DNS, so a name that rebinds to an internal address
// is refused too); redirects are not followed; each call has timeout.
// allowPrivate turns the guard off (an endpoint on the organisation's own
// network); tlsConfig, if set, replaces the default (tests trust their
// own server's certificate).
func Client(allowPrivate bool, timeout time.Duration, tlsConfig *tls.Config) *http.Client {
	dialer := &net.Dialer{Timeout: 10 * time.Second}
	if !allowPrivate {
		dialer.Control = func(network, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil || Forbidden(ap.Addr()) {
				return ErrForbiddenAddress
			}
			return nil
		}
	}
	// A clone: the transport writes its HTTP/2 protocols into its TLS
	// config, which the caller may share with other transports.
	transport := &http.Transport{DialContext: dialer.DialContext, TLSClientConfig: tlsConfig.Clone(), Proxy: nil,
		TLSHandshakeTimeout: 10 * time.Second, MaxIdleConnsPerHost: 2, ForceAttemptHTTP2: true}
	return &http.Client{Transport: transport, Timeout: timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// Message is one event to one endpoint.
type Message struct {
	ID        string // webhook-id: the same on every retry, for the receiver to deduplicate
	Timestamp time.Time
	Body      []byte // JSON
}

// Send posts msg to url, signed with secret. It returns the endpoint's
// status (0 if it never answered) and an error for anything but a 2xx.
// The error names what went wrong without quoting the endpoint's answer or
// its URL.
func Send(ctx context.Context, client *http.Client, url, secret string, msg Message) (int, error) {
	if !strings.HasPrefix(url, "https://") {
		return 0, errors.New("the endpoint is not https")
	}
	ts := msg.Timestamp.Unix()
	sig, err := Sign(secret, msg.ID, ts, msg.Body)
	if err != nil {
		return 0, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(msg.Body))
	if err != nil {
		return 0, errors.New("the endpoint's URL is not valid")
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Remedy-Webhooks/1")
	req.Header.Set("webhook-id", msg.ID)
	req.Header.Set("webhook-timestamp", strconv.FormatInt(ts, 10))
	req.Header.Set("webhook-signature", sig)
	res, err := client.Do(req)
	if err != nil {
		switch {
		case errors.Is(err, ErrForbiddenAddress):
			return 0, ErrForbiddenAddress
		case errors.Is(err, context.DeadlineExceeded) || strings.Contains(err.Error(), "Client.Timeout"):
			return 0, errors.New("the endpoint did not answer in time")
		default:
			var tlsErr *tls.CertificateVerificationError
			if errors.As(err, &tlsErr) {
				return 0, errors.New("the endpoint's TLS certificate does not verify")
			}
			return 0, errors.New("the endpoint could not be reached")
		}
	}
	io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10))
	res.Body.Close()
	if res.StatusCode < 200 || res.StatusCode > 299 {
		return res.StatusCode, fmt.Errorf("the endpoint answered %d", res.StatusCode)
	}
	return res.StatusCode, nil
}
