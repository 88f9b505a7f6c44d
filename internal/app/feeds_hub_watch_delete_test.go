package app

import (
	"context"
	"testing"
	"time"
)

// TestWatchedStoreOwnDeleteStays deletes a subscription that the copy
// got from its own put, then applies the watch's late entry of that put,
// which must not bring the subscription back.
func TestWatchedStoreOwnDeleteStays(t *testing.T) {
	f := newHubFixture(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	w := staleCopy(f, testSubscription("https://r.example/other"), 0)
	sub := testSubscription("https://r.example/own")
	if err := w.Put(ctx, sub); err != nil {
		t.Fatalf("storing: %v", err)
	}
	entry, err := f.store.kv.Get(ctx, sub.Key())
	if err != nil {
		t.Fatalf("reading the put's entry: %v", err)
	}
	if err := w.Delete(ctx, sub.Key()); err != nil {
		t.Fatalf("deleting: %v", err)
	}
	// The watch applies an entry this way.
	w.set(entry.Key(), w.decode(entry))
	if got := watchedCallbacks(t, w); len(got) != 1 || got[0] != "https://r.example/other" {
		t.Errorf("list after the put's late entry = %q, want only the other subscription", got)
	}
}

// TestWatchedStoreDeleteDuringSnapshotStays deletes a subscription while
// a new watch is still delivering its snapshot, which holds the value
// that the delete removed, and checks that the snapshot does not bring
// it back.
func TestWatchedStoreDeleteDuringSnapshotStays(t *testing.T) {
	f := newHubFixture(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	sub := testSubscription("https://r.example/own")
	rev, err := f.store.put(ctx, sub)
	if err != nil {
		t.Fatalf("storing: %v", err)
	}
	w := staleCopy(f, sub, rev)
	if err := w.Delete(ctx, sub.Key()); err != nil {
		t.Fatalf("deleting: %v", err)
	}
	w.replace(map[string]watchedSub{sub.Key(): {sub: sub, rev: rev}}, true)
	if got := watchedCallbacks(t, w); len(got) != 0 {
		t.Errorf("list after the snapshot = %q, want none", got)
	}
}
