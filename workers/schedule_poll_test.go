package workers_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/syndic-network/syndic/workers"
)

func TestPollGoneStopsUntilReset(t *testing.T) {
	env := newSchedEnv(t, envOptions{})
	partner := newPartnerScript(t, "127.0.0.1")
	partner.route("/feed", response{status: http.StatusGone})
	feed := testFeed("gone", partner.url("/feed"))
	ctx := context.Background()

	first := env.poller.Poll(ctx, feed)
	if first.Outcome != workers.OutcomeGone {
		t.Fatalf("first poll outcome = %v, want gone", first.Outcome)
	}
	if !first.NextPoll.IsZero() {
		t.Errorf("gone feed NextPoll = %v, want zero", first.NextPoll)
	}
	second := env.poller.Poll(ctx, feed)
	if !errors.Is(second.Err, workers.ErrFeedGone) {
		t.Errorf("second poll error = %v, want ErrFeedGone", second.Err)
	}
	if n := partner.hitCount("/feed"); n != 1 {
		t.Errorf("server saw %d requests, want 1: a gone feed must not be fetched", n)
	}

	partner.route("/feed", feedOK(datedRSS("", env.clock.Now())))
	if err := env.poller.Reset(ctx, feed); err != nil {
		t.Fatalf("Reset: %v", err)
	}
	third := env.poller.Poll(ctx, feed)
	if third.Err != nil || third.New != 1 {
		t.Errorf("poll after reset = %d new, err %v; want 1 new", third.New, third.Err)
	}
	if n := partner.hitCount("/feed"); n != 2 {
		t.Errorf("server saw %d requests, want 2 after the reset", n)
	}
}

func TestResetUnknownFeed(t *testing.T) {
	env := newSchedEnv(t, envOptions{})
	err := env.poller.Reset(context.Background(), testFeed("never", "http://127.0.0.1:1/"))
	if !errors.Is(err, workers.ErrUnknownFeed) {
		t.Errorf("Reset error = %v, want ErrUnknownFeed", err)
	}
}

func TestPollScheduleByOutcome(t *testing.T) {
	tests := []struct {
		name     string
		resp     response
		wantNext time.Duration
		wantCls  string
	}{
		// A first permanent failure backs off like a temporary one; see
		// TestPollPermanentFailureFlagsOnceItPersists for the flag.
		{"first not found backs off", response{status: http.StatusNotFound}, time.Minute, "permanent"},
		{"first forbidden backs off", response{status: http.StatusForbidden}, time.Minute, "permanent"},
		{"first html page backs off", response{body: "<html><body>moved</body></html>"}, time.Minute, "parse_error"},
		{"429 honours retry-after seconds", response{
			status: http.StatusTooManyRequests, header: map[string]string{"Retry-After": "600"},
		}, 10 * time.Minute, "retry_later"},
		{"503 without retry-after backs off", response{status: http.StatusServiceUnavailable}, time.Minute, "retry_later"},
		{"cache-control max-age raises the interval", response{
			header: map[string]string{"Cache-Control": "max-age=1800"}, body: datedRSS("", time.Now()),
		}, 30 * time.Minute, "new_content"},
		{"rss ttl raises the interval", feedOK(datedRSS("<ttl>45</ttl>", time.Now())), 45 * time.Minute, "new_content"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env := newSchedEnv(t, envOptions{})
			partner := newPartnerScript(t, "127.0.0.1")
			partner.route("/feed", tc.resp)
			rep := env.poller.Poll(context.Background(), testFeed("f", partner.url("/feed")))
			if rep.Class != tc.wantCls {
				t.Errorf("class = %q, want %q (err %v)", rep.Class, tc.wantCls, rep.Err)
			}
			if got := rep.NextPoll.Sub(env.clock.Now()); got != tc.wantNext {
				t.Errorf("next poll in %v, want %v", got, tc.wantNext)
			}
		})
	}
}

