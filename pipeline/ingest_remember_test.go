package pipeline_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/syndic-network/syndic/internal/store"
	"github.com/syndic-network/syndic/pipeline"
)

// TestRevertAfterMemoEviction updates an item whose seen key the cache
// bucket contains, lets the owner's memo drop the update's seen value and
// offers the first text again. The bucket must not still return the
// first text's hash, or the revert counts as a duplicate.
func TestRevertAfterMemoEviction(t *testing.T) {
	env := newIngestEnv(t, "embedded")
	local := store.NewLocal(env.newRC(), store.LocalOptions{
		ReservePrefix: pipeline.ReserveKeyPrefix,
		SeenPrefix:    pipeline.SeenKeyPrefix,
		SeenMemo:      1,
	})
	g := env.ingester(local, nil)
	hash := func(n int) string { return fmt.Sprintf("%064x", n) }
	id := fmt.Sprintf("%032x", 0xe1)
	// evict offers two new items, so the memo of two generations of one
	// key each keeps neither earlier key.
	next := 0xf0
	evict := func() {
		t.Helper()
		for range 2 {
			next++
			mustIngest(t, g, testItem(fmt.Sprintf("%032x", next), hash(next)), pipeline.ResultCreated)
		}
	}

	mustIngest(t, g, testItem(id, hash(1)), pipeline.ResultCreated)
	evict()
	// The memo no longer contains the item, so the index read makes it a
	// duplicate and the ingester writes its seen key to the bucket.
	mustIngest(t, g, testItem(id, hash(1)), pipeline.ResultDuplicate)
	if _, found, err := local.Get(context.Background(), pipeline.SeenKeyPrefix+id); err != nil || !found {
		t.Fatalf("seen key after the duplicate: found %t, %v; want found", found, err)
	}
	mustIngest(t, g, testItem(id, hash(2)), pipeline.ResultUpdated)
	evict()
	mustIngest(t, g, testItem(id, hash(1)), pipeline.ResultUpdated)
}
