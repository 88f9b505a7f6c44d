package app

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/syndic-network/syndic/feeds"
	"github.com/syndic-network/syndic/internal/broker"
	"github.com/syndic-network/syndic/internal/testenv"
	"github.com/syndic-network/syndic/pipeline"
	"github.com/syndic-network/syndic/workers"
)

// hubSubscriber is a WebSub callback that echoes challenges and answers
// deliveries with the next status of statuses, then 204.
type hubSubscriber struct {
	srv      *httptest.Server
	mu       sync.Mutex
	statuses []int
	posts    int
}

func newHubSubscriber(t *testing.T, statuses ...int) *hubSubscriber {
	t.Helper()
	s := &hubSubscriber{statuses: statuses}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet {
			_, _ = io.WriteString(w, r.URL.Query().Get("hub.challenge"))
			return
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		s.posts++
		status := http.StatusNoContent
		if len(s.statuses) > 0 {
			status, s.statuses = s.statuses[0], s.statuses[1:]
		}
		w.WriteHeader(status)
	}))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *hubSubscriber) postCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.posts
}

type hubFixture struct {
	js    jetstream.JetStream
	items jetstream.Stream
	store kvSubscriptions
	cfg   hubConfig
	// deliverTimeout is the HubOptions.DeliverTimeout of newHub.
	deliverTimeout time.Duration
}

func newHubFixture(t *testing.T) *hubFixture {
	t.Helper()
	return newHubFixtureAt(t, testenv.NATS(t).URL)
}

// newHubFixtureAt is newHubFixture on the NATS server at url.
func newHubFixtureAt(t *testing.T, url string) *hubFixture {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	js, err := jetstream.New(testenv.Conn(t, url))
	if err != nil {
		t.Fatalf("opening jetstream: %v", err)
	}
	items, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "ITEMS", Subjects: []string{"items.>"}})
	if err != nil {
		t.Fatalf("creating item stream: %v", err)
	}
	kv, err := broker.EnsureKV(ctx, js, "TEST_WEBSUB", 1, 0, false)
	if err != nil {
		t.Fatalf("creating bucket: %v", err)
	}
	return &hubFixture{js: js, items: items, store: kvSubscriptions{kv: kv}, cfg: hubConfig{
		ItemSubjects: "items.>", Stream: "ITEMS_WEBSUB", Subject: "items_websub.deliveries",
		Backoff: []time.Duration{50 * time.Millisecond, 50 * time.Millisecond},
	}}
}

// newHub returns a delivery hub with its own watched copy of the
// bucket, as a digest worker has; f.store stands for the feed servers.
func (f *hubFixture) newHub(t *testing.T, allowPrivate bool) *feeds.Hub {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	store, err := watchSubscriptions(ctx, f.store.kv, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatalf("watching subscriptions: %v", err)
	}
	client := &http.Client{Transport: &http.Transport{DialContext: workers.NewGuardedDialer(allowPrivate).DialContext}}
	hub, err := feeds.NewHub(feeds.HubOptions{
		Store: store, Client: client, BaseURL: "https://hub.example.org",
		Channels:       []feeds.Channel{{ID: "all", Title: "Everything"}},
		Meta:           feeds.HubMeta{TagAuthority: "hub.example.org,2026-12-04"},
		Logger:         slog.New(slog.DiscardHandler),
		DeliverTimeout: f.deliverTimeout,
	})
	if err != nil {
		t.Fatalf("creating hub: %v", err)
	}
	t.Cleanup(hub.Close)
	return hub
}

// startServer runs the hub workers of one digest worker until the test ends.
func (f *hubFixture) startServer(t *testing.T, hub *feeds.Hub) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	w, err := startHubWorkers(ctx, f.js, f.items, hub, f.cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		cancel()
		t.Fatalf("starting hub workers: %v", err)
	}
	t.Cleanup(func() { cancel(); w.wait() })
}

func (f *hubFixture) subscribe(t *testing.T, callback string) {
	t.Helper()
	sub := feeds.Subscription{Topic: "https://hub.example.org/feeds/all.atom", Callback: callback, Secret: "k", Expires: time.Now().Add(time.Hour)}
	if err := f.store.Put(context.Background(), sub); err != nil {
		t.Fatalf("storing subscription: %v", err)
	}
}

func (f *hubFixture) publishItem(t *testing.T, id string) {
	t.Helper()
	ev := pipeline.Event{Version: pipeline.EventVersion, Kind: pipeline.KindCreated, Revision: 1,
		Item: pipeline.Item{ID: id, Partner: "p", Feed: "f", Title: "Item " + id, URL: "https://p.example/" + id, Published: time.Now().UTC()}}
	data, err := json.Marshal(ev)
	if err != nil {
		t.Fatalf("encoding event: %v", err)
	}
	if _, err := f.js.Publish(context.Background(), "items.p", data); err != nil {
		t.Fatalf("publishing event: %v", err)
	}
}

// waitDrained waits until the deliveries consumer has nothing pending or
// unacknowledged.
func (f *hubFixture) waitDrained(t *testing.T) {
	t.Helper()
	waitFor(t, 10*time.Second, "drained deliveries", func() bool {
		s, err := f.js.Stream(context.Background(), f.cfg.Stream)
		if err != nil {
			return false
		}
		c, err := s.Consumer(context.Background(), hubDeliverConsumer)
		if err != nil {
			return false
		}
		info, err := c.Info(context.Background())
		return err == nil && info.NumPending == 0 && info.NumAckPending == 0
	})
}

