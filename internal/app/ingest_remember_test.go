package app

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/syndic-network/syndic/pipeline"
)

// ingestOne offers it to a's ingester and fails the test unless the
// result is want.
func ingestOne(ctx context.Context, t *testing.T, a *App, step string, it *pipeline.Item, want pipeline.Result) {
	t.Helper()
	got, err := a.Ingester.Ingest(ctx, it)
	if got != want {
		t.Errorf("%s: result %v, %v; want %v", step, got, err, want)
	}
}

// streamEvents returns the number of events in a's stream.
func streamEvents(ctx context.Context, t *testing.T, a *App) uint64 {
	t.Helper()
	info, err := a.Stream.Info(ctx)
	if err != nil {
		t.Fatalf("stream info: %v", err)
	}
	return info.State.Msgs
}

// TestOwnerRestartPublishesRevert updates an item whose seen key the
// bucket already contains, restarts the owner and offers the first text
// again. The update's seen value stayed in the owner's memory only, so
// after the restart the bucket returns the first text's hash, and the
// revert counts as a duplicate although the index and the stream contain
// the update. With the seen value written to the bucket, as before, the
// revert is published.
func TestOwnerRestartPublishesRevert(t *testing.T) {
	t.Parallel()
	cfg := repairConfig(t)
	ctx := testContext(t, time.Minute)
	id := fmt.Sprintf("%032x", 0xa1)
	first := repairItem(id, fmt.Sprintf("%064x", 0xa1))
	edit := repairItem(id, fmt.Sprintf("%064x", 0xa2))

	owner := repairOpen(ctx, t, cfg)
	ingestOne(ctx, t, owner, "first text", first, pipeline.ResultCreated)
	owner.Close(ctx)

	// After a restart the memo is empty, so the index read makes the
	// first text a duplicate and the ingester writes its seen key.
	owner = repairOpen(ctx, t, cfg)
	ingestOne(ctx, t, owner, "first text after a restart", first, pipeline.ResultDuplicate)
	ingestOne(ctx, t, owner, "edit", edit, pipeline.ResultUpdated)
	owner.Close(ctx)

	owner = repairOpen(ctx, t, cfg)
	t.Cleanup(func() { owner.Close(context.Background()) })
	ingestOne(ctx, t, owner, "revert to the first text", first, pipeline.ResultUpdated)
	if n := streamEvents(ctx, t, owner); n != 3 {
		t.Errorf("stream contains %d events, want 3 (created, edit, revert)", n)
	}
}

// TestOwnerRestartPublishesRevertBatch is TestOwnerRestartPublishesRevert
// through IngestBatch, which the poller uses.
func TestOwnerRestartPublishesRevertBatch(t *testing.T) {
	t.Parallel()
	cfg := repairConfig(t)
	ctx := testContext(t, time.Minute)
	id := fmt.Sprintf("%032x", 0xb1)
	first := repairItem(id, fmt.Sprintf("%064x", 0xb1))
	edit := repairItem(id, fmt.Sprintf("%064x", 0xb2))
	batch := func(a *App, step string, it *pipeline.Item, want pipeline.Result) {
		t.Helper()
		o := a.Ingester.IngestBatch(ctx, []pipeline.Item{*it})[0]
		if o.Result != want {
			t.Errorf("%s: result %v, %v; want %v", step, o.Result, o.Err, want)
		}
	}

	owner := repairOpen(ctx, t, cfg)
	batch(owner, "first text", first, pipeline.ResultCreated)
	owner.Close(ctx)
	owner = repairOpen(ctx, t, cfg)
	batch(owner, "first text after a restart", first, pipeline.ResultDuplicate)
	batch(owner, "edit", edit, pipeline.ResultUpdated)
	owner.Close(ctx)

	owner = repairOpen(ctx, t, cfg)
	t.Cleanup(func() { owner.Close(context.Background()) })
	batch(owner, "revert to the first text", first, pipeline.ResultUpdated)
	if n := streamEvents(ctx, t, owner); n != 3 {
		t.Errorf("stream contains %d events, want 3 (created, edit, revert)", n)
	}
}

// TestOwnerRestartPublishesRevertPastIndex changes an item after its
// index entry expired while the bucket still contains its seen key. The
// change is published as created. After a restart, a revert to the
// first text must not count as a duplicate of the hash that the bucket
// kept from before the change.
func TestOwnerRestartPublishesRevertPastIndex(t *testing.T) {
	t.Parallel()
	cfg := repairConfig(t)
	cfg.NATS.MaxAge = 2 * time.Second
	cfg.NATS.DuplicateWindow = time.Second
	ctx := testContext(t, time.Minute)
	id := fmt.Sprintf("%032x", 0xd1)
	first := repairItem(id, fmt.Sprintf("%064x", 0xd1))
	edit := repairItem(id, fmt.Sprintf("%064x", 0xd2))

	owner := repairOpen(ctx, t, cfg)
	ingestOne(ctx, t, owner, "first text", first, pipeline.ResultCreated)
	owner.Close(ctx)
	owner = repairOpen(ctx, t, cfg)
	ingestOne(ctx, t, owner, "first text after a restart", first, pipeline.ResultDuplicate)
	waitFor(t, 20*time.Second, "the index entry to expire", func() bool {
		_, found, err := owner.Index.Get(ctx, id)
		return err == nil && !found
	})
	ingestOne(ctx, t, owner, "edit after the index entry expired", edit, pipeline.ResultCreated)
	owner.Close(ctx)

	owner = repairOpen(ctx, t, cfg)
	t.Cleanup(func() { owner.Close(context.Background()) })
	// The edit's index entry may expire before this step, so the revert
	// is an update or a new item, but never a duplicate.
	got, err := owner.Ingester.Ingest(ctx, first)
	if got == pipeline.ResultDuplicate {
		t.Errorf("revert to the first text: result %v, %v; want it published", got, err)
	}
}
