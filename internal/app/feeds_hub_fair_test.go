package app

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// callbackFarm is one server for many WebSub callbacks, identified by
// path. It echoes challenges, holds each delivery for hold before it
// answers 204, and records the deliveries and how many were in flight.
// A negative hold keeps each delivery until the request ends. After
// releaseAll it answers every delivery at once with 503.
type callbackFarm struct {
	srv     *httptest.Server
	hold    time.Duration
	release chan struct{}
	once    sync.Once

	mu          sync.Mutex
	bodies      map[string][]string
	inFlight    int
	maxInFlight int
}

func newCallbackFarm(t *testing.T, hold time.Duration) *callbackFarm {
	t.Helper()
	c := &callbackFarm{hold: hold, release: make(chan struct{}), bodies: map[string][]string{}}
	c.srv = httptest.NewServer(http.HandlerFunc(c.serve))
	t.Cleanup(c.srv.Close)
	t.Cleanup(c.releaseAll)
	return c
}

func (c *callbackFarm) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodGet {
		_, _ = io.WriteString(w, r.URL.Query().Get("hub.challenge"))
		return
	}
	body, _ := io.ReadAll(r.Body)
	c.mu.Lock()
	c.bodies[r.URL.Path] = append(c.bodies[r.URL.Path], string(body))
	c.inFlight++
	c.maxInFlight = max(c.maxInFlight, c.inFlight)
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		c.inFlight--
		c.mu.Unlock()
	}()
	var wait <-chan time.Time
	if c.hold >= 0 {
		wait = time.After(c.hold)
	}
	select {
	case <-wait:
		w.WriteHeader(http.StatusNoContent)
	case <-r.Context().Done():
	case <-c.release:
		w.WriteHeader(http.StatusServiceUnavailable)
	}
}

// url returns the callback URL of path with host in place of the
// server's address, so that one server can stand for several hosts.
func (c *callbackFarm) url(t *testing.T, host, path string) string {
	t.Helper()
	u, err := url.Parse(c.srv.URL)
	if err != nil {
		t.Fatalf("parsing the server URL: %v", err)
	}
	u.Host = host + ":" + u.Port()
	u.Path = path
	return u.String()
}

// received reports whether path got a delivery that contains text.
func (c *callbackFarm) received(path, text string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, b := range c.bodies[path] {
		if strings.Contains(b, text) {
			return true
		}
	}
	return false
}

func (c *callbackFarm) posts(path string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.bodies[path])
}

func (c *callbackFarm) totalPosts() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, b := range c.bodies {
		n += len(b)
	}
	return n
}

func (c *callbackFarm) peakInFlight() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.maxInFlight
}

// releaseAll ends the deliveries it holds and responds to later ones at
// once, with 503.
func (c *callbackFarm) releaseAll() {
	c.once.Do(func() { close(c.release) })
}

// redelivered returns how many delivery jobs JetStream has sent again.
func (f *hubFixture) redelivered(t *testing.T) int {
	t.Helper()
	ctx := context.Background()
	s, err := f.js.Stream(ctx, f.cfg.Stream)
	if err != nil {
		t.Fatalf("opening the deliveries stream: %v", err)
	}
	c, err := s.Consumer(ctx, hubDeliverConsumer)
	if err != nil {
		t.Fatalf("opening the delivery consumer: %v", err)
	}
	info, err := c.Info(ctx)
	if err != nil {
		t.Fatalf("reading the delivery consumer: %v", err)
	}
	return info.NumRedelivered
}

