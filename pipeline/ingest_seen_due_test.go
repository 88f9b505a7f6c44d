package pipeline_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/syndic-network/syndic/internal/store"
	"github.com/syndic-network/syndic/pipeline"
)

// seenDueEnv is an ingester behind the owner's memo of one key per
// generation, with the index bucket's max age of one hour, and a clock
// that a test moves ahead of the server's.
type seenDueEnv struct {
	env    *ingestEnv
	bucket pipeline.Cache
	g      *pipeline.Ingester
	ahead  time.Duration
	next   int
}

func newSeenDueEnv(t *testing.T, indexMaxAge time.Duration) *seenDueEnv {
	e := &seenDueEnv{env: newIngestEnv(t, "embedded"), next: 0x100}
	e.bucket = e.env.newRC()
	local := store.NewLocal(e.bucket, store.LocalOptions{
		ReservePrefix: pipeline.ReserveKeyPrefix,
		SeenPrefix:    pipeline.SeenKeyPrefix,
		SeenMemo:      1,
	})
	e.g = pipeline.NewIngester(pipeline.IngesterOptions{
		Cache: local, Index: e.env.index, Publisher: e.env.js, SubjectPrefix: e.env.prefix,
		SeenTTL: time.Hour, ReserveTTL: 10 * time.Second,
		IndexMaxAge: indexMaxAge,
		Now:         func() time.Time { return time.Now().Add(e.ahead) },
	})
	return e
}

func seenHash(n int) string { return fmt.Sprintf("%064x", n) }

// evict offers two new items, so the memo of two generations of one key
// each keeps no earlier key.
func (e *seenDueEnv) evict(t *testing.T) {
	t.Helper()
	for range 2 {
		e.next++
		mustIngest(t, e.g, testItem(fmt.Sprintf("%032x", e.next), seenHash(e.next)), pipeline.ResultCreated)
	}
}

// stored returns the seen value in the cache bucket, behind the memo.
func (e *seenDueEnv) stored(t *testing.T, id string) (string, bool) {
	t.Helper()
	v, found, err := e.bucket.Get(context.Background(), pipeline.SeenKeyPrefix+id)
	if err != nil {
		t.Fatalf("reading the seen key of %s from the bucket: %v", id, err)
	}
	return v, found
}

// wantNoKey fails the test with message when the bucket has a seen key
// for id.
func (e *seenDueEnv) wantNoKey(t *testing.T, id, message string) {
	t.Helper()
	if v, found := e.stored(t, id); found {
		t.Fatalf("%s: %q", message, v)
	}
}

// wantKey fails the test unless the bucket's seen key for id has hash.
// when names the step.
func (e *seenDueEnv) wantKey(t *testing.T, id, hash, when string) {
	t.Helper()
	if v, found := e.stored(t, id); !found || !hasHash(v, hash) {
		t.Fatalf("%s = %q, %t; want %s with a time", when, v, found, hash)
	}
}

// TestSeenKeyWaitsForHalfIndexAge checks that a known item's seen key is
// written to the bucket only once its index entry is half as old as the
// index bucket's max age. It checks both a memo hit and an index read.
func TestSeenKeyWaitsForHalfIndexAge(t *testing.T) {
	e := newSeenDueEnv(t, time.Hour)
	memo := fmt.Sprintf("%032x", 0xa1)
	index := fmt.Sprintf("%032x", 0xa2)
	mustIngest(t, e.g, testItem(memo, seenHash(1)), pipeline.ResultCreated)
	mustIngest(t, e.g, testItem(index, seenHash(2)), pipeline.ResultCreated)
	e.evict(t)

	// The memo has neither item: the index finds both, young.
	mustIngest(t, e.g, testItem(memo, seenHash(1)), pipeline.ResultDuplicate)
	e.wantNoKey(t, memo, "seen key of an item indexed just now was written")
	// Now the memo holds it.
	mustIngest(t, e.g, testItem(memo, seenHash(1)), pipeline.ResultDuplicate)
	e.wantNoKey(t, memo, "seen key written on a memo hit before it was due")

	e.ahead = 29 * time.Minute
	mustIngest(t, e.g, testItem(memo, seenHash(1)), pipeline.ResultDuplicate)
	e.wantNoKey(t, memo, "seen key written one minute before it was due")

	e.ahead = 31 * time.Minute
	mustIngest(t, e.g, testItem(memo, seenHash(1)), pipeline.ResultDuplicate)
	e.wantKey(t, memo, seenHash(1), "seen key after the memo hit past half the max age")
	mustIngest(t, e.g, testItem(index, seenHash(2)), pipeline.ResultDuplicate)
	e.wantKey(t, index, seenHash(2), "seen key after the index read past half the max age")
}

func hasHash(v, hash string) bool {
	return len(v) > len(hash) && v[:len(hash)] == hash && v[len(hash)] == ' '
}

// TestSeenKeyWithoutIndexMaxAge checks the rule without a known max age:
// the index read writes the seen key at once.
func TestSeenKeyWithoutIndexMaxAge(t *testing.T) {
	e := newSeenDueEnv(t, 0)
	id := fmt.Sprintf("%032x", 0xb1)
	mustIngest(t, e.g, testItem(id, seenHash(1)), pipeline.ResultCreated)
	e.evict(t)
	mustIngest(t, e.g, testItem(id, seenHash(1)), pipeline.ResultDuplicate)
	e.wantKey(t, id, seenHash(1), "seen key after the index read")
}

// TestStaleSeenKeyIsReplaced gives the bucket an older hash of an item
// whose index entry is young. The index read that finds the item unchanged
// must write the current hash, or a later revert to the older text would
// read as a duplicate once the memo drops the item.
func TestStaleSeenKeyIsReplaced(t *testing.T) {
	e := newSeenDueEnv(t, time.Hour)
	ctx := context.Background()
	id := fmt.Sprintf("%032x", 0xc1)
	mustIngest(t, e.g, testItem(id, seenHash(1)), pipeline.ResultCreated)
	stale := seenHash(0) + fmt.Sprintf(" %d", time.Now().Unix())
	if err := e.bucket.Set(ctx, pipeline.SeenKeyPrefix+id, stale, time.Hour); err != nil {
		t.Fatalf("writing the stale seen key: %v", err)
	}
	e.evict(t)
	mustIngest(t, e.g, testItem(id, seenHash(1)), pipeline.ResultDuplicate)
	e.wantKey(t, id, seenHash(1), "seen key after the index read")
	e.evict(t)
	mustIngest(t, e.g, testItem(id, seenHash(0)), pipeline.ResultUpdated)
}

// TestNewItemSeenKeyFallsDue keeps a new item in the memo and checks that
// its seen key is written at the first sighting after half the max age,
// not a day after it was created.
func TestNewItemSeenKeyFallsDue(t *testing.T) {
	e := newSeenDueEnv(t, 4*24*time.Hour)
	id := fmt.Sprintf("%032x", 0xd1)
	mustIngest(t, e.g, testItem(id, seenHash(1)), pipeline.ResultCreated)
	e.ahead = 25 * time.Hour
	mustIngest(t, e.g, testItem(id, seenHash(1)), pipeline.ResultDuplicate)
	e.wantNoKey(t, id, "seen key written a day after the item was created")
	e.ahead = 49 * time.Hour
	mustIngest(t, e.g, testItem(id, seenHash(1)), pipeline.ResultDuplicate)
	e.wantKey(t, id, seenHash(1), "seen key after half the max age")
}
