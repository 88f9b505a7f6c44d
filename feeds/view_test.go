package feeds

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/syndic-network/syndic/pipeline"
)

var base = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)

func at(hours int) time.Time { return base.Add(time.Duration(hours) * time.Hour) }

func revision(ev pipeline.Event, rev int, kind pipeline.Kind, title string) pipeline.Event {
	ev.Revision = rev
	ev.Kind = kind
	ev.Title = title
	return ev
}

func ids(entries []pipeline.Event) []string {
	out := make([]string, 0, len(entries))
	for _, ev := range entries {
		out = append(out, ev.ID)
	}
	return out
}

func assertIDs(t *testing.T, got []pipeline.Event, want ...string) {
	t.Helper()
	g := ids(got)
	if len(g) != len(want) {
		t.Fatalf("ids = %v, want %v", g, want)
	}
	for i := range want {
		if g[i] != want[i] {
			t.Fatalf("ids = %v, want %v", g, want)
		}
	}
}

func TestViewRevisionOrdering(t *testing.T) {
	a := event("a", at(0))
	tests := []struct {
		name      string
		events    []pipeline.Event
		wantTitle string
		wantRev   int
	}{
		{"higher revision replaces", []pipeline.Event{a, revision(a, 2, pipeline.KindUpdated, "v2")}, "v2", 2},
		{"lower revision is ignored", []pipeline.Event{revision(a, 3, pipeline.KindUpdated, "v3"), revision(a, 2, pipeline.KindUpdated, "v2")}, "v3", 3},
		{"equal revision is ignored", []pipeline.Event{revision(a, 2, pipeline.KindUpdated, "first"), revision(a, 2, pipeline.KindUpdated, "second")}, "first", 2},
		{"update before create keeps the update", []pipeline.Event{revision(a, 2, pipeline.KindUpdated, "v2"), a}, "v2", 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := NewView(10)
			for _, ev := range tt.events {
				v.Apply(ev)
			}
			got := v.Entries(Filter{}, 0)
			assertIDs(t, got, "a")
			if got[0].Title != tt.wantTitle || got[0].Revision != tt.wantRev {
				t.Errorf("kept %q revision %d, want %q revision %d", got[0].Title, got[0].Revision, tt.wantTitle, tt.wantRev)
			}
		})
	}
}

func TestViewRetraction(t *testing.T) {
	a, b := event("a", at(0)), event("b", at(1))
	retractA := revision(a, 2, pipeline.KindRetracted, "")
	tests := []struct {
		name   string
		events []pipeline.Event
		want   []string
	}{
		{"retraction removes the item", []pipeline.Event{a, b, retractA}, []string{"b"}},
		{"replayed create stays retracted", []pipeline.Event{a, b, retractA, a}, []string{"b"}},
		{"retraction before create wins", []pipeline.Event{retractA, a, b}, []string{"b"}},
		{"newer revision after retraction returns", []pipeline.Event{a, retractA, revision(a, 3, pipeline.KindUpdated, "back")}, []string{"a"}},
		{"older retraction is ignored", []pipeline.Event{revision(a, 3, pipeline.KindUpdated, "v3"), retractA}, []string{"a"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := NewView(10)
			for _, ev := range tt.events {
				v.Apply(ev)
			}
			assertIDs(t, v.Entries(Filter{}, 0), tt.want...)
		})
	}
}

func TestViewWindowEviction(t *testing.T) {
	v := NewView(3)
	for _, id := range []string{"h2", "h0", "h4", "h1", "h3"} {
		v.Apply(event(id, at(int(id[1]-'0'))))
	}
	assertIDs(t, v.Entries(Filter{}, 0), "h4", "h3", "h2")
	if v.Len() != 3 {
		t.Errorf("Len = %d, want 3", v.Len())
	}

	version := v.Version()
	v.Apply(event("h0", at(0)))
	v.Apply(event("old", at(-5)))
	if v.Version() != version {
		t.Errorf("applying entries older than the window changed the version from %d to %d", version, v.Version())
	}
	assertIDs(t, v.Entries(Filter{}, 0), "h4", "h3", "h2")

	v.Apply(event("h5", at(5)))
	assertIDs(t, v.Entries(Filter{}, 0), "h5", "h4", "h3")
	assertIDs(t, v.Entries(Filter{}, 2), "h5", "h4")
}

