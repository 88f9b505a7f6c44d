package app

import (
	"context"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/syndic-network/syndic/feeds"
	"github.com/syndic-network/syndic/pipeline"
)

// staleCopy returns a watched store over f's bucket whose copy holds sub
// at revision rev and follows nothing, as a copy does while its watch
// lags: normally milliseconds, and about ten seconds after nats-server
// restarts, until the client notices the missed heartbeats.
func staleCopy(f *hubFixture, sub feeds.Subscription, rev uint64) *watchedSubscriptions {
	s := &watchedSubscriptions{
		kvSubscriptions: f.store, log: slog.New(slog.DiscardHandler),
		loaded: make(chan struct{}),
		subs:   map[string]watchedSub{sub.Key(): {sub: sub, rev: rev}},
	}
	close(s.loaded)
	return s
}

// TestFanoutKeepsRenewedSubscription renews a subscription in the
// bucket after its old lease ended, while the fan-out's copy still
// holds the old lease. The fan-out takes the old lease as expired and
// deletes the key, which must not remove the renewal.
func TestFanoutKeepsRenewedSubscription(t *testing.T) {
	f := newHubFixture(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	old := testSubscription("https://r.example/renewing")
	old.Expires = time.Now().Add(-time.Minute)
	rev, err := f.store.put(ctx, old)
	if err != nil {
		t.Fatalf("storing: %v", err)
	}
	renewed := old
	renewed.Expires = time.Now().Add(time.Hour)
	if err := f.store.Put(ctx, renewed); err != nil {
		t.Fatalf("renewing: %v", err)
	}

	hub, err := feeds.NewHub(feeds.HubOptions{
		Store: staleCopy(f, old, rev), Client: http.DefaultClient,
		BaseURL:  "https://hub.example.org",
		Channels: []feeds.Channel{{ID: "all", Title: "Everything"}},
		Meta:     feeds.HubMeta{TagAuthority: "hub.example.org,2026-12-04"},
		Logger:   slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatalf("creating hub: %v", err)
	}
	t.Cleanup(hub.Close)
	ev := pipeline.Event{Version: pipeline.EventVersion, Kind: pipeline.KindCreated, Revision: 1,
		Item: pipeline.Item{ID: "i1", Partner: "p", Feed: "f", Title: "Item", URL: "https://p.example/i1", Published: time.Now().UTC()}}
	if _, err := hub.Jobs(ctx, ev); err != nil {
		t.Fatalf("fanning out: %v", err)
	}

	got, err := f.store.Get(ctx, renewed.Key())
	if err != nil {
		t.Fatalf("reading the renewed subscription: %v", err)
	}
	if !got.Expires.Equal(renewed.Expires) {
		t.Errorf("subscription expires %s, want the renewal's %s", got.Expires, renewed.Expires)
	}
}
