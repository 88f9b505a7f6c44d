package app

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/syndic-network/syndic/internal/store"
	"github.com/syndic-network/syndic/internal/testenv"
	"github.com/syndic-network/syndic/pipeline"
)

// TestOwnerAndOtherProcessIngestEachItemOnce ingests the same items from
// the owner of the embedded server and from a second process at the same
// time. The owner holds reservations in memory only, so without the
// second process asking it for them both would publish "created" events
// for the same items.
func TestOwnerAndOtherProcessIngestEachItemOnce(t *testing.T) {
	t.Parallel()
	cfg := repairConfig(t)
	ctx := testContext(t, time.Minute)
	owner := repairOpen(ctx, t, cfg)
	t.Cleanup(func() { owner.Close(context.Background()) })
	other := openApp(t, cfg)
	if _, ok := owner.IngestCache.(*store.Local); !ok {
		t.Fatalf("owner's ingest cache is %T, want *store.Local", owner.IngestCache)
	}
	if _, ok := other.IngestCache.(*store.Remote); !ok {
		t.Fatalf("second process's ingest cache is %T, want *store.Remote", other.IngestCache)
	}

	const items = 60
	var mu sync.Mutex
	created := map[string]int{}
	var wg sync.WaitGroup
	for round := range 3 {
		for _, a := range []*App{owner, other, owner, other} {
			wg.Go(func() {
				batch := make([]pipeline.Item, items)
				for i := range batch {
					batch[i] = *repairItem(fmt.Sprintf("%032x", i), fmt.Sprintf("%064x", i))
				}
				for i, o := range a.Ingester.IngestBatch(ctx, batch) {
					if o.Err != nil && !errors.Is(o.Err, pipeline.ErrReserved) {
						t.Errorf("round %d, item %d: %v", round, i, o.Err)
					}
					if o.Result == pipeline.ResultCreated {
						mu.Lock()
						created[batch[i].ID]++
						mu.Unlock()
					}
				}
			})
		}
	}
	wg.Wait()
	for id, n := range created {
		if n != 1 {
			t.Errorf("item %s created %d times, want once", id, n)
		}
	}
	if len(created) != items {
		t.Errorf("%d items created, want %d", len(created), items)
	}
	if n := streamEvents(ctx, t, owner); n != items {
		t.Errorf("stream contains %d events, want %d", n, items)
	}

	// The owner remembers the seen keys the other process wrote, so its
	// next look at the same items reads none from the bucket.
	local := owner.IngestCache.(*store.Local)
	before := local.Stats()
	batch := []pipeline.Item{*repairItem(fmt.Sprintf("%032x", 7), fmt.Sprintf("%064x", 7))}
	if o := owner.Ingester.IngestBatch(ctx, batch)[0]; o.Result != pipeline.ResultDuplicate {
		t.Errorf("item 7 offered again: %v, %v; want a duplicate", o.Result, o.Err)
	}
	if s := local.Stats(); s.MemoHits != before.MemoHits+1 || s.MemoMisses != before.MemoMisses {
		t.Errorf("memo stats went from %+v to %+v, want one more hit", before, s)
	}
}

// TestExternalCacheKeepsSharedReservations checks that a process on an
// external NATS server, where no process serves an embedded server's
// reservations, keeps reservations in the shared bucket, where other
// ingest processes find them.
func TestExternalCacheKeepsSharedReservations(t *testing.T) {
	ns := testenv.NATS(t)
	ext := openApp(t, testConfig(t, ns.URL, "http://127.0.0.1:1", 1, time.Minute))
	if ext.IngestCache != ext.Cache {
		t.Errorf("ingest cache with nats.url set is %T, want the shared cache", ext.IngestCache)
	}
}

// TestOwnerRestartKeepsItemsKnown restarts the owner, whose seen values
// for new items stayed in its memory. The index still contains the
// items, so offering them again publishes nothing. Their index entries
// are young, so the owner keeps their seen values in memory again instead
// of writing their keys, and a third offer reads only that memory.
func TestOwnerRestartKeepsItemsKnown(t *testing.T) {
	t.Parallel()
	cfg := repairConfig(t)
	ctx := testContext(t, time.Minute)
	batch := make([]pipeline.Item, 5)
	for i := range batch {
		batch[i] = *repairItem(fmt.Sprintf("%032x", i+100), fmt.Sprintf("%064x", i+100))
	}
	owner := repairOpen(ctx, t, cfg)
	for i, o := range owner.Ingester.IngestBatch(ctx, batch) {
		if o.Result != pipeline.ResultCreated {
			t.Fatalf("item %d: %v, %v; want created", i, o.Result, o.Err)
		}
	}
	for _, it := range batch {
		if _, found, err := owner.Cache.Get(ctx, pipeline.SeenKeyPrefix+it.ID); err != nil || found {
			t.Errorf("seen key of new item %s in the bucket: %t, %v; want only in memory", it.ID, found, err)
		}
	}
	owner.Close(ctx)

	owner = repairOpen(ctx, t, cfg)
	t.Cleanup(func() { owner.Close(context.Background()) })
	for i, o := range owner.Ingester.IngestBatch(ctx, batch) {
		if o.Result != pipeline.ResultDuplicate {
			t.Errorf("item %d after the restart: %v, %v; want a duplicate", i, o.Result, o.Err)
		}
	}
	for _, it := range batch {
		if _, found, err := owner.Cache.Get(ctx, pipeline.SeenKeyPrefix+it.ID); err != nil || found {
			t.Errorf("seen key of known item %s after the restart: %t, %v; want only in memory", it.ID, found, err)
		}
	}
	local := owner.IngestCache.(*store.Local)
	before := local.Stats()
	for i, o := range owner.Ingester.IngestBatch(ctx, batch) {
		if o.Result != pipeline.ResultDuplicate {
			t.Errorf("item %d offered a third time: %v, %v; want a duplicate", i, o.Result, o.Err)
		}
	}
	if s := local.Stats(); s.MemoHits != before.MemoHits+len(batch) || s.MemoMisses != before.MemoMisses {
		t.Errorf("memo stats went from %+v to %+v, want %d more hits", before, s, len(batch))
	}
	if n := streamEvents(ctx, t, owner); n != uint64(len(batch)) {
		t.Errorf("stream contains %d events, want %d", n, len(batch))
	}
}

// TestEmbeddedURLProcessUsesOwner checks that a process whose nats.url
// names the embedded server reserves through its owner.
func TestEmbeddedURLProcessUsesOwner(t *testing.T) {
	cfg := embeddedConfig(t)
	owner := openOwner(t, cfg)
	t.Cleanup(func() { owner.Close(context.Background()) })
	byURL := *cfg
	byURL.NATS.URL = owner.embedded.URL()
	other := openApp(t, &byURL)
	if _, ok := other.IngestCache.(*store.Remote); !ok {
		t.Errorf("ingest cache with nats.url naming the embedded server is %T, want *store.Remote", other.IngestCache)
	}
}
