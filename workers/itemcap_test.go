package workers_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/syndic-network/syndic/workers"
)

// TestFeedItemCapKeepsNewest checks that a document with more items than
// MaxItems publishes only the newest, whatever their order in the
// document, and that the feed health warns about the rest.
func TestFeedItemCapKeepsNewest(t *testing.T) {
	env := newSchedEnv(t, envOptions{poller: func(o *workers.PollerOptions) { o.MaxItems = 3 }})
	now := env.clock.Now()
	// Story i is published i hours ago, except that the document lists
	// them out of date order: stories 4, 0, 3, 1, 2.
	hoursAgo := []int{4, 0, 3, 1, 2}
	var dates []time.Time
	for _, h := range hoursAgo {
		dates = append(dates, now.Add(-time.Duration(h)*time.Hour))
	}
	partner := newPartnerScript(t, "127.0.0.1")
	partner.route("/big", feedOK(datedRSS("", dates...)))
	f := testFeed("big", partner.url("/big"))

	rep := env.poller.Poll(context.Background(), f)
	if rep.New != 3 {
		t.Fatalf("new items = %d, want 3 (err %v)", rep.New, rep.Err)
	}
	if !slices.Contains(rep.Warnings, workers.WarningTooManyItems) {
		t.Errorf("warnings = %v, want %q", rep.Warnings, workers.WarningTooManyItems)
	}
	var titles []string
	for _, ev := range env.events(t) {
		titles = append(titles, ev.Title)
	}
	slices.Sort(titles)
	// Document positions 1, 3 and 4 hold the items 0, 1 and 2 hours old.
	if want := []string{"Story 1", "Story 3", "Story 4"}; !slices.Equal(titles, want) {
		t.Errorf("published %v, want the three newest %v", titles, want)
	}
	rows, err := env.poller.Health(context.Background(), []workers.Feed{f})
	if err != nil {
		t.Fatalf("Health: %v", err)
	}
	if w := healthOf(t, rows, "wipk/big").Warnings; !slices.Contains(w, workers.WarningTooManyItems) {
		t.Errorf("health warnings = %v, want %q", w, workers.WarningTooManyItems)
	}
}
