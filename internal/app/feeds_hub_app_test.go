package app

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/syndic-network/syndic/feeds"
	"github.com/syndic-network/syndic/internal/testenv"
	"github.com/syndic-network/syndic/pipeline"
)

func TestFeedHandlerRunsHub(t *testing.T) {
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

	var mu sync.Mutex
	var bodies [][]byte
	var signatures []string
	sub := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet {
			_, _ = io.WriteString(w, r.URL.Query().Get("hub.challenge"))
			return
		}
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		bodies = append(bodies, body)
		signatures = append(signatures, r.Header.Get("X-Hub-Signature"))
		mu.Unlock()
	}))
	t.Cleanup(sub.Close)

	form := url.Values{"hub.mode": {"subscribe"}, "hub.topic": {"https://hub.example.org/feeds/all.atom"},
		"hub.callback": {sub.URL}, "hub.secret": {"topsecret"}}
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

	ev := pipeline.Event{Version: pipeline.EventVersion, Kind: pipeline.KindCreated, Revision: 1,
		Item: pipeline.Item{ID: "farm/f1/news", Partner: "farm", Feed: "f1", Title: "Pushed news",
			URL: "https://farm.example/news", Published: time.Now().UTC()}}
	data, err := json.Marshal(ev)
	if err != nil {
		t.Fatalf("encoding event: %v", err)
	}
	if _, err := a.JS.Publish(ctx, cfg.NATS.SubjectPrefix+".farm", data); err != nil {
		t.Fatalf("publishing event: %v", err)
	}
	waitFor(t, 10*time.Second, "the delivery", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(bodies) > 0
	})
	mu.Lock()
	defer mu.Unlock()
	if !strings.Contains(string(bodies[0]), "Pushed news") {
		t.Errorf("delivery lacks the new item:\n%s", bodies[0])
	}
	if signatures[0] != feeds.Signature("topsecret", bodies[0]) {
		t.Errorf("X-Hub-Signature = %q, want the body's HMAC", signatures[0])
	}
}
