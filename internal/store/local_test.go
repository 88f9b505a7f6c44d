package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/syndic-network/syndic/internal/broker"
	"github.com/syndic-network/syndic/internal/testenv"
)

var testKeys = LocalOptions{ReservePrefix: "reserve:", SeenPrefix: "seen:"}

const (
	seenID    = "seen:0123456789abcdef0123456789abcdef"
	otherID   = "seen:fedcba9876543210fedcba9876543210"
	hashA     = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	hashB     = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
	reserveID = "reserve:0123456789abcdef0123456789abcdef"
)

// kvCache returns a KV cache on a new bucket of a real server, with the
// connection it uses.
func kvCache(t *testing.T) (*KV, *nats.Conn) {
	t.Helper()
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
	return NewKV(kv, WithJetStream(js)), nc
}

func TestLocalReservationsStayInMemory(t *testing.T) {
	ctx := testContext(t)
	next, _ := kvCache(t)
	clk := testenv.NewClock(time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC))
	o := testKeys
	o.Now = clk.Now
	l := NewLocal(next, o)

	assertReserve(ctx, t, l, reserveID, hashA, true)
	assertReserve(ctx, t, l, reserveID, hashB, false)
	// The bucket never saw the reservation, so a process that wrote there
	// directly would not be kept out: that is why other processes use
	// Remote.
	assertAbsent(ctx, t, next, reserveID)
	if _, found, _ := l.Get(ctx, reserveID); !found {
		t.Error("Get of a held reservation: absent, want present")
	}

	mustDelete(ctx, t, l, reserveID)
	assertReserve(ctx, t, l, reserveID, hashA, true)

	// A reservation a crashed client never released ends with its ttl
	// (an hour in assertReserve).
	clk.Add(time.Hour - time.Second)
	assertReserve(ctx, t, l, reserveID, hashA, false)
	clk.Add(time.Second)
	assertReserve(ctx, t, l, reserveID, hashA, true)

	// Without a ttl it is held until deleted.
	const forever = "reserve:forever"
	if won, err := l.Reserve(ctx, forever, "", 0); err != nil || !won {
		t.Fatalf("Reserve without ttl = %t, %v; want true", won, err)
	}
	clk.Add(1000 * time.Hour)
	assertReserve(ctx, t, l, forever, "", false)

	// Other keys are reserved in the bucket.
	assertReserve(ctx, t, l, "lease:x", "1", true)
	assertValue(ctx, t, next, "lease:x", "1")
}

func TestLocalReserveSweepsExpired(t *testing.T) {
	ctx := testContext(t)
	next, _ := kvCache(t)
	clk := testenv.NewClock(time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC))
	o := testKeys
	o.Now = clk.Now
	l := NewLocal(next, o)
	for i := range sweepReservationsAt {
		key := fmt.Sprintf("reserve:crashed-%d", i)
		if won, err := l.Reserve(ctx, key, "", time.Second); err != nil || !won {
			t.Fatalf("Reserve %d: %v, %v", i, won, err)
		}
	}
	clk.Add(2 * time.Second)
	assertReserve(ctx, t, l, reserveID, "", true)
	l.mu.Lock()
	reservations := len(l.reservedUntil)
	l.mu.Unlock()
	if reservations != 1 {
		t.Errorf("%d reservations held after the sweep, want 1", reservations)
	}
}

func TestLocalConcurrentReserveHasOneWinner(t *testing.T) {
	ctx := testContext(t)
	next, _ := kvCache(t)
	l := NewLocal(next, testKeys)
	assertOneWinner(ctx, t, 20, []reserver{l}, l)
}

// reserver is the part of the cache interface both sides share here.
type reserver interface {
	Reserve(ctx context.Context, key, value string, ttl time.Duration) (bool, error)
}

// assertOneWinner runs rounds of 16 concurrent reservations of reserveID,
// spread over caches in turn, and fails unless each round has exactly one
// winner. It deletes the reservation through release after each round.
func assertOneWinner(ctx context.Context, t *testing.T, rounds int, caches []reserver, release *Local) {
	t.Helper()
	for round := range rounds {
		var wins atomic.Int32
		var wg sync.WaitGroup
		for i := range 16 {
			c := caches[i%len(caches)]
			wg.Go(func() {
				if won, err := c.Reserve(ctx, reserveID, "", time.Minute); err == nil && won {
					wins.Add(1)
				}
			})
		}
		wg.Wait()
		if n := wins.Load(); n != 1 {
			t.Fatalf("round %d: %d winners, want 1", round, n)
		}
		mustDelete(ctx, t, release, reserveID)
	}
}

