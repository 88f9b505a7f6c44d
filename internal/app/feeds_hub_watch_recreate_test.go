package app

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/syndic-network/syndic/internal/broker"
)

// TestWatchedStoreFollowsRecreatedBucket deletes the bucket under a
// watched copy and creates it again, as an operator wiping the bucket
// or restoring a backup into a new nats-server does. Revisions start
// again from 1, and the copy must show what the new bucket holds.
func TestWatchedStoreFollowsRecreatedBucket(t *testing.T) {
	f := newHubFixture(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	for n := range 3 {
		if err := f.store.Put(ctx, testSubscription(fmt.Sprint("https://r.example/old", n))); err != nil {
			t.Fatalf("storing: %v", err)
		}
	}
	w, err := watchSubscriptionsEvery(ctx, f.store.kv, slog.New(slog.DiscardHandler), 100*time.Millisecond)
	if err != nil {
		t.Fatalf("watching: %v", err)
	}
	if got := watchedCallbacks(t, w); len(got) != 3 {
		t.Fatalf("list = %q, want the 3 stored subscriptions", got)
	}

	if err := f.js.DeleteKeyValue(ctx, "TEST_WEBSUB"); err != nil {
		t.Fatalf("deleting the bucket: %v", err)
	}
	kv, err := broker.EnsureKV(ctx, f.js, "TEST_WEBSUB", 1, 0, false)
	if err != nil {
		t.Fatalf("creating the bucket again: %v", err)
	}
	sub := testSubscription("https://r.example/new")
	if err := (kvSubscriptions{kv: kv}).Put(ctx, sub); err != nil {
		t.Fatalf("storing: %v", err)
	}
	want := []string{sub.Callback}
	waitFor(t, 10*time.Second, "the copy to show the new bucket", func() bool {
		return slices.Equal(watchedCallbacks(t, w), want)
	})
}
