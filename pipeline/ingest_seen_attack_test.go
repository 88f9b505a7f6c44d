package pipeline_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/syndic-network/syndic/internal/broker"
	"github.com/syndic-network/syndic/internal/store"
	"github.com/syndic-network/syndic/internal/testenv"
	"github.com/syndic-network/syndic/pipeline"
)

// seenOwnerKeys are the prefixes an owner's Local cache keeps.
var seenOwnerKeys = store.LocalOptions{
	ReservePrefix: pipeline.ReserveKeyPrefix,
	SeenPrefix:    pipeline.SeenKeyPrefix,
	SeenMemo:      1,
}

// attackEnv is a seenDueEnv whose owner can restart and whose cache
// can be wrapped.
type attackEnv struct {
	*seenDueEnv
	indexAge time.Duration
}

func newAttackEnv(t *testing.T, indexAge time.Duration) *attackEnv {
	return &attackEnv{seenDueEnv: newSeenDueEnv(t, indexAge), indexAge: indexAge}
}

// newShortIndexEnv returns an attackEnv whose index bucket expires its
// entries after maxAge, the IndexMaxAge of its ingester.
func newShortIndexEnv(t *testing.T, maxAge time.Duration) *attackEnv {
	e := newAttackEnv(t, maxAge)
	idx, err := broker.EnsureKV(context.Background(), e.env.js, testenv.Name(t)+"_SHORT", 1, maxAge, false)
	if err != nil {
		t.Fatalf("creating the short-lived index bucket: %v", err)
	}
	e.env.index = pipeline.NewIndex(idx)
	e.restart(nil)
	return e
}

// restart replaces the ingester's cache with wrap applied to a new owner
// memo over the same bucket, as a restart of the owner does. A nil wrap
// uses the memo itself.
func (e *attackEnv) restart(wrap func(*store.Local) pipeline.Cache) {
	local := store.NewLocal(e.bucket, seenOwnerKeys)
	var c pipeline.Cache = local
	if wrap != nil {
		c = wrap(local)
	}
	e.g = pipeline.NewIngester(pipeline.IngesterOptions{
		Cache: c, Index: e.env.index, Publisher: e.env.js, SubjectPrefix: e.env.prefix,
		SeenTTL: time.Hour, ReserveTTL: 10 * time.Second,
		IndexMaxAge: e.indexAge,
		Now:         func() time.Time { return time.Now().Add(e.ahead) },
	})
}

// indexed reports whether the index contains an entry for id.
func (e *attackEnv) indexed(t *testing.T, id string) bool {
	t.Helper()
	_, found, err := e.env.index.Get(context.Background(), id)
	if err != nil {
		t.Fatalf("reading the index entry of %s: %v", id, err)
	}
	return found
}

// eventsOf counts the stream's events of item id.
func eventsOf(t *testing.T, env *ingestEnv, id string) int {
	t.Helper()
	n := 0
	for _, ev := range env.events(t) {
		if ev.ID == id {
			n++
		}
	}
	return n
}

// TestListedItemOutlivesRealIndexExpiry offers an item every 100 ms
// until its index entry of two seconds is 1.3 s old, and again once the
// entry has really expired. No sighting may publish it again: with the
// memo kept, with the memo emptied before every sighting, and with the
// owner restarted after the entry expired. The sightings from 1 s on must
// have written its seen key, as none comes between 1.3 s and the expiry.
func TestListedItemOutlivesRealIndexExpiry(t *testing.T) {
	for _, mode := range []string{"memo kept", "memo emptied", "owner restarted after expiry"} {
		t.Run(mode, func(t *testing.T) {
			e := newShortIndexEnv(t, 2*time.Second)
			id := fmt.Sprintf("%032x", 0xa1)
			it := testItem(id, seenHash(1))
			sight := func() {
				t.Helper()
				if mode == "memo emptied" {
					e.evict(t)
				}
				mustIngest(t, e.g, it, pipeline.ResultDuplicate)
			}
			created := time.Now()
			mustIngest(t, e.g, it, pipeline.ResultCreated)
			tick := time.NewTicker(100 * time.Millisecond)
			defer tick.Stop()
			for time.Since(created) < 1300*time.Millisecond {
				<-tick.C
				sight()
			}
			deadline := time.Now().Add(15 * time.Second)
			for e.indexed(t, id) {
				if time.Now().After(deadline) {
					t.Fatal("the index entry did not expire within 15 s")
				}
				<-tick.C
			}
			if mode == "owner restarted after expiry" {
				e.restart(nil)
			}
			for range 3 {
				sight()
			}
			if n := eventsOf(t, e.env, id); n != 1 {
				t.Fatalf("stream contains %d events of the item, want 1", n)
			}
		})
	}
}

