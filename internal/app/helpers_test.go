package app

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/syndic-network/syndic/internal/config"
	"github.com/syndic-network/syndic/internal/testenv"
)

// farm is a loopback partner site serving one small RSS document per
// feed path "/<feed>" and recording when each path was requested.
type farm struct {
	mu       sync.Mutex
	requests map[string][]time.Time
	srv      *httptest.Server
}

func newFarm(t *testing.T) *farm {
	t.Helper()
	f := &farm{requests: map[string][]time.Time{}}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(r.URL.Path, "/")
		f.mu.Lock()
		f.requests[name] = append(f.requests[name], time.Now())
		f.mu.Unlock()
		w.Header().Set("Content-Type", "application/rss+xml; charset=utf-8")
		_, _ = io.WriteString(w, farmRSS(name))
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func farmRSS(feed string) string {
	return fmt.Sprintf(`<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>%[1]s</title><link>https://farm.example/</link>
<item><guid>https://farm.example/%[1]s/1</guid><title>Item of %[1]s</title>
<link>https://farm.example/%[1]s/1</link><pubDate>Mon, 30 Nov 2026 08:00:00 +0000</pubDate></item>
</channel></rss>`, feed)
}

// times returns a copy of the request times of one feed.
func (f *farm) times(feed string) []time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]time.Time(nil), f.requests[feed]...)
}

// testConfig returns a config for a process on natsURL whose partner
// "farm" has the feeds f1..fN on the farm, polled every interval.
func testConfig(t *testing.T, natsURL, farmURL string, feeds int, interval time.Duration) *config.Config {
	t.Helper()
	c := config.Default()
	name := testenv.Name(t)
	c.DataDir = t.TempDir()
	c.NATS.URL = natsURL
	c.NATS.Stream = name
	c.NATS.SubjectPrefix = "t." + strings.ToLower(name)
	c.NATS.KVPrefix = name
	c.NATS.MaxAge = time.Hour
	c.NATS.DuplicateWindow = time.Minute
	c.Fetch.MinInterval = interval
	c.Fetch.MaxInterval = interval
	c.Fetch.AllowPrivateNetworks = true
	c.Fetch.LeaseTTL = 3 * time.Second
	p := config.Partner{ID: "farm", Name: "Farm", Language: "en", Timezone: "UTC"}
	for i := 1; i <= feeds; i++ {
		p.Feeds = append(p.Feeds, config.PartnerFeed{
			ID: fmt.Sprintf("f%d", i), URL: fmt.Sprintf("%s/f%d", farmURL, i), Interval: interval,
		})
	}
	c.Partners = []config.Partner{p}
	c.Channels = []config.Channel{{ID: "all", Title: "All", MaxItems: 1000}}
	return c
}

// openApp opens an App on cfg and closes it when the test ends.
func openApp(t *testing.T, cfg *config.Config) *App {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	a, err := Open(ctx, cfg, slog.New(slog.DiscardHandler), OpenOptions{})
	if err != nil {
		t.Fatalf("opening app: %v", err)
	}
	t.Cleanup(func() { a.Close(context.Background()) })
	return a
}

// waitFor polls cond every 20 ms until it returns true or timeout passes.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