func TestViewEvictionTiesByID(t *testing.T) {
	v := NewView(2)
	for _, id := range []string{"b", "a", "c"} {
		v.Apply(event(id, at(0)))
	}
	// Display order at equal dates is ascending ID, so "c" is last and goes.
	assertIDs(t, v.Entries(Filter{}, 0), "a", "b")
}

func TestViewReplayIsIdempotent(t *testing.T) {
	var stream []pipeline.Event
	for i := range 20 {
		ev := event(string(rune('a'+i)), at(i%7))
		stream = append(stream, ev)
		if i%4 == 0 {
			stream = append(stream, revision(ev, 2, pipeline.KindUpdated, "updated"))
		}
		if i%5 == 0 {
			stream = append(stream, revision(ev, 3, pipeline.KindRetracted, ""))
		}
	}
	v := NewView(6)
	for _, ev := range stream {
		v.Apply(ev)
	}
	before := ids(v.Entries(Filter{}, 0))
	version := v.Version()

	for _, ev := range stream {
		v.Apply(ev)
	}
	if v.Version() != version {
		t.Errorf("replay changed the version from %d to %d", version, v.Version())
	}
	after := ids(v.Entries(Filter{}, 0))
	if len(after) != len(before) {
		t.Fatalf("entries after replay = %v, want %v", after, before)
	}
	for i := range before {
		if after[i] != before[i] {
			t.Fatalf("entries after replay = %v, want %v", after, before)
		}
	}
}

func TestViewURLDeduplication(t *testing.T) {
	first := event("first", at(0))
	first.URL = "https://example.com/story"
	second := event("second", at(2))
	second.URL = first.URL
	other := event("other", at(1))
	noURL1, noURL2 := event("n1", at(3)), event("n2", at(3))
	noURL1.URL, noURL2.URL = "", ""
	// A claim on another partner's URL, published before the real item:
	// without a cluster from the pipeline it must not hide that item.
	claim := event("claim", at(4))
	claim.URL = first.URL
	claim.Partner = "radio-sud"

	v := NewView(10)
	for _, ev := range []pipeline.Event{claim, first, second, other, noURL1, noURL2} {
		v.Apply(ev)
	}
	t.Run("copy ingested first wins", func(t *testing.T) {
		assertIDs(t, v.Entries(Filter{}, 0), "claim", "n1", "n2", "other")
	})
	t.Run("another partner's copy stays visible", func(t *testing.T) {
		stories := v.Stories(Filter{}, 0, Filter{}, 0)
		if len(stories) == 0 || stories[0].Item.ID != "claim" {
			t.Fatalf("first story = %+v, want claim", stories)
		}
		if got := ids(stories[0].Copies); len(got) != 1 || got[0] != "first" {
			t.Errorf("copies of the shared URL = %v, want [first]", got)
		}
	})
	t.Run("filter applies before de-duplication", func(t *testing.T) {
		assertIDs(t, v.Entries(Filter{Partners: []string{"radio-sud"}}, 0), "claim")
	})
	t.Run("limit counts listed entries", func(t *testing.T) {
		assertIDs(t, v.Entries(Filter{}, 4), "claim", "n1", "n2", "other")
	})
	t.Run("another partner cannot hide an item", func(t *testing.T) {
		assertIDs(t, v.Entries(Filter{Partners: []string{"northwind"}}, 0), "n1", "n2", "other", "first")
	})
}