// TestDroppedItemAfterRealIndexExpiry offers an item once, lets its index
// entry expire before any sighting wrote its seen key, and offers it
// again. While the owner remembers it, it is a duplicate; once the owner
// has forgotten it, it is published again as a new item. docs/dedup.md
// states only the second outcome.
func TestDroppedItemAfterRealIndexExpiry(t *testing.T) {
	for _, forget := range []bool{false, true} {
		t.Run(fmt.Sprintf("forgotten %t", forget), func(t *testing.T) {
			e := newShortIndexEnv(t, time.Second)
			id := fmt.Sprintf("%032x", 0xb1)
			mustIngest(t, e.g, testItem(id, seenHash(1)), pipeline.ResultCreated)
			tick := time.NewTicker(50 * time.Millisecond)
			defer tick.Stop()
			deadline := time.Now().Add(15 * time.Second)
			for e.indexed(t, id) {
				if time.Now().After(deadline) {
					t.Fatal("the index entry did not expire within 15 s")
				}
				<-tick.C
			}
			want := pipeline.ResultDuplicate
			if forget {
				e.restart(nil)
				want = pipeline.ResultCreated
			}
			mustIngest(t, e.g, testItem(id, seenHash(1)), want)
		})
	}
}

// failingBucket fails the next write of a seen key once armed, as a
// cache bucket that is briefly unreachable does.
type failingBucket struct {
	pipeline.Cache
	fail atomic.Bool
}

func (b *failingBucket) Set(ctx context.Context, key, value string, ttl time.Duration) error {
	if strings.HasPrefix(key, pipeline.SeenKeyPrefix) && b.fail.Swap(false) {
		return errors.New("cache bucket unreachable")
	}
	return b.Cache.Set(ctx, key, value, ttl)
}

// TestRevertAfterFailedSeenWrite lets a retraction write an item's hash to
// the cache bucket and the seen write of the next update fail, so the
// bucket keeps the older hash behind a young index entry. The sighting
// that finds the update unchanged in the index must replace that hash,
// or the revert to the retracted text counts as a duplicate once the memo
// drops the item. It runs with Ingest and with IngestBatch.
func TestRevertAfterFailedSeenWrite(t *testing.T) {
	for _, batch := range []bool{false, true} {
		t.Run(fmt.Sprintf("batch %t", batch), func(t *testing.T) {
			e := newAttackEnv(t, time.Hour)
			fb := &failingBucket{Cache: e.bucket}
			e.bucket = fb
			e.restart(nil)
			ingest := func(it *pipeline.Item, want pipeline.Result) {
				t.Helper()
				if !batch {
					mustIngest(t, e.g, it, want)
					return
				}
				o := e.g.IngestBatch(context.Background(), []pipeline.Item{*it})[0]
				if o.Err != nil {
					t.Fatalf("ingesting item %s in a batch: %v", it.ID, o.Err)
				}
				if o.Result != want {
					t.Fatalf("ingesting item %s in a batch: result %q, want %q", it.ID, o.Result, want)
				}
			}
			ctx := context.Background()
			id := fmt.Sprintf("%032x", 0xc1)
			ingest(testItem(id, seenHash(1)), pipeline.ResultCreated)
			r := pipeline.NewRetractor(e.g, e.env.stream)
			_, done, err := r.Retract(ctx, "wipk", id)
			if err != nil {
				t.Fatalf("retracting item %s: %v", id, err)
			}
			if !done {
				t.Fatalf("retracting item %s published nothing", id)
			}
			fb.fail.Store(true)
			ingest(testItem(id, seenHash(2)), pipeline.ResultUpdated)
			if v, _ := e.stored(t, id); v != seenHash(1) {
				t.Fatalf("bucket after the failed write = %q, want the retracted hash", v)
			}
			e.evict(t)
			ingest(testItem(id, seenHash(2)), pipeline.ResultDuplicate)
			e.evict(t)
			ingest(testItem(id, seenHash(1)), pipeline.ResultUpdated)
		})
	}
}

