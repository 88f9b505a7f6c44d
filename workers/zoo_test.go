package workers_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/syndic-network/syndic/workers"
)

// zooFeed is one partner of the loopback zoo: its own 127.0.0.0/8 address,
// so that the per-host limit treats each as a separate host.
type zooFeed struct {
	partner string
	ip      string
	path    string
	routes  map[string]response
}

// TestRunServesHealthyPartners runs the scheduler against partners that
// hang, fail, redirect, rate limit and mislabel their encoding, and checks
// that the healthy ones are ingested while the slow one still hangs.
func TestRunServesHealthyPartners(t *testing.T) {
	env := newSchedEnv(t, envOptions{poller: func(o *workers.PollerOptions) { o.Concurrency = 3 }})
	now := env.clock.Now()
	hang := make(chan struct{}) // never closed: the slow partner responds only when the client gives up
	zoo := []zooFeed{
		{"slow", "127.0.0.11", "/feed", map[string]response{"/feed": {blockOn: hang}}},
		{"failing", "127.0.0.12", "/feed", map[string]response{"/feed": {status: http.StatusInternalServerError}}},
		{"moved", "127.0.0.13", "/old", map[string]response{
			"/old": {status: http.StatusMovedPermanently, header: map[string]string{"Location": "/new"}},
			"/new": feedOK(datedRSS("", now)),
		}},
		{"limited", "127.0.0.14", "/feed", map[string]response{"/feed": {
			status: http.StatusTooManyRequests, header: map[string]string{"Retry-After": "3600"},
		}}},
		{"mislabelled", "127.0.0.15", "/feed", map[string]response{"/feed": {
			// Claims gzip and UTF-8 but sends plain windows-1250 bytes.
			header: map[string]string{"Content-Encoding": "gzip", "Content-Type": "text/xml; charset=utf-8"},
			body:   windows1250RSS(t, now),
		}}},
		{"healthy-a", "127.0.0.16", "/feed", map[string]response{"/feed": feedOK(datedRSS("", now))}},
		{"healthy-b", "127.0.0.17", "/feed", map[string]response{"/feed": feedOK(datedRSS("", now))}},
	}
	var feeds []workers.Feed
	var slow *partnerScript
	for _, z := range zoo {
		script := newPartnerScript(t, z.ip)
		for path, r := range z.routes {
			script.route(path, r)
		}
		if z.partner == "slow" {
			slow = script
		}
		f := testFeed("news", script.url(z.path))
		f.Partner = z.partner
		feeds = append(feeds, f)
	}

	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	go func() {
		env.poller.Run(ctx, feeds)
		close(stopped)
	}()
	t.Cleanup(func() {
		cancel()
		<-stopped
	})

	wantIngested := map[string]bool{"moved": true, "mislabelled": true, "healthy-a": true, "healthy-b": true}
	waitFor(t, "the healthy partners' items in the stream", func() bool {
		seen := map[string]bool{}
		for _, ev := range env.events(t) {
			seen[ev.Partner] = true
		}
		return len(seen) == len(wantIngested)
	})
	rows := map[string]workers.FeedHealth{}
	waitFor(t, "every poll but the slow one to be recorded", func() bool {
		list, err := env.poller.Health(context.Background(), feeds)
		if err != nil {
			t.Fatalf("Health: %v", err)
		}
		done := 0
		for _, r := range list {
			rows[r.Partner] = r
			if !r.LastAttempt.IsZero() {
				done++
			}
		}
		return done == len(feeds)-1
	})
	for _, ev := range env.events(t) {
		if !wantIngested[ev.Partner] {
			t.Errorf("event from %s, want none", ev.Partner)
		}
	}
	// The slow poll may still be on its way to the partner when the others
	// are recorded. So the test waits for its request, then checks that it
	// was sent once.
	waitFor(t, "the slow partner's request", func() bool { return slow.hitCount("/feed") > 0 })
	if n := slow.hitCount("/feed"); n != 1 {
		t.Errorf("slow partner saw %d requests, want 1 still hanging", n)
	}

	tests := []struct {
		partner, status, outcome string
	}{
		{"slow", workers.StatusPending, ""},
		{"failing", workers.StatusFailing, "retry_later"},
		{"moved", workers.StatusOK, "new_content"},
		{"limited", workers.StatusFailing, "retry_later"},
		{"mislabelled", workers.StatusOK, "new_content"},
		{"healthy-a", workers.StatusOK, "new_content"},
	}
	for _, tc := range tests {
		r := rows[tc.partner]
		if r.Status != tc.status || r.Outcome != tc.outcome {
			t.Errorf("%s: status %q, outcome %q; want %q, %q", tc.partner, r.Status, r.Outcome, tc.status, tc.outcome)
		}
	}
	if got := rows["limited"].NextAttempt.Sub(now); got != time.Hour {
		t.Errorf("rate-limited partner next attempt in %v, want the 1h of Retry-After", got)
	}
	if rows["moved"].RedirectTarget == "" {
		t.Error("moved partner shows no redirect target")
	}
}