func TestViewFilters(t *testing.T) {
	en := event("en", at(3))
	en.Language, en.Categories = "en-GB", []string{"Sport", "Local"}
	fr := event("fr", at(2))
	fr.Language, fr.Partner, fr.Categories = "fr", "radio-sud", []string{"sport"}
	none := event("none", at(1))

	v := NewView(10)
	for _, ev := range []pipeline.Event{en, fr, none} {
		v.Apply(ev)
	}
	tests := []struct {
		name   string
		filter Filter
		want   []string
	}{
		{"empty filter keeps all", Filter{}, []string{"en", "fr", "none"}},
		{"partner is exact", Filter{Partners: []string{"radio-sud"}}, []string{"fr"}},
		{"language matches subtags", Filter{Languages: []string{"EN"}}, []string{"en"}},
		{"language region is strict", Filter{Languages: []string{"en-US"}}, nil},
		{"region filter keeps items without region", Filter{Languages: []string{"fr-BE"}}, []string{"fr"}},
		{"category ignores case", Filter{Categories: []string{"SPORT"}}, []string{"en", "fr"}},
		{"lists combine with and", Filter{Categories: []string{"sport"}, Languages: []string{"fr"}}, []string{"fr"}},
		{"any value in a list matches", Filter{Partners: []string{"northwind", "radio-sud"}}, []string{"en", "fr", "none"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assertIDs(t, v.Entries(tt.filter, 0), tt.want...)
		})
	}
}

func TestViewVersionAndLastModified(t *testing.T) {
	v := NewView(10)
	clock := base.Add(time.Hour)
	v.now = func() time.Time { return clock }
	if v.Version() != 0 || !v.LastModified().IsZero() {
		t.Fatalf("new view version %d modified %v, want 0 and zero", v.Version(), v.LastModified())
	}
	a := event("a", at(0))
	a.IngestedAt = base
	v.Apply(a)
	if v.Version() != 1 || !v.LastModified().Equal(base) {
		t.Errorf("after create version %d modified %v, want 1 and the ingestion time %v", v.Version(), v.LastModified(), base)
	}
	v.Apply(a)
	if v.Version() != 1 || !v.LastModified().Equal(base) {
		t.Errorf("after duplicate version %d modified %v, want unchanged", v.Version(), v.LastModified())
	}
	retraction := revision(a, 2, pipeline.KindRetracted, "")
	retraction.IngestedAt = base.Add(2 * time.Minute)
	v.Apply(retraction)
	if v.Version() != 2 || !v.LastModified().Equal(retraction.IngestedAt) {
		t.Errorf("after retraction version %d modified %v, want 2 and %v", v.Version(), v.LastModified(), retraction.IngestedAt)
	}
	undated := event("b", at(1))
	undated.IngestedAt = time.Time{}
	v.Apply(undated)
	if !v.LastModified().Equal(clock) {
		t.Errorf("after an event without ingestion time modified %v, want the clock %v", v.LastModified(), clock)
	}
}

func TestViewRebuiltViewKeepsLastModified(t *testing.T) {
	a := event("a", at(0))
	a.IngestedAt = base
	first, second := NewView(10), NewView(10)
	first.Apply(a)
	second.now = func() time.Time { return base.Add(24 * time.Hour) }
	second.Apply(a)
	if !first.LastModified().Equal(second.LastModified()) {
		t.Errorf("rebuilt view modified %v, want %v as before the restart", second.LastModified(), first.LastModified())
	}
}

func TestViewConcurrentUse(t *testing.T) {
	v := NewView(50)
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(2)
		go func() {
			defer wg.Done()
			for i := range 200 {
				v.Apply(event(string(rune('A'+w))+string(rune('a'+i%26)), at(i)))
			}
		}()
		go func() {
			defer wg.Done()
			for range 200 {
				_ = v.Entries(Filter{Languages: []string{"en"}}, 10)
				_ = v.Version()
			}
		}()
	}
	wg.Wait()
	if n := len(v.Entries(Filter{}, 0)); n > 50 {
		t.Errorf("view contains %d entries, want at most 50", n)
	}
}

