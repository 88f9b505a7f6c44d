package workers_test

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/encoding/charmap"

	"github.com/syndic-network/syndic/workers"
)

// windows1250RSS returns an RSS document with a Polish title, encoded in
// windows-1250.
func windows1250RSS(t *testing.T, published time.Time) string {
	t.Helper()
	doc := strings.Replace(datedRSS("", published), "Story 0", "Zażółć gęślą jaźń", 1)
	enc, err := charmap.Windows1250.NewEncoder().String(doc)
	if err != nil {
		t.Fatalf("encoding windows-1250: %v", err)
	}
	return enc
}

func TestHealthRowsByFailure(t *testing.T) {
	env := newSchedEnv(t, envOptions{})
	partner := newPartnerScript(t, "127.0.0.1")
	partner.route("/gone", response{status: http.StatusGone})
	partner.route("/busy", response{status: http.StatusTooManyRequests, header: map[string]string{"Retry-After": "900"}})
	partner.route("/mislabelled", response{
		header: map[string]string{"Content-Type": "application/rss+xml; charset=utf-8"},
		body:   windows1250RSS(t, env.clock.Now()),
	})
	partner.route("/fine", feedOK(datedRSS("", env.clock.Now())))
	// Another partner, because the same story from one partner is a
	// duplicate whatever feed carries it.
	mislabelledFeed := testFeed("mislabelled", partner.url("/mislabelled"))
	mislabelledFeed.Partner = "kurier"
	feeds := []workers.Feed{
		testFeed("fine", partner.url("/fine")),
		mislabelledFeed,
		testFeed("busy", partner.url("/busy")),
		testFeed("gone", partner.url("/gone")),
		testFeed("never", partner.url("/never")),
	}
	ctx := context.Background()
	for _, f := range feeds[:4] {
		env.poller.Poll(ctx, f)
	}
	rows, err := env.poller.Health(ctx, feeds)
	if err != nil {
		t.Fatalf("Health: %v", err)
	}

	var order []string
	for _, r := range rows {
		order = append(order, r.Feed)
	}
	wantOrder := []string{"wipk/gone", "wipk/busy", "wipk/never", "kurier/mislabelled", "wipk/fine"}
	if !slices.Equal(order, wantOrder) {
		t.Errorf("row order = %v, want failing feeds first: %v", order, wantOrder)
	}
	now := env.clock.Now()

	gone := healthOf(t, rows, "wipk/gone")
	if gone.Status != workers.StatusGone {
		t.Errorf("410 status = %q, want gone", gone.Status)
	}
	if gone.Outcome != "gone" {
		t.Errorf("410 outcome = %q, want gone", gone.Outcome)
	}
	if gone.HTTPStatus != http.StatusGone {
		t.Errorf("410 http status = %d, want 410", gone.HTTPStatus)
	}
	if !strings.Contains(gone.LastError, "410 Gone") || !strings.Contains(gone.LastError, "syndic feeds reset") {
		t.Errorf("410 last error = %q, want the status and how to resume", gone.LastError)
	}
	if !gone.NextAttempt.IsZero() {
		t.Errorf("410 next attempt = %v, want none", gone.NextAttempt)
	}
	if gone.ConsecutiveFailures != 1 {
		t.Errorf("410 failures = %d, want 1", gone.ConsecutiveFailures)
	}
	if !gone.Since.Equal(now) || !gone.LastAttempt.Equal(now) {
		t.Errorf("410 since = %v, last attempt = %v; want both %v", gone.Since, gone.LastAttempt, now)
	}
	if !gone.LastSuccess.IsZero() {
		t.Errorf("410 last success = %v, want none", gone.LastSuccess)
	}

	busy := healthOf(t, rows, "wipk/busy")
	if busy.Status != workers.StatusFailing {
		t.Errorf("429 status = %q, want failing", busy.Status)
	}
	if busy.Outcome != "retry_later" {
		t.Errorf("429 outcome = %q, want retry_later", busy.Outcome)
	}
	if !strings.Contains(busy.LastError, "rate limiting") || !strings.Contains(busy.LastError, "15m0s") {
		t.Errorf("429 last error = %q, want rate limiting and the 15m retry delay", busy.LastError)
	}
	if got := busy.NextAttempt.Sub(now); got != 15*time.Minute {
		t.Errorf("429 next attempt in %v, want the 15m of Retry-After", got)
	}
	if busy.PollIntervalSeconds != 900 {
		t.Errorf("429 poll interval = %ds, want 900", busy.PollIntervalSeconds)
	}

	mislabelled := healthOf(t, rows, "kurier/mislabelled")
	if mislabelled.Status != workers.StatusOK {
		t.Errorf("mislabelled charset status = %q, want ok after recovery", mislabelled.Status)
	}
	if !slices.Contains(mislabelled.Recoveries, "declared charset contradicts bytes") {
		t.Errorf("mislabelled charset recoveries = %v, want the charset repair listed", mislabelled.Recoveries)
	}
	if mislabelled.ItemsSeen != 1 {
		t.Errorf("mislabelled charset items seen = %d, want 1", mislabelled.ItemsSeen)
	}
	if !mislabelled.LastSuccess.Equal(now) {
		t.Errorf("mislabelled charset last success = %v, want %v", mislabelled.LastSuccess, now)
	}

	never := healthOf(t, rows, "wipk/never")
	if never.Status != workers.StatusPending || never.Outcome != "" {
		t.Errorf("unpolled feed status = %q, outcome %q; want pending and none", never.Status, never.Outcome)
	}
}

