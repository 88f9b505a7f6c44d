package workers_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/syndic-network/syndic/internal/testenv"
	"github.com/syndic-network/syndic/workers"
)

func TestRateLimiterWindows(t *testing.T) {
	for _, kind := range pushCacheKinds {
		t.Run(kind, func(t *testing.T) {
			js, err := jetstream.New(testenv.Conn(t, testenv.NATS(t).URL))
			if err != nil {
				t.Fatalf("creating JetStream context: %v", err)
			}
			cache := pushCache(t, js, testenv.Name(t), kind)
			now := time.Date(2026, 12, 4, 12, 0, 10, 0, time.UTC)
			l := workers.NewRateLimiter(cache, 5, func() time.Time { return now })
			ctx := context.Background()
			steps := []struct {
				name string
				n    int
				wait time.Duration
			}{
				{"first three", 3, 0},
				{"two more fill the window", 2, 0},
				{"one over the rate", 1, 50 * time.Second},
			}
			for _, s := range steps {
				wait, err := l.Allow(ctx, "wipk", s.n)
				if err != nil {
					t.Fatalf("%s: %v", s.name, err)
				}
				if wait != s.wait {
					t.Errorf("%s: wait = %s, want %s", s.name, wait, s.wait)
				}
			}
			if wait, err := l.Allow(ctx, "nemunas", 5); err != nil || wait != 0 {
				t.Errorf("another partner = %s, %v; want admitted", wait, err)
			}
			now = now.Add(time.Minute)
			if wait, err := l.Allow(ctx, "wipk", 5); err != nil || wait != 0 {
				t.Errorf("next window = %s, %v; want admitted", wait, err)
			}
		})
	}
}

func TestRateLimiterUnderConcurrency(t *testing.T) {
	js, err := jetstream.New(testenv.Conn(t, testenv.NATS(t).URL))
	if err != nil {
		t.Fatalf("creating JetStream context: %v", err)
	}
	cache := pushCache(t, js, testenv.Name(t), "redis")
	now := time.Date(2026, 12, 4, 12, 0, 10, 0, time.UTC)
	l := workers.NewRateLimiter(cache, 20, func() time.Time { return now })
	var admitted atomic.Int64
	var wg sync.WaitGroup
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			wait, err := l.Allow(context.Background(), "wipk", 1)
			if err != nil {
				t.Errorf("allow: %v", err)
				return
			}
			if wait == 0 {
				admitted.Add(1)
			}
		}()
	}
	wg.Wait()
	if got := admitted.Load(); got > 20 {
		t.Errorf("admitted %d items, more than the rate of 20", got)
	}
	if got := admitted.Load(); got < 1 {
		t.Error("admitted nothing")
	}
}
