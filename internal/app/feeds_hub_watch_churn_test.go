package app

import (
	"context"
	"fmt"
	"log/slog"
	"testing"
	"time"
)

// TestWatchedStoreForgetsDeletedKeys stores and deletes many
// subscriptions from another store, as a client subscribing and
// unsubscribing in a loop does, and checks that the copy does not keep
// a mark for each deleted key for ever.
func TestWatchedStoreForgetsDeletedKeys(t *testing.T) {
	f := newHubFixture(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w, err := watchSubscriptionsEvery(ctx, f.store.kv, slog.New(slog.DiscardHandler), 50*time.Millisecond)
	if err != nil {
		t.Fatalf("watching: %v", err)
	}
	const churned = 100
	for n := range churned {
		sub := testSubscription(fmt.Sprint("https://r.example/churn", n))
		if err := f.store.Put(ctx, sub); err != nil {
			t.Fatalf("storing: %v", err)
		}
		if err := f.store.Delete(ctx, sub.Key()); err != nil {
			t.Fatalf("deleting: %v", err)
		}
	}
	copied := func() int {
		w.mu.RLock()
		defer w.mu.RUnlock()
		return len(w.subs)
	}
	waitFor(t, 5*time.Second, "the copy to forget the deleted keys", func() bool {
		return len(watchedCallbacks(t, w)) == 0 && copied() == 0
	})
}