func TestPlainErrorWording(t *testing.T) {
	env := newSchedEnv(t, envOptions{guardPrivate: true})
	partner := newPartnerScript(t, "127.0.0.1")
	partner.route("/secret", response{status: http.StatusUnauthorized})
	partner.route("/missing", response{status: http.StatusNotFound})
	partner.route("/broken", response{status: http.StatusInternalServerError})
	partner.route("/page", response{header: map[string]string{"Content-Type": "text/html"}, body: "<!doctype html><html><body>hi</body></html>"})
	partner.route("/empty", response{header: map[string]string{"Content-Type": "application/rss+xml"}, body: " \n"})
	tests := []struct {
		name    string
		url     string
		private bool
		want    string
	}{
		{"401 names access", partner.url("/secret"), true, "refuses access to the feed (HTTP 401 Unauthorized)"},
		{"404 names the url", partner.url("/missing"), true, "feed URL was not found (HTTP 404 Not Found)"},
		{"500 names the server", partner.url("/broken"), true, "the server failed (HTTP 500 Internal Server Error)"},
		{"html page is not a feed", partner.url("/page"), true, "not an RSS, Atom or JSON feed"},
		{"empty body is named", partner.url("/empty"), true, "the URL returned an empty body instead of a feed"},
		{"loopback is rejected", partner.url("/missing"), false, "private or internal address"},
		{"loopback names the setting", partner.url("/missing"), false, "set allow_private_network: true on the feed"},
		{"refused connection is named", "http://127.0.0.1:1/feed", true, "connection to the server failed"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := testFeed("f", tc.url)
			f.AllowPrivateNetwork = tc.private
			env.poller.Poll(context.Background(), f)
			rows, err := env.poller.Health(context.Background(), []workers.Feed{f})
			if err != nil {
				t.Fatalf("Health: %v", err)
			}
			if !strings.Contains(rows[0].LastError, tc.want) {
				t.Errorf("last error = %q, want it to contain %q", rows[0].LastError, tc.want)
			}
		})
	}
}

func TestPrivateAddressErrorNamesSetting(t *testing.T) {
	env := newSchedEnv(t, envOptions{guardPrivate: true})
	partner := newPartnerScript(t, "127.0.0.1")
	partner.route("/feed", feedOK(datedRSS("", env.clock.Now())))
	partner.route("/to-metadata", response{
		status: http.StatusFound, header: map[string]string{"Location": "http://169.254.169.254/latest/"},
	})
	ctx := context.Background()

	rep := env.poller.Poll(ctx, testFeed("intranet", partner.url("/feed")))
	if !errors.Is(rep.Err, workers.ErrPrivateAddress) {
		t.Fatalf("poll error = %v, want ErrPrivateAddress", rep.Err)
	}
	if !strings.Contains(rep.Err.Error(), "set allow_private_network: true on the feed") {
		t.Errorf("poll error = %q, want it to name allow_private_network: true", rep.Err)
	}

	allowed := testFeed("metadata", partner.url("/to-metadata"))
	allowed.AllowPrivateNetwork = true
	rep = env.poller.Poll(ctx, allowed)
	if !errors.Is(rep.Err, workers.ErrPrivateAddress) {
		t.Fatalf("poll error = %v, want ErrPrivateAddress", rep.Err)
	}
	if strings.Contains(rep.Err.Error(), "allow_private_network") {
		t.Errorf("poll error of a redirect to a metadata address = %q, want no allow_private_network hint", rep.Err)
	}
	rows, err := env.poller.Health(ctx, []workers.Feed{allowed})
	if err != nil {
		t.Fatalf("Health: %v", err)
	}
	if !strings.Contains(rows[0].LastError, "cloud metadata address, which is never allowed") {
		t.Errorf("last error = %q, want it to name the metadata address", rows[0].LastError)
	}
}

