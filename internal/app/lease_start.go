package app

import (
	"context"
	"errors"
	"time"

	"github.com/nats-io/nats.go"
)

// Start-up retries of openStores. When several processes start together
// on a cluster, creating the R3 stream and buckets at once can take longer
// than the 5 s JetStream API timeout. Five attempts with doubling waits
// give the cluster about half a minute before the process gives up.
const (
	storeAttempts   = 5
	storeFirstDelay = time.Second
)

// openStoresRetrying runs openStores again after a timeout. Every step of
// openStores creates or updates idempotently, so a repeat after a
// timed-out request is safe.
func (a *App) openStoresRetrying(ctx context.Context) error {
	return a.retryOnTimeout(ctx, "creating the stream and buckets", func() error { return a.openStores(ctx) })
}

// retryOnTimeout calls fn until it succeeds, fails with an error other
// than a timeout, or storeAttempts calls have timed out.
func (a *App) retryOnTimeout(ctx context.Context, what string, fn func() error) error {
	delay := storeFirstDelay
	for attempt := 1; ; attempt++ {
		err := fn()
		if err == nil || attempt == storeAttempts || !isTimeout(err) {
			return err
		}
		a.Log.Warn("start-up request to NATS timed out; retrying", "step", what, "attempt", attempt, "error", err)
		select {
		case <-ctx.Done():
			return err
		case <-time.After(delay):
		}
		delay *= 2
	}
}

func isTimeout(err error) bool {
	return errors.Is(err, context.DeadlineExceeded) || errors.Is(err, nats.ErrTimeout)
}
