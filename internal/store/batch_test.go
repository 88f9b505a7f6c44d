package store

import (
	"context"
	"testing"
	"time"

	"github.com/syndic-network/syndic/internal/broker"
	"github.com/syndic-network/syndic/internal/testenv"
	"github.com/syndic-network/syndic/pipeline"
)

type multiGetCache interface {
	pipeline.Cache
	pipeline.MultiGetter
}

func TestGetMany(t *testing.T) {
	ns := testenv.NATS(t)
	nc, js, err := broker.Connect(testContext(t), ns.URL, t.Name(), nil)
	if err != nil {
		t.Fatalf("Connect: %v", err)
	}
	t.Cleanup(nc.Close)
	newKV := func(t *testing.T, opts ...KVOption) multiGetCache {
		kv, err := broker.EnsureKV(testContext(t), js, testenv.Name(t), 1, 0, true)
		if err != nil {
			t.Fatalf("EnsureKV: %v", err)
		}
		return NewKV(kv, opts...)
	}
	for _, tc := range []struct {
		name  string
		cache func(t *testing.T) multiGetCache
	}{
		{"redis", func(t *testing.T) multiGetCache {
			url, prefix := testenv.Redis(t)
			return NewRedis(testenv.RedisClient(t, url), prefix)
		}},
		{"kv", func(t *testing.T) multiGetCache { return newKV(t) }},
		{"kv with jetstream", func(t *testing.T) multiGetCache { return newKV(t, WithJetStream(js)) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			testGetMany(t, tc.cache(t))
		})
	}
}

func testGetMany(t *testing.T, c multiGetCache) {
	ctx := context.Background()
	for key, value := range map[string]string{"a": "1", "c": "", "d": "4", "seen:e f": "5 6"} {
		if err := c.Set(ctx, key, value, time.Minute); err != nil {
			t.Fatalf("setting %s: %v", key, err)
		}
	}
	if err := c.Set(ctx, "d", "4b", time.Minute); err != nil {
		t.Fatalf("setting d again: %v", err)
	}
	if err := c.Delete(ctx, "c"); err != nil {
		t.Fatalf("deleting c: %v", err)
	}
	keys := []string{"a", "b", "c", "d", "seen:e f"}
	values, found, err := c.GetMany(ctx, keys)
	if err != nil {
		t.Fatalf("GetMany: %v", err)
	}
	if len(values) != len(keys) || len(found) != len(keys) {
		t.Fatalf("GetMany returned %d values and %d flags, want %d each", len(values), len(found), len(keys))
	}
	want := []struct {
		value string
		found bool
	}{{"1", true}, {"", false}, {"", false}, {"4b", true}, {"5 6", true}}
	for i, w := range want {
		if values[i] != w.value || found[i] != w.found {
			t.Errorf("%s = %q, %t; want %q, %t", keys[i], values[i], found[i], w.value, w.found)
		}
	}
}