func TestLastErrorKeptWithTimeAfterRecovery(t *testing.T) {
	env := newSchedEnv(t, envOptions{})
	partner := newPartnerScript(t, "127.0.0.1")
	partner.route("/feed", response{status: http.StatusServiceUnavailable})
	feed := testFeed("flaky", partner.url("/feed"))
	ctx := context.Background()
	failedAt := env.clock.Now()
	env.poller.Poll(ctx, feed)

	env.clock.Add(10 * time.Minute)
	partner.route("/feed", feedOK(datedRSS("", env.clock.Now())))
	if rep := env.poller.Poll(ctx, feed); rep.Err != nil {
		t.Fatalf("second poll: %v", rep.Err)
	}
	rows, err := env.poller.Health(ctx, []workers.Feed{feed})
	if err != nil {
		t.Fatalf("Health: %v", err)
	}
	row := rows[0]
	if row.Status != workers.StatusOK {
		t.Errorf("status = %q, want ok", row.Status)
	}
	if !strings.Contains(row.LastError, "HTTP 503") {
		t.Errorf("last error = %q, want the 503 kept after recovery", row.LastError)
	}
	if !row.LastErrorAt.Equal(failedAt) {
		t.Errorf("last error at = %v, want the failed poll at %v", row.LastErrorAt, failedAt)
	}
	if !row.LastSuccess.After(row.LastErrorAt) {
		t.Errorf("last success %v is not after the last error %v", row.LastSuccess, row.LastErrorAt)
	}
}

// reusedGUIDRSS contains three different stories from a CMS template that
// prints one GUID for every item.
const reusedGUIDRSS = `<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>Cluster news</title><link>https://cluster.example.org/</link>
<item><title>Export mission to Vilnius</title><link>https://cluster.example.org/news/vilnius-mission</link>
<guid isPermaLink="false">https://cluster.example.org/?page_id=7</guid><pubDate>Tue, 01 Dec 2026 09:00:00 +0000</pubDate></item>
<item><title>Call for hydrogen projects</title><link>https://cluster.example.org/news/hydrogen-call</link>
<guid isPermaLink="false">https://cluster.example.org/?page_id=7</guid><pubDate>Mon, 30 Nov 2026 09:00:00 +0000</pubDate></item>
<item><title>New members in November</title><link>https://cluster.example.org/news/new-members</link>
<guid isPermaLink="false">https://cluster.example.org/?page_id=7</guid><pubDate>Fri, 27 Nov 2026 09:00:00 +0000</pubDate></item>
</channel></rss>`

// TestDuplicateGUIDWarning checks that items sharing a GUID but not a link
// are keyed by link and published once each, and that the feed health
// shows a warning.
func TestDuplicateGUIDWarning(t *testing.T) {
	env := newSchedEnv(t, envOptions{})
	partner := newPartnerScript(t, "127.0.0.1")
	partner.route("/reused", feedOK(reusedGUIDRSS))
	partner.route("/fine", feedOK(datedRSS("", env.clock.Now())))
	reused := testFeed("reused", partner.url("/reused"))
	fine := testFeed("fine", partner.url("/fine"))
	ctx := context.Background()

	first := env.poller.Poll(ctx, reused)
	if first.New != 3 || first.Rejected != 0 {
		t.Fatalf("first poll: %d new, %d rejected; want 3 new, 0 rejected (err %v)", first.New, first.Rejected, first.Err)
	}
	if !slices.Contains(first.Warnings, workers.WarningDuplicateGUID) {
		t.Errorf("first poll warnings = %v, want %q", first.Warnings, workers.WarningDuplicateGUID)
	}
	env.clock.Add(2 * time.Hour)
	// A comment changes the body, so the repoll parses the same items
	// again instead of skipping an unchanged document.
	partner.route("/reused", feedOK(reusedGUIDRSS+"<!-- again -->"))
	second := env.poller.Poll(ctx, reused)
	if second.New != 0 || second.Updated != 0 || second.Duplicate != 3 {
		t.Errorf("repoll: %d new, %d updated, %d duplicate; want 0, 0, 3 (err %v)", second.New, second.Updated, second.Duplicate, second.Err)
	}
	env.poller.Poll(ctx, fine)

	rows, err := env.poller.Health(ctx, []workers.Feed{reused, fine})
	if err != nil {
		t.Fatalf("Health: %v", err)
	}
	row := healthOf(t, rows, "wipk/reused")
	if !slices.Equal(row.Warnings, []string{workers.WarningDuplicateGUID}) {
		t.Errorf("health warnings = %v, want [%q]", row.Warnings, workers.WarningDuplicateGUID)
	}
	if row.Status != workers.StatusOK {
		t.Errorf("status = %q, want ok: the items were published", row.Status)
	}
	if w := healthOf(t, rows, "wipk/fine").Warnings; len(w) != 0 {
		t.Errorf("a feed with unique GUIDs has warnings %v", w)
	}
}
