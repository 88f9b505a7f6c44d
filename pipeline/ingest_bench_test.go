package pipeline_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/syndic-network/syndic/internal/broker"
	"github.com/syndic-network/syndic/internal/store"
	"github.com/syndic-network/syndic/internal/testenv"
	"github.com/syndic-network/syndic/pipeline"
)

// benchIngestItem returns a normalised item of about the size of a
// partner news item, distinct for each n.
func benchIngestItem(b *testing.B, n int) pipeline.Item {
	b.Helper()
	it := pipeline.Item{
		GUID:      fmt.Sprintf("bench-%d", n),
		URL:       fmt.Sprintf("https://chamber.example/news/%d", n),
		Title:     fmt.Sprintf("Export fair %d opens registration", n),
		Content:   fmt.Sprintf("<p>The chamber opens registration for export fair %d. Forty companies meet buyers from Scandinavia, and members pay half of the stand fee.</p>", n),
		Language:  "en",
		Published: time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC),
	}
	src := pipeline.Source{Partner: "chamber", Feed: "news", FeedURL: "https://chamber.example/rss"}
	if err := pipeline.NormaliseItem(&it, src, time.Date(2026, 5, 2, 0, 0, 0, 0, time.UTC)); err != nil {
		b.Fatalf("normalising: %v", err)
	}
	return it
}

// BenchmarkIngest measures Ingester.Ingest per item against an in-process
// nats-server (file storage, no fsync per write) with each cache. "new"
// items take every step: cache and index look-ups, reservation, publish
// with PubAck, index and cache writes. "known" items are cache hits that
// refresh the seen key. "embedded" is the KV cache bucket, as a second
// process on the embedded server would use it without the owner, and
// "owner" the cache `syndic run` opens: reservations and a memo of seen
// keys in memory in front of that bucket.
func BenchmarkIngest(b *testing.B) {
	for _, kind := range []string{"embedded", "owner", "redis"} {
		for _, known := range []bool{false, true} {
			name := kind + "/new"
			if known {
				name = kind + "/known"
			}
			b.Run(name, func(b *testing.B) {
				benchmarkIngest(b, kind, known)
			})
		}
	}
}

func benchmarkIngest(b *testing.B, kind string, known bool) {
	env := newIngestEnv(b, strings.Replace(kind, "owner", "embedded", 1))
	ctx := context.Background()
	cache := env.newRC()
	if kind != "redis" {
		// The cache bucket `syndic run` opens: one publish per Set.
		kv, err := broker.EnsureKV(ctx, env.js, testenv.Name(b)+"_CACHE", 1, 0, true)
		if err != nil {
			b.Fatalf("creating cache bucket: %v", err)
		}
		cache = store.NewKV(kv, store.WithJetStream(env.js))
	}
	if kind == "owner" {
		cache = store.NewLocal(cache, store.LocalOptions{
			ReservePrefix: pipeline.ReserveKeyPrefix, SeenPrefix: pipeline.SeenKeyPrefix,
		})
	}
	g := pipeline.NewIngester(pipeline.IngesterOptions{
		Cache: cache, Index: env.index, Publisher: env.js, SubjectPrefix: env.prefix,
	})
	const pool = 1000
	items := make([]pipeline.Item, pool)
	for i := range items {
		items[i] = benchIngestItem(b, i)
		if known {
			if _, err := g.Ingest(ctx, &items[i]); err != nil {
				b.Fatalf("ingesting item %d: %v", i, err)
			}
		}
	}
	want := pipeline.ResultDuplicate
	if !known {
		want = pipeline.ResultCreated
	}
	b.ReportAllocs()
	for n := 0; b.Loop(); n++ {
		it := items[n%pool]
		if !known && n >= pool {
			it = benchIngestItem(b, n)
		}
		got, err := g.Ingest(ctx, &it)
		if err != nil || got != want {
			b.Fatalf("ingesting item %d: got %s, %v; want %s", n, got, err, want)
		}
	}
}

// BenchmarkPublish measures one JetStream publish with PubAck of an item
// event alone, the floor under the "new" case of BenchmarkIngest.
func BenchmarkPublish(b *testing.B) {
	env := newIngestEnv(b, "embedded")
	ctx := context.Background()
	it := benchIngestItem(b, 1)
	data, err := json.Marshal(pipeline.Event{Version: pipeline.EventVersion, Kind: pipeline.KindCreated, Revision: 1, Item: it, IngestedAt: time.Now().UTC()})
	if err != nil {
		b.Fatalf("encoding event: %v", err)
	}
	b.ReportAllocs()
	for n := 0; b.Loop(); n++ {
		msg := nats.NewMsg(env.prefix + ".chamber")
		msg.Data = data
		if _, err := env.js.PublishMsg(ctx, msg, jetstream.WithMsgID(fmt.Sprint("m", n))); err != nil {
			b.Fatalf("publishing: %v", err)
		}
	}
}
