package workers

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/syndic-network/syndic/pipeline"
)

// hostLimiter bounds the fetches in flight to one host name across every
// process that shares the pipeline cache. Each host has a fixed number of
// slots, stored under "fetch:slot:<host>:<n>". A fetch takes a free slot
// with a create-only write (Cache.Reserve, SET NX in Redis) and deletes it
// when the fetch ends. The slot's TTL frees it if the process dies
// mid-fetch.
//
// NOTE: the release is a plain delete, so a fetch that outlived its slot's
// TTL would free a slot another process took meanwhile. The TTL is the
// fetch timeout plus a margin, and a fetch never runs past its timeout, so
// this needs a process paused for longer than the margin.
type hostLimiter struct {
	cache pipeline.Cache
	slots int
	ttl   time.Duration
	// owner is stored in the slots this process takes, for debugging.
	owner string
	// local, when set, keeps the slots in this process instead of the
	// cache, which saves two cache round trips per fetch. It is for a
	// process that polls alone.
	local *localSlots
}

// localSlots counts the fetches in flight per host within one process.
type localSlots struct {
	mu    sync.Mutex
	inUse map[string]int
}

// slotMargin is added to the fetch timeout to get the slot TTL. It covers
// reading the state before the fetch and clock skew between processes.
const slotMargin = 30 * time.Second

func newHostLimiter(cache pipeline.Cache, slots int, fetchTimeout time.Duration, local bool) *hostLimiter {
	if slots <= 0 {
		slots = 2
	}
	if fetchTimeout <= 0 {
		fetchTimeout = defaultTimeout
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	h := &hostLimiter{cache: cache, slots: slots, ttl: fetchTimeout + slotMargin, owner: hex.EncodeToString(b[:])}
	if local {
		h.local = &localSlots{inUse: map[string]int{}}
	}
	return h
}

// hostOf returns the lower-case host name of a feed URL, or "" when the
// URL has none (file URLs), which needs no slot.
func hostOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	return strings.ToLower(u.Hostname())
}

// tryAcquire takes a free slot of host and returns the function that frees
// it. It returns ErrHostBusy when every slot is taken, and a store error
// when the cache cannot be reached.
func (h *hostLimiter) tryAcquire(ctx context.Context, host string) (func(), error) {
	if host == "" {
		return func() {}, nil
	}
	if h.local != nil {
		return h.local.tryAcquire(host, h.slots)
	}
	for n := range h.slots {
		key := "fetch:slot:" + host + ":" + strconv.Itoa(n)
		won, err := h.cache.Reserve(ctx, key, h.owner, h.ttl)
		if err != nil {
			return nil, fmt.Errorf("reserving fetch slot of %s: %w", host, err)
		}
		if won {
			return func() { h.release(ctx, key) }, nil
		}
	}
	return nil, ErrHostBusy
}

func (l *localSlots) tryAcquire(host string, slots int) (func(), error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.inUse[host] >= slots {
		return nil, ErrHostBusy
	}
	l.inUse[host]++
	var once sync.Once
	return func() { once.Do(func() { l.release(host) }) }, nil
}

func (l *localSlots) release(host string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.inUse[host]--; l.inUse[host] <= 0 {
		delete(l.inUse, host)
	}
}

// releaseTimeout bounds the delete that frees a slot. A slot that could
// not be freed expires with its TTL.
const releaseTimeout = 5 * time.Second

func (h *hostLimiter) release(ctx context.Context, key string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), releaseTimeout)
	defer cancel()
	_ = h.cache.Delete(ctx, key)
}

// Waits between attempts of a blocking acquire: short at first because a
// fetch slot usually frees within a request's time, then capped so that a
// busy host costs a few cache reads per second.
const (
	firstSlotWait = 20 * time.Millisecond
	maxSlotWait   = 500 * time.Millisecond
)

// acquire waits until a slot of host is free or ctx ends.
func (h *hostLimiter) acquire(ctx context.Context, host string) (func(), error) {
	wait := firstSlotWait
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		release, err := h.tryAcquire(ctx, host)
		if !errors.Is(err, ErrHostBusy) {
			return release, err
		}
		timer.Reset(wait)
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("waiting for a fetch slot of %s: %w", host, ctx.Err())
		case <-timer.C:
		}
		wait = min(2*wait, maxSlotWait)
	}
}
