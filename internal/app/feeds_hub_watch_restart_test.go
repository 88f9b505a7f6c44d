package app

import (
	"context"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/syndic-network/syndic/feeds"
	"github.com/syndic-network/syndic/internal/testenv"
)

// watchedCallbacks returns the sorted callbacks that w lists.
func watchedCallbacks(t *testing.T, w *watchedSubscriptions) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
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

// testSubscription returns a subscription to the fixture's only topic
// with the given callback, valid for an hour.
func testSubscription(callback string) feeds.Subscription {
	return feeds.Subscription{
		Topic:    "https://hub.example.org/feeds/all.atom",
		Callback: callback, Expires: time.Now().Add(time.Hour),
	}
}

// TestWatchedStoreFollowsAcrossServerRestart restarts nats-server under
// a watched copy of an empty bucket, then stores and deletes a
// subscription from another store, as a feed server would after the
// restart, and waits for the copy to show both.
func TestWatchedStoreFollowsAcrossServerRestart(t *testing.T) {
	ns := testenv.NATS(t)
	f := newHubFixtureAt(t, ns.URL)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w, err := watchSubscriptions(ctx, f.store.kv, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatalf("watching: %v", err)
	}
	if got := watchedCallbacks(t, w); len(got) != 0 {
		t.Fatalf("list of an empty bucket = %q, want none", got)
	}

	ns.Restart(t)
	sub := testSubscription("https://r.example/after-restart")
	waitFor(t, 10*time.Second, "a put after the restart", func() bool {
		pctx, pcancel := context.WithTimeout(ctx, time.Second)
		defer pcancel()
		return f.store.Put(pctx, sub) == nil
	})
	want := []string{sub.Callback}
	waitFor(t, 30*time.Second, "the copy to show a put after the restart", func() bool {
		return slices.Equal(watchedCallbacks(t, w), want)
	})
	if err := f.store.Delete(ctx, sub.Key()); err != nil {
		t.Fatalf("deleting: %v", err)
	}
	waitFor(t, 30*time.Second, "the copy to drop a delete after the restart", func() bool {
		return len(watchedCallbacks(t, w)) == 0
	})
}