func TestViewKeywordFilters(t *testing.T) {
	fair := event("fair", at(4))
	fair.Title = "Trade fair in Poznań"
	fair.Content = "<p>Exporters meet <b>buyers</b>.</p>"
	export := event("export", at(3))
	export.Title = "Export grants open"
	export.Categories = []string{"Funding"}
	sport := event("sport", at(2))
	sport.Title = "Local football results"
	sport.Summary = "Export of players abroad"

	v := NewView(10)
	for _, ev := range []pipeline.Event{fair, export, sport} {
		v.Apply(ev)
	}
	tests := []struct {
		name   string
		filter Filter
		want   []string
	}{
		{"keyword matches title", Filter{Keywords: []string{"export"}}, []string{"export", "sport"}},
		{"keyword ignores case", Filter{Keywords: []string{"EXPORT"}}, []string{"export", "sport"}},
		{"keyword matches content text", Filter{Keywords: []string{"buyers"}}, []string{"fair"}},
		{"keyword skips content markup", Filter{Keywords: []string{"b"}}, nil},
		{"keyword matches category", Filter{Keywords: []string{"funding"}}, []string{"export"}},
		{"phrase keyword matches in a row", Filter{Keywords: []string{"trade  fair"}}, []string{"fair"}},
		{"any keyword is enough", Filter{Keywords: []string{"buyers", "football"}}, []string{"fair", "sport"}},
		{"exclusion drops a match", Filter{Keywords: []string{"export"}, ExcludeKeywords: []string{"football"}}, []string{"export"}},
		{"exclusion alone drops", Filter{ExcludeKeywords: []string{"export"}}, []string{"fair"}},
		{"terms need every word", Filter{Terms: []string{"export", "players"}}, []string{"sport"}},
		{"keywords combine with partners", Filter{Keywords: []string{"export"}, Partners: []string{"radio-sud"}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assertIDs(t, v.Entries(tt.filter, 0), tt.want...)
		})
	}
}

func TestViewKeywordsFollowRevisions(t *testing.T) {
	v := NewView(10)
	first := event("a", at(1))
	first.Title = "Export news"
	v.Apply(first)
	v.Apply(revision(first, 2, pipeline.KindUpdated, "Import news"))

	assertIDs(t, v.Entries(Filter{Keywords: []string{"export"}}, 0))
	assertIDs(t, v.Entries(Filter{Keywords: []string{"import"}}, 0), "a")
}

func TestViewNarrowStaysInWindow(t *testing.T) {
	v := NewView(10)
	for i, lang := range []string{"pl", "en", "pl", "en", "pl"} {
		ev := event(string(rune('a'+i)), at(10-i))
		ev.Language = lang
		v.Apply(ev)
	}
	pl := Filter{Languages: []string{"pl"}}
	tests := []struct {
		name   string
		window int
		limit  int
		want   []string
	}{
		{"query selects within the window", 3, 0, []string{"a", "c"}},
		{"whole view without a window", 0, 0, []string{"a", "c", "e"}},
		{"limit caps the matches", 0, 2, []string{"a", "c"}},
		{"window of one keeps the newest", 1, 0, []string{"a"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assertIDs(t, v.Narrow(Filter{}, tt.window, pl, tt.limit), tt.want...)
		})
	}
}

// steadyStream returns n items of one partner, a minute apart and oldest
// first, as a partner that publishes all day sends them.
func steadyStream(n int) []pipeline.Event {
	events := make([]pipeline.Event, 0, n)
	for i := range n {
		published := base.Add(time.Duration(i) * time.Minute)
		events = append(events, partnerEvent("steady", fmt.Sprintf("s%04d", i), published))
	}
	return events
}

// TestViewTombstonesBoundedWhilePublishing sends one partner's items one
// by one, far more of them than the window holds, and retracts every 50th
// while it is in the window. The view must remember a bounded number of
// evicted ids. A replay must still keep every evicted or retracted item out.
func TestViewTombstonesBoundedWhilePublishing(t *testing.T) {
	const window, n = 5, 2000
	events := steadyStream(n)
	var retractions []pipeline.Event
	v := NewView(window)

	for i, ev := range events {
		v.Apply(ev)
		if i%50 == 0 {
			retractions = append(retractions, revision(ev, 2, pipeline.KindRetracted, ""))
			v.Apply(retractions[len(retractions)-1])
		}
		if got, limit := len(v.tombstones), 4*window+len(retractions); got > limit {
			t.Fatalf("after %d items the view holds %d tombstones, want at most %d", i+1, got, limit)
		}
	}
	want := ids(v.Entries(Filter{}, 0))
	if !slices.Equal(want, []string{"s1999", "s1998", "s1997", "s1996", "s1995"}) {
		t.Fatalf("entries = %v, want the newest five items", want)
	}

	version := v.Version()
	for _, ev := range append(events, retractions...) {
		v.Apply(ev)
	}
	if got := ids(v.Entries(Filter{}, 0)); !slices.Equal(got, want) {
		t.Errorf("entries after applying the stream again = %v, want %v", got, want)
	}
	if v.Version() != version {
		t.Errorf("applying the stream again changed the version from %d to %d", version, v.Version())
	}

	for _, ev := range retractions {
		if !v.Retracted(ev.ID) {
			t.Fatalf("Retracted(%q) = false after steady publishing, want true", ev.ID)
		}
	}
}

