package workers_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/syndic-network/syndic/internal/store"
	"github.com/syndic-network/syndic/internal/testenv"
	"github.com/syndic-network/syndic/pipeline"
	"github.com/syndic-network/syndic/workers"
)

// stateCountingCache counts the reads of fetch states ("fetch:" keys
// other than host slots) by kind, passing every call to a Redis cache.
type stateCountingCache struct {
	*store.Redis
	mu      sync.Mutex
	singles int
	batches int
}

func isStateKey(key string) bool {
	return strings.HasPrefix(key, "fetch:") && !strings.HasPrefix(key, "fetch:slot:")
}

func (c *stateCountingCache) Get(ctx context.Context, key string) (string, bool, error) {
	if isStateKey(key) {
		c.mu.Lock()
		c.singles++
		c.mu.Unlock()
	}
	return c.Redis.Get(ctx, key)
}

func (c *stateCountingCache) GetMany(ctx context.Context, keys []string) ([]string, []bool, error) {
	if len(keys) > 0 && isStateKey(keys[0]) {
		c.mu.Lock()
		c.batches++
		c.mu.Unlock()
	}
	return c.Redis.GetMany(ctx, keys)
}

func (c *stateCountingCache) reset() (singles, batches int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	singles, batches = c.singles, c.batches
	c.singles, c.batches = 0, 0
	return singles, batches
}

var _ pipeline.MultiGetter = (*stateCountingCache)(nil)

// etagFeeds starts a server of n feeds that return 304 for their ETag.
func etagFeeds(t *testing.T, n int) []workers.Feed {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(benchHandler))
	t.Cleanup(srv.Close)
	feeds := make([]workers.Feed, n)
	for i := range feeds {
		feeds[i] = testFeed("b"+strconv.Itoa(i), srv.URL+"/b"+strconv.Itoa(i))
	}
	return feeds
}

func TestPollAllReadsStatesInChunks(t *testing.T) {
	url, prefix := testenv.Redis(t)
	cache := &stateCountingCache{Redis: store.NewRedis(testenv.RedisClient(t, url), prefix)}
	env := newSchedEnv(t, envOptions{cache: cache, poller: func(o *workers.PollerOptions) { o.PerHost = 8 }})
	feeds := etagFeeds(t, 130)
	ctx := context.Background()

	for _, r := range env.poller.PollAll(ctx, feeds, nil) {
		if r.Err != nil || r.New != benchItems {
			t.Fatalf("%s: first poll err %v, %d new, want none and %d", r.Feed.Key(), r.Err, r.New, benchItems)
		}
	}
	cache.reset()
	for _, r := range env.poller.PollAll(ctx, feeds, nil) {
		if r.Outcome != workers.OutcomeNotModified {
			t.Errorf("%s: second poll outcome %v, want not modified", r.Feed.Key(), r.Outcome)
		}
	}
	singles, batches := cache.reset()
	if singles != 0 {
		t.Errorf("second poll read %d states one by one, want 0", singles)
	}
	if batches != 3 {
		t.Errorf("second poll read states in %d requests, want 3 for 130 feeds", batches)
	}
}

func TestPollAllRereadsStaleStates(t *testing.T) {
	url, prefix := testenv.Redis(t)
	cache := &stateCountingCache{Redis: store.NewRedis(testenv.RedisClient(t, url), prefix)}
	var mu sync.Mutex
	now := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	env := newSchedEnv(t, envOptions{cache: cache, poller: func(o *workers.PollerOptions) {
		o.PerHost = 8
		// Every reading of the clock moves it on by three seconds, so a
		// state read ahead is always too old to use.
		o.Now = func() time.Time {
			mu.Lock()
			defer mu.Unlock()
			now = now.Add(3 * time.Second)
			return now
		}
	}})
	feeds := etagFeeds(t, 10)
	env.poller.PollAll(context.Background(), feeds, nil)
	singles, _ := cache.reset()
	if singles != len(feeds) {
		t.Errorf("read %d states one by one, want %d when the chunk is stale", singles, len(feeds))
	}
}