func TestPollPermanentFailureFlagsOnceItPersists(t *testing.T) {
	env := newSchedEnv(t, envOptions{poller: func(o *workers.PollerOptions) { o.MaxInterval = 24 * time.Hour }})
	partner := newPartnerScript(t, "127.0.0.1")
	partner.route("/feed", response{status: http.StatusNotFound})
	feed := testFeed("moved", partner.url("/feed"))
	ctx := context.Background()
	first := env.clock.Now()
	// With the largest jitter the waits double from 1m: the poll at
	// 511m is the first at least six hours after the first failure.
	wait := time.Minute
	for poll := 1; ; poll++ {
		rep := env.poller.Poll(ctx, feed)
		rows, err := env.poller.Health(ctx, []workers.Feed{feed})
		if err != nil {
			t.Fatalf("Health: %v", err)
		}
		elapsed := env.clock.Now().Sub(first)
		next := rep.NextPoll.Sub(env.clock.Now())
		if elapsed < 6*time.Hour {
			if rows[0].Status != workers.StatusFailing {
				t.Fatalf("poll %d after %v: status = %q, want failing", poll, elapsed, rows[0].Status)
			}
			if next != wait {
				t.Errorf("poll %d: next poll in %v, want the back-off %v", poll, next, wait)
			}
			env.clock.Add(next)
			wait *= 2
			continue
		}
		if rows[0].Status != workers.StatusFlagged {
			t.Fatalf("poll %d after %v: status = %q, want flagged", poll, elapsed, rows[0].Status)
		}
		if next != 24*time.Hour {
			t.Errorf("flagged feed: next poll in %v, want the maximum 24h", next)
		}
		if poll != 10 {
			t.Errorf("flagged at poll %d, want 10", poll)
		}
		break
	}

	partner.route("/feed", feedOK(datedRSS("", env.clock.Now())))
	if err := env.poller.Reset(ctx, feed); err != nil {
		t.Fatalf("Reset: %v", err)
	}
	rep := env.poller.Poll(ctx, feed)
	if rep.Err != nil || rep.New != 1 {
		t.Errorf("poll after reset = %d new, err %v; want 1 new", rep.New, rep.Err)
	}
}

func TestPollFailuresBackOffAndRecover(t *testing.T) {
	var logs bytes.Buffer
	env := newSchedEnv(t, envOptions{poller: func(o *workers.PollerOptions) {
		o.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	}})
	partner := newPartnerScript(t, "127.0.0.1")
	partner.route("/feed", response{status: http.StatusBadGateway})
	feed := testFeed("flaky", partner.url("/feed"))
	ctx := context.Background()
	// With the largest jitter each failure doubles the wait from 1m.
	for i, want := range []time.Duration{time.Minute, 2 * time.Minute, 4 * time.Minute, 8 * time.Minute} {
		rep := env.poller.Poll(ctx, feed)
		if got := rep.NextPoll.Sub(env.clock.Now()); got != want {
			t.Errorf("failure %d: next poll in %v, want %v", i+1, got, want)
		}
	}
	partner.route("/feed", feedOK(datedRSS("", env.clock.Now())))
	rep := env.poller.Poll(ctx, feed)
	if got := rep.NextPoll.Sub(env.clock.Now()); got != 15*time.Minute {
		t.Errorf("after recovery next poll in %v, want the configured 15m", got)
	}
	rows, err := env.poller.Health(ctx, []workers.Feed{feed})
	if err != nil {
		t.Fatalf("Health: %v", err)
	}
	if rows[0].ConsecutiveFailures != 0 {
		t.Errorf("failures after recovery = %d, want 0", rows[0].ConsecutiveFailures)
	}
	if rows[0].LastError == "" {
		t.Error("last error was cleared by the recovery, want it kept for the operator")
	}
	if !strings.Contains(logs.String(), "feed recovered") || !strings.Contains(logs.String(), "failed_polls=4") {
		t.Errorf("the log lacks a recovery line naming 4 failed polls:\n%s", logs.String())
	}
}

