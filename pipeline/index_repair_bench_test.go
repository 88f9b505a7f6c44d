package pipeline_test

import (
	"context"
	"testing"
	"time"

	"github.com/syndic-network/syndic/pipeline"
)

// repairBenchItems is how many events each Repair of the benchmark reads.
const repairBenchItems = 2000

// BenchmarkIndexRepair measures Index.Repair over 2,000 events against an
// in-process nats-server. "intact" finds every entry up to date, so it
// reads each event and its entry. "lost" starts each run with the index
// bucket purged, so it also creates every entry, as after a crash that
// lost all of them.
func BenchmarkIndexRepair(b *testing.B) {
	for _, lost := range []bool{false, true} {
		name := "intact"
		if lost {
			name = "lost"
		}
		b.Run(name, func(b *testing.B) {
			benchmarkIndexRepair(b, lost)
		})
	}
}

func benchmarkIndexRepair(b *testing.B, lost bool) {
	env := newIngestEnv(b, "embedded")
	ctx := context.Background()
	g := env.ingester(env.newRC(), nil)
	items := make([]pipeline.Item, 0, 50)
	for n := range repairBenchItems {
		items = append(items, benchIngestItem(b, n))
		if len(items) < cap(items) && n < repairBenchItems-1 {
			continue
		}
		for i, o := range g.IngestBatch(ctx, items) {
			if o.Err != nil || o.Result != pipeline.ResultCreated {
				b.Fatalf("ingesting item %d of a batch: %v, %v", i, o.Result, o.Err)
			}
		}
		items = items[:0]
	}
	stream, err := env.js.Stream(ctx, "KV_"+env.indexKV.Bucket())
	if err != nil {
		b.Fatalf("opening index stream: %v", err)
	}
	b.ResetTimer()
	for b.Loop() {
		if lost {
			b.StopTimer()
			if err := stream.Purge(ctx); err != nil {
				b.Fatalf("purging index: %v", err)
			}
			b.StartTimer()
		}
		stats, err := env.index.Repair(ctx, env.stream, time.Time{})
		if err != nil {
			b.Fatalf("repair: %v", err)
		}
		if stats.Events != repairBenchItems {
			b.Fatalf("repair read %d events, want %d", stats.Events, repairBenchItems)
		}
		if want := map[bool]int{false: 0, true: repairBenchItems}[lost]; stats.Restored != want {
			b.Fatalf("repair restored %d entries, want %d", stats.Restored, want)
		}
	}
	b.ReportMetric(float64(repairBenchItems*b.N)/b.Elapsed().Seconds(), "events/s")
}
