package store

import (
	"context"
	"net"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/redis/go-redis/v9"

	"github.com/syndic-network/syndic/internal/broker"
	"github.com/syndic-network/syndic/internal/testenv"
	"github.com/syndic-network/syndic/pipeline"
)

func TestRedisCache(t *testing.T) {
	url, prefix := testenv.Redis(t)
	client := testenv.RedisClient(t, url)

	var namespaces atomic.Int64
	testCache(t, func(t *testing.T) pipeline.Cache {
		// Sub-prefixes of the test's prefix, so the test's clean-up still
		// deletes every key.
		n := namespaces.Add(1)
		return NewRedis(client, prefix+strconv.FormatInt(n, 10)+":")
	})
}

func TestKVCache(t *testing.T) {
	ns := testenv.NATS(t)
	nc, js, err := broker.Connect(testContext(t), ns.URL, t.Name(), nil)
	if err != nil {
		t.Fatalf("Connect: %v", err)
	}
	t.Cleanup(nc.Close)

	testCache(t, func(t *testing.T) pipeline.Cache {
		kv, err := broker.EnsureKV(testContext(t), js, testenv.Name(t), 1, 0, true)
		if err != nil {
			t.Fatalf("EnsureKV: %v", err)
		}
		return NewKV(kv)
	})
}

func TestKVCacheWithJetStream(t *testing.T) {
	ns := testenv.NATS(t)
	nc, js, err := broker.Connect(testContext(t), ns.URL, t.Name(), nil)
	if err != nil {
		t.Fatalf("Connect: %v", err)
	}
	t.Cleanup(nc.Close)

	testCache(t, func(t *testing.T) pipeline.Cache {
		kv, err := broker.EnsureKV(testContext(t), js, testenv.Name(t), 1, 0, true)
		if err != nil {
			t.Fatalf("EnsureKV: %v", err)
		}
		return NewKV(kv, WithJetStream(js))
	})
}

func TestKVCacheSurvivesRestart(t *testing.T) {
	ns := testenv.NATS(t)
	ctx := testContext(t)
	nc, js, err := broker.Connect(ctx, ns.URL, t.Name(), nil)
	if err != nil {
		t.Fatalf("Connect: %v", err)
	}
	t.Cleanup(nc.Close)
	kv, err := broker.EnsureKV(ctx, js, testenv.Name(t), 1, 0, true)
	if err != nil {
		t.Fatalf("EnsureKV: %v", err)
	}
	c := NewKV(kv)
	mustSet(ctx, t, c, "seen:item", "1", time.Hour)

	reconnected := nc.StatusChanged(nats.CONNECTED)
	ns.Restart(t)
	select {
	case <-reconnected:
	case <-ctx.Done():
		t.Fatalf("no reconnect after restart: %v", ctx.Err())
	}

	assertValue(ctx, t, c, "seen:item", "1")
	assertReserve(ctx, t, c, "seen:item", "2", false)
}

func TestCacheErrorsWhenServerDown(t *testing.T) {
	tests := []struct {
		name  string
		cache func(t *testing.T) pipeline.Cache
	}{
		{name: "redis", cache: func(t *testing.T) pipeline.Cache {
			client := redis.NewClient(&redis.Options{Addr: closedAddr(t), MaxRetries: -1})
			t.Cleanup(func() { _ = client.Close() })
			return NewRedis(client, "down:")
		}},
		{name: "kv", cache: func(t *testing.T) pipeline.Cache {
			ns := testenv.NATS(t)
			nc, js, err := broker.Connect(testContext(t), ns.URL, t.Name(), nil)
			if err != nil {
				t.Fatalf("Connect: %v", err)
			}
			t.Cleanup(nc.Close)
			kv, err := broker.EnsureKV(testContext(t), js, testenv.Name(t), 1, 0, true)
			if err != nil {
				t.Fatalf("EnsureKV: %v", err)
			}
			ns.Server.Shutdown()
			ns.Server.WaitForShutdown()
			return NewKV(kv)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := tt.cache(t)
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()

			if _, ok, err := c.Get(ctx, "k"); err == nil {
				t.Errorf("Get = %v, nil; want an error, not an absent key", ok)
			}
			if err := c.Set(ctx, "k", "v", time.Hour); err == nil {
				t.Error("Set succeeded, want an error")
			}
			if ok, err := c.Reserve(ctx, "k", "v", time.Hour); err == nil {
				t.Errorf("Reserve = %v, nil; want an error", ok)
			}
			if err := c.Delete(ctx, "k"); err == nil {
				t.Error("Delete succeeded, want an error")
			}
		})
	}
}

// closedAddr returns a 127.0.0.1 address that nothing listens on.
func closedAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listening: %v", err)
	}
	addr := l.Addr().String()
	if err := l.Close(); err != nil {
		t.Fatalf("closing listener: %v", err)
	}
	return addr
}
