package pipeline_test

import (
	"context"
	"testing"

	"github.com/syndic-network/syndic/pipeline"
)

func TestIngestBatchResults(t *testing.T) {
	for _, kind := range []string{"kv", "redis"} {
		t.Run(kind, func(t *testing.T) {
			env := newIngestEnv(t, kind)
			ctx := context.Background()
			c := env.newRC()
			g := env.ingester(c, nil)
			mustIngest(t, g, testItem("a1", "h1"), pipeline.ResultCreated)
			mustIngest(t, g, testItem("a2", "h1"), pipeline.ResultCreated)
			// A second, empty cache: a2 is then known to the index only,
			// as after a cache flush.
			g2 := env.ingester(env.newRC(), nil)
			mustIngest(t, g2, testItem("a1", "h1"), pipeline.ResultDuplicate)

			items := []pipeline.Item{
				*testItem("a1", "h1"), // known to the cache
				*testItem("a2", "h1"), // known to the index only
				*testItem("a3", "h1"), // new
				*testItem("a1", "h2"), // changed
				*testItem("a3", "h1"), // repeated later in the document
			}
			got := g2.IngestBatch(ctx, items)
			want := []pipeline.Result{
				pipeline.ResultDuplicate, pipeline.ResultDuplicate, pipeline.ResultCreated,
				pipeline.ResultUpdated, pipeline.ResultDuplicate,
			}
			if len(got) != len(want) {
				t.Fatalf("IngestBatch returned %d outcomes, want %d", len(got), len(want))
			}
			for i := range want {
				if got[i].Err != nil {
					t.Errorf("item %d (%s): error %v", i, items[i].ID, got[i].Err)
				}
				if got[i].Result != want[i] {
					t.Errorf("item %d (%s): result %s, want %s", i, items[i].ID, got[i].Result, want[i])
				}
			}
			if n := len(env.events(t)); n != 4 {
				t.Errorf("stream holds %d events, want 4 (a1, a2, a3 and the update of a1)", n)
			}
		})
	}
}