func TestHubSlowHostDoesNotDelayOthers(t *testing.T) {
	// The slow host has one callback more than the hub has workers, and
	// holds every delivery until the hub's timeout. An item reaches the
	// fast host well before it, which without the per-host limit it
	// cannot: the slow deliveries take every worker.
	const slowTimeout = 3 * time.Second
	const prompt = 1500 * time.Millisecond
	f := newHubFixture(t)
	f.deliverTimeout = slowTimeout
	fast := newCallbackFarm(t, 0)
	slow := newCallbackFarm(t, -1)
	f.subscribe(t, fast.url(t, "127.0.0.1", "/fast"))
	for i := 1; i <= hubDeliverWorkers+1; i++ {
		f.subscribe(t, slow.url(t, "localhost", fmt.Sprintf("/slow/%d", i)))
	}
	f.startServer(t, f.newHub(t, true))

	for _, id := range []string{"a", "b", "c"} {
		start := time.Now()
		f.publishItem(t, id)
		waitFor(t, 10*time.Second, "item "+id+" at the fast callback", func() bool {
			return fast.received("/fast", "Item "+id)
		})
		if took := time.Since(start); took > prompt {
			t.Errorf("item %s reached the fast callback after %s, want at most %s", id, took, prompt)
		}
	}
	// The slow deliveries time out and go back to JetStream for a retry.
	waitFor(t, 10*time.Second, "a timed-out delivery sent again", func() bool { return f.redelivered(t) >= 1 })
	if n := slow.peakInFlight(); n > hubDeliveriesPerHost {
		t.Errorf("deliveries in flight to the slow host = %d, want at most %d", n, hubDeliveriesPerHost)
	}

	// Every slow callback gets its retries, and its subscription ends
	// after the last one fails. The fast subscriber got each item once.
	slow.releaseAll()
	f.waitDrained(t)
	for i := 1; i <= hubDeliverWorkers+1; i++ {
		if n := slow.posts(fmt.Sprintf("/slow/%d", i)); n < 2 {
			t.Errorf("deliveries to /slow/%d = %d, want a first one and retries", i, n)
		}
	}
	if n := fast.posts("/fast"); n != 3 {
		t.Errorf("deliveries to the fast callback = %d, want 3", n)
	}
	subs, err := f.store.List(context.Background())
	if err != nil {
		t.Fatalf("listing subscriptions: %v", err)
	}
	var left []string
	for _, s := range subs {
		left = append(left, s.Callback)
	}
	if len(left) != 1 || !strings.HasSuffix(left[0], "/fast") {
		t.Errorf("subscriptions left = %q, want the fast one alone", left)
	}
}

func TestHubWaitingJobsKeepTheirAttempts(t *testing.T) {
	// Four jobs for one host that takes one at a time: the last waits
	// longer than the consumer's AckWait, and MaxDeliver is 2. Waiting
	// must neither send a job twice nor use up its attempts.
	f := newHubFixture(t)
	f.cfg.PerHost = 1
	f.cfg.AckWait = time.Second
	f.cfg.Backoff = []time.Duration{50 * time.Millisecond}
	farm := newCallbackFarm(t, 400*time.Millisecond)
	paths := []string{"/cb/1", "/cb/2", "/cb/3", "/cb/4"}
	for _, p := range paths {
		f.subscribe(t, farm.url(t, "localhost", p))
	}
	f.startServer(t, f.newHub(t, true))

	f.publishItem(t, "a")
	waitFor(t, 10*time.Second, "four deliveries", func() bool { return farm.totalPosts() >= 4 })
	f.waitDrained(t)
	for _, p := range paths {
		if n := farm.posts(p); n != 1 {
			t.Errorf("deliveries to %s = %d, want 1", p, n)
		}
	}
	if n := farm.peakInFlight(); n != 1 {
		t.Errorf("deliveries in flight to the host = %d, want 1", n)
	}
}

func TestHostQueuesLimitPerHost(t *testing.T) {
	q := newHostQueues(2)
	job := func(host, key string) hubDelivery {
		d := hubDelivery{host: host}
		d.job.Key = key
		return d
	}

	for _, key := range []string{"a1", "a2"} {
		if ok, _ := q.admit(job("a.example", key)); !ok {
			t.Errorf("admit %s = false, want true below the limit", key)
		}
	}
	for _, key := range []string{"a3", "a4"} {
		if ok, handBack := q.admit(job("a.example", key)); ok || handBack {
			t.Errorf("admit %s = %v, hand back %v; want it waiting", key, ok, handBack)
		}
	}
	if ok, _ := q.admit(job("b.example", "b1")); !ok {
		t.Error("admit b1 = false, want true: another host has its own limit")
	}
	if n := len(q.waitingMsgs()); n != 2 {
		t.Errorf("waiting = %d, want 2", n)
	}

	for _, want := range []string{"a3", "a4"} {
		d, ok := q.next("a.example")
		if !ok || d.job.Key != want {
			t.Errorf("next = %q, %v; want %q in arrival order", d.job.Key, ok, want)
		}
	}
	for range 4 {
		if d, ok := q.next("a.example"); ok {
			t.Errorf("next = %q with nothing waiting, want none", d.job.Key)
		}
	}
	if _, ok := q.hosts["a.example"]; ok {
		t.Error("host a.example still tracked after its deliveries ended")
	}

	if ok, _ := q.admit(job("b.example", "b2")); !ok {
		t.Error("admit b2 = false, want true")
	}
	if ok, _ := q.admit(job("b.example", "b3")); ok {
		t.Error("admit b3 = true, want it waiting at the limit")
	}
	if left := q.close(); len(left) != 1 || left[0].job.Key != "b3" {
		t.Errorf("close returned %d jobs, want b3 alone", len(left))
	}
	if ok, handBack := q.admit(job("c.example", "c1")); ok || !handBack {
		t.Errorf("admit after close = %v, hand back %v; want it handed back", ok, handBack)
	}
}
