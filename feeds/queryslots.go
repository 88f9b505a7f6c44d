package feeds

import (
	"context"
	"errors"
	"runtime"
	"time"
)

// errBusy means every slot for building ad-hoc query documents stayed
// taken for queryWait; the client should retry shortly.
var errBusy = errors.New("too many ad-hoc queries in progress")

// queryWait bounds how long a request waits for a query slot. Building a
// narrowed document scans the whole channel window, so without a bound a
// burst of distinct queries, which the cache cannot absorb, would queue
// up and slow every other request, health probes included.
const queryWait = 2 * time.Second

// newQuerySlots returns one slot per CPU: query builds are CPU-bound, so
// more in parallel only lengthens each one.
func newQuerySlots() chan struct{} {
	return make(chan struct{}, runtime.GOMAXPROCS(0))
}

// acquireQuerySlot waits for a free slot, for at most queryWait.
func (h *handler) acquireQuerySlot(ctx context.Context) error {
	t := time.NewTimer(queryWait)
	defer t.Stop()
	select {
	case h.querySlots <- struct{}{}:
		return nil
	case <-t.C:
		return errBusy
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (h *handler) releaseQuerySlot() { <-h.querySlots }