func TestLocalRemembersSeenKeys(t *testing.T) {
	ctx := testContext(t)
	next, _ := kvCache(t)
	l := NewLocal(next, testKeys)
	value := hashA + " 1764936000"

	mustSet(ctx, t, l, seenID, value, time.Hour)
	assertValue(ctx, t, next, seenID, value)

	// Removed from the bucket behind Local's back, the key still reads
	// from memory: the read made no round trip.
	mustDelete(ctx, t, next, seenID)
	assertValue(ctx, t, l, seenID, value)
	if s := l.Stats(); s.MemoHits != 1 || s.MemoMisses != 0 {
		t.Errorf("stats %+v, want one hit and no miss", s)
	}

	// A key only the bucket has is read there once, then remembered.
	mustSet(ctx, t, next, otherID, hashB, time.Hour)
	values, found, err := l.GetMany(ctx, []string{seenID, otherID, "seen:absent", "fetch:x"})
	if err != nil {
		t.Fatalf("GetMany: %v", err)
	}
	wantValues := []string{value, hashB, "", ""}
	wantFound := []bool{true, true, false, false}
	for i := range wantValues {
		if values[i] != wantValues[i] || found[i] != wantFound[i] {
			t.Errorf("GetMany[%d] = %q, %t; want %q, %t", i, values[i], found[i], wantValues[i], wantFound[i])
		}
	}
	mustDelete(ctx, t, next, otherID)
	assertValue(ctx, t, l, otherID, hashB)

	// Delete drops the memo entry, so the bucket decides again.
	mustDelete(ctx, t, l, seenID)
	assertAbsent(ctx, t, l, seenID)
}

func TestLocalRememberSeenSkipsBucket(t *testing.T) {
	ctx := testContext(t)
	next, _ := kvCache(t)
	l := NewLocal(next, testKeys)
	value := hashA + " 1764936000"

	if err := l.RememberSeen(ctx, seenID, value, time.Hour); err != nil {
		t.Fatalf("RememberSeen: %v", err)
	}
	assertValue(ctx, t, l, seenID, value)
	assertAbsent(ctx, t, next, seenID)

	// A later Set, the daily refresh, writes the bucket.
	mustSet(ctx, t, l, seenID, value, time.Hour)
	assertValue(ctx, t, next, seenID, value)

	// Keys the memo cannot hold are written to the bucket.
	if err := l.RememberSeen(ctx, "seen:short", hashA, time.Hour); err != nil {
		t.Fatalf("RememberSeen of a short key: %v", err)
	}
	assertValue(ctx, t, next, "seen:short", hashA)
}

func TestLocalForgetsWhatItCannotRepeat(t *testing.T) {
	ctx := testContext(t)
	next, _ := kvCache(t)
	l := NewLocal(next, testKeys)

	// Values the memo could not give back byte for byte, and keys that are
	// not item ids, are read from the bucket every time.
	for _, tc := range []struct{ key, value string }{
		{seenID, "retracted"},
		{seenID, strings.ToUpper(hashA)},
		{seenID, hashA + " 0123"},
		{seenID, hashA + " 12 34"},
		{seenID, hashA + " "},
		{"seen:short", hashA},
		{"seen:0123456789ABCDEF0123456789ABCDEF", hashA},
	} {
		mustSet(ctx, t, l, seenID, hashB, time.Hour)
		mustSet(ctx, t, l, tc.key, tc.value, time.Hour)
		mustDelete(ctx, t, next, tc.key)
		assertAbsent(ctx, t, l, tc.key)
	}
}