// TestRedisSeenKeysIgnoreIndexMaxAge checks that with Redis, which keeps
// no seen value in memory only, an ingester with an IndexMaxAge writes
// the seen key of a new item and of a known item its index read found.
func TestRedisSeenKeysIgnoreIndexMaxAge(t *testing.T) {
	env := newIngestEnv(t, "redis")
	ctx := context.Background()
	open := func() (pipeline.Cache, *pipeline.Ingester) {
		c := env.newRC()
		return c, pipeline.NewIngester(pipeline.IngesterOptions{
			Cache: c, Index: env.index, Publisher: env.js, SubjectPrefix: env.prefix,
			SeenTTL: time.Hour, ReserveTTL: 10 * time.Second, IndexMaxAge: time.Hour,
		})
	}
	id := fmt.Sprintf("%032x", 0xd1)
	c, g := open()
	mustIngest(t, g, testItem(id, seenHash(1)), pipeline.ResultCreated)
	v, _, err := c.Get(ctx, pipeline.SeenKeyPrefix+id)
	if err != nil {
		t.Fatalf("reading the seen key of the new item: %v", err)
	}
	if !hasHash(v, seenHash(1)) {
		t.Fatalf("seen key of the new item = %q, want its hash", v)
	}
	c, g = open()
	mustIngest(t, g, testItem(id, seenHash(1)), pipeline.ResultDuplicate)
	v, _, err = c.Get(ctx, pipeline.SeenKeyPrefix+id)
	if err != nil {
		t.Fatalf("reading the seen key after the index read: %v", err)
	}
	if !hasHash(v, seenHash(1)) {
		t.Fatalf("seen key after the index read = %q, want the item's hash", v)
	}
}

// TestRemoteSeenKeyWaitsHalfAge runs the ingester in another process,
// which reaches the owner's memo through store.Remote. A known item's
// seen key must be written only from the first sighting after half of the
// index max age. A revert after the memo dropped an update must still be
// published.
func TestRemoteSeenKeyWaitsHalfAge(t *testing.T) {
	e := newAttackEnv(t, time.Hour)
	nc := e.env.js.Conn()
	subject := store.LocalSubject(testenv.Name(t))
	e.restart(func(l *store.Local) pipeline.Cache {
		sub, err := store.ServeLocal(nc, subject, l, nil)
		if err != nil {
			t.Fatalf("serving the owner's memo: %v", err)
		}
		t.Cleanup(func() { _ = sub.Unsubscribe() })
		return store.NewRemote(nc, subject, e.bucket, seenOwnerKeys)
	})
	id := fmt.Sprintf("%032x", 0xe1)
	mustIngest(t, e.g, testItem(id, seenHash(1)), pipeline.ResultCreated)
	e.evict(t)
	mustIngest(t, e.g, testItem(id, seenHash(1)), pipeline.ResultDuplicate)
	if v, found := e.stored(t, id); found {
		t.Fatalf("seen key of a young entry written through Remote: %q", v)
	}
	e.ahead = 31 * time.Minute
	e.evict(t)
	mustIngest(t, e.g, testItem(id, seenHash(1)), pipeline.ResultDuplicate)
	if v, _ := e.stored(t, id); !hasHash(v, seenHash(1)) {
		t.Fatalf("seen key past half the max age through Remote = %q, want the item's hash", v)
	}
	mustIngest(t, e.g, testItem(id, seenHash(2)), pipeline.ResultUpdated)
	e.evict(t)
	mustIngest(t, e.g, testItem(id, seenHash(1)), pipeline.ResultUpdated)
}

// stallingMemo is an owner's memo that stops the first write of key, a
// RememberSeen or a Set. It closes entered, then waits until released is
// closed.
type stallingMemo struct {
	*store.Local
	key      string
	armed    atomic.Bool
	entered  chan struct{}
	released chan struct{}
}

func (m *stallingMemo) stall(key string) {
	if key == m.key && m.armed.Swap(false) {
		close(m.entered)
		<-m.released
	}
}

func (m *stallingMemo) RememberSeen(ctx context.Context, key, value string, ttl time.Duration) error {
	m.stall(key)
	return m.Local.RememberSeen(ctx, key, value, ttl)
}

func (m *stallingMemo) Set(ctx context.Context, key, value string, ttl time.Duration) error {
	m.stall(key)
	return m.Local.Set(ctx, key, value, ttl)
}

