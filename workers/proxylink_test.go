package workers_test

import (
	"context"
	"testing"
	"time"
)

// proxyLinkRSS has items without a guid whose links go through a
// click-tracking proxy and carry campaign parameters.
const proxyLinkRSS = `<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>Agency news via a proxy</title><link>https://agency.example.org/</link>
<item><title>Call for SME digitalisation grants</title>
<link>http://clicks.example.net/~r/AgencyNews/~3/q8ZrT1/?utm_source=feedburner&amp;utm_medium=feed&amp;fbclid=abc</link>
<pubDate>Wed, 02 Dec 2026 10:00:00 +0000</pubDate><description>Applications open today.</description></item>
<item><title>Trade fair stand for members</title>
<link>http://clicks.example.net/~r/AgencyNews/~3/x4Lm9Q/?utm_campaign=Feed%3A+AgencyNews</link>
<pubDate>Tue, 01 Dec 2026 10:00:00 +0000</pubDate><description>Book a place by Friday.</description></item>
</channel></rss>`

// TestProxyLinkWithoutGUIDPublishedOnce checks that items keyed by a
// tracking-proxy link are published once across polls, and that the
// published link keeps the proxy path without its tracking parameters.
func TestProxyLinkWithoutGUIDPublishedOnce(t *testing.T) {
	env := newSchedEnv(t, envOptions{})
	partner := newPartnerScript(t, "127.0.0.1")
	partner.route("/proxied", feedOK(proxyLinkRSS))
	f := testFeed("proxied", partner.url("/proxied"))
	ctx := context.Background()

	if rep := env.poller.Poll(ctx, f); rep.New != 2 {
		t.Fatalf("first poll: %d new, want 2 (err %v)", rep.New, rep.Err)
	}
	env.clock.Add(2 * time.Hour)
	if rep := env.poller.Poll(ctx, f); rep.New != 0 || rep.Updated != 0 {
		t.Errorf("second poll: %d new, %d updated; want 0 and 0 (err %v)", rep.New, rep.Updated, rep.Err)
	}
	want := map[string]bool{
		"http://clicks.example.net/~r/AgencyNews/~3/q8ZrT1/": true,
		"http://clicks.example.net/~r/AgencyNews/~3/x4Lm9Q/": true,
	}
	events := env.events(t)
	if len(events) != 2 {
		t.Fatalf("stream has %d events, want 2", len(events))
	}
	for _, ev := range events {
		if !want[ev.URL] {
			t.Errorf("published link %q, want the proxy link without tracking parameters", ev.URL)
		}
	}
}
