package faulttest

import (
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// farmKeep is how many of its newest items each farm feed lists. At the
// test's publishing rate a feed gains an item every few seconds, so an item
// stays listed for over a minute, far longer than any outage in the test.
const farmKeep = 30

// partnerFarm is a loopback partner site with many RSS feeds that keep
// publishing. It returns 304 to a matching If-None-Match, as most partner
// sites do.
type partnerFarm struct {
	mu        sync.Mutex
	feeds     [][]farmItem
	versions  []int
	published map[string]bool
	next      int
	srv       *httptest.Server
}

type farmItem struct {
	url, title string
	date       time.Time
}

func newPartnerFarm(t *testing.T, feeds int) *partnerFarm {
	t.Helper()
	f := &partnerFarm{feeds: make([][]farmItem, feeds), versions: make([]int, feeds), published: map[string]bool{}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *partnerFarm) serve(w http.ResponseWriter, r *http.Request) {
	n, err := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/f"))
	if err != nil || n < 0 || n >= len(f.feeds) {
		http.NotFound(w, r)
		return
	}
	f.mu.Lock()
	etag := fmt.Sprintf(`"v%d"`, f.versions[n])
	items := append([]farmItem(nil), f.feeds[n]...)
	f.mu.Unlock()
	if r.Header.Get("If-None-Match") == etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.Header().Set("ETag", etag)
	w.Header().Set("Content-Type", "application/rss+xml; charset=utf-8")
	var b strings.Builder
	fmt.Fprintf(&b, `<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Farm %d</title><link>https://farm.example/</link><language>en</language>`, n)
	for i := len(items) - 1; i >= 0; i-- {
		it := items[i]
		fmt.Fprintf(&b, `<item><guid>%s</guid><title>%s</title><link>%s</link><description>Story %s</description><pubDate>%s</pubDate></item>`,
			it.url, it.title, it.url, it.title, it.date.Format(time.RFC1123Z))
	}
	b.WriteString(`</channel></rss>`)
	_, _ = io.WriteString(w, b.String())
}

// publish adds one item to a random feed and records its URL.
func (f *partnerFarm) publish() {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := rand.IntN(len(f.feeds))
	f.next++
	it := farmItem{
		url:   fmt.Sprintf("https://farm.example/f%d/story-%d", n, f.next),
		title: fmt.Sprintf("Farm story %d", f.next),
		date:  time.Now().UTC().Truncate(time.Second),
	}
	f.feeds[n] = append(f.feeds[n], it)
	if len(f.feeds[n]) > farmKeep {
		f.feeds[n] = f.feeds[n][1:]
	}
	f.versions[n]++
	f.published[it.url] = true
}

// keepPublishing publishes one item every interval until stop is closed.
func (f *partnerFarm) keepPublishing(interval time.Duration, stop <-chan struct{}) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			f.publish()
		}
	}
}

func (f *partnerFarm) publishedURLs() map[string]bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make(map[string]bool, len(f.published))
	for u := range f.published {
		out[u] = true
	}
	return out
}
