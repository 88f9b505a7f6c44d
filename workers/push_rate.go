package workers

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/syndic-network/syndic/pipeline"
)

// rateWindow is the length of one counting window of the intake limit.
const rateWindow = time.Minute

// maxRateProbes bounds how many request slots Allow walks in one call.
// Each probe is one cache read, and concurrent requests of one partner
// claim at most a few slots between two probes.
const maxRateProbes = 64

// RateLimiter counts pushed items per partner in fixed one-minute windows
// in a pipeline.Cache, so every intake process behind a load balancer
// shares one count when the cache is Redis. The Cache interface has no
// atomic increment, so each admitted request claims the next free slot
// key of its window with Reserve (SET NX) and stores the running total
// there. Two requests can never claim the same slot, so the total never
// undercounts. It is safe for concurrent use.
//
// NOTE: fixed windows admit up to twice the rate across a window boundary.
type RateLimiter struct {
	cache pipeline.Cache
	rate  int
	now   func() time.Time
}

// NewRateLimiter returns a limiter of rate items per minute per partner.
// A nil now means time.Now.
func NewRateLimiter(cache pipeline.Cache, rate int, now func() time.Time) *RateLimiter {
	if now == nil {
		now = time.Now
	}
	return &RateLimiter{cache: cache, rate: rate, now: now}
}

// Allow admits n items of partner and returns 0, or returns how long the
// partner must wait for the next window. An error is a cache failure.
func (l *RateLimiter) Allow(ctx context.Context, partner string, n int) (time.Duration, error) {
	now := l.now()
	window := now.Truncate(rateWindow)
	retry := window.Add(rateWindow).Sub(now)
	prefix := "rate:" + partner + ":" + strconv.FormatInt(window.Unix(), 10) + ":"
	slot, total, err := l.tail(ctx, prefix)
	if err != nil {
		return 0, err
	}
	for range maxRateProbes {
		if total+n > l.rate {
			return retry, nil
		}
		// Keep slots twice as long as the window, so a slow request still
		// finds its window's slots.
		won, err := l.cache.Reserve(ctx, prefix+strconv.Itoa(slot+1), strconv.Itoa(total+n), 2*rateWindow)
		if err != nil {
			return 0, fmt.Errorf("counting pushed items of partner %s: %w", partner, err)
		}
		if won {
			l.setHint(ctx, prefix, slot+1)
			return 0, nil
		}
		slot, total, err = l.tail(ctx, prefix)
		if err != nil {
			return 0, err
		}
	}
	// Heavy contention on one partner's count is itself a burst.
	return time.Second, nil
}

// tail returns the last claimed slot of a window and the total stored in
// it, starting from the hint and reading forward.
func (l *RateLimiter) tail(ctx context.Context, prefix string) (int, int, error) {
	slot, total := 0, 0
	if v, ok, err := l.cache.Get(ctx, prefix+"hint"); err != nil {
		return 0, 0, fmt.Errorf("reading the push rate count: %w", err)
	} else if ok {
		slot, _ = strconv.Atoi(v)
	}
	for probe := 0; ; probe++ {
		v, ok, err := l.cache.Get(ctx, prefix+strconv.Itoa(slot+1))
		if err != nil {
			return 0, 0, fmt.Errorf("reading the push rate count: %w", err)
		}
		if !ok || probe == maxRateProbes {
			break
		}
		slot++
		total, _ = strconv.Atoi(v)
	}
	if slot > 0 && total == 0 {
		v, _, err := l.cache.Get(ctx, prefix+strconv.Itoa(slot))
		if err != nil {
			return 0, 0, fmt.Errorf("reading the push rate count: %w", err)
		}
		total, _ = strconv.Atoi(v)
	}
	return slot, total, nil
}

// setHint records the last claimed slot, so the next request skips the
// slots before it. A lost or stale hint only costs extra reads.
func (l *RateLimiter) setHint(ctx context.Context, prefix string, slot int) {
	_ = l.cache.Set(ctx, prefix+"hint", strconv.Itoa(slot), 2*rateWindow)
}