func TestPollAdaptsToPublishingRate(t *testing.T) {
	env := newSchedEnv(t, envOptions{})
	partner := newPartnerScript(t, "127.0.0.1")
	now := env.clock.Now()
	// One story every 30 minutes, the latest just now.
	partner.route("/feed", feedOK(datedRSS("", now, now.Add(-30*time.Minute), now.Add(-time.Hour), now.Add(-90*time.Minute))))
	feed := testFeed("steady", partner.url("/feed"))
	rep := env.poller.Poll(context.Background(), feed)
	if got := rep.NextPoll.Sub(now); got != 30*time.Minute {
		t.Errorf("next poll in %v, want the 30m publishing interval", got)
	}
	rows, err := env.poller.Health(context.Background(), []workers.Feed{feed})
	if err != nil {
		t.Fatalf("Health: %v", err)
	}
	if rows[0].AverageIntervalSeconds != 1800 {
		t.Errorf("average interval = %ds, want 1800", rows[0].AverageIntervalSeconds)
	}
}

func TestPollAdoptsPermanentRedirect(t *testing.T) {
	env := newSchedEnv(t, envOptions{})
	partner := newPartnerScript(t, "127.0.0.1")
	body := datedRSS("", env.clock.Now(), env.clock.Now().Add(-time.Hour))
	partner.route("/old", response{status: http.StatusMovedPermanently, header: map[string]string{"Location": "/new"}})
	partner.route("/new", feedOK(body))
	feed := testFeed("moving", partner.url("/old"))
	ctx := context.Background()

	first := env.poller.Poll(ctx, feed)
	if first.New != 2 {
		t.Fatalf("first poll = %d new, err %v; want 2 new", first.New, first.Err)
	}
	rows, _ := env.poller.Health(ctx, []workers.Feed{feed})
	if rows[0].RedirectTarget != partner.url("/new") || rows[0].AdoptedURL != "" {
		t.Errorf("after one poll redirect = %q, adopted = %q; want the target seen, not adopted",
			rows[0].RedirectTarget, rows[0].AdoptedURL)
	}
	second := env.poller.Poll(ctx, feed)
	if second.New != 0 || second.Outcome != workers.OutcomeNotModified {
		t.Errorf("second poll = %d new, outcome %v; want the unchanged body counted as not modified", second.New, second.Outcome)
	}
	rows, _ = env.poller.Health(ctx, []workers.Feed{feed})
	if rows[0].AdoptedURL != partner.url("/new") {
		t.Errorf("after two polls adopted = %q, want %q", rows[0].AdoptedURL, partner.url("/new"))
	}
	third := env.poller.Poll(ctx, feed)
	if n := partner.hitCount("/old"); n != 2 {
		t.Errorf("old URL saw %d requests, want 2: the third poll must go to the new URL", n)
	}
	if third.New != 0 || third.Duplicate != 2 {
		t.Errorf("poll of the adopted URL = %d new, %d duplicate; want the same item ids", third.New, third.Duplicate)
	}
	if n := len(env.events(t)); n != 2 {
		t.Errorf("stream has %d events, want 2", n)
	}
}

func TestPollRedirectAdoptionNeedsConsecutivePolls(t *testing.T) {
	env := newSchedEnv(t, envOptions{poller: func(o *workers.PollerOptions) { o.AdoptRedirectAfter = 3 }})
	partner := newPartnerScript(t, "127.0.0.1")
	partner.route("/new", feedOK(datedRSS("", env.clock.Now())))
	moved := response{status: http.StatusPermanentRedirect, header: map[string]string{"Location": "/new"}}
	feed := testFeed("wavering", partner.url("/old"))
	ctx := context.Background()
	for _, step := range []response{moved, moved, feedOK(datedRSS("", env.clock.Now())), moved, moved} {
		partner.route("/old", step)
		env.poller.Poll(ctx, feed)
	}
	rows, _ := env.poller.Health(ctx, []workers.Feed{feed})
	if rows[0].AdoptedURL != "" {
		t.Errorf("adopted %q after an interrupted run of redirects, want none", rows[0].AdoptedURL)
	}
	env.poller.Poll(ctx, feed)
	rows, _ = env.poller.Health(ctx, []workers.Feed{feed})
	if rows[0].AdoptedURL != partner.url("/new") {
		t.Errorf("adopted %q after 3 consecutive redirects, want %q", rows[0].AdoptedURL, partner.url("/new"))
	}
}

