package app

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/syndic-network/syndic/pipeline"
)

// TestEmbeddedURLProcessSharesOwnerReservations opens a second process
// that reaches the owner's embedded server through nats.url, as one
// configured with nats.url_file pointing at the data directory's URL file
// does. While it holds an item's reservation, between its dedup check and
// its index write, the owner must not publish the same item: both would
// send a "created" event for it.
func TestEmbeddedURLProcessSharesOwnerReservations(t *testing.T) {
	cfg := repairConfig(t)
	ctx := testContext(t, time.Minute)
	owner := repairOpen(ctx, t, cfg)
	t.Cleanup(func() { owner.Close(context.Background()) })
	byURL := *cfg
	byURL.NATS.URL = owner.embedded.URL()
	other := openApp(t, &byURL)

	it := repairItem(fmt.Sprintf("%032x", 1), fmt.Sprintf("%064x", 1))
	won, err := other.IngestCache.Reserve(ctx, pipeline.ReserveKeyPrefix+it.ID, it.ContentHash, time.Minute)
	if err != nil || !won {
		t.Fatalf("second process's Reserve = %t, %v; want true", won, err)
	}

	result, err := owner.Ingester.Ingest(ctx, it)
	if result != pipeline.ResultRetry || !errors.Is(err, pipeline.ErrReserved) {
		t.Errorf("owner's Ingest of an item the second process holds = %v, %v; want retry, ErrReserved", result, err)
	}
}