// TestUpdateDuringSeenWrite offers an update of an item while another
// ingest of its old text is about to write or keep its seen value. That
// ingest is either a sighting that the index found unchanged or the
// ingest that created the item. If it released the reservation first,
// the cache would keep the old hash over the update's, and the revert to
// the old text would count as a duplicate. With no IndexMaxAge, each
// write is a Set.
func TestUpdateDuringSeenWrite(t *testing.T) {
	for _, known := range []bool{true, false} {
		for _, age := range []time.Duration{time.Hour, 0} {
			t.Run(fmt.Sprintf("known %t, index max age %v", known, age), func(t *testing.T) {
				e := newAttackEnv(t, age)
				id := fmt.Sprintf("%032x", 0xf1)
				m := &stallingMemo{key: pipeline.SeenKeyPrefix + id, entered: make(chan struct{}), released: make(chan struct{})}
				e.restart(func(l *store.Local) pipeline.Cache { m.Local = l; return m })
				want := pipeline.ResultCreated
				if known {
					mustIngest(t, e.g, testItem(id, seenHash(1)), pipeline.ResultCreated)
					e.evict(t)
					want = pipeline.ResultDuplicate
				}
				updateDuringStall(t, e, m, id, want)
				mustIngest(t, e.g, testItem(id, seenHash(1)), pipeline.ResultUpdated)
			})
		}
	}
}

// updateDuringStall offers the old text of item id (seenHash(1)), which
// must give want, and stalls it at its seen write. Meanwhile it offers
// the update (seenHash(2)), which must be published once the stall ends.
func updateDuringStall(t *testing.T, e *attackEnv, m *stallingMemo, id string, want pipeline.Result) {
	t.Helper()
	m.armed.Store(true)
	old := make(chan error, 1)
	go func() {
		got, err := e.g.Ingest(context.Background(), testItem(id, seenHash(1)))
		if err == nil && got != want {
			err = fmt.Errorf("result %q, want %q", got, want)
		}
		old <- err
	}()
	<-m.entered
	got, err := updateWhileStalled(e, id)
	close(m.released)
	if err := <-old; err != nil {
		t.Fatalf("ingest of the old text: %v", err)
	}
	if errors.Is(err, pipeline.ErrReserved) {
		// The stalled ingest holds the reservation until its seen write
		// ends, so the update waits for it.
		got, err = e.g.Ingest(context.Background(), testItem(id, seenHash(2)))
	}
	if err != nil {
		t.Fatalf("updating item %s: %v", id, err)
	}
	if got != pipeline.ResultUpdated {
		t.Fatalf("updating item %s: result %q, want updated", id, got)
	}
}

// updateWhileStalled offers the update of item id until no reservation
// blocks it, for up to half a second, because the stalled ingest may
// still hold the reservation.
func updateWhileStalled(e *attackEnv, id string) (pipeline.Result, error) {
	deadline := time.Now().Add(500 * time.Millisecond)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		got, err := e.g.Ingest(context.Background(), testItem(id, seenHash(2)))
		if !errors.Is(err, pipeline.ErrReserved) || time.Now().After(deadline) {
			return got, err
		}
		<-tick.C
	}
}

// TestUpdateDuringSeenRefresh offers an update of an item while a
// sighting of its old text, which the seen value settled, refreshes that
// value. A refresh without the reservation would land last, so the
// bucket would keep the old hash and the revert to the old text would
// count as a duplicate, though the index contains the update.
func TestUpdateDuringSeenRefresh(t *testing.T) {
	for _, age := range []time.Duration{time.Hour, 0} {
		t.Run(fmt.Sprintf("index max age %v", age), func(t *testing.T) {
			e := newAttackEnv(t, age)
			id := fmt.Sprintf("%032x", 0xf2)
			m := &stallingMemo{key: pipeline.SeenKeyPrefix + id, entered: make(chan struct{}), released: make(chan struct{})}
			e.restart(func(l *store.Local) pipeline.Cache { m.Local = l; return m })
			mustIngest(t, e.g, testItem(id, seenHash(1)), pipeline.ResultCreated)
			// 25 hours on, the memo hit refreshes the value with either
			// max age.
			e.ahead = 25 * time.Hour
			updateDuringStall(t, e, m, id, pipeline.ResultDuplicate)
			e.evict(t)
			mustIngest(t, e.g, testItem(id, seenHash(1)), pipeline.ResultUpdated)
		})
	}
}