func TestPollRedirectToMetadataNotAdopted(t *testing.T) {
	env := newSchedEnv(t, envOptions{guardPrivate: true})
	partner := newPartnerScript(t, "127.0.0.1")
	partner.route("/feed", response{
		status: http.StatusMovedPermanently, header: map[string]string{"Location": "http://169.254.169.254/latest/meta-data/"},
	})
	feed := testFeed("evil", partner.url("/feed"))
	feed.AllowPrivateNetwork = true // the partner itself is on loopback
	ctx := context.Background()
	for range 3 {
		rep := env.poller.Poll(ctx, feed)
		if !errors.Is(rep.Err, workers.ErrPrivateAddress) {
			t.Fatalf("poll error = %v, want ErrPrivateAddress", rep.Err)
		}
	}
	rows, _ := env.poller.Health(ctx, []workers.Feed{feed})
	if rows[0].AdoptedURL != "" || rows[0].RedirectTarget != "" {
		t.Errorf("redirect = %q, adopted = %q; want neither for a metadata address",
			rows[0].RedirectTarget, rows[0].AdoptedURL)
	}
	// Three polls at one instant are no persistent failure yet.
	if rows[0].Status != workers.StatusFailing {
		t.Errorf("status = %q, want failing", rows[0].Status)
	}
}

func TestPollMarksBackfillOnFirstPoll(t *testing.T) {
	env := newSchedEnv(t, envOptions{})
	partner := newPartnerScript(t, "127.0.0.1")
	now := env.clock.Now()
	day := 24 * time.Hour
	partner.route("/feed", feedOK(datedRSS("", now.Add(-time.Hour), now.Add(-8*day), now.Add(-30*day))))
	feed := testFeed("archive", partner.url("/feed"))
	ctx := context.Background()

	first := env.poller.Poll(ctx, feed)
	if first.New != 3 || first.Backfill != 2 {
		t.Fatalf("first poll = %d new, %d backfill; want 3 and 2", first.New, first.Backfill)
	}
	// A late item dated ten days ago appears after the first poll: it is
	// news to readers, not backfill.
	partner.route("/feed", feedOK(datedRSS("", now.Add(-time.Hour), now.Add(-8*day), now.Add(-30*day), now.Add(-10*day))))
	second := env.poller.Poll(ctx, feed)
	if second.New != 1 || second.Backfill != 0 {
		t.Errorf("second poll = %d new, %d backfill; want 1 and 0", second.New, second.Backfill)
	}
	want := map[string]bool{"Story 0": false, "Story 1": true, "Story 2": true, "Story 3": false}
	events := env.events(t)
	if len(events) != len(want) {
		t.Fatalf("stream has %d events, want %d", len(events), len(want))
	}
	for _, ev := range events {
		if ev.Backfill != want[ev.Title] {
			t.Errorf("%s backfill = %v, want %v", ev.Title, ev.Backfill, want[ev.Title])
		}
	}
}

func TestPollDiscoversFeedOnPage(t *testing.T) {
	env := newSchedEnv(t, envOptions{})
	partner := newPartnerScript(t, "127.0.0.1")
	partner.route("/", response{
		header: map[string]string{"Content-Type": "text/html; charset=utf-8"},
		body:   `<!doctype html><html><head><link rel="alternate" type="application/rss+xml" href="/rss"></head><body>News</body></html>`,
	})
	partner.route("/rss", feedOK(datedRSS("", env.clock.Now())))
	feed := testFeed("home", partner.url("/"))
	ctx := context.Background()

	first := env.poller.Poll(ctx, feed)
	if first.Err != nil || first.New != 1 {
		t.Fatalf("poll of the home page = %d new, err %v; want the linked feed's item", first.New, first.Err)
	}
	second := env.poller.Poll(ctx, feed)
	if n := partner.hitCount("/"); n != 1 {
		t.Errorf("home page saw %d requests, want 1: later polls go to the feed", n)
	}
	if second.New != 0 || second.Outcome != workers.OutcomeNotModified {
		t.Errorf("second poll = %d new, outcome %v; want the unchanged feed counted as not modified", second.New, second.Outcome)
	}
	rows, err := env.poller.Health(ctx, []workers.Feed{feed})
	if err != nil {
		t.Fatalf("Health: %v", err)
	}
	if rows[0].AdoptedURL != partner.url("/rss") {
		t.Errorf("adopted = %q, want %q", rows[0].AdoptedURL, partner.url("/rss"))
	}
	if rows[0].Status != workers.StatusOK {
		t.Errorf("status = %q, want ok", rows[0].Status)
	}
}

