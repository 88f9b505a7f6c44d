package workers_test

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/syndic-network/syndic/workers"
)

// movedFeedBody returns a moved blog's Atom feed, read from the shared
// bug-report cases when they are checked out, else fallback as RSS.
func movedFeedBody(t *testing.T, fallback string) (body, contentType string) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "shared", "cases", "b23", "feed.atom"))
	if err != nil {
		return fallback, "application/rss+xml"
	}
	return string(data), "application/atom+xml; charset=utf-8"
}

func TestPermanentRedirectRecorded(t *testing.T) {
	tests := []struct {
		name      string
		status    int
		wantAdopt bool
	}{
		{"301 moves the subscription", http.StatusMovedPermanently, true},
		{"308 moves the subscription", http.StatusPermanentRedirect, true},
		{"302 is followed for one poll", http.StatusFound, false},
		{"307 is followed for one poll", http.StatusTemporaryRedirect, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env := newSchedEnv(t, envOptions{poller: func(o *workers.PollerOptions) { o.AdoptRedirectAfter = 1 }})
			old := newPartnerScript(t, "127.0.0.21")
			moved := newPartnerScript(t, "127.0.0.22")
			body, ctype := movedFeedBody(t, datedRSS("", env.clock.Now()))
			old.route("/blog/atom.xml", response{status: tc.status, header: map[string]string{"Location": moved.url("/feed.atom")}})
			moved.route("/feed.atom", response{header: map[string]string{"Content-Type": ctype}, body: body})
			feed := testFeed("blog", old.url("/blog/atom.xml"))
			ctx := context.Background()

			first := env.poller.Poll(ctx, feed)
			if first.Err != nil || first.New != 1 {
				t.Fatalf("poll 1 = %d new, err %v; want the item", first.New, first.Err)
			}
			second := env.poller.Poll(ctx, feed)
			wantOld := 2
			if tc.wantAdopt {
				wantOld = 1
			}
			if n := old.hitCount("/blog/atom.xml"); n != wantOld {
				t.Errorf("old URL saw %d requests, want %d", n, wantOld)
			}
			switch {
			case tc.wantAdopt && (second.New != 0 || second.Duplicate != 1):
				// The adopted URL is a new source, so its body is parsed.
				t.Errorf("poll 2 = %d new, %d duplicate; want the same item id", second.New, second.Duplicate)
			case !tc.wantAdopt && (second.New != 0 || second.Outcome != workers.OutcomeNotModified):
				t.Errorf("poll 2 = %d new, outcome %v; want the unchanged body counted as not modified", second.New, second.Outcome)
			}
			rows, err := env.poller.Health(ctx, []workers.Feed{feed})
			if err != nil {
				t.Fatalf("Health: %v", err)
			}
			if got := rows[0].AdoptedURL != ""; got != tc.wantAdopt {
				t.Errorf("adopted URL = %q, want adopted %v", rows[0].AdoptedURL, tc.wantAdopt)
			}

			// The moved feed is retired: polling stops until a reset.
			moved.route("/feed.atom", response{status: http.StatusGone})
			old.route("/blog/atom.xml", response{status: http.StatusGone})
			env.poller.Poll(ctx, feed)
			if rep := env.poller.Poll(ctx, feed); !errors.Is(rep.Err, workers.ErrFeedGone) {
				t.Errorf("poll after 410 error = %v, want ErrFeedGone without a fetch", rep.Err)
			}
		})
	}
}