func TestHubDeliversOnceAcrossServers(t *testing.T) {
	f := newHubFixture(t)
	sub := newHubSubscriber(t)
	f.subscribe(t, sub.srv.URL)
	f.startServer(t, f.newHub(t, true))
	f.startServer(t, f.newHub(t, true))

	for _, id := range []string{"a", "b", "c"} {
		f.publishItem(t, id)
	}
	waitFor(t, 10*time.Second, "three deliveries", func() bool { return sub.postCount() >= 3 })
	f.waitDrained(t)
	if n := sub.postCount(); n != 3 {
		t.Errorf("deliveries = %d, want 3 (one per item across both servers)", n)
	}
}

func TestHubRetriesFailedDelivery(t *testing.T) {
	f := newHubFixture(t)
	sub := newHubSubscriber(t, http.StatusInternalServerError, http.StatusServiceUnavailable)
	f.subscribe(t, sub.srv.URL)
	f.startServer(t, f.newHub(t, true))

	f.publishItem(t, "a")
	waitFor(t, 10*time.Second, "the third attempt", func() bool { return sub.postCount() >= 3 })
	f.waitDrained(t)
	if n := sub.postCount(); n != 3 {
		t.Errorf("attempts = %d, want 3 (two failures, then success)", n)
	}
}

func TestHubGivesUpAfterBackoff(t *testing.T) {
	f := newHubFixture(t)
	sub := newHubSubscriber(t, 500, 500, 500, 500, 500)
	f.subscribe(t, sub.srv.URL)
	f.startServer(t, f.newHub(t, true))

	f.publishItem(t, "a")
	waitFor(t, 10*time.Second, "the third attempt", func() bool { return sub.postCount() >= 3 })
	f.waitDrained(t)
	if n := sub.postCount(); n != 3 {
		t.Errorf("attempts = %d, want 3 (one plus two retries)", n)
	}
	subs, err := f.store.List(context.Background())
	if err != nil {
		t.Fatalf("listing subscriptions: %v", err)
	}
	if len(subs) != 0 {
		t.Errorf("subscriptions after the last retry failed = %d, want 0 (ended)", len(subs))
	}
}

// lockedBuffer is a log destination that tests can read while the hub
// writes to it.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestHubCallbackGoesThroughGuard(t *testing.T) {
	tests := []struct {
		name         string
		allowPrivate bool
		wantStored   int
	}{
		{"loopback callback allowed when private networks are", true, 1},
		{"loopback callback refused by the guard", false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newHubFixture(t)
			sub := newHubSubscriber(t)
			var logs lockedBuffer
			client := &http.Client{Transport: &http.Transport{DialContext: workers.NewGuardedDialer(tt.allowPrivate).DialContext}}
			hub, err := feeds.NewHub(feeds.HubOptions{
				Store: f.store, Client: client, BaseURL: "https://hub.example.org",
				Channels: []feeds.Channel{{ID: "all", Title: "Everything"}},
				Logger:   slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
			})
			if err != nil {
				t.Fatalf("creating hub: %v", err)
			}
			defer hub.Close()
			form := url.Values{"hub.mode": {"subscribe"}, "hub.topic": {"https://hub.example.org/feeds/all.atom"}, "hub.callback": {sub.srv.URL}}
			req := httptest.NewRequest(http.MethodPost, "/hub", strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			rec := httptest.NewRecorder()
			hub.ServeHTTP(rec, req)
			if rec.Code != http.StatusAccepted {
				t.Fatalf("status = %d, want 202", rec.Code)
			}
			waitFor(t, 10*time.Second, "the verification outcome", func() bool {
				out := logs.String()
				return strings.Contains(out, "subscription verified") || strings.Contains(out, "not verified")
			})
			if !tt.allowPrivate && !strings.Contains(logs.String(), workers.ErrPrivateAddress.Error()) {
				t.Errorf("log = %q, want the guard's refusal", logs.String())
			}
			subs, err := f.store.List(context.Background())
			if err != nil {
				t.Fatalf("listing: %v", err)
			}
			if len(subs) != tt.wantStored {
				t.Errorf("subscriptions = %d, want %d", len(subs), tt.wantStored)
			}
		})
	}
}

func TestKVSubscriptionsRoundTrip(t *testing.T) {
	f := newHubFixture(t)
	ctx := context.Background()
	sub := feeds.Subscription{Topic: "https://hub.example.org/feeds/all.rss", Callback: "https://r.example/cb", Secret: "x", Expires: time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)}
	if err := f.store.Put(ctx, sub); err != nil {
		t.Fatalf("putting: %v", err)
	}
	got, err := f.store.Get(ctx, sub.Key())
	if err != nil {
		t.Fatalf("getting: %v", err)
	}
	if got != sub {
		t.Errorf("got %+v, want %+v", got, sub)
	}
	if err := f.store.Delete(ctx, sub.Key()); err != nil {
		t.Fatalf("deleting: %v", err)
	}
	if _, err := f.store.Get(ctx, sub.Key()); !errors.Is(err, feeds.ErrSubscriptionNotFound) {
		t.Errorf("get after delete = %v, want ErrSubscriptionNotFound", err)
	}
	if err := f.store.Delete(ctx, sub.Key()); err != nil {
		t.Errorf("deleting twice = %v, want nil", err)
	}
}