func TestLocalFailedSetDropsMemo(t *testing.T) {
	ctx := testContext(t)
	next, nc := kvCache(t)
	l := NewLocal(next, testKeys)
	mustSet(ctx, t, l, seenID, hashA, time.Hour)

	nc.Close()
	if err := l.Set(ctx, seenID, hashB, time.Hour); err == nil {
		t.Fatal("Set on a closed connection succeeded")
	}
	// The old value must not come back from memory: the bucket may hold
	// either value now.
	if v, found, err := l.Get(ctx, seenID); err == nil {
		t.Errorf("Get after a failed Set = %q, %t, nil; want the bucket's error", v, found)
	}
}

func TestSeenMemoIsBounded(t *testing.T) {
	m := newSeenMemo(3)
	ids := make([]memoID, 10)
	for i := range ids {
		ids[i][0] = byte(i + 1)
		m.put(ids[i], hashA)
	}
	if n := m.values.Len(); n > 6 {
		t.Errorf("memo holds %d entries, want at most 6", n)
	}
	if _, ok := m.get(ids[9]); !ok {
		t.Error("latest entry forgotten")
	}
	if _, ok := m.get(ids[0]); ok {
		t.Error("oldest entry still held")
	}
	// A hit in the previous generation moves the entry forward.
	m = newSeenMemo(2)
	m.put(ids[0], hashA)
	m.put(ids[1], hashA)
	m.put(ids[2], hashA) // ids 0 and 1 become the previous generation
	if _, ok := m.get(ids[0]); !ok {
		t.Fatal("entry of the previous generation not found")
	}
	m.put(ids[3], hashA) // the current generation (2, 0) is full: 2, 0 move back
	m.put(ids[4], hashA)
	if _, ok := m.get(ids[0]); !ok {
		t.Error("entry moved forward was dropped with its old generation")
	}
}

func FuzzMemoValue(f *testing.F) {
	for _, s := range []string{hashA, hashA + " 1764936000", hashA + " -5", hashA + " 01", "x", hashA + " 9223372036854775808"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, ok := parseMemoValue(s)
		if ok && v.String() != s {
			t.Fatalf("memo value of %q reads back as %q", s, v.String())
		}
	})
}

// served is an owner's Local cache served on NATS, and a Remote cache on
// a second connection.
type served struct {
	local  *Local
	remote *Remote
	next   *KV
	sub    *nats.Subscription
	owner  *nats.Conn
}

// serveLocal serves an owner's Local cache on a subject, with a Remote
// cache on a second connection.
func serveLocal(t *testing.T) served {
	t.Helper()
	ns := testenv.NATS(t)
	ownerConn, js, err := broker.Connect(testContext(t), ns.URL, t.Name()+"-owner", nil)
	if err != nil {
		t.Fatalf("Connect: %v", err)
	}
	t.Cleanup(ownerConn.Close)
	kv, err := broker.EnsureKV(testContext(t), js, testenv.Name(t), 1, 0, true)
	if err != nil {
		t.Fatalf("EnsureKV: %v", err)
	}
	next := NewKV(kv, WithJetStream(js))
	local := NewLocal(next, testKeys)
	subject := LocalSubject(testenv.Name(t))
	sub, err := ServeLocal(ownerConn, subject, local, nil)
	if err != nil {
		t.Fatalf("ServeLocal: %v", err)
	}

	otherConn, ojs, err := broker.Connect(testContext(t), ns.URL, t.Name()+"-other", nil)
	if err != nil {
		t.Fatalf("Connect: %v", err)
	}
	t.Cleanup(otherConn.Close)
	okv, err := ojs.KeyValue(testContext(t), kv.Bucket())
	if err != nil {
		t.Fatalf("opening the bucket on the second connection: %v", err)
	}
	remote := NewRemote(otherConn, subject, NewKV(okv, WithJetStream(ojs)), testKeys)
	return served{local: local, remote: remote, next: next, sub: sub, owner: ownerConn}
}

