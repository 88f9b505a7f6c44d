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
// than a timeout or a missing responder, or storeAttempts calls have
// failed with one of those.
func (a *App) retryOnTimeout(ctx context.Context, what string, fn func() error) error {
	delay := storeFirstDelay
	for attempt := 1; ; attempt++ {
		err := fn()
		if err == nil || attempt == storeAttempts || !isTransient(err) {
			return err
		}
		a.Log.Warn("start-up request to NATS failed; retrying", "step", what, "attempt", attempt, "error", err)
		select {
		case <-ctx.Done():
			return err
		case <-time.After(delay):
		}
		delay *= 2
	}
}

// isTransient reports whether a start-up request failed in a way that a
// cluster still forming causes: a timeout, or no responder because a
// stream or bucket has no leader yet.
func isTransient(err error) bool {
	return errors.Is(err, context.DeadlineExceeded) || errors.Is(err, nats.ErrTimeout) ||
		errors.Is(err, nats.ErrNoResponders)
}
