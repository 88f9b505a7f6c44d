package workers_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/syndic-network/syndic/workers"
)

// TestHostileUnchangedBodyAfterMaxItemsRaised polls a document of five
// items with fetch.max_items 3, then raises the cap as the feed warning
// asks the operator to do. The body is the same, but the two older items
// left out by the cap must now be published.
func TestHostileUnchangedBodyAfterMaxItemsRaised(t *testing.T) {
	var opts workers.PollerOptions
	env := newSchedEnv(t, envOptions{poller: func(o *workers.PollerOptions) {
		o.MaxItems = 3
		opts = *o
	}})
	now := env.clock.Now()
	var dates []time.Time
	for h := range 5 {
		dates = append(dates, now.Add(-time.Duration(h)*time.Hour))
	}
	partner := newPartnerScript(t, "127.0.0.1")
	partner.route("/big", feedOK(datedRSS("", dates...)))
	f := testFeed("big", partner.url("/big"))
	ctx := context.Background()

	first := env.poller.Poll(ctx, f)
	if first.New != 3 || !slices.Contains(first.Warnings, workers.WarningTooManyItems) {
		t.Fatalf("poll 1 = %d new, warnings %v, err %v; want 3 new and the cap warning", first.New, first.Warnings, first.Err)
	}

	opts.MaxItems = 10
	raised := workers.NewPoller(opts)
	env.clock.Add(time.Hour)
	second := raised.Poll(ctx, f)
	if second.New != 2 {
		t.Errorf("poll after raising max_items = outcome %v, %d new; want the 2 items the cap left out", second.Outcome, second.New)
	}
	if n := len(env.events(t)); n != 5 {
		t.Errorf("stream has %d events, want all 5 items", n)
	}
	rows, err := raised.Health(ctx, []workers.Feed{f})
	if err != nil {
		t.Fatalf("Health: %v", err)
	}
	if w := healthOf(t, rows, "wipk/big").Warnings; slices.Contains(w, workers.WarningTooManyItems) {
		t.Errorf("health warnings = %v after raising max_items to 10 for a 5-item feed; want no cap warning", w)
	}
}
