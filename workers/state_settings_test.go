package workers_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/syndic-network/syndic/workers"
)

// feedRow returns the health row of feed.
func feedRow(t *testing.T, env *schedEnv, feed workers.Feed) workers.FeedHealth {
	t.Helper()
	rows, err := env.poller.Health(context.Background(), []workers.Feed{feed})
	if err != nil {
		t.Fatalf("Health: %v", err)
	}
	return rows[0]
}

func TestSettingsChangeDropsFailures(t *testing.T) {
	ctx := context.Background()

	t.Run("allowing private networks makes the feed due", func(t *testing.T) {
		env := newSchedEnv(t, envOptions{guardPrivate: true})
		partner := newPartnerScript(t, "127.0.0.1")
		partner.route("/feed", feedOK(datedRSS("", env.clock.Now())))
		feed := testFeed("intranet", partner.url("/feed"))
		rep := env.poller.Poll(ctx, feed)
		if !errors.Is(rep.Err, workers.ErrPrivateAddress) {
			t.Fatalf("poll error = %v, want ErrPrivateAddress", rep.Err)
		}
		if row := feedRow(t, env, feed); row.Status != workers.StatusFailing || row.NextAttempt.IsZero() {
			t.Fatalf("before the change: status %q, next attempt %v; want failing with a back-off", row.Status, row.NextAttempt)
		}

		feed.AllowPrivateNetwork = true
		row := feedRow(t, env, feed)
		if row.Status != workers.StatusPending {
			t.Errorf("after the change: status = %q, want pending", row.Status)
		}
		if !row.NextAttempt.IsZero() {
			t.Errorf("after the change: next attempt = %v, want none (due at once)", row.NextAttempt)
		}
		if row.ConsecutiveFailures != 0 {
			t.Errorf("after the change: failures = %d, want 0", row.ConsecutiveFailures)
		}
		if rep := env.poller.Poll(ctx, feed); rep.Err != nil || rep.New != 1 {
			t.Errorf("poll after the change = %d new, err %v; want 1 new", rep.New, rep.Err)
		}
	})

	t.Run("a new URL resumes a gone feed", func(t *testing.T) {
		env := newSchedEnv(t, envOptions{})
		partner := newPartnerScript(t, "127.0.0.1")
		partner.route("/old", response{status: http.StatusGone})
		partner.route("/new", feedOK(datedRSS("", env.clock.Now())))
		feed := testFeed("moved", partner.url("/old"))
		env.poller.Poll(ctx, feed)
		if row := feedRow(t, env, feed); row.Status != workers.StatusGone {
			t.Fatalf("before the change: status = %q, want gone", row.Status)
		}

		feed.URL = partner.url("/new")
		if row := feedRow(t, env, feed); row.Status != workers.StatusPending {
			t.Errorf("after the change: status = %q, want pending", row.Status)
		}
		if rep := env.poller.Poll(ctx, feed); rep.Err != nil || rep.New != 1 {
			t.Errorf("poll after the change = %d new, err %v; want 1 new", rep.New, rep.Err)
		}
	})

	t.Run("unchanged settings keep the back-off", func(t *testing.T) {
		env := newSchedEnv(t, envOptions{})
		partner := newPartnerScript(t, "127.0.0.1")
		partner.route("/feed", response{status: http.StatusNotFound})
		feed := testFeed("missing", partner.url("/feed"))
		env.poller.Poll(ctx, feed)
		row := feedRow(t, env, feed)
		if row.Status != workers.StatusFailing {
			t.Errorf("status = %q, want failing", row.Status)
		}
		if got := row.NextAttempt.Sub(env.clock.Now()); got != time.Minute {
			t.Errorf("next attempt in %v, want the 1m back-off", got)
		}
	})

	t.Run("a new charset drops the validators", func(t *testing.T) {
		env := newSchedEnv(t, envOptions{})
		body := datedRSS("", env.clock.Now())
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("ETag", `"v1"`)
			if r.Header.Get("If-None-Match") == `"v1"` {
				w.WriteHeader(http.StatusNotModified)
				return
			}
			w.Header().Set("Content-Type", "application/rss+xml")
			_, _ = io.WriteString(w, body)
		}))
		t.Cleanup(srv.Close)
		feed := testFeed("latin", srv.URL)
		env.poller.Poll(ctx, feed)
		if rep := env.poller.Poll(ctx, feed); rep.Outcome != workers.OutcomeNotModified {
			t.Fatalf("second poll with the same settings: outcome = %v, want not modified", rep.Outcome)
		}

		feed.Charset = "windows-1250"
		if row := feedRow(t, env, feed); !row.NextAttempt.IsZero() {
			t.Errorf("after the change: next attempt = %v, want none (due at once)", row.NextAttempt)
		}
		if rep := env.poller.Poll(ctx, feed); rep.Outcome != workers.OutcomeNewContent {
			t.Errorf("poll after the change: outcome = %v, want new content read with the new charset", rep.Outcome)
		}
	})
}
