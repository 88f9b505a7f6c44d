package app

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/syndic-network/syndic/feeds"
	"github.com/syndic-network/syndic/internal/testenv"
)

// TestFanoutCreatesNoConsumers counts the consumers created on
// the subscriptions bucket while the fan-out handles 100 items. Listing
// the bucket's keys once per item created one consumer each time.
func TestFanoutCreatesNoConsumers(t *testing.T) {
	url := testenv.NATS(t).URL
	f := newHubFixtureAt(t, url)
	sub := newHubSubscriber(t)
	f.subscribe(t, sub.srv.URL)

	var creates atomic.Int64
	spy := testenv.Conn(t, url)
	s, err := spy.Subscribe("$JS.API.CONSUMER.>", func(m *nats.Msg) {
		if strings.Contains(m.Subject, ".CREATE.KV_TEST_WEBSUB") {
			creates.Add(1)
		}
	})
	if err != nil {
		t.Fatalf("subscribing to the JetStream API: %v", err)
	}
	t.Cleanup(func() { _ = s.Unsubscribe() })
	if err := spy.Flush(); err != nil {
		t.Fatalf("flushing: %v", err)
	}

	f.startServer(t, f.newHub(t, true))
	for i := range 100 {
		f.publishItem(t, fmt.Sprintf("i%d", i))
	}
	waitFor(t, 20*time.Second, "100 deliveries", func() bool { return sub.postCount() >= 100 })
	f.waitDrained(t)
	if err := spy.Flush(); err != nil {
		t.Fatalf("flushing: %v", err)
	}
	// One watch for the hub's copy of the bucket, and slack for a
	// watch the client recreates after a missed heartbeat.
	if n := creates.Load(); n > 3 {
		t.Errorf("consumers created on the subscriptions bucket = %d for 100 items, want at most 3", n)
	}
	if n := sub.postCount(); n != 100 {
		t.Errorf("deliveries = %d, want 100", n)
	}
}

// TestWatchedStoreFollowsWriters checks that the copy follows what
// another process stores and deletes, and shows its own writes at once.
func TestWatchedStoreFollowsWriters(t *testing.T) {
	f := newHubFixture(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	early := feeds.Subscription{Topic: "https://hub.example.org/feeds/all.atom", Callback: "https://r.example/early", Expires: time.Now().Add(time.Hour)}
	if err := f.store.Put(ctx, early); err != nil {
		t.Fatalf("storing: %v", err)
	}
	w, err := watchSubscriptions(ctx, f.store.kv, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatalf("watching: %v", err)
	}
	callbacks := func() []string {
		subs, err := w.List(ctx)
		if err != nil {
			t.Fatalf("listing: %v", err)
		}
		var out []string
		for _, s := range subs {
			out = append(out, s.Callback)
		}
		slices.Sort(out)
		return out
	}
	if got := callbacks(); !slices.Equal(got, []string{early.Callback}) {
		t.Fatalf("first list = %q, want the subscription stored before the watch", got)
	}

	other := early
	other.Callback = "https://r.example/other"
	if err := f.store.Put(ctx, other); err != nil {
		t.Fatalf("storing: %v", err)
	}
	waitFor(t, 5*time.Second, "another writer's subscription", func() bool { return len(callbacks()) == 2 })
	if err := f.store.Delete(ctx, early.Key()); err != nil {
		t.Fatalf("deleting: %v", err)
	}
	waitFor(t, 5*time.Second, "another writer's delete", func() bool {
		return slices.Equal(callbacks(), []string{other.Callback})
	})

	own := early
	own.Callback = "https://r.example/own"
	if err := w.Put(ctx, own); err != nil {
		t.Fatalf("storing: %v", err)
	}
	if got := callbacks(); !slices.Equal(got, []string{other.Callback, own.Callback}) {
		t.Errorf("list right after its own put = %q", got)
	}
	if err := w.Delete(ctx, own.Key()); err != nil {
		t.Fatalf("deleting: %v", err)
	}
	if got := callbacks(); !slices.Equal(got, []string{other.Callback}) {
		t.Errorf("list right after its own delete = %q", got)
	}
	// The watch's entries of the put and delete above arrive after them
	// and must leave the copy as it is. The watch delivers in order, so
	// once a later marker shows, it has delivered them.
	marker := early
	marker.Callback = "https://r.example/marker"
	if err := f.store.Put(ctx, marker); err != nil {
		t.Fatalf("storing: %v", err)
	}
	waitFor(t, 5*time.Second, "the marker", func() bool { return slices.Contains(callbacks(), marker.Callback) })
	if got := callbacks(); !slices.Equal(got, []string{marker.Callback, other.Callback}) {
		t.Errorf("list after the watch caught up = %q", got)
	}
}

// TestWatchedStoreSkipsUndecodable checks that a value that is not
// a subscription is left out instead of failing every list.
func TestWatchedStoreSkipsUndecodable(t *testing.T) {
	f := newHubFixture(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if _, err := f.store.kv.Put(ctx, "broken", []byte("{not json")); err != nil {
		t.Fatalf("storing: %v", err)
	}
	good := feeds.Subscription{Topic: "https://hub.example.org/feeds/all.atom", Callback: "https://r.example/good", Expires: time.Now().Add(time.Hour)}
	if err := f.store.Put(ctx, good); err != nil {
		t.Fatalf("storing: %v", err)
	}
	var logs lockedBuffer
	w, err := watchSubscriptions(ctx, f.store.kv, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatalf("watching: %v", err)
	}
	subs, err := w.List(ctx)
	if err != nil {
		t.Fatalf("listing: %v", err)
	}
	if len(subs) != 1 || subs[0].Callback != good.Callback {
		t.Errorf("list = %+v, want only the decodable subscription", subs)
	}
	if !strings.Contains(logs.String(), "key=broken") {
		t.Errorf("log = %q, want the undecodable key named", logs.String())
	}
}