func TestPollDiscoveredFeedKeepsAllowOnOrigin(t *testing.T) {
	env := newSchedEnv(t, envOptions{guardPrivate: true})
	page := newPartnerScript(t, "127.0.0.1")
	other := newPartnerScript(t, "127.0.0.1")
	other.route("/metrics", feedOK(datedRSS("", env.clock.Now())))
	page.route("/", response{
		header: map[string]string{"Content-Type": "text/html; charset=utf-8"},
		body:   `<!doctype html><html><head><link rel="alternate" type="application/rss+xml" href="` + other.url("/metrics") + `"></head></html>`,
	})
	feed := testFeed("intranet", page.url("/"))
	feed.AllowPrivateNetwork = true

	rep := env.poller.Poll(context.Background(), feed)
	if !errors.Is(rep.Err, workers.ErrPrivateAddress) {
		t.Errorf("poll of a feed linked on another port = %d new, err %v; want ErrPrivateAddress", rep.New, rep.Err)
	}
	if n := other.hitCount("/metrics"); n != 0 {
		t.Errorf("server on the other port saw %d requests, want 0", n)
	}
}

func TestPollPageWithoutFeedIsParseError(t *testing.T) {
	env := newSchedEnv(t, envOptions{})
	partner := newPartnerScript(t, "127.0.0.1")
	// The page links to itself, which must not make the poller loop.
	partner.route("/", response{
		header: map[string]string{"Content-Type": "text/html"},
		body:   `<html><head><link rel="alternate" type="application/rss+xml" href="/"></head></html>`,
	})
	feed := testFeed("loop", partner.url("/"))
	rep := env.poller.Poll(context.Background(), feed)
	if rep.Class != "parse_error" {
		t.Errorf("class = %q, want parse_error", rep.Class)
	}
	if n := partner.hitCount("/"); n != 1 {
		t.Errorf("page saw %d requests, want 1", n)
	}
}

func TestPollLostStateRefetchesWithoutDuplicates(t *testing.T) {
	env := newSchedEnv(t, envOptions{})
	partner := newPartnerScript(t, "127.0.0.1")
	partner.route("/feed", response{
		header: map[string]string{"Content-Type": "application/rss+xml", "ETag": `"v1"`},
		body:   datedRSS("", env.clock.Now(), env.clock.Now().Add(-time.Hour)),
	})
	feed := testFeed("lost", partner.url("/feed"))
	ctx := context.Background()
	if first := env.poller.Poll(ctx, feed); first.New != 2 {
		t.Fatalf("first poll = %d new, err %v; want 2", first.New, first.Err)
	}
	if err := env.cache.Delete(ctx, "fetch:"+feed.Key()); err != nil {
		t.Fatalf("deleting fetch state: %v", err)
	}
	second := env.poller.Poll(ctx, feed)
	if second.Outcome != workers.OutcomeNewContent || second.Duplicate != 2 || second.New != 0 {
		t.Errorf("poll without state = %v, %d new, %d duplicate; want a full fetch of 2 duplicates",
			second.Outcome, second.New, second.Duplicate)
	}
	if n := len(env.events(t)); n != 2 {
		t.Errorf("stream has %d events, want 2", n)
	}
}
