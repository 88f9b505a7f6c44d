package store

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/syndic-network/syndic/pipeline"
)

// testTimeout bounds each test, including the wait for a key to expire.
const testTimeout = 20 * time.Second

// expiryTTL is the TTL of the expiry tests: one second is the shortest
// per-key TTL that JetStream KV accepts.
const expiryTTL = time.Second

// testCache runs the pipeline.Cache contract against the caches that
// newCache returns. Every call of newCache must return a cache on a fresh,
// empty namespace of the same server, so that keys of one call are
// invisible to the others. Subtests run in parallel, so newCache must be
// safe for concurrent use.
func testCache(t *testing.T, newCache func(t *testing.T) pipeline.Cache) {
	t.Run("get of absent key", func(t *testing.T) {
		t.Parallel()
		c, ctx := newCache(t), testContext(t)
		assertAbsent(ctx, t, c, "absent")
	})

	t.Run("set then get", func(t *testing.T) {
		t.Parallel()
		c, ctx := newCache(t), testContext(t)
		mustSet(ctx, t, c, "k", "v1", time.Hour)
		assertValue(ctx, t, c, "k", "v1")
	})

	t.Run("set overwrites value", func(t *testing.T) {
		t.Parallel()
		c, ctx := newCache(t), testContext(t)
		mustSet(ctx, t, c, "k", "v1", time.Hour)
		mustSet(ctx, t, c, "k", "v2", time.Hour)
		assertValue(ctx, t, c, "k", "v2")
	})

	t.Run("set without ttl keeps value", func(t *testing.T) {
		t.Parallel()
		c, ctx := newCache(t), testContext(t)
		mustSet(ctx, t, c, "k", "forever", 0)
		assertValue(ctx, t, c, "k", "forever")
	})

	t.Run("empty value is present", func(t *testing.T) {
		t.Parallel()
		c, ctx := newCache(t), testContext(t)
		mustSet(ctx, t, c, "k", "", time.Hour)
		assertValue(ctx, t, c, "k", "")
	})

	t.Run("set value expires", func(t *testing.T) {
		t.Parallel()
		c, ctx := newCache(t), testContext(t)
		mustSet(ctx, t, c, "k", "v", expiryTTL)
		waitAbsent(ctx, t, c, "k")
	})

	t.Run("overwrite restarts expiry", func(t *testing.T) {
		t.Parallel()
		c, ctx := newCache(t), testContext(t)
		mustSet(ctx, t, c, "short", "v", expiryTTL)
		mustSet(ctx, t, c, "short", "v", time.Hour)
		mustSet(ctx, t, c, "marker", "v", expiryTTL)

		// Once a key set later with the same short TTL has expired, the
		// first key would have expired too, had the overwrite kept its TTL.
		waitAbsent(ctx, t, c, "marker")
		assertValue(ctx, t, c, "short", "v")
	})

	t.Run("delete removes key", func(t *testing.T) {
		t.Parallel()
		c, ctx := newCache(t), testContext(t)
		mustSet(ctx, t, c, "k", "v", time.Hour)
		mustDelete(ctx, t, c, "k")
		assertAbsent(ctx, t, c, "k")
	})

	t.Run("delete of absent key", func(t *testing.T) {
		t.Parallel()
		c, ctx := newCache(t), testContext(t)
		mustDelete(ctx, t, c, "never-set")
	})

	t.Run("set after delete", func(t *testing.T) {
		t.Parallel()
		c, ctx := newCache(t), testContext(t)
		mustSet(ctx, t, c, "k", "v1", time.Hour)
		mustDelete(ctx, t, c, "k")
		mustSet(ctx, t, c, "k", "v2", time.Hour)
		assertValue(ctx, t, c, "k", "v2")
	})

	t.Run("reserve absent key", func(t *testing.T) {
		t.Parallel()
		c, ctx := newCache(t), testContext(t)
		assertReserve(ctx, t, c, "k", "owner", true)
		assertValue(ctx, t, c, "k", "owner")
	})

	t.Run("reserve present key", func(t *testing.T) {
		t.Parallel()
		c, ctx := newCache(t), testContext(t)
		mustSet(ctx, t, c, "k", "first", time.Hour)
		assertReserve(ctx, t, c, "k", "second", false)
		assertValue(ctx, t, c, "k", "first")
	})

	t.Run("reserve twice", func(t *testing.T) {
		t.Parallel()
		c, ctx := newCache(t), testContext(t)
		assertReserve(ctx, t, c, "k", "first", true)
		assertReserve(ctx, t, c, "k", "second", false)
		assertValue(ctx, t, c, "k", "first")
	})

	t.Run("reserve after delete", func(t *testing.T) {
		t.Parallel()
		c, ctx := newCache(t), testContext(t)
		assertReserve(ctx, t, c, "k", "first", true)
		mustDelete(ctx, t, c, "k")
		assertReserve(ctx, t, c, "k", "second", true)
		assertValue(ctx, t, c, "k", "second")
	})

	t.Run("reserve after expiry", func(t *testing.T) {
		t.Parallel()
		c, ctx := newCache(t), testContext(t)
		assertReserve(ctx, t, c, "k", "first", true)
		mustSet(ctx, t, c, "k", "short", expiryTTL)
		waitAbsent(ctx, t, c, "k")
		assertReserve(ctx, t, c, "k", "second", true)
		assertValue(ctx, t, c, "k", "second")
	})

	t.Run("reservation expires", func(t *testing.T) {
		t.Parallel()
		c, ctx := newCache(t), testContext(t)
		ok, err := c.Reserve(ctx, "k", "first", expiryTTL)
		if err != nil || !ok {
			t.Fatalf("Reserve = %v, %v; want true, nil", ok, err)
		}
		waitAbsent(ctx, t, c, "k")
		assertReserve(ctx, t, c, "k", "second", true)
	})

	t.Run("set overwrites reservation", func(t *testing.T) {
		t.Parallel()
		c, ctx := newCache(t), testContext(t)
		assertReserve(ctx, t, c, "k", "reserved", true)
		mustSet(ctx, t, c, "k", "seen", time.Hour)
		assertValue(ctx, t, c, "k", "seen")
	})

	t.Run("concurrent reserve has one winner", func(t *testing.T) {
		t.Parallel()
		c, ctx := newCache(t), testContext(t)
		const writers = 20
		wins := make(chan string, writers)
		var wg sync.WaitGroup
		for i := range writers {
			wg.Go(func() {
				owner := fmt.Sprintf("writer-%d", i)
				ok, err := c.Reserve(ctx, "contended", owner, time.Hour)
				if err != nil {
					t.Errorf("Reserve by %s: %v", owner, err)
					return
				}
				if ok {
					wins <- owner
				}
			})
		}
		wg.Wait()
		close(wins)

		var winners []string
		for w := range wins {
			winners = append(winners, w)
		}
		if len(winners) != 1 {
			t.Fatalf("winners = %q, want exactly one", winners)
		}
		assertValue(ctx, t, c, "contended", winners[0])
	})

	t.Run("concurrent reserve after delete has one winner", func(t *testing.T) {
		t.Parallel()
		c, ctx := newCache(t), testContext(t)
		// A delete marker sends the KV create down its retry path, which
		// reports conflicts differently from a plain create.
		mustSet(ctx, t, c, "contended", "old", time.Hour)
		mustDelete(ctx, t, c, "contended")

		const writers = 20
		var wg sync.WaitGroup
		var mu sync.Mutex
		winners := 0
		for range writers {
			wg.Go(func() {
				ok, err := c.Reserve(ctx, "contended", "v", time.Hour)
				if err != nil {
					t.Errorf("Reserve: %v", err)
					return
				}
				if ok {
					mu.Lock()
					winners++
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		if winners != 1 {
			t.Errorf("winners = %d, want exactly one", winners)
		}
	})

	t.Run("concurrent set keeps one value", func(t *testing.T) {
		t.Parallel()
		c, ctx := newCache(t), testContext(t)
		const writers = 10
		var wg sync.WaitGroup
		for i := range writers {
			wg.Go(func() {
				if err := c.Set(ctx, "k", fmt.Sprintf("v%d", i), time.Hour); err != nil {
					t.Errorf("Set: %v", err)
				}
			})
		}
		wg.Wait()

		got, ok, err := c.Get(ctx, "k")
		if err != nil {
			t.Fatalf("Get: %v", err)
		}
		if !ok || !strings.HasPrefix(got, "v") {
			t.Errorf("Get = %q, %v; want one of the written values", got, ok)
		}
	})

	t.Run("odd keys are distinct", func(t *testing.T) {
		t.Parallel()
		c, ctx := newCache(t), testContext(t)
		keys := []string{
			"",
			"with space",
			"ünïcødé 日本語",
			"a/b/c",
			"a.b.c",
			"a_b_c",
			"*>",
			"$KV.other.key",
			"line\nbreak",
			strings.Repeat("long", 75),
			strings.Repeat("long", 75) + "!",
		}
		for i, k := range keys {
			mustSet(ctx, t, c, k, fmt.Sprintf("value-%d", i), time.Hour)
		}
		for i, k := range keys {
			assertValue(ctx, t, c, k, fmt.Sprintf("value-%d", i))
		}
	})

	t.Run("namespaces are isolated", func(t *testing.T) {
		t.Parallel()
		a, b, ctx := newCache(t), newCache(t), testContext(t)
		mustSet(ctx, t, a, "shared", "from-a", time.Hour)
		assertAbsent(ctx, t, b, "shared")
		assertReserve(ctx, t, b, "shared", "from-b", true)
		assertValue(ctx, t, a, "shared", "from-a")
		assertValue(ctx, t, b, "shared", "from-b")
	})
}

func testContext(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	t.Cleanup(cancel)
	return ctx
}

func mustSet(ctx context.Context, t *testing.T, c pipeline.Cache, key, value string, ttl time.Duration) {
	t.Helper()
	if err := c.Set(ctx, key, value, ttl); err != nil {
		t.Fatalf("Set(%q): %v", key, err)
	}
}

func mustDelete(ctx context.Context, t *testing.T, c pipeline.Cache, key string) {
	t.Helper()
	if err := c.Delete(ctx, key); err != nil {
		t.Fatalf("Delete(%q): %v", key, err)
	}
}

func assertValue(ctx context.Context, t *testing.T, c pipeline.Cache, key, want string) {
	t.Helper()
	got, ok, err := c.Get(ctx, key)
	if err != nil {
		t.Fatalf("Get(%q): %v", key, err)
	}
	if !ok {
		t.Fatalf("Get(%q) found nothing, want %q", key, want)
	}
	if got != want {
		t.Errorf("Get(%q) = %q, want %q", key, got, want)
	}
}

func assertAbsent(ctx context.Context, t *testing.T, c pipeline.Cache, key string) {
	t.Helper()
	got, ok, err := c.Get(ctx, key)
	if err != nil {
		t.Fatalf("Get(%q): %v", key, err)
	}
	if ok {
		t.Errorf("Get(%q) = %q, want absent", key, got)
	}
	if got != "" {
		t.Errorf("Get(%q) of absent key returned value %q, want empty", key, got)
	}
}

func assertReserve(ctx context.Context, t *testing.T, c pipeline.Cache, key, value string, want bool) {
	t.Helper()
	got, err := c.Reserve(ctx, key, value, time.Hour)
	if err != nil {
		t.Fatalf("Reserve(%q): %v", key, err)
	}
	if got != want {
		t.Errorf("Reserve(%q) = %v, want %v", key, got, want)
	}
}

// waitAbsent polls until key reads as absent and fails the test when ctx
// ends first. Servers expire keys on their own schedule, so a fixed sleep
// would be either slow or flaky.
func waitAbsent(ctx context.Context, t *testing.T, c pipeline.Cache, key string) {
	t.Helper()
	start := time.Now()
	ticker := time.NewTicker(50 * time.Millisecond)
	defer ticker.Stop()
	for {
		_, ok, err := c.Get(ctx, key)
		if err != nil {
			t.Fatalf("Get(%q): %v", key, err)
		}
		if !ok {
			t.Logf("key %q expired after %s", key, time.Since(start).Round(time.Millisecond))
			return
		}
		select {
		case <-ticker.C:
		case <-ctx.Done():
			t.Fatalf("key %q still present after %s", key, time.Since(start).Round(time.Millisecond))
		}
	}
}
