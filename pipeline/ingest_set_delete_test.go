package pipeline_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/syndic-network/syndic/internal/store"
	"github.com/syndic-network/syndic/pipeline"
)

// loggingRedis is a Redis cache that logs its deletes and its
// SetThenDelete calls. With failDelete, SetThenDelete writes the value
// and reports the delete as failed without running it.
type loggingRedis struct {
	*store.Redis
	failDelete bool
	mu         sync.Mutex
	calls      []string
}

func (r *loggingRedis) log(call string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, call)
}

func (r *loggingRedis) logged() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.calls)
}

func (r *loggingRedis) Delete(ctx context.Context, key string) error {
	r.log("delete " + key)
	return r.Redis.Delete(ctx, key)
}

func (r *loggingRedis) SetThenDelete(ctx context.Context, key, value string, ttl time.Duration, del string) (error, error) {
	r.log("set " + key + " then delete " + del)
	if r.failDelete {
		return r.Redis.Set(ctx, key, value, ttl), errors.New("connection reset by peer")
	}
	return r.Redis.SetThenDelete(ctx, key, value, ttl, del)
}

// TestRecordUsesSetThenDelete checks that a cache with
// SetThenDelete writes the seen value and releases the reservation of
// each published item in one call, for a new item and for an update.
func TestRecordUsesSetThenDelete(t *testing.T) {
	env := newIngestEnv(t, "redis")
	c := &loggingRedis{Redis: env.newRC().(*store.Redis)}
	g := env.ingester(c, nil)
	id := fmt.Sprintf("%032x", 0x5d1)
	seenKey, reserveKey := pipeline.SeenKeyPrefix+id, pipeline.ReserveKeyPrefix+id
	call := "set " + seenKey + " then delete " + reserveKey

	mustIngest(t, g, testItem(id, seenHash(1)), pipeline.ResultCreated)
	assertSeenReleased(t, c, id, seenHash(1))
	mustIngest(t, g, testItem(id, seenHash(1)), pipeline.ResultDuplicate)
	mustIngest(t, g, testItem(id, seenHash(2)), pipeline.ResultUpdated)
	assertSeenReleased(t, c, id, seenHash(2))
	if got, want := c.logged(), []string{call, call}; !slices.Equal(got, want) {
		t.Errorf("cache calls %q, want %q", got, want)
	}
}

// TestSetThenDeleteFailedRelease checks that a reservation whose delete
// failed inside SetThenDelete is released again on its own, so an update
// right after it is not refused as reserved for ReserveTTL.
func TestSetThenDeleteFailedRelease(t *testing.T) {
	env := newIngestEnv(t, "redis")
	c := &loggingRedis{Redis: env.newRC().(*store.Redis), failDelete: true}
	g := env.ingester(c, nil)
	id := fmt.Sprintf("%032x", 0x5d2)
	seenKey, reserveKey := pipeline.SeenKeyPrefix+id, pipeline.ReserveKeyPrefix+id

	mustIngest(t, g, testItem(id, seenHash(1)), pipeline.ResultCreated)
	want := []string{"set " + seenKey + " then delete " + reserveKey, "delete " + reserveKey}
	if got := c.logged(); !slices.Equal(got, want) {
		t.Errorf("cache calls %q, want %q", got, want)
	}
	assertSeenReleased(t, c, id, seenHash(1))
	mustIngest(t, g, testItem(id, seenHash(2)), pipeline.ResultUpdated)
}

// assertSeenReleased checks that the cache contains hash as the seen
// value of item id and no reservation of it.
func assertSeenReleased(t *testing.T, c pipeline.Cache, id, hash string) {
	t.Helper()
	ctx := context.Background()
	v, found, err := c.Get(ctx, pipeline.SeenKeyPrefix+id)
	if err != nil || !found || !strings.HasPrefix(v, hash+" ") {
		t.Errorf("seen value of %s: %q, %t, %v; want hash %s and a time", id, v, found, err, hash)
	}
	if v, found, err := c.Get(ctx, pipeline.ReserveKeyPrefix+id); err != nil || found {
		t.Errorf("reservation of %s: %q, %t, %v; want none", id, v, found, err)
	}
}
