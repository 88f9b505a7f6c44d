package store

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/syndic-network/syndic/internal/broker"
	"github.com/syndic-network/syndic/internal/testenv"
	"github.com/syndic-network/syndic/pipeline"
)

// pausedCache is a real cache that blocks the first Get or Set of pauseKey
// after the bucket has returned, until resume is closed. The test can then
// run other calls between the bucket's reply and Local's memo update.
type pausedCache struct {
	pipeline.Cache
	pauseKey   string
	pauseOp    string
	pausedOnce atomic.Bool
	paused     chan struct{}
	resume     chan struct{}
}

func newPausedCache(next pipeline.Cache, op, key string) *pausedCache {
	return &pausedCache{Cache: next, pauseKey: key, pauseOp: op, paused: make(chan struct{}), resume: make(chan struct{})}
}

func (p *pausedCache) pause(op, key string) {
	if op != p.pauseOp || key != p.pauseKey {
		return
	}
	// Only the first call pauses; later ones, such as the write the test
	// runs in the gap, pass straight through.
	if p.pausedOnce.CompareAndSwap(false, true) {
		close(p.paused)
		<-p.resume
	}
}

func (p *pausedCache) Get(ctx context.Context, key string) (string, bool, error) {
	v, found, err := p.Cache.Get(ctx, key)
	p.pause("get", key)
	return v, found, err
}

func (p *pausedCache) Set(ctx context.Context, key, value string, ttl time.Duration) error {
	err := p.Cache.Set(ctx, key, value, ttl)
	p.pause("set", key)
	return err
}

// TestLocalReadRacingWriteKeepsMemoCurrent reads a seen key while another
// goroutine changes it. The read got the old value from the bucket before
// the write, so it must not put that value into the memo after the write.
// Otherwise the memo holds a hash the bucket no longer has, and an item
// whose content goes back to that hash counts as a duplicate.
func TestLocalReadRacingWriteKeepsMemoCurrent(t *testing.T) {
	for _, write := range []string{"set", "delete", "remember"} {
		t.Run(write, func(t *testing.T) {
			ctx := testContext(t)
			next, _ := kvCache(t)
			mustSet(ctx, t, next, seenID, hashA, time.Hour)
			paused := newPausedCache(next, "get", seenID)
			l := NewLocal(paused, testKeys)

			read := make(chan string, 1)
			go func() {
				v, _, err := l.Get(ctx, seenID)
				if err != nil {
					t.Errorf("racing Get: %v", err)
				}
				read <- v
			}()
			<-paused.paused
			switch write {
			case "set":
				mustSet(ctx, t, l, seenID, hashB, time.Hour)
			case "delete":
				mustDelete(ctx, t, l, seenID)
			case "remember":
				if err := l.RememberSeen(ctx, seenID, hashB, time.Hour); err != nil {
					t.Fatalf("RememberSeen: %v", err)
				}
			}
			close(paused.resume)
			if v := <-read; v != hashA {
				t.Fatalf("racing Get = %q, want the value it read before the write, %q", v, hashA)
			}

			switch write {
			case "set":
				assertValue(ctx, t, next, seenID, hashB)
				assertValue(ctx, t, l, seenID, hashB)
			case "delete":
				assertAbsent(ctx, t, next, seenID)
				assertAbsent(ctx, t, l, seenID)
			case "remember":
				// The bucket keeps the old value; the memo has the new one.
				assertValue(ctx, t, next, seenID, hashA)
				assertValue(ctx, t, l, seenID, hashB)
			}
		})
	}
}

// TestLocalConcurrentSetsFollowBucket runs two writes of one seen key. The
// first reaches the bucket first, so the bucket keeps the second value.
// The memo must not keep the first value just because its writer updated
// the memo last.
func TestLocalConcurrentSetsFollowBucket(t *testing.T) {
	ctx := testContext(t)
	next, _ := kvCache(t)
	paused := newPausedCache(next, "set", seenID)
	l := NewLocal(paused, testKeys)

	done := make(chan error, 1)
	go func() { done <- l.Set(ctx, seenID, hashA, time.Hour) }()
	<-paused.paused
	mustSet(ctx, t, l, seenID, hashB, time.Hour)
	close(paused.resume)
	if err := <-done; err != nil {
		t.Fatalf("first Set: %v", err)
	}

	assertValue(ctx, t, next, seenID, hashB)
	assertValue(ctx, t, l, seenID, hashB)
}

// slowReads is a real cache whose Get of a key under slowPrefix blocks
// until release is closed, as a bucket read that takes long would.
type slowReads struct {
	pipeline.Cache
	blocked atomic.Int32
	release chan struct{}
}

const slowPrefix = "seen:slow-"

