package workers_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"

	"github.com/syndic-network/syndic/workers"
)

// hubFeed serves an RSS document that names hub, or no hub when hub is
// empty.
type hubFeed struct {
	mu  sync.Mutex
	hub string
	srv *httptest.Server
}

func newHubFeed(t *testing.T, hub string) *hubFeed {
	t.Helper()
	f := &hubFeed{hub: hub}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		f.mu.Lock()
		defer f.mu.Unlock()
		link := ""
		if f.hub != "" {
			link = fmt.Sprintf(`<atom:link rel="hub" href="%s"/>`, f.hub)
		}
		w.Header().Set("Content-Type", "application/rss+xml")
		fmt.Fprintf(w, `<?xml version="1.0"?><rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom"><channel>
<title>K</title><link>https://partner.example/</link>%s
<item><guid>g1</guid><title>T</title></item></channel></rss>`, link)
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *hubFeed) setHub(hub string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.hub = hub
}

func (h *loopbackHub) count() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.requests)
}

func TestWebSubDiscover(t *testing.T) {
	env := newWebSubEnv(t)
	hub := newLoopbackHub(t)
	partner := newHubFeed(t, hub.srv.URL+"/")
	fetcher := workers.NewFetcher(workers.FetcherOptions{AllowPrivateNetworks: true})
	feed := workers.Feed{Partner: "wipk", ID: "news", URL: partner.srv.URL + "/rss"}
	ctx := context.Background()

	env.sub.Discover(ctx, fetcher, []workers.Feed{feed})
	if hub.count() != 1 {
		t.Fatalf("hub received %d requests after discovery, want 1", hub.count())
	}
	req := hub.last(t)
	if req.Get("hub.mode") != "subscribe" || req.Get("hub.topic") != feed.URL {
		t.Errorf("discovery request = %v, want subscribe to the feed URL", req)
	}
	q := url.Values{"hub.mode": {"subscribe"}, "hub.topic": {feed.URL}, "hub.challenge": {"c"}, "hub.lease_seconds": {"3600"}}
	if status, _ := get(t, verifyURL(req.Get("hub.callback"), q)); status != http.StatusOK {
		t.Fatalf("verification = %d, want 200", status)
	}

	env.sub.Discover(ctx, fetcher, []workers.Feed{feed})
	if hub.count() != 1 {
		t.Errorf("second discovery sent %d requests in total, want no new one for an active subscription", hub.count())
	}

	partner.setHub("")
	env.sub.Discover(ctx, fetcher, []workers.Feed{feed})
	if last := hub.last(t); hub.count() != 2 || last.Get("hub.mode") != "unsubscribe" {
		t.Fatalf("after the feed dropped its hub: %d requests, last %v; want an unsubscribe", hub.count(), last)
	}
	q.Set("hub.mode", "unsubscribe")
	if status, _ := get(t, verifyURL(req.Get("hub.callback"), q)); status != http.StatusOK {
		t.Errorf("unsubscribe verification = %d, want 200", status)
	}
	if _, ok := env.sub.PollInterval(ctx, "wipk", "news"); ok {
		t.Error("an unsubscribed feed still has a safety interval")
	}
	if status, _ := get(t, verifyURL(req.Get("hub.callback"), q)); status != http.StatusNotFound {
		t.Errorf("callback after unsubscribing = %d, want 404", status)
	}
}
