package pipeline_test

import (
	"context"
	"testing"
	"time"

	"github.com/syndic-network/syndic/pipeline"
)

// TestMemoItemUpdatedElsewhere pushes another revision of a memo item
// between two polls: the memo item must come back as ParseFeed's item.
func TestMemoItemUpdatedElsewhere(t *testing.T) {
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Second)
	env := newIngestEnv(t, "embedded")
	g := env.ingester(env.newRC(), nil)
	first, second := memoParses(t, now)
	for i, o := range g.IngestBatch(ctx, first.Items) {
		if o.Err != nil || o.Result != pipeline.ResultCreated {
			t.Fatalf("first ingest of item %d: %s %v", i, o.Result, o.Err)
		}
	}

	pushed := first.Items[0]
	pushed.Title += " (zmiana)"
	if err := pipeline.NormaliseItem(&pushed, memoSrc, now); err != nil {
		t.Fatal(err)
	}
	if pushed.ID != first.Items[0].ID {
		t.Fatalf("pushed copy has id %s, want %s", pushed.ID, first.Items[0].ID)
	}
	mustIngest(t, g, &pushed, pipeline.ResultUpdated)

	want, err := pipeline.ParseFeed(memoDoc, "", memoSrc, now)
	if err != nil {
		t.Fatal(err)
	}
	outcomes := g.IngestBatch(ctx, second.Items)
	for i, o := range outcomes {
		wantResult := pipeline.ResultDuplicate
		if i == 0 {
			wantResult = pipeline.ResultUpdated
		}
		if o.Err != nil || o.Result != wantResult {
			t.Errorf("memo item %d: %s %v, want %s", i, o.Result, o.Err, wantResult)
		}
	}
	events := env.events(t)
	last := events[len(events)-1]
	if last.ID != want.Items[0].ID || last.Revision != 3 {
		t.Fatalf("last event is %s revision %d, want %s revision 3", last.ID, last.Revision, want.Items[0].ID)
	}
	it := want.Items[0]
	// Grouping sets Updated to the ingest time on an update whose feed
	// gives no later date.
	it.ClusterID, it.Updated = last.ClusterID, last.Updated
	if got, wantJSON := mustJSON(t, last.Item), mustJSON(t, it); got != wantJSON {
		t.Errorf("restoring event differs from ParseFeed's item:\n got %s\nwant %s", got, wantJSON)
	}
}