func (s *slowReads) Get(ctx context.Context, key string) (string, bool, error) {
	if strings.HasPrefix(key, slowPrefix) {
		s.blocked.Add(1)
		<-s.release
	}
	return s.Cache.Get(ctx, key)
}

// TestRemoteExpiredReleaseKeepsLaterReservation queues a release behind
// requests that occupy every handler of the owner. The releasing process
// gives up, its reservation expires and another writer reserves the item.
// The release that the owner runs once a handler frees up must not drop
// that writer's reservation: a third writer would then reserve the item
// too, and two writers could publish "created" events for it.
func TestRemoteExpiredReleaseKeepsLaterReservation(t *testing.T) {
	ctx := testContext(t)
	ns := testenv.NATS(t)
	ownerConn, js, err := broker.Connect(ctx, ns.URL, t.Name()+"-owner", nil)
	if err != nil {
		t.Fatalf("Connect: %v", err)
	}
	t.Cleanup(ownerConn.Close)
	kv, err := broker.EnsureKV(ctx, js, testenv.Name(t), 1, 0, true)
	if err != nil {
		t.Fatalf("EnsureKV: %v", err)
	}
	slow := &slowReads{Cache: NewKV(kv, WithJetStream(js)), release: make(chan struct{})}
	clk := testenv.NewClock(time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC))
	o := testKeys
	o.Now = clk.Now
	local := NewLocal(slow, o)
	subject := LocalSubject(testenv.Name(t))
	if _, err := ServeLocal(ownerConn, subject, local, nil); err != nil {
		t.Fatalf("ServeLocal: %v", err)
	}
	otherConn, _, err := broker.Connect(ctx, ns.URL, t.Name()+"-other", nil)
	if err != nil {
		t.Fatalf("Connect: %v", err)
	}
	t.Cleanup(otherConn.Close)
	remote := NewRemote(otherConn, subject, slow.Cache, testKeys)

	const ttl = 30 * time.Second
	if won, err := remote.Reserve(ctx, reserveID, hashA, ttl); err != nil || !won {
		t.Fatalf("first Reserve = %t, %v; want true", won, err)
	}

	// Occupy every handler with a read that blocks in the bucket.
	var reads sync.WaitGroup
	for i := range localRequests {
		reads.Go(func() {
			if _, _, err := remote.Get(ctx, slowPrefix+strconv.Itoa(i)); err != nil {
				t.Errorf("slow Get %d: %v", i, err)
			}
		})
	}
	for slow.blocked.Load() < localRequests {
		if ctx.Err() != nil {
			t.Fatal("handlers never all blocked")
		}
		time.Sleep(time.Millisecond)
	}

	// Blocked handlers hold no lock of the owner's connection, so the
	// owner's own bucket writes still go through.
	mustSet(ctx, t, local, otherID, hashB, time.Hour)

	// The release waits behind them, and its requester gives up.
	dctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	err = remote.Delete(dctx, reserveID)
	cancel()
	if err == nil {
		t.Fatal("release behind busy handlers succeeded, want a timeout")
	}

	// The unreleased reservation expires and a second writer takes it.
	clk.Add(ttl)
	assertReserve(ctx, t, local, reserveID, hashB, true)

	close(slow.release)
	reads.Wait()
	// The owner starts handlers in arrival order, so the queued release has
	// run once this later request is served: a release in memory takes
	// microseconds and a bucket read a round trip.
	if _, _, err := remote.Get(ctx, seenID); err != nil {
		t.Fatalf("Get after the queue drained: %v", err)
	}

	// The second writer still holds the item.
	assertReserve(ctx, t, local, reserveID, hashA, false)
}

// TestSeenMemoBoundsWriteRecord writes the key of an active read, then
// more keys than the memo's size. The record of writes stays bounded, and
// the read, whose key's write left the record, must still fill nothing:
// it may have read the value from before the write.
func TestSeenMemoBoundsWriteRecord(t *testing.T) {
	m := newSeenMemo(4)
	since := m.begin()
	var read memoID
	read[0] = 0xff
	m.begin()
	mark := m.touch(read)
	m.finishWrite(read, hashA, mark, true)
	m.end()
	for i := range 10 {
		var id memoID
		id[0] = byte(i + 1)
		m.begin()
		mark := m.touch(id)
		m.finishWrite(id, hashA, mark, true)
		m.end()
		if n := len(m.changed); n > 4 {
			t.Fatalf("write record holds %d keys after %d writes, want at most 4", n, i+1)
		}
	}
	m.fill(read, hashB, since)
	m.end()
	if v, ok := m.get(read); ok && v != hashA {
		t.Errorf("read that overlapped a write filled %q, want the written value or nothing", v)
	}
	if n := len(m.changed); n != 0 {
		t.Errorf("write record holds %d keys with no call active, want 0", n)
	}
}
