package workers

import (
	"context"
	"fmt"
	"net/http"
	"strings"
)

// redirectTrace records the redirects of one poll. The client calls
// CheckRedirect sequentially for one request, so no lock is needed.
type redirectTrace struct {
	movedTo string
}

type redirectTraceKey struct{}

func withRedirectTrace(ctx context.Context, t *redirectTrace) context.Context {
	return context.WithValue(ctx, redirectTraceKey{}, t)
}

// checkRedirect is the http.Client CheckRedirect hook. req is the next
// request and via the requests already made, oldest first. Every hop is
// dialled through the guarded transport, so the SSRF check needs no extra
// step here.
func (f *Fetcher) checkRedirect(req *http.Request, via []*http.Request) error {
	scheme := strings.ToLower(req.URL.Scheme)
	if scheme != "http" && scheme != "https" {
		return fmt.Errorf("following redirect to %q: %w", req.URL.Redacted(), ErrUnsupportedScheme)
	}
	next := redirectKey(req)
	for _, prev := range via {
		if redirectKey(prev) == next {
			return fmt.Errorf("following redirect to %q: %w", req.URL.Redacted(), ErrRedirectLoop)
		}
	}
	if len(via) > f.opts.MaxRedirects {
		return fmt.Errorf("following redirect to %q: %w: limit is %d",
			req.URL.Redacted(), ErrTooManyRedirects, f.opts.MaxRedirects)
	}
	if !strings.EqualFold(req.URL.Hostname(), via[0].URL.Hostname()) {
		// A per-feed private-network allow covers the configured host
		// only: a redirect elsewhere goes back through the normal guard,
		// or one trusted intranet feed could point Syndic at any internal
		// host. Copying the request struct is how CheckRedirect can swap
		// the context of the request it is about to send.
		*req = *req.WithContext(withPrivateNetwork(req.Context(), false))
	}
	if len(via) == 1 && isPermanentRedirect(req.Response) && !isDowngrade(via[0], req) {
		if t, ok := req.Context().Value(redirectTraceKey{}).(*redirectTrace); ok {
			t.movedTo = req.URL.String()
		}
	}
	return nil
}

// redirectKey identifies a URL for loop detection. The fragment is never
// sent, and scheme and host are case-insensitive.
func redirectKey(req *http.Request) string {
	u := *req.URL
	u.Fragment = ""
	u.RawFragment = ""
	u.Scheme = strings.ToLower(u.Scheme)
	u.Host = strings.ToLower(u.Host)
	return u.String()
}

// isDowngrade reports whether a redirect leaves https for http. Such a
// move is followed for one poll but not adopted, so that a single spoofed
// or misconfigured response cannot remove TLS from a subscription for good.
func isDowngrade(from, to *http.Request) bool {
	return strings.EqualFold(from.URL.Scheme, "https") && strings.EqualFold(to.URL.Scheme, "http")
}

func isPermanentRedirect(resp *http.Response) bool {
	if resp == nil {
		return false
	}
	return resp.StatusCode == http.StatusMovedPermanently ||
		resp.StatusCode == http.StatusPermanentRedirect
}
