package workers

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
)

// TestLocalSlotsReleaseTwiceFreesOneSlot releases one in-memory slot
// twice. Only that slot is freed, so the per_host limit still applies.
func TestLocalSlotsReleaseTwiceFreesOneSlot(t *testing.T) {
	h := newHostLimiter(nil, 2, 0, true)
	ctx := context.Background()
	first, err := h.tryAcquire(ctx, "partner.example")
	if err != nil {
		t.Fatalf("slot 1: %v", err)
	}
	if _, err := h.tryAcquire(ctx, "partner.example"); err != nil {
		t.Fatalf("slot 2: %v", err)
	}
	if _, err := h.tryAcquire(ctx, "partner.example"); !errors.Is(err, ErrHostBusy) {
		t.Fatalf("slot 3 error = %v, want ErrHostBusy", err)
	}
	first()
	first()
	if _, err := h.tryAcquire(ctx, "partner.example"); err != nil {
		t.Fatalf("slot after a release: %v", err)
	}
	if _, err := h.tryAcquire(ctx, "partner.example"); !errors.Is(err, ErrHostBusy) {
		t.Errorf("error = %v after a double release, want ErrHostBusy: one release freed two slots", err)
	}
	if _, err := h.tryAcquire(ctx, "other.example"); err != nil {
		t.Errorf("another host: %v, want its own slots", err)
	}
}

// TestLocalSlotsNeverExceedLimit takes and frees slots of one host from
// many goroutines and checks that no more than per_host are taken at once.
func TestLocalSlotsNeverExceedLimit(t *testing.T) {
	const slots = 3
	h := newHostLimiter(nil, slots, 0, true)
	ctx := context.Background()
	var inUse, maxInUse atomic.Int32
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			for range 200 {
				release, err := h.acquire(ctx, "partner.example")
				if err != nil {
					t.Errorf("acquire: %v", err)
					return
				}
				n := inUse.Add(1)
				for m := maxInUse.Load(); n > m && !maxInUse.CompareAndSwap(m, n); m = maxInUse.Load() {
				}
				inUse.Add(-1)
				release()
			}
		})
	}
	wg.Wait()
	if m := maxInUse.Load(); m > slots {
		t.Errorf("%d slots taken at once, want at most %d", m, slots)
	}
	if n := len(h.local.inUse); n != 0 {
		t.Errorf("%d hosts still counted after every release, want 0", n)
	}
}
