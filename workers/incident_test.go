package workers_test

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/syndic-network/syndic/workers"
)

func TestIncidentReportedOncePerOutage(t *testing.T) {
	var mu sync.Mutex
	var reports []workers.FeedHealth
	env := newSchedEnv(t, envOptions{poller: func(o *workers.PollerOptions) {
		o.IncidentAfter = 10 * time.Minute
		o.OnIncident = func(_ context.Context, _ workers.Feed, h workers.FeedHealth) {
			mu.Lock()
			defer mu.Unlock()
			reports = append(reports, h)
		}
	}})
	count := func() int {
		mu.Lock()
		defer mu.Unlock()
		return len(reports)
	}
	partner := newPartnerScript(t, "127.0.0.1")
	feed := testFeed("flaky", partner.url("/feed"))
	down := response{status: http.StatusServiceUnavailable}
	up := feedOK(datedRSS("", env.clock.Now()))
	ctx := context.Background()
	steps := []struct {
		name      string
		after     time.Duration
		resp      response
		wantTotal int
	}{
		{"first failure opens no incident", 0, down, 0},
		{"failing for 5m is below the threshold", 5 * time.Minute, down, 0},
		{"failing for 11m reports the incident", 6 * time.Minute, down, 1},
		{"later failures report nothing more", 20 * time.Minute, down, 1},
		{"recovery closes the incident", time.Minute, up, 1},
		{"a new outage starts a new clock", time.Minute, down, 1},
		{"the new outage is reported after 10m", 10 * time.Minute, down, 2},
	}
	for _, s := range steps {
		env.clock.Add(s.after)
		partner.route("/feed", s.resp)
		env.poller.Poll(ctx, feed)
		if got := count(); got != s.wantTotal {
			t.Fatalf("%s: %d incidents reported, want %d", s.name, got, s.wantTotal)
		}
	}
	first := reports[0]
	if first.Feed != "wipk/flaky" || first.Status != workers.StatusFailing {
		t.Errorf("incident health = %s %s, want wipk/flaky failing", first.Feed, first.Status)
	}
	if first.ConsecutiveFailures != 3 {
		t.Errorf("incident failures = %d, want 3", first.ConsecutiveFailures)
	}
	if first.LastError == "" {
		t.Error("incident health has no last error")
	}
}
