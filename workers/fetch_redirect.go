package workers

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
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
	if !stayedOnOrigin(req, via) {
		// A per-feed private-network allow covers the origin of the
		// requested URL only, so a redirect elsewhere goes back through
		// the normal guard. Otherwise one trusted intranet feed could
		// point Syndic at any internal host, or at another port of its
		// own host such as Syndic's admin listener. The client gives each
		// hop the first request's context again, and copying the request
		// struct is how CheckRedirect can swap it.
		*req = *req.WithContext(withPrivateNetwork(req.Context(), false))
	}
	if len(via) == 1 && isPermanentRedirect(req.Response) && !isDowngrade(via[0], req) {
		if t, ok := req.Context().Value(redirectTraceKey{}).(*redirectTrace); ok {
			t.movedTo = req.URL.String()
		}
	}
	return nil
}

// stayedOnOrigin reports whether req and every hop before it have the
// origin of the first request. A chain that left the origin and came back
// does not count, because a host outside the allow chose the way back.
func stayedOnOrigin(req *http.Request, via []*http.Request) bool {
	first := origin(via[0].URL)
	if origin(req.URL) != first {
		return false
	}
	for _, prev := range via[1:] {
		if origin(prev.URL) != first {
			return false
		}
	}
	return true
}

// origin returns the scheme, host and port of u in one comparable form:
// lower case, with the scheme's default port when u names none.
func origin(u *url.URL) string {
	scheme := strings.ToLower(u.Scheme)
	port := u.Port()
	if port == "" {
		switch scheme {
		case "http":
			port = "80"
		case "https":
			port = "443"
		}
	}
	return scheme + "://" + net.JoinHostPort(strings.ToLower(u.Hostname()), port)
}

// sameOrigin reports whether the URLs a and b have the same scheme, host
// and port. A URL that does not parse matches nothing.
func sameOrigin(a, b string) bool {
	ua, err := url.Parse(a)
	if err != nil {
		return false
	}
	ub, err := url.Parse(b)
	if err != nil {
		return false
	}
	return origin(ua) == origin(ub)
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
