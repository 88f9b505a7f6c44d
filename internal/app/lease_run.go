package app

import (
	"context"
	"time"

	"github.com/syndic-network/syndic/workers"
)

// releaseTimeout bounds the deletion of this process's leases at
// shutdown. A lease that is not deleted expires after the TTL anyway.
const releaseTimeout = 5 * time.Second

// RunPollers polls the feeds this process holds leases for until stop
// ends, then shuts down within grace: it stops taking feeds, lets the
// polls in flight finish, cancels those still running when grace runs
// out, and releases its leases so other processes take the feeds over at
// once. A value on reload restarts the scheduler with the feeds that
// feeds returns then, and releases the leases of feeds no longer listed.
func (a *App) RunPollers(stop context.Context, grace time.Duration, reload <-chan struct{}, feeds func() []workers.Feed) {
	work, cancelWork := context.WithCancel(context.WithoutCancel(stop))
	defer cancelWork()
	go a.Leases.Keep(work)
	current := feeds()
	for {
		schedCtx, stopSched := context.WithCancel(work)
		pollCtx, cancelPolls := context.WithCancel(work)
		done := make(chan struct{})
		go func() {
			defer close(done)
			a.Poller.RunDraining(schedCtx, pollCtx, current)
		}()
		select {
		case <-reload:
			// No poll starts after the reload, and those in flight get the
			// grace period to finish, so a reload does not cut a long
			// ingest short. RunDraining returns once they end, so no feed
			// is polled by the old and the new scheduler at once.
			stopSched()
			a.waitPolls(done, grace)
			cancelPolls()
			<-done
			current = feeds()
			a.Leases.Retain(work, current)
			continue
		case <-stop.Done():
		}
		a.drain(grace)
		stopSched()
		cancelPolls()
		<-done
		rctx, cancel := context.WithTimeout(work, releaseTimeout)
		a.Leases.Release(rctx)
		cancel()
		return
	}
}

// waitPolls waits up to grace for the scheduler to return after a reload
// stopped it.
func (a *App) waitPolls(done <-chan struct{}, grace time.Duration) {
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
		a.Log.Warn("reload grace ran out; cancelling feed polls in flight", "grace_ms", grace.Milliseconds())
	}
}

// drain stops new polls and waits up to grace for those in flight.
func (a *App) drain(grace time.Duration) {
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case <-a.Leases.Stop():
	case <-t.C:
		a.Log.Warn("shutdown grace ran out; cancelling feed polls in flight", "grace_ms", grace.Milliseconds())
	}
}
