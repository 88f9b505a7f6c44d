package workers_test

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/syndic-network/syndic/internal/store"
	"github.com/syndic-network/syndic/internal/testenv"
	"github.com/syndic-network/syndic/workers"
)

// waitFor polls cond until it holds or five seconds pass.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond) // polling interval of the condition, not a wait for an event
	}
}

// gatedHost serves a feed on every path but holds each request until the
// test sends a token, and records how many requests are in flight.
type gatedHost struct {
	mu       sync.Mutex
	inFlight int
	maxSeen  int
	served   int
	tokens   chan struct{}
	script   *partnerScript
}

func newGatedHost(t *testing.T, ip string) *gatedHost {
	t.Helper()
	g := &gatedHost{tokens: make(chan struct{})}
	g.script = newPartnerScript(t, ip)
	g.script.srv.Config.Handler = http.HandlerFunc(g.serve)
	return g
}

func (g *gatedHost) serve(w http.ResponseWriter, r *http.Request) {
	g.mu.Lock()
	g.inFlight++
	g.maxSeen = max(g.maxSeen, g.inFlight)
	g.mu.Unlock()
	defer func() {
		g.mu.Lock()
		g.inFlight--
		g.served++
		g.mu.Unlock()
	}()
	select {
	case <-g.tokens:
	case <-r.Context().Done():
		return
	}
	w.Header().Set("Content-Type", "application/rss+xml")
	// Each path gets its own story, so that feeds polled at once do not
	// contend for one item's reservation.
	doc := strings.ReplaceAll(datedRSS("", time.Now()), "partner.example/a/", "partner.example"+r.URL.Path+"/")
	_, _ = w.Write([]byte(doc))
}

func (g *gatedHost) stats() (inFlight, maxSeen, served int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.inFlight, g.maxSeen, g.served
}

func gatedFeeds(g *gatedHost, prefix string, n int) []workers.Feed {
	var feeds []workers.Feed
	for i := range n {
		feeds = append(feeds, testFeed(prefix+strconv.Itoa(i), g.script.url("/"+prefix+strconv.Itoa(i))))
	}
	return feeds
}

func TestHostLimitAcrossPollers(t *testing.T) {
	url, prefix := testenv.Redis(t)
	shared := store.NewRedis(testenv.RedisClient(t, url), prefix)
	perHost := func(o *workers.PollerOptions) { o.PerHost = 2; o.Concurrency = 4 }
	a := newSchedEnv(t, envOptions{cache: shared, poller: perHost})
	b := newSchedEnv(t, envOptions{cache: shared, poller: perHost})
	host := newGatedHost(t, "127.0.0.1")
	feeds := gatedFeeds(host, "f", 8)

	var wg sync.WaitGroup
	ctx := context.Background()
	wg.Go(func() { a.poller.PollAll(ctx, feeds[:4], nil) })
	wg.Go(func() { b.poller.PollAll(ctx, feeds[4:], nil) })
	for sent := range len(feeds) {
		want := min(2, len(feeds)-sent)
		waitFor(t, strconv.Itoa(want)+" requests in flight", func() bool {
			inFlight, _, _ := host.stats()
			return inFlight == want
		})
		host.tokens <- struct{}{}
	}
	wg.Wait()
	_, maxSeen, served := host.stats()
	if maxSeen != 2 {
		t.Errorf("max requests in flight to one host = %d, want 2", maxSeen)
	}
	if served != len(feeds) {
		t.Errorf("host served %d requests, want %d", served, len(feeds))
	}
}

func TestSlowHostDoesNotStallOthers(t *testing.T) {
	env := newSchedEnv(t, envOptions{poller: func(o *workers.PollerOptions) { o.PerHost = 2; o.Concurrency = 3 }})
	slow := newGatedHost(t, "127.0.0.1")
	fast := newPartnerScript(t, "127.0.0.2")
	fast.route("/feed", feedOK(datedRSS("", env.clock.Now())))
	feeds := append(gatedFeeds(slow, "slow", 4), testFeed("fast", fast.url("/feed")))

	done := make(chan []workers.PollReport)
	go func() { done <- env.poller.PollAll(context.Background(), feeds, nil) }()
	waitFor(t, "the fast host to be polled while the slow host holds its slots", func() bool {
		inFlight, _, _ := slow.stats()
		return fast.hitCount("/feed") == 1 && inFlight == 2
	})
	if _, _, served := slow.stats(); served != 0 {
		t.Errorf("slow host served %d requests, want 0 while the fast feed is polled", served)
	}
	for range 4 {
		slow.tokens <- struct{}{}
	}
	reports := <-done
	for _, r := range reports {
		if r.Err != nil {
			t.Errorf("%s: err %v, want none", r.Feed.Key(), r.Err)
		}
		if r.New != 1 {
			t.Errorf("%s: %d new, want 1", r.Feed.Key(), r.New)
		}
	}
}

func TestLocalHostSlotsLimitInProcess(t *testing.T) {
	url, prefix := testenv.Redis(t)
	client := testenv.RedisClient(t, url)
	cache := store.NewRedis(client, prefix)
	env := newSchedEnv(t, envOptions{cache: cache, poller: func(o *workers.PollerOptions) {
		o.PerHost = 2
		o.Concurrency = 4
		o.LocalHostSlots = true
	}})
	host := newGatedHost(t, "127.0.0.1")
	feeds := gatedFeeds(host, "local", 6)

	done := make(chan []workers.PollReport)
	go func() { done <- env.poller.PollAll(context.Background(), feeds, nil) }()
	for sent := range len(feeds) {
		want := min(2, len(feeds)-sent)
		waitFor(t, strconv.Itoa(want)+" requests in flight", func() bool {
			inFlight, _, _ := host.stats()
			return inFlight == want
		})
		slots, err := client.Keys(context.Background(), prefix+"*fetch:slot:*").Result()
		if err != nil {
			t.Fatalf("listing slot keys: %v", err)
		}
		if len(slots) != 0 {
			t.Errorf("slot keys in the cache %v, want none with local slots", slots)
		}
		host.tokens <- struct{}{}
	}
	reports := <-done
	_, maxSeen, served := host.stats()
	if maxSeen != 2 {
		t.Errorf("max requests in flight to one host = %d, want 2", maxSeen)
	}
	if served != len(feeds) {
		t.Errorf("host served %d requests, want %d", served, len(feeds))
	}
	for _, r := range reports {
		if r.Err != nil {
			t.Errorf("%s: err %v, want none", r.Feed.Key(), r.Err)
		}
	}
}