// TestViewRedatedItemStaysEvicted evicts an item whose second revision
// moved its date back. Its first revision, applied again after every item
// of steady publishing, has a newer date but must not bring it back.
func TestViewRedatedItemStaysEvicted(t *testing.T) {
	moved := partnerEvent("steady", "moved", base.Add(100*time.Minute))
	back := moved
	back.Revision, back.Published = 2, base.Add(-time.Hour)
	v := NewView(3)
	v.Apply(moved)
	v.Apply(back)

	evicted := false
	for i, ev := range steadyStream(500) {
		v.Apply(ev)
		evicted = evicted || !slices.Contains(ids(v.Entries(Filter{}, 0)), "moved")
		v.Apply(moved)
		if got := ids(v.Entries(Filter{}, 0)); evicted && slices.Contains(got, "moved") {
			t.Fatalf("after %d items entries = %v, want the evicted item left out", i+1, got)
		}
	}
	if !evicted {
		t.Fatal("the item was never evicted")
	}
}

// TestViewTombstoneCoversLateRevision evicts an item whose revisions moved
// its date back. A lower revision with a newer date arrives after the
// eviction. Once the mark has passed the older dates and a prune scan has
// run, that revision must still stay out.
func TestViewTombstoneCoversLateRevision(t *testing.T) {
	minute := func(n int) time.Time { return base.Add(time.Duration(n) * time.Minute) }
	rev := func(r, minutes int) pipeline.Event {
		ev := partnerEvent("steady", "m", minute(minutes))
		ev.Revision = r
		return ev
	}
	steady := steadyStream(71)
	v := NewView(1)
	v.Apply(rev(3, -60))
	v.Apply(rev(2, 50))
	v.Apply(steady[1])
	v.Apply(rev(1, 100))

	for _, ev := range steady[2:] {
		v.Apply(ev)
	}
	for _, id := range []string{"gone1", "gone2"} {
		v.Apply(revision(partnerEvent("steady", id, minute(-5)), 2, pipeline.KindRetracted, ""))
	}
	if v.pruneScans == 0 {
		t.Fatal("no prune scan ran")
	}

	v.Apply(rev(1, 100))
	if got := ids(v.Entries(Filter{}, 0)); slices.Contains(got, "m") {
		t.Errorf("entries = %v, want the evicted item left out", got)
	}
}

// TestViewRepublishedItemStaysPublished retracts an item, publishes it
// again and lets steady publishing evict it. Applying the stream again
// must not count the old retraction as a change, nor report the item as
// retracted to archive pages.
func TestViewRepublishedItemStaysPublished(t *testing.T) {
	a := partnerEvent("steady", "a", base.Add(-time.Hour))
	stream := []pipeline.Event{
		a,
		revision(a, 2, pipeline.KindRetracted, ""),
		revision(a, 3, pipeline.KindUpdated, "back"),
	}
	stream = append(stream, steadyStream(100)...)
	v := NewView(2)
	for _, ev := range stream {
		v.Apply(ev)
	}

	version := v.Version()
	for _, ev := range stream {
		v.Apply(ev)
	}
	if v.Version() != version {
		t.Errorf("applying the stream again changed the version from %d to %d", version, v.Version())
	}
	if v.Retracted("a") {
		t.Error("Retracted(a) = true, want false for an item published again")
	}
}
