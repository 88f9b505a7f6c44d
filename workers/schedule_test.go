package workers

import (
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/syndic-network/syndic/pipeline"
)

func TestFreshnessLifetime(t *testing.T) {
	now := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	date := now.Add(-time.Hour).Format(http.TimeFormat)
	inOneHour := now.Add(time.Hour).Format(http.TimeFormat)
	tests := []struct {
		name   string
		header http.Header
		want   time.Duration
	}{
		{"no caching headers give no lifetime", http.Header{}, 0},
		{"max-age gives its seconds", http.Header{"Cache-Control": {"public, max-age=600"}}, 10 * time.Minute},
		{"max-age beats a later expires", http.Header{
			"Cache-Control": {"max-age=60"}, "Expires": {inOneHour},
		}, time.Minute},
		{"max-age zero beats expires", http.Header{
			"Cache-Control": {"max-age=0"}, "Expires": {inOneHour},
		}, 0},
		{"no-cache beats max-age", http.Header{"Cache-Control": {"no-cache, max-age=600"}}, 0},
		{"no-store beats expires", http.Header{"Cache-Control": {"no-store"}, "Expires": {inOneHour}}, 0},
		{"s-maxage is ignored", http.Header{"Cache-Control": {"s-maxage=600"}}, 0},
		{"directive names ignore case", http.Header{"Cache-Control": {"Max-Age=120"}}, 2 * time.Minute},
		{"quoted max-age is read", http.Header{"Cache-Control": {`max-age="300"`}}, 5 * time.Minute},
		{"first max-age wins", http.Header{"Cache-Control": {"max-age=60", "max-age=600"}}, time.Minute},
		{"invalid max-age gives none", http.Header{"Cache-Control": {"max-age=soon"}}, 0},
		{"huge max-age is capped", http.Header{"Cache-Control": {"max-age=99999999999999999999"}}, maxRetryAfter},
		{"expires counts from now without date", http.Header{"Expires": {inOneHour}}, time.Hour},
		{"expires counts from the date header", http.Header{"Expires": {inOneHour}, "Date": {date}}, 2 * time.Hour},
		{"expires in the past gives none", http.Header{"Expires": {date}}, 0},
		{"invalid expires means expired", http.Header{"Expires": {"0"}}, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := freshnessLifetime(tc.header, now); got != tc.want {
				t.Errorf("freshnessLifetime = %v, want %v", got, tc.want)
			}
		})
	}
}

// fixedJitter returns the largest jitter, so back-off results are exact.
func fixedJitter(d time.Duration) time.Duration { return d - 1 }

