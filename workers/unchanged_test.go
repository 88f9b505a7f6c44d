package workers_test

import (
	"context"
	"testing"
	"time"

	"github.com/syndic-network/syndic/workers"
)

// TestUnchangedBodySkipsParse polls a server that sends no validators:
// the same body again is not parsed, a changed one is.
func TestUnchangedBodySkipsParse(t *testing.T) {
	env := newSchedEnv(t, envOptions{})
	partner := newPartnerScript(t, "127.0.0.1")
	now := env.clock.Now()
	partner.route("/feed", feedOK(datedRSS("", now, now.Add(-time.Hour))))
	feed := testFeed("plain", partner.url("/feed"))
	ctx := context.Background()

	first := env.poller.Poll(ctx, feed)
	if first.Err != nil || first.New != 2 {
		t.Fatalf("poll 1 = %d new, err %v; want 2 new", first.New, first.Err)
	}
	env.clock.Add(time.Hour)
	second := env.poller.Poll(ctx, feed)
	if second.Outcome != workers.OutcomeNotModified {
		t.Errorf("poll 2 outcome %v, want not modified for the same body", second.Outcome)
	}
	if second.New+second.Duplicate+second.Updated != 0 {
		t.Errorf("poll 2 = %d new, %d duplicate, %d updated; want no item read", second.New, second.Duplicate, second.Updated)
	}
	if n := len(env.events(t)); n != 2 {
		t.Errorf("stream has %d events, want 2", n)
	}

	partner.route("/feed", feedOK(datedRSS("", now, now.Add(-time.Hour), now.Add(-2*time.Hour))))
	env.clock.Add(time.Hour)
	third := env.poller.Poll(ctx, feed)
	if third.Outcome != workers.OutcomeNewContent || third.New != 1 || third.Duplicate != 2 {
		t.Errorf("poll 3 = outcome %v, %d new, %d duplicate; want new content, 1 new, 2 duplicate", third.Outcome, third.New, third.Duplicate)
	}
}

// TestUnchangedBodyNewSettingsParse changes the partner's fallback
// language: the same body is then read again, since its items may change.
func TestUnchangedBodyNewSettingsParse(t *testing.T) {
	env := newSchedEnv(t, envOptions{})
	partner := newPartnerScript(t, "127.0.0.1")
	partner.route("/feed", feedOK(datedRSS("", env.clock.Now())))
	feed := testFeed("plain", partner.url("/feed"))
	ctx := context.Background()

	if first := env.poller.Poll(ctx, feed); first.New != 1 {
		t.Fatalf("poll 1 = %d new, err %v; want 1 new", first.New, first.Err)
	}
	feed.Language = "de"
	env.clock.Add(time.Hour)
	second := env.poller.Poll(ctx, feed)
	if second.Outcome != workers.OutcomeNewContent {
		t.Errorf("poll 2 outcome %v, want new content after the language changed", second.Outcome)
	}
	if second.New+second.Duplicate+second.Updated != 1 {
		t.Errorf("poll 2 = %d new, %d duplicate, %d updated; want the item read once", second.New, second.Duplicate, second.Updated)
	}
}
