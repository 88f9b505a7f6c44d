package app

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// failFirstCallback echoes challenges and holds each delivery until
// open is closed. It then responds to the first delivery to each path with
// 503 and later ones with 204.
type failFirstCallback struct {
	srv  *httptest.Server
	open chan struct{}

	mu    sync.Mutex
	posts map[string]int
}

func newFailFirstCallback(t *testing.T) *failFirstCallback {
	t.Helper()
	c := &failFirstCallback{open: make(chan struct{}), posts: map[string]int{}}
	c.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet {
			_, _ = io.WriteString(w, r.URL.Query().Get("hub.challenge"))
			return
		}
		c.mu.Lock()
		c.posts[r.URL.Path]++
		first := c.posts[r.URL.Path] == 1
		c.mu.Unlock()
		select {
		case <-c.open:
		case <-r.Context().Done():
			return
		}
		if first {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(c.srv.Close)
	return c
}

func (c *failFirstCallback) postCount(path string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.posts[path]
}

// startWorkers starts hub workers with their own hub and stops them when
// the test ends, unless a reload stopped them first.
func (f *hubFixture) startWorkers(t *testing.T) *hubWorkers {
	t.Helper()
	w, err := startHubWorkers(context.Background(), f.js, f.items, f.newHub(t, true), f.cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatalf("starting hub workers: %v", err)
	}
	t.Cleanup(func() { w.cancel(); w.wait() })
	return w
}

func TestHubReloadsKeepWaitingJobsAttempts(t *testing.T) {
	// One job per subscription goes to a host that takes one at a time
	// and holds it, so most jobs wait while the deliveries reload three
	// times. MaxDeliver is 3: a reload that counted as an attempt would
	// leave the waiting jobs no retry, or no delivery at all.
	const subscribers = 8
	const reloads = 3
	f := newHubFixture(t)
	f.cfg.PerHost = 1
	f.cfg.Backoff = []time.Duration{50 * time.Millisecond, 50 * time.Millisecond}
	cb := newFailFirstCallback(t)
	var paths []string
	for i := 1; i <= subscribers; i++ {
		p := fmt.Sprintf("/cb/%d", i)
		paths = append(paths, p)
		f.subscribe(t, cb.srv.URL+p)
	}
	w := f.startWorkers(t)

	f.publishItem(t, "a")
	for n := 1; n <= reloads; n++ {
		// Each new set of workers admits one job, as its host limit
		// does not see the deliveries of the workers it replaced.
		waitFor(t, 10*time.Second, fmt.Sprintf("%d deliveries in flight", n), func() bool {
			total := 0
			for _, p := range paths {
				total += cb.postCount(p)
			}
			return total == n
		})
		next := f.startWorkers(t)
		w.stop(next)
		w = next
	}

	// Each first delivery fails once and succeeds on its first retry.
	close(cb.open)
	for _, p := range paths {
		waitFor(t, 10*time.Second, "a retried delivery to "+p, func() bool { return cb.postCount(p) >= 2 })
	}
	f.waitDrained(t)
	for _, p := range paths {
		if n := cb.postCount(p); n != 2 {
			t.Errorf("deliveries to %s = %d, want 2: one failure and one retry", p, n)
		}
	}
	subs, err := f.store.List(context.Background())
	if err != nil {
		t.Fatalf("listing subscriptions: %v", err)
	}
	if len(subs) != subscribers {
		t.Errorf("subscriptions left = %d, want all %d", len(subs), subscribers)
	}
}
