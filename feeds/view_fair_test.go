package feeds

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/syndic-network/syndic/pipeline"
)

func partnerEvent(partner, id string, published time.Time) pipeline.Event {
	ev := event(id, published)
	ev.Partner = partner
	ev.URL = "https://" + partner + ".example.org/" + id
	return ev
}

// TestViewFloodKeepsOtherPartners checks that a partner sending many
// newer items fills the window with its own items only: another
// partner's items stay, and an older item of that partner still enters.
func TestViewFloodKeepsOtherPartners(t *testing.T) {
	v := NewView(10)
	start := time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
	for i := range 3 {
		v.Apply(partnerEvent("alpha", fmt.Sprintf("a%d", i), start.Add(time.Duration(i)*time.Hour)))
	}
	for i := range 50 {
		v.Apply(partnerEvent("flood", fmt.Sprintf("f%02d", i), start.Add(24*time.Hour+time.Duration(i)*time.Minute)))
	}
	// Older than every flood item, as a late push with its real date.
	v.Apply(partnerEvent("alpha", "a-late", start.Add(-time.Hour)))

	alpha := ids(v.Entries(Filter{Partners: []string{"alpha"}}, 0))
	want := []string{"a2", "a1", "a0", "a-late"}
	if !slices.Equal(alpha, want) {
		t.Errorf("alpha entries = %v, want %v", alpha, want)
	}
	if v.Len() != 10 {
		t.Errorf("window holds %d items, want 10", v.Len())
	}
	flood := ids(v.Entries(Filter{Partners: []string{"flood"}}, 0))
	if len(flood) != 6 || flood[0] != "f49" || flood[5] != "f44" {
		t.Errorf("flood entries = %v, want its newest six, f49 to f44", flood)
	}
}

// TestViewFloodEvictedItemStaysOut checks that an item of the flooding
// partner older than its evicted ones is not inserted again, and that
// applying the same events twice gives the same window.
func TestViewFloodEvictedItemStaysOut(t *testing.T) {
	start := time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
	var events []pipeline.Event
	events = append(events, partnerEvent("alpha", "a0", start))
	for i := range 20 {
		events = append(events, partnerEvent("flood", fmt.Sprintf("f%02d", i), start.Add(time.Duration(i+1)*time.Hour)))
	}
	events = append(events, partnerEvent("flood", "f-old", start.Add(30*time.Minute)))

	v := NewView(5)
	for _, ev := range events {
		v.Apply(ev)
	}
	first := ids(v.Entries(Filter{}, 0))
	if slices.Contains(first, "f-old") {
		t.Errorf("entries %v hold f-old, older than flood items already evicted", first)
	}
	if !slices.Contains(first, "a0") {
		t.Errorf("entries %v lost alpha's only item", first)
	}
	for _, ev := range events {
		v.Apply(ev)
	}
	if again := ids(v.Entries(Filter{}, 0)); !slices.Equal(again, first) {
		t.Errorf("applying the events again changed the entries from %v to %v", first, again)
	}
}

// TestViewPruneScansStayFew replays what a restart's back-fill does:
// older and older events of many partners, most of them behind their
// partner's eviction mark. Scans for tombstones to prune must not follow
// every event, or the back-fill of a large view takes minutes.
func TestViewPruneScansStayFew(t *testing.T) {
	const window, partners, rounds = 100, 50, 400
	v := NewView(window)
	start := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	for p := range partners {
		for k := range 2 {
			v.Apply(partnerEvent(fmt.Sprintf("p%d", p), fmt.Sprintf("p%d-new%d", p, k), start.Add(time.Duration(k)*time.Minute)))
		}
	}
	applied := 0
	for r := range rounds {
		for p := range partners {
			published := start.Add(-time.Duration(r+1) * time.Hour)
			v.Apply(partnerEvent(fmt.Sprintf("p%d", p), fmt.Sprintf("p%d-old%d", p, r), published))
			applied++
		}
	}
	if v.Len() != window {
		t.Errorf("view holds %d items, want the window of %d", v.Len(), window)
	}
	if v.pruneScans > 20 {
		t.Errorf("%d prune scans for %d older events, want at most 20", v.pruneScans, applied)
	}
}
