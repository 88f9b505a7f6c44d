package workers_test

import (
	"context"
	"testing"
	"time"

	"github.com/syndic-network/syndic/workers"
)

// TestRunDrainingFinishesPollInFlight checks that stopping the scheduler
// alone, as a reload does, lets a poll in flight finish and publish its
// items, and that RunDraining then returns.
func TestRunDrainingFinishesPollInFlight(t *testing.T) {
	env := newSchedEnv(t, envOptions{})
	partner := newPartnerScript(t, "127.0.0.1")
	release := make(chan struct{})
	now := env.clock.Now()
	partner.route("/slow", response{body: datedRSS("", now.Add(-time.Hour), now.Add(-2*time.Hour)), blockOn: release})
	f := testFeed("slow", partner.url("/slow"))

	sched, stopSched := context.WithCancel(context.Background())
	polls, cancelPolls := context.WithCancel(context.Background())
	defer cancelPolls()
	done := make(chan struct{})
	go func() {
		defer close(done)
		env.poller.RunDraining(sched, polls, []workers.Feed{f})
	}()
	deadline := time.Now().Add(5 * time.Second)
	for partner.hitCount("/slow") == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the feed was not polled within 5s")
		}
		time.Sleep(5 * time.Millisecond)
	}
	stopSched()
	select {
	case <-done:
		t.Fatal("RunDraining returned while its poll was still in flight")
	case <-time.After(100 * time.Millisecond):
	}
	close(release)
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("RunDraining did not return after its poll ended")
	}
	if n := len(env.events(t)); n != 2 {
		t.Errorf("stream has %d events, want the 2 items of the poll in flight", n)
	}
}