func TestRemoteSharesOwnerReservations(t *testing.T) {
	ctx := testContext(t)
	sv := serveLocal(t)
	local, remote, next := sv.local, sv.remote, sv.next

	assertReserve(ctx, t, remote, reserveID, hashA, true)
	assertReserve(ctx, t, local, reserveID, hashA, false)
	mustDelete(ctx, t, remote, reserveID)
	assertReserve(ctx, t, local, reserveID, hashA, true)
	assertReserve(ctx, t, remote, reserveID, hashA, false)
	if _, found, err := remote.Get(ctx, reserveID); err != nil || !found {
		t.Errorf("remote Get of the owner's reservation = %t, %v; want present", found, err)
	}
	mustDelete(ctx, t, local, reserveID)

	// Concurrent reservations from both processes have one winner.
	assertOneWinner(ctx, t, 10, []reserver{local, remote}, local)

	// Other keys go to the bucket from either process.
	assertReserve(ctx, t, remote, "lease:x", "1", true)
	assertValue(ctx, t, next, "lease:x", "1")
	assertReserve(ctx, t, local, "lease:x", "1", false)
}

func TestRemoteSeenWritesReachOwnerMemo(t *testing.T) {
	ctx := testContext(t)
	sv := serveLocal(t)
	local, remote, next := sv.local, sv.remote, sv.next

	mustSet(ctx, t, local, seenID, hashA, time.Hour)
	// The other process changes the value: the owner's memo must follow,
	// or the owner would take new content for a duplicate.
	mustSet(ctx, t, remote, seenID, hashB, time.Hour)
	assertValue(ctx, t, next, seenID, hashB)
	mustDelete(ctx, t, next, seenID)
	assertValue(ctx, t, local, seenID, hashB)

	if err := remote.RememberSeen(ctx, otherID, hashA, time.Hour); err != nil {
		t.Fatalf("RememberSeen: %v", err)
	}
	assertValue(ctx, t, local, otherID, hashA)
	assertAbsent(ctx, t, next, otherID)

	mustSet(ctx, t, next, "fetch:feed", "etag", time.Hour)
	values, found, err := remote.GetMany(ctx, []string{"fetch:feed", seenID, "seen:absent"})
	if err != nil {
		t.Fatalf("GetMany: %v", err)
	}
	if values[0] != "etag" || !found[0] || values[1] != hashB || !found[1] || found[2] {
		t.Errorf("GetMany = %q, %v; want [etag %s ''], [true true false]", values, found, hashB)
	}
	mustDelete(ctx, t, remote, seenID)
	assertAbsent(ctx, t, local, seenID)
}

func TestRemoteFailsWhenOwnerSilent(t *testing.T) {
	ctx := testContext(t)
	sv := serveLocal(t)
	local, remote := sv.local, sv.remote
	if err := sv.sub.Unsubscribe(); err != nil {
		t.Fatalf("Unsubscribe: %v", err)
	}
	// The server must have dropped the interest before the requests come.
	if err := sv.owner.Flush(); err != nil {
		t.Fatalf("Flush: %v", err)
	}
	// Falling back to the bucket would let both processes reserve the
	// same item; the call must fail instead.
	assertReserve(ctx, t, local, reserveID, "", true)
	if won, err := remote.Reserve(ctx, reserveID, "", time.Minute); !errors.Is(err, ErrOwnerSilent) || won {
		t.Errorf("Reserve with a silent owner = %t, %v; want false, ErrOwnerSilent", won, err)
	}
	if _, _, err := remote.GetMany(ctx, []string{seenID}); !errors.Is(err, ErrOwnerSilent) {
		t.Errorf("GetMany with a silent owner: %v, want ErrOwnerSilent", err)
	}
}

func TestLocalAnswersBadRequests(t *testing.T) {
	remote := serveLocal(t).remote
	ctx := testContext(t)
	for _, data := range []string{"{", `{"op":"set","keys":[]}`, `{"op":"explode","keys":["a"]}`} {
		m, err := remote.nc.RequestWithContext(ctx, remote.subject, []byte(data))
		if err != nil {
			t.Fatalf("request %s: %v", data, err)
		}
		if !strings.Contains(string(m.Data), `"error"`) {
			t.Errorf("reply to %s = %s, want an error", data, m.Data)
		}
	}
}

// put stores value under id, or drops id when the memo cannot hold value,
// as a test sets up the memo.
func (s *seenMemo) put(id memoID, value string) {
	v, ok := parseMemoValue(value)
	s.mu.Lock()
	defer s.mu.Unlock()
	if ok {
		s.values.Put(id, v)
	} else {
		s.values.Delete(id)
	}
}