func TestScheduleInterval(t *testing.T) {
	s := schedule{min: time.Minute, max: time.Hour, jitter: fixedJitter}
	ok := OutcomeNewContent.String()
	tests := []struct {
		name       string
		state      fetchState
		configured time.Duration
		in         scheduleInput
		want       time.Duration
	}{
		{"success uses the configured interval", fetchState{}, 15 * time.Minute,
			scheduleInput{class: ok}, 15 * time.Minute},
		{"publishing interval replaces the configured one", fetchState{PublishInterval: 30 * time.Minute}, 15 * time.Minute,
			scheduleInput{class: ok}, 30 * time.Minute},
		{"publishing interval is clamped to the minimum", fetchState{PublishInterval: time.Second}, 15 * time.Minute,
			scheduleInput{class: ok}, time.Minute},
		{"longer max-age raises the interval", fetchState{}, 15 * time.Minute,
			scheduleInput{class: ok, res: FetchResult{Freshness: 20 * time.Minute}}, 20 * time.Minute},
		{"shorter max-age keeps the interval", fetchState{}, 15 * time.Minute,
			scheduleInput{class: ok, res: FetchResult{Freshness: 5 * time.Minute}}, 15 * time.Minute},
		{"rss ttl raises the interval", fetchState{}, 15 * time.Minute,
			scheduleInput{class: ok, ttl: 40 * time.Minute}, 40 * time.Minute},
		{"longer of ttl and max-age wins", fetchState{}, 15 * time.Minute,
			scheduleInput{class: ok, ttl: 40 * time.Minute, res: FetchResult{Freshness: 50 * time.Minute}}, 50 * time.Minute},
		{"server hints are capped at the maximum", fetchState{}, 15 * time.Minute,
			scheduleInput{class: ok, ttl: 48 * time.Hour}, time.Hour},
		{"not modified honours max-age", fetchState{}, 15 * time.Minute,
			scheduleInput{class: OutcomeNotModified.String(), res: FetchResult{Freshness: 25 * time.Minute}}, 25 * time.Minute},
		{"first failure backs off to the minimum", fetchState{Failures: 1}, 15 * time.Minute,
			scheduleInput{class: OutcomeRetryLater.String()}, time.Minute},
		{"third failure backs off four times", fetchState{Failures: 3}, 15 * time.Minute,
			scheduleInput{class: OutcomeRetryLater.String()}, 4 * time.Minute},
		{"back-off stops at the maximum", fetchState{Failures: 30}, 15 * time.Minute,
			scheduleInput{class: OutcomeRetryLater.String()}, time.Hour},
		{"retry-after beats a shorter back-off", fetchState{Failures: 1}, 15 * time.Minute,
			scheduleInput{class: OutcomeRetryLater.String(), res: FetchResult{RetryAfter: 10 * time.Minute}}, 10 * time.Minute},
		{"back-off beats a shorter retry-after", fetchState{Failures: 4}, 15 * time.Minute,
			scheduleInput{class: OutcomeRetryLater.String(), res: FetchResult{RetryAfter: time.Minute}}, 8 * time.Minute},
		{"retry-after is capped at the maximum", fetchState{Failures: 1}, 15 * time.Minute,
			scheduleInput{class: OutcomeRetryLater.String(), res: FetchResult{RetryAfter: 72 * time.Hour}}, time.Hour},
		{"first permanent failure backs off", fetchState{Failures: 1}, 15 * time.Minute,
			scheduleInput{class: OutcomePermanent.String(), res: FetchResult{Freshness: 30 * time.Minute}}, time.Minute},
		{"third permanent failure backs off four times", fetchState{Failures: 3}, 15 * time.Minute,
			scheduleInput{class: OutcomePermanent.String()}, 4 * time.Minute},
		{"first parse error backs off", fetchState{Failures: 1}, 15 * time.Minute,
			scheduleInput{class: classParseError}, time.Minute},
		{"flagged permanent failure waits the maximum", fetchState{Failures: 3, Flagged: true}, 15 * time.Minute,
			scheduleInput{class: OutcomePermanent.String(), res: FetchResult{Freshness: time.Minute}}, time.Hour},
		{"flagged parse error waits the maximum", fetchState{Failures: 3, Flagged: true}, 15 * time.Minute,
			scheduleInput{class: classParseError}, time.Hour},
		{"items left retry at the minimum", fetchState{PublishInterval: 30 * time.Minute}, 15 * time.Minute,
			scheduleInput{class: classItemsLeft}, time.Minute},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st := tc.state
			if got := s.interval(&st, tc.configured, tc.in); got != tc.want {
				t.Errorf("interval = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestTrackPermanentFlagsPersistentFailures(t *testing.T) {
	start := time.Date(2026, 12, 4, 6, 0, 0, 0, time.UTC)
	permanent, parse := OutcomePermanent.String(), classParseError
	type poll struct {
		class string
		after time.Duration // since the first poll
	}
	tests := []struct {
		name  string
		prior fetchState
		polls []poll
		want  bool
	}{
		{"first permanent failure does not flag", fetchState{}, []poll{{permanent, 0}}, false},
		{"three failures within six hours do not flag", fetchState{},
			[]poll{{permanent, 0}, {permanent, time.Hour}, {permanent, 5 * time.Hour}}, false},
		{"three failures over six hours flag", fetchState{},
			[]poll{{permanent, 0}, {permanent, time.Hour}, {permanent, 6 * time.Hour}}, true},
		{"two failures over a day do not flag", fetchState{},
			[]poll{{permanent, 0}, {permanent, 24 * time.Hour}}, false},
		{"parse errors and permanent failures count together", fetchState{},
			[]poll{{parse, 0}, {permanent, time.Hour}, {parse, 7 * time.Hour}}, true},
		{"a temporary failure restarts the count", fetchState{},
			[]poll{{permanent, 0}, {permanent, time.Hour}, {OutcomeRetryLater.String(), 2 * time.Hour}, {permanent, 7 * time.Hour}}, false},
		{"a temporary failure clears the flag", fetchState{Flagged: true, PermanentFailures: 5},
			[]poll{{OutcomeRetryLater.String(), 0}}, false},
		{"a flag without a count is kept", fetchState{Flagged: true}, []poll{{permanent, 0}}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st := tc.prior
			for _, p := range tc.polls {
				trackPermanent(&st, p.class, start.Add(p.after))
			}
			if st.Flagged != tc.want {
				t.Errorf("flagged = %v, want %v (state %+v)", st.Flagged, tc.want, st)
			}
		})
	}
}

func TestBackoffJitterRange(t *testing.T) {
	for _, jitter := range []struct {
		name string
		fn   func(time.Duration) time.Duration
		want time.Duration
	}{
		{"no jitter gives half", func(time.Duration) time.Duration { return 0 }, 8 * time.Minute},
		{"full jitter gives the whole step", fixedJitter, 16 * time.Minute},
	} {
		t.Run(jitter.name, func(t *testing.T) {
			s := schedule{min: time.Minute, max: time.Hour, jitter: jitter.fn}
			if got := s.backoff(5); got != jitter.want {
				t.Errorf("backoff(5) = %v, want %v", got, jitter.want)
			}
		})
	}
}

func TestBackoffSpreadsRetries(t *testing.T) {
	p := NewPoller(PollerOptions{MinInterval: time.Minute, MaxInterval: time.Hour})
	seen := map[time.Duration]bool{}
	for range 50 {
		d := p.sched.backoff(4)
		if d < 4*time.Minute || d > 8*time.Minute {
			t.Fatalf("backoff(4) = %v, want between 4m and 8m", d)
		}
		seen[d] = true
	}
	if len(seen) < 10 {
		t.Errorf("50 back-offs gave %d distinct delays, want jitter to spread them", len(seen))
	}
}

func datedItems(now time.Time, ages ...time.Duration) []pipeline.Item {
	var items []pipeline.Item
	for _, age := range ages {
		items = append(items, pipeline.Item{Published: now.Add(-age), DateSource: pipeline.DateFromFeed})
	}
	return items
}

func TestPublishInterval(t *testing.T) {
	now := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	firstSeen := pipeline.Item{Published: now, DateSource: pipeline.DateFirstSeen}
	tests := []struct {
		name  string
		items []pipeline.Item
		want  time.Duration
	}{
		{"no items give no estimate", nil, 0},
		{"one dated item gives no estimate", datedItems(now, time.Hour), 0},
		{"first-seen dates are ignored", []pipeline.Item{firstSeen, firstSeen, firstSeen}, 0},
		{"hourly items give an hour", datedItems(now, 0, time.Hour, 2*time.Hour, 3*time.Hour), time.Hour},
		{"order does not matter", datedItems(now, 2*time.Hour, 0, 3*time.Hour, time.Hour), time.Hour},
		{"quiet feed gives half its silence", datedItems(now, 10*time.Hour, 11*time.Hour, 12*time.Hour), 5 * time.Hour},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := publishInterval(tc.items, now); got != tc.want {
				t.Errorf("publishInterval = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestPublishIntervalUsesNewestItems(t *testing.T) {
	now := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	var ages []time.Duration
	for i := range publishingWindow {
		ages = append(ages, time.Duration(i)*time.Minute)
	}
	// An archive item a year old must not stretch the estimate.
	ages = append(ages, 365*24*time.Hour)
	if got := publishInterval(datedItems(now, ages...), now); got != time.Minute {
		t.Errorf("publishInterval = %v, want 1m from the newest %d items", got, publishingWindow)
	}
}

func TestChannelTTL(t *testing.T) {
	tests := []struct {
		name string
		body string
		want time.Duration
	}{
		{"channel ttl is read in minutes", `<rss><channel><ttl>60</ttl><item></item></channel></rss>`, time.Hour},
		{"spaces around the number are allowed", `<rss><channel><ttl> 5 </ttl></channel></rss>`, 5 * time.Minute},
		{"missing ttl gives none", `<rss><channel><title>x</title></channel></rss>`, 0},
		{"ttl inside an item is ignored", `<rss><channel><item><ttl>60</ttl></item></channel></rss>`, 0},
		{"non-numeric ttl gives none", `<rss><channel><ttl>soon</ttl></channel></rss>`, 0},
		{"huge ttl is capped", `<rss><channel><ttl>9999999</ttl></channel></rss>`, maxRetryAfter},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := channelTTL([]byte(tc.body)); got != tc.want {
				t.Errorf("channelTTL = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestMarkBackfill(t *testing.T) {
	now := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	items := datedItems(now, time.Hour, 8*24*time.Hour, 30*24*time.Hour)
	items = append(items, pipeline.Item{Published: now.Add(-60 * 24 * time.Hour), DateSource: pipeline.DateFirstSeen})
	if n := markBackfill(items, now, 7*24*time.Hour); n != 2 {
		t.Errorf("markBackfill marked %d items, want 2", n)
	}
	for i, want := range []bool{false, true, true, false} {
		if items[i].Backfill != want {
			t.Errorf("item %d Backfill = %v, want %v", i, items[i].Backfill, want)
		}
	}
	if n := markBackfill(datedItems(now, 30*24*time.Hour), now, 0); n != 0 {
		t.Errorf("markBackfill with no max age marked %d items, want 0", n)
	}
}

func TestInterleaveByHost(t *testing.T) {
	feed := func(u string) Feed { return Feed{URL: u} }
	feeds := []Feed{
		feed("https://a.example/1"), feed("https://a.example/2"), feed("https://a.example/3"),
		feed("https://b.example/1"), feed("https://B.example/2"), feed("file:///x.xml"),
	}
	got := interleaveByHost(feeds)
	want := []int{0, 3, 5, 1, 4, 2}
	if !slices.Equal(got, want) {
		t.Errorf("interleaveByHost = %v, want %v", got, want)
	}
}
