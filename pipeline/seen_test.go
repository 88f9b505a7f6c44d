package pipeline_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/syndic-network/syndic/pipeline"
)

// countingCache counts the Set calls of the cache it wraps.
type countingCache struct {
	pipeline.Cache
	sets atomic.Int64
}

func (c *countingCache) Set(ctx context.Context, key, value string, ttl time.Duration) error {
	c.sets.Add(1)
	return c.Cache.Set(ctx, key, value, ttl)
}

func TestKnownItemRefreshesSeenKeyDaily(t *testing.T) {
	for _, kind := range cacheKinds {
		t.Run(kind, func(t *testing.T) {
			env := newIngestEnv(t, kind)
			cache := &countingCache{Cache: env.newRC()}
			now := time.Date(2026, 5, 2, 9, 0, 0, 0, time.UTC)
			g := pipeline.NewIngester(pipeline.IngesterOptions{
				Cache: cache, Index: env.index, Publisher: env.js, SubjectPrefix: env.prefix,
				Now: func() time.Time { return now },
			})
			ctx := context.Background()
			it := testItem("seen-refresh", "first text")
			steps := []struct {
				name     string
				advance  time.Duration
				want     pipeline.Result
				wantSets int64
			}{
				{"new item writes the key", 0, pipeline.ResultCreated, 1},
				{"sighting an hour later skips the write", time.Hour, pipeline.ResultDuplicate, 1},
				{"sighting a day later rewrites the key", 24 * time.Hour, pipeline.ResultDuplicate, 2},
				{"sighting right after skips the write", time.Minute, pipeline.ResultDuplicate, 2},
			}
			for _, s := range steps {
				now = now.Add(s.advance)
				got, err := g.Ingest(ctx, it)
				if err != nil {
					t.Fatalf("%s: ingesting: %v", s.name, err)
				}
				if got != s.want {
					t.Errorf("%s: result %s, want %s", s.name, got, s.want)
				}
				if n := cache.sets.Load(); n != s.wantSets {
					t.Errorf("%s: %d cache writes so far, want %d", s.name, n, s.wantSets)
				}
			}
		})
	}
}

func TestSeenKeyWithoutTimeIsRewritten(t *testing.T) {
	env := newIngestEnv(t, "embedded")
	cache := &countingCache{Cache: env.newRC()}
	g := pipeline.NewIngester(pipeline.IngesterOptions{
		Cache: cache, Index: env.index, Publisher: env.js, SubjectPrefix: env.prefix,
	})
	ctx := context.Background()
	it := testItem("seen-old-format", "text")
	if _, err := g.Ingest(ctx, it); err != nil {
		t.Fatalf("ingesting: %v", err)
	}
	// An older release wrote the bare content hash.
	if err := cache.Cache.Set(ctx, "seen:"+it.ID, it.ContentHash, time.Hour); err != nil {
		t.Fatalf("writing old-format value: %v", err)
	}
	before := cache.sets.Load()
	got, err := g.Ingest(ctx, it)
	if err != nil {
		t.Fatalf("ingesting again: %v", err)
	}
	if got != pipeline.ResultDuplicate {
		t.Errorf("result %s, want duplicate", got)
	}
	if n := cache.sets.Load() - before; n != 1 {
		t.Errorf("%d cache writes for an old-format key, want 1", n)
	}
}
