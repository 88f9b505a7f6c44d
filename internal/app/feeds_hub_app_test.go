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
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/syndic-network/syndic/feeds"
	"github.com/syndic-network/syndic/internal/config"
	"github.com/syndic-network/syndic/internal/testenv"
	"github.com/syndic-network/syndic/pipeline"
)

// TestHubSubscribesOnServeDeliversOnDigest runs the hub split the way
// `syndic serve` and `syndic digest` run it: the feed handler takes the
// subscription and starts no delivery consumer, and RunHubDeliveries
// sends the new item to the subscriber.
func TestHubSubscribesOnServeDeliversOnDigest(t *testing.T) {
	cfg := testConfig(t, testenv.NATS(t).URL, "http://127.0.0.1:1", 1, time.Minute)
	cfg.HTTP.BaseURL = "https://hub.example.org"
	a := openApp(t, cfg)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	views, err := a.StartViews(ctx)
	if err != nil {
		t.Fatalf("starting views: %v", err)
	}
	t.Cleanup(views.Stop)
	h, err := a.FeedHandler(ctx, views)
	if err != nil {
		t.Fatalf("building the feed handler: %v", err)
	}

	feed := httptest.NewRecorder()
	h.ServeHTTP(feed, httptest.NewRequest(http.MethodGet, "/feeds/all.atom", nil))
	if links := strings.Join(feed.Header().Values("Link"), ", "); !strings.Contains(links, "<https://hub.example.org/hub>; rel=\"hub\"") {
		t.Errorf("feed Link header = %q, want the hub", links)
	}

	sub := newRecordingSubscriber(t)
	form := url.Values{"hub.mode": {"subscribe"}, "hub.topic": {"https://hub.example.org/feeds/all.atom"},
		"hub.callback": {sub.srv.URL}, "hub.secret": {"topsecret"}}
	req := httptest.NewRequest(http.MethodPost, "/hub", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusAccepted {
		t.Fatalf("subscribe status = %d, want 202: %s", rec.Code, rec.Body)
	}
	kv, err := a.JS.KeyValue(ctx, cfg.NATS.KVPrefix+"_WEBSUB")
	if err != nil {
		t.Fatalf("opening the WebSub bucket: %v", err)
	}
	waitFor(t, 10*time.Second, "the stored subscription", func() bool {
		keys, err := kv.ListKeys(ctx)
		if err != nil {
			return false
		}
		defer func() { _ = keys.Stop() }()
		for range keys.Keys() {
			return true
		}
		return false
	})
	if _, err := a.Stream.Consumer(ctx, hubFanoutConsumer); !errors.Is(err, jetstream.ErrConsumerNotFound) {
		t.Fatalf("feed handler left consumer %s (lookup error %v); deliveries belong to the digest workers", hubFanoutConsumer, err)
	}

	runHubDeliveries(t, ctx, a, nil, func() *config.Config { return cfg })
	publishHubEvent(t, a, "farm/f1/news", "Pushed news")
	body, signature := sub.first(t)
	if !strings.Contains(string(body), "Pushed news") {
		t.Errorf("delivery lacks the new item:\n%s", body)
	}
	if signature != feeds.Signature("topsecret", body) {
		t.Errorf("X-Hub-Signature = %q, want the body's HMAC", signature)
	}
}

// TestHubDeliveriesFollowReload checks that a reload adding a channel
// makes RunHubDeliveries deliver to that channel's subscribers.
func TestHubDeliveriesFollowReload(t *testing.T) {
	cfg := testConfig(t, testenv.NATS(t).URL, "http://127.0.0.1:1", 1, time.Minute)
	cfg.HTTP.BaseURL = "https://hub.example.org"
	a := openApp(t, cfg)
	logs := &lockedBuffer{}
	a.Log = slog.New(slog.NewTextHandler(logs, nil))
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	sub := newRecordingSubscriber(t)
	reloads := make(chan struct{}, 1)
	var current atomic.Pointer[config.Config]
	current.Store(cfg)
	runHubDeliveries(t, ctx, a, reloads, current.Load)
	kv, err := a.JS.KeyValue(ctx, cfg.NATS.KVPrefix+"_WEBSUB")
	if err != nil {
		t.Fatalf("opening the WebSub bucket: %v", err)
	}
	fresh := feeds.Subscription{Topic: "https://hub.example.org/feeds/fresh.atom", Callback: sub.srv.URL, Expires: time.Now().Add(time.Hour)}
	if err := (kvSubscriptions{kv: kv}).Put(ctx, fresh); err != nil {
		t.Fatalf("storing subscription: %v", err)
	}

	next := *cfg
	next.Channels = append(append([]config.Channel(nil), cfg.Channels...), config.Channel{ID: "fresh", Title: "Fresh", MaxItems: 10})
	current.Store(&next)
	reloads <- struct{}{}
	waitFor(t, 10*time.Second, "the restarted deliveries", func() bool {
		return strings.Contains(logs.String(), "WebSub deliveries restarted")
	})
	publishHubEvent(t, a, "farm/f1/fresh", "Fresh news")
	body, _ := sub.first(t)
	if !strings.Contains(string(body), "Fresh news") {
		t.Errorf("delivery lacks the new item:\n%s", body)
	}
}

// runHubDeliveries runs a.RunHubDeliveries until the test ends and waits
// until its fan-out consumer exists, so items published afterwards are
// delivered.
func runHubDeliveries(t *testing.T, ctx context.Context, a *App, reloads <-chan struct{}, current func() *config.Config) {
	t.Helper()
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := a.RunHubDeliveries(ctx, reloads, current); err != nil {
			t.Errorf("RunHubDeliveries returned error: %v", err)
		}
	}()
	t.Cleanup(func() { cancel(); <-done })
	waitFor(t, 10*time.Second, "the fan-out consumer", func() bool {
		_, err := a.Stream.Consumer(ctx, hubFanoutConsumer)
		return err == nil
	})
}

// recordingSubscriber is a WebSub subscriber that confirms every
// verification and records each delivery's body and signature.
type recordingSubscriber struct {
	srv        *httptest.Server
	mu         sync.Mutex
	bodies     [][]byte
	signatures []string
}

func newRecordingSubscriber(t *testing.T) *recordingSubscriber {
	t.Helper()
	s := &recordingSubscriber{}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet {
			_, _ = io.WriteString(w, r.URL.Query().Get("hub.challenge"))
			return
		}
		body, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		defer s.mu.Unlock()
		s.bodies = append(s.bodies, body)
		s.signatures = append(s.signatures, r.Header.Get("X-Hub-Signature"))
	}))
	t.Cleanup(s.srv.Close)
	return s
}

// first waits for the first delivery and returns its body and signature.
func (s *recordingSubscriber) first(t *testing.T) ([]byte, string) {
	t.Helper()
	waitFor(t, 10*time.Second, "the delivery", func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		return len(s.bodies) > 0
	})
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.bodies[0], s.signatures[0]
}

func publishHubEvent(t *testing.T, a *App, id, title string) {
	t.Helper()
	ev := pipeline.Event{Version: pipeline.EventVersion, Kind: pipeline.KindCreated, Revision: 1,
		Item: pipeline.Item{ID: id, Partner: "farm", Feed: "f1", Title: title,
			URL: "https://farm.example/" + id, Published: time.Now().UTC()}}
	data, err := json.Marshal(ev)
	if err != nil {
		t.Fatalf("encoding event: %v", err)
	}
	if _, err := a.JS.Publish(context.Background(), a.Config.NATS.SubjectPrefix+".farm", data); err != nil {
		t.Fatalf("publishing event: %v", err)
	}
}
