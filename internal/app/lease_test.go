package app

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/syndic-network/syndic/internal/testenv"
	"github.com/syndic-network/syndic/workers"
)

// runPoller runs the poller of a until the returned stop function is
// called, which also releases a's leases the way a shutdown does.
func runPoller(a *App) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { a.Leases.Keep(ctx) })
	wg.Go(func() { a.Poller.Run(ctx, a.Feeds()) })
	return sync.OnceFunc(func() {
		<-a.Leases.Stop()
		cancel()
		wg.Wait()
		a.Leases.Release(context.Background())
	})
}

func TestLeasesPollEachFeedOncePerInterval(t *testing.T) {
	const feeds, interval = 12, 2 * time.Second
	ns := testenv.NATS(t)
	farm := newFarm(t)
	cfg := testConfig(t, ns.URL, farm.srv.URL, feeds, interval)
	first := openApp(t, cfg)
	second := openApp(t, cfg)

	start := time.Now()
	stopFirst := runPoller(first)
	stopSecond := runPoller(second)
	t.Cleanup(stopFirst)
	t.Cleanup(stopSecond)
	waitFor(t, 30*time.Second, "three polls of every feed", func() bool {
		for i := 1; i <= feeds; i++ {
			if len(farm.times(fmt.Sprintf("f%d", i))) < 3 {
				return false
			}
		}
		return true
	})
	stopFirst()
	stopSecond()
	elapsed := time.Since(start)

	for i := 1; i <= feeds; i++ {
		name := fmt.Sprintf("f%d", i)
		times := farm.times(name)
		for j := 1; j < len(times); j++ {
			if gap := times[j].Sub(times[j-1]); gap < interval {
				t.Errorf("feed %s polled %s after its previous poll, want at least %s", name, gap, interval)
			}
		}
		if limit := int(elapsed/interval) + 1; len(times) > limit {
			t.Errorf("feed %s polled %d times in %s, want at most %d", name, len(times), elapsed, limit)
		}
	}
}

func TestLeasesMoveAfterRelease(t *testing.T) {
	const feeds, interval = 6, time.Second
	ns := testenv.NATS(t)
	farm := newFarm(t)
	cfg := testConfig(t, ns.URL, farm.srv.URL, feeds, interval)
	first := openApp(t, cfg)
	second := openApp(t, cfg)

	stopFirst := runPoller(first)
	t.Cleanup(stopFirst)
	waitFor(t, 20*time.Second, "the first process to hold every lease", func() bool {
		return first.Leases.Held() == feeds
	})
	stopFirst()
	if got := first.Leases.Held(); got != 0 {
		t.Errorf("first process holds %d leases after release, want 0", got)
	}

	stopSecond := runPoller(second)
	t.Cleanup(stopSecond)
	waitFor(t, 20*time.Second, "the second process to take every lease", func() bool {
		return second.Leases.Held() == feeds
	})
}

func TestLeaseClaim(t *testing.T) {
	ns := testenv.NATS(t)
	farm := newFarm(t)
	a := openApp(t, testConfig(t, ns.URL, farm.srv.URL, 1, time.Second))
	feed := a.Feeds()[0]
	ctx := context.Background()
	kv := a.Leases.kv
	ttl := time.Second
	owner := NewLeases(kv, LeaseOptions{Owner: "owner", TTL: ttl})
	rival := NewLeases(kv, LeaseOptions{Owner: "rival", TTL: ttl})

	mustClaim(t, owner, feed, true, "a free feed")
	mustClaim(t, owner, feed, true, "a feed it holds, renewing the lease")
	mustClaim(t, rival, feed, false, "a feed another process holds")

	entry, err := kv.Get(ctx, leaseKey(feed))
	if err != nil {
		t.Fatalf("reading lease: %v", err)
	}
	if got := string(entry.Value()); got != "owner" {
		t.Errorf("lease value = %q, want the owner's name", got)
	}

	// Without renewals the lease expires, and the rival takes it.
	waitFor(t, 10*time.Second, "the rival to take the expired lease", func() bool {
		done, ok := rival.Claim(ctx, feed)
		if ok {
			done()
		}
		return ok
	})
	mustClaim(t, owner, feed, false, "a feed whose lease expired and moved")
	if got := owner.Held(); got != 0 {
		t.Errorf("owner holds %d leases after losing its only one, want 0", got)
	}

	<-rival.Stop()
	mustClaim(t, rival, feed, false, "any feed after Stop")
}

func mustClaim(t *testing.T, l *Leases, f workers.Feed, want bool, what string) {
	t.Helper()
	done, ok := l.Claim(context.Background(), f)
	if ok != want {
		t.Fatalf("%s claiming %s: got %t, want %t", l.Owner(), what, ok, want)
	}
	if ok {
		done()
	}
}

func TestLeaseStopWaitsForPolls(t *testing.T) {
	ns := testenv.NATS(t)
	farm := newFarm(t)
	a := openApp(t, testConfig(t, ns.URL, farm.srv.URL, 1, time.Second))
	done, ok := a.Leases.Claim(context.Background(), a.Feeds()[0])
	if !ok {
		t.Fatal("claiming a free feed failed")
	}
	idle := a.Leases.Stop()
	select {
	case <-idle:
		t.Fatal("Stop reported idle while a claimed poll was in flight")
	default:
	}
	done()
	select {
	case <-idle:
	case <-time.After(5 * time.Second):
		t.Fatal("Stop did not report idle after the poll ended")
	}
}
