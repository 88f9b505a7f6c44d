package workers

import (
	"context"
	"net/http"
)

type privateNetworkKey struct{}

// withPrivateNetwork marks a request whose feed may reach private networks.
func withPrivateNetwork(ctx context.Context, allow bool) context.Context {
	return context.WithValue(ctx, privateNetworkKey{}, allow)
}

// routingTransport sends each request through one of two transports: the
// guarded one, or the one that allows private networks for feeds with the
// per-request override. Two transports mean two connection pools, so a
// connection opened for an allowed feed is never reused by a guarded one
// (the pool is keyed by host, not by the address check that opened it).
type routingTransport struct {
	guarded *http.Transport
	private *http.Transport
}

func newRoutingTransport(allowPrivate bool) *routingTransport {
	private := newGuardedTransport(true)
	if allowPrivate {
		return &routingTransport{guarded: private, private: private}
	}
	return &routingTransport{guarded: newGuardedTransport(false), private: private}
}

// RoundTrip implements http.RoundTripper.
func (t *routingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if allow, _ := req.Context().Value(privateNetworkKey{}).(bool); allow {
		return t.private.RoundTrip(req)
	}
	return t.guarded.RoundTrip(req)
}

// newGuardedTransport returns a transport that dials only through the SSRF
// guard. Proxy is nil on purpose: through a proxy the guard would check the
// proxy's address instead of the feed host's.
func newGuardedTransport(allowPrivate bool) *http.Transport {
	dialer := NewGuardedDialer(allowPrivate)
	return &http.Transport{
		Proxy:                 nil,
		DialContext:           dialer.DialContext,
		ForceAttemptHTTP2:     true,
		DisableCompression:    true,
		TLSHandshakeTimeout:   tlsHandshakeTimeout,
		ResponseHeaderTimeout: responseHeaderTimeout,
		IdleConnTimeout:       idleConnTimeout,
	}
}

var _ http.RoundTripper = (*routingTransport)(nil)
