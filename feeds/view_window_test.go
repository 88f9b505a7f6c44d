package feeds

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/syndic-network/syndic/pipeline"
)

// floodStart is the date of the oldest item of floodEvents.
var floodStart = time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)

// floodEvents returns two items each of alpha and beta, dated b1, a1, b0,
// a0 from newest, and 50 newer items f00 to f49 of partner flood.
func floodEvents() []pipeline.Event {
	events := []pipeline.Event{
		partnerEvent("alpha", "a0", floodStart),
		partnerEvent("beta", "b0", floodStart.Add(time.Hour)),
		partnerEvent("alpha", "a1", floodStart.Add(2*time.Hour)),
		partnerEvent("beta", "b1", floodStart.Add(3*time.Hour)),
	}
	for i := range 50 {
		events = append(events, partnerEvent("flood", fmt.Sprintf("f%02d", i), floodStart.Add(24*time.Hour+time.Duration(i)*time.Minute)))
	}
	return events
}

func newFloodView(extra ...pipeline.Event) *View {
	v := NewView(1000)
	for _, ev := range append(floodEvents(), extra...) {
		v.Apply(ev)
	}
	return v
}

// shownIDs returns the id of the item each story shows.
func shownIDs(stories []Story) []string {
	return ids(items(stories))
}

func TestChannelStoriesPerPartnerCap(t *testing.T) {
	v := newFloodView()
	newestFlood := make([]string, 0, 10)
	for i := 49; i >= 40; i-- {
		newestFlood = append(newestFlood, fmt.Sprintf("f%02d", i))
	}
	tests := []struct {
		name  string
		ch    Channel
		query Filter
		limit int
		want  []string
	}{
		{"cap of two keeps other partners", Channel{MaxItems: 10, MaxItemsPerPartner: 2}, Filter{}, 0,
			[]string{"f49", "f48", "b1", "a1", "b0", "a0"}},
		{"cap of one skips older items of every partner", Channel{MaxItems: 10, MaxItemsPerPartner: 1}, Filter{}, 0,
			[]string{"f49", "b1", "a1"}},
		{"zero cap keeps the newest items", Channel{MaxItems: 10}, Filter{}, 0, newestFlood},
		{"cap of max items changes nothing", Channel{MaxItems: 10, MaxItemsPerPartner: 10}, Filter{}, 0, newestFlood},
		{"max items bounds the capped feed", Channel{MaxItems: 3, MaxItemsPerPartner: 2}, Filter{}, 0,
			[]string{"f49", "f48", "b1"}},
		{"limit applies after the cap", Channel{MaxItems: 10, MaxItemsPerPartner: 2}, Filter{}, 4,
			[]string{"f49", "f48", "b1", "a1"}},
		{"query selects within the capped window", Channel{MaxItems: 10, MaxItemsPerPartner: 2}, Filter{Partners: []string{"flood"}}, 0,
			[]string{"f49", "f48"}},
		{"channel filter applies before the cap", Channel{MaxItems: 10, MaxItemsPerPartner: 2, Filter: Filter{Partners: []string{"flood", "alpha"}}}, Filter{}, 0,
			[]string{"f49", "f48", "a1", "a0"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := shownIDs(v.ChannelStories(nil, tt.ch, tt.query, tt.limit))
			if !slices.Equal(got, tt.want) {
				t.Errorf("stories = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestChannelStoriesCapCountsShownPartner checks that a story with copies
// from several partners counts for the partner of the item it shows, not
// for the partners of its copies or of the cluster's origin.
func TestChannelStoriesCapCountsShownPartner(t *testing.T) {
	newest := floodStart.Add(48 * time.Hour)
	story := func(partner, id, cluster, duplicateOf, url string) pipeline.Event {
		ev := partnerEvent(partner, id, newest)
		ev.ClusterID, ev.DuplicateOf = cluster, duplicateOf
		if url != "" {
			ev.URL = url
		}
		return ev
	}
	owners := NewPartnerDomains(map[string][]string{"alpha": {"https://alpha.example.org/"}})
	ch := Channel{MaxItems: 10, MaxItemsPerPartner: 2}
	tests := []struct {
		name string
		// events are applied in order, so the first is the origin.
		events     []pipeline.Event
		wantIDs    []string
		wantCopies []string
	}{
		{
			name: "origin shown counts for its partner only",
			events: []pipeline.Event{
				story("alpha", "a-story", "c1", "", ""),
				story("flood", "f-copy", "c1", "a-story", ""),
			},
			wantIDs:    []string{"a-story", "f49", "f48", "b1", "a1", "b0"},
			wantCopies: []string{"f-copy"},
		},
		{
			name: "flood story with a copy counts for flood",
			events: []pipeline.Event{
				story("flood", "f-story", "c2", "", ""),
				story("beta", "b-copy", "c2", "f-story", ""),
			},
			wantIDs:    []string{"f-story", "f49", "b1", "a1", "b0", "a0"},
			wantCopies: []string{"b-copy"},
		},
		{
			name: "link owner shown in place of the origin counts for the owner",
			events: []pipeline.Event{
				story("beta", "b-steal", "c3", "", "https://alpha.example.org/scoop"),
				story("alpha", "a-scoop", "c3", "b-steal", "https://alpha.example.org/scoop"),
			},
			wantIDs:    []string{"a-scoop", "f49", "f48", "b1", "a1", "b0"},
			wantCopies: []string{"b-steal"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := newFloodView(tt.events...)
			stories := v.ChannelStories(owners, ch, Filter{}, 0)
			if got := shownIDs(stories); !slices.Equal(got, tt.wantIDs) {
				t.Fatalf("stories = %v, want %v", got, tt.wantIDs)
			}
			if got := ids(stories[0].Copies); !slices.Equal(got, tt.wantCopies) {
				t.Errorf("copies of %s = %v, want %v", stories[0].Item.ID, got, tt.wantCopies)
			}
		})
	}
}

// capStory returns an item of partner dated floodStart plus hours, with
// the link url.
func capStory(partner, id string, hours int, url string) pipeline.Event {
	ev := partnerEvent(partner, id, floodStart.Add(time.Duration(hours)*time.Hour))
	ev.URL = url
	return ev
}

// TestChannelStoriesCapShowsCopyUnderCap checks that a partner at its cap
// cannot remove another partner's story by publishing a copy of it: the
// story is shown by the copy of a partner under the cap and counts for
// that partner. It is skipped only when every copy's partner is at the cap.
func TestChannelStoriesCapShowsCopyUnderCap(t *testing.T) {
	owners := NewPartnerDomains(map[string][]string{"flood": {"https://flood.example.org/"}})
	ch := Channel{MaxItems: 10, MaxItemsPerPartner: 2}
	tests := []struct {
		name string
		// events are applied in order, so the first is ingested first.
		events  []pipeline.Event
		wantIDs []string
		// shownID is the id of the story whose copies are checked.
		shownID    string
		wantCopies []string
		// hidden is an id that is neither shown nor listed as a copy.
		hidden string
	}{
		{
			name: "copy of a link on the capped partner's site",
			events: []pipeline.Event{
				capStory("beta", "b2", 4, "https://flood.example.org/scoop"),
				capStory("flood", "x2", 5, "https://flood.example.org/scoop"),
			},
			wantIDs:    []string{"f49", "f48", "b2", "b1", "a1", "a0"},
			shownID:    "b2",
			wantCopies: []string{"x2"},
		},
		{
			name: "capped partner's copy of a third party link ingested first",
			events: []pipeline.Event{
				capStory("flood", "x3", 5, "https://third.example.net/story"),
				capStory("beta", "b3", 4, "https://third.example.net/story"),
			},
			wantIDs:    []string{"f49", "f48", "b3", "b1", "a1", "a0"},
			shownID:    "b3",
			wantCopies: []string{"x3"},
		},
		{
			name: "copies stay in ingest order",
			events: []pipeline.Event{
				capStory("beta", "b6", 4, "https://flood.example.org/three"),
				capStory("alpha", "a6", 4, "https://flood.example.org/three"),
				capStory("flood", "x6", 5, "https://flood.example.org/three"),
			},
			wantIDs:    []string{"f49", "f48", "b6", "b1", "a1", "a0"},
			shownID:    "b6",
			wantCopies: []string{"a6", "x6"},
		},
		{
			name: "story skipped when every copy's partner is at the cap",
			events: []pipeline.Event{
				capStory("beta", "b4", -1, "https://flood.example.org/late"),
				capStory("flood", "x4", -1, "https://flood.example.org/late"),
			},
			wantIDs: []string{"f49", "f48", "b1", "a1", "b0", "a0"},
			hidden:  "b4",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := newFloodView(tt.events...)
			stories := v.ChannelStories(owners, ch, Filter{}, 0)
			if got := shownIDs(stories); !slices.Equal(got, tt.wantIDs) {
				t.Fatalf("stories = %v, want %v", got, tt.wantIDs)
			}
			for _, s := range stories {
				if s.Item.ID == tt.shownID {
					if got := ids(s.Copies); !slices.Equal(got, tt.wantCopies) {
						t.Errorf("copies of %s = %v, want %v", tt.shownID, got, tt.wantCopies)
					}
				}
				if slices.Contains(ids(s.Copies), tt.hidden) {
					t.Errorf("story %s lists %s as a copy, want it skipped", s.Item.ID, tt.hidden)
				}
			}
		})
	}
}

// TestStoryShownByCopyKeepsIngestOrder checks that the item a story no
// longer shows takes its ingest place among the copies.
func TestStoryShownByCopyKeepsIngestOrder(t *testing.T) {
	// Ingest order: c0, shown, c1, c2.
	s := Story{
		Item:      event("shown", floodStart),
		Copies:    []pipeline.Event{event("c0", floodStart), event("c1", floodStart), event("c2", floodStart)},
		shownRank: 1,
	}
	tests := []struct {
		name       string
		index      int
		wantCopies []string
		wantRank   int
	}{
		{"copy ingested before the shown item", 0, []string{"shown", "c1", "c2"}, 0},
		{"copy ingested after the shown item", 1, []string{"c0", "shown", "c2"}, 2},
		{"copy ingested last", 2, []string{"c0", "shown", "c1"}, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := s.shownByCopy(tt.index)
			if want := s.Copies[tt.index].ID; got.Item.ID != want {
				t.Errorf("shown = %s, want %s", got.Item.ID, want)
			}
			if copyIDs := ids(got.Copies); !slices.Equal(copyIDs, tt.wantCopies) {
				t.Errorf("copies = %v, want %v", copyIDs, tt.wantCopies)
			}
			if got.shownRank != tt.wantRank {
				t.Errorf("shownRank = %d, want %d", got.shownRank, tt.wantRank)
			}
			if copyIDs := ids(s.Copies); !slices.Equal(copyIDs, []string{"c0", "c1", "c2"}) {
				t.Errorf("copies of the original story = %v, want them unchanged", copyIDs)
			}
		})
	}
}

// TestHandlerPerPartnerCapShowsCopy renders a capped channel in which the
// partner at its cap owns the link of another partner's story, and checks
// that every format shows the other partner's copy and lists the capped
// partner's copy as a copy.
func TestHandlerPerPartnerCapShowsCopy(t *testing.T) {
	origin := capStory("flood", "x5", 5, "https://flood.example.org/x5")
	origin.ClusterID = "c5"
	dup := capStory("beta", "b5", 4, "https://third.example.net/b5")
	dup.ClusterID, dup.DuplicateOf = "c5", "x5"
	h := NewHandler(HandlerOptions{
		View:           newFloodView(origin, dup),
		Channels:       []Channel{{ID: "capped", Title: "Capped", MaxItems: 10, MaxItemsPerPartner: 2}},
		BaseURL:        "https://hub.example.org",
		PartnerDomains: NewPartnerDomains(map[string][]string{"flood": {"https://flood.example.org/"}}),
	})

	want := titles([]string{"f49", "f48", "b5", "b1", "a1", "a0"})
	for _, f := range []string{"rss", "atom", "json", "html"} {
		if got := servedTitles(t, h, "capped", f); !slices.Equal(got, want) {
			t.Fatalf("%s titles = %v, want %v", f, got, want)
		}
	}

	atom := decodeAtom(t, serve(t, h, http.MethodGet, "/feeds/capped.atom", nil).Body.Bytes())
	if got := linkHref(atom.Entries[2].Links, "via"); got != origin.URL {
		t.Errorf("atom via of b5 = %q, want %q", got, origin.URL)
	}
	rss := serve(t, h, http.MethodGet, "/feeds/capped.rss", nil).Body.String()
	if want := `<atom:link href="` + origin.URL + `" rel="via"`; !strings.Contains(rss, want) {
		t.Errorf("rss lacks %s", want)
	}

	var feed struct {
		Items []struct {
			Syndic struct {
				Partner string     `json:"partner"`
				Copies  []jsonCopy `json:"copies"`
			} `json:"_syndic"`
		} `json:"items"`
	}
	if err := json.Unmarshal(serve(t, h, http.MethodGet, "/feeds/capped.json", nil).Body.Bytes(), &feed); err != nil {
		t.Fatalf("decoding json feed: %v", err)
	}
	if got := feed.Items[2].Syndic.Partner; got != "beta" {
		t.Errorf("json partner of b5 = %q, want beta", got)
	}
	if got := feed.Items[2].Syndic.Copies; len(got) != 1 || got[0].Partner != "flood" || got[0].URL != origin.URL {
		t.Errorf("json copies of b5 = %+v, want the flood copy", got)
	}

	page := serve(t, h, http.MethodGet, "/channels/capped", nil).Body.String()
	if want := `<a href="` + origin.URL + `">`; !strings.Contains(page, want) {
		t.Errorf("channel page lacks the copy link %s", want)
	}
}

// TestStoryWindowZeroCapAllocatesNothing checks that a channel without a
// cap pays nothing for the cap when its documents are built.
func TestStoryWindowZeroCapAllocatesNothing(t *testing.T) {
	stories := newFloodView().OwnedStories(nil, Filter{}, 0, Filter{}, 0)
	for _, w := range []storyWindow{{size: 10}, {size: 10, perPartner: 10}, {}} {
		allocs := testing.AllocsPerRun(50, func() { w.apply(stories) })
		if allocs != 0 {
			t.Errorf("apply with %+v allocates %.0f times per call, want 0", w, allocs)
		}
	}
}

// TestHandlerPerPartnerCap renders a capped channel in every format and
// checks that each lists two items of the flooding partner and every item
// of the others.
func TestHandlerPerPartnerCap(t *testing.T) {
	v := newFloodView()
	h := NewHandler(HandlerOptions{
		View: v,
		Channels: []Channel{
			{ID: "capped", Title: "Capped", MaxItems: 10, MaxItemsPerPartner: 2},
			{ID: "open", Title: "Open", MaxItems: 10},
		},
		BaseURL: "https://hub.example.org",
	})
	want := []string{"f49", "f48", "b1", "a1", "b0", "a0"}
	for _, f := range []string{"rss", "atom", "json", "html"} {
		t.Run(f, func(t *testing.T) {
			if got := servedTitles(t, h, "capped", f); !slices.Equal(got, titles(want)) {
				t.Errorf("capped %s titles = %v, want %v", f, got, titles(want))
			}
			open := servedTitles(t, h, "open", f)
			if len(open) != 10 || open[0] != "Title f49" || open[9] != "Title f40" {
				t.Errorf("open %s titles = %v, want the ten newest of flood", f, open)
			}
		})
	}
}

// TestHandlerPerPartnerCapChangesETag checks that a handler whose channel
// gets a cap, as after a configuration reload, does not send 304 for the
// ETag of the uncapped document.
func TestHandlerPerPartnerCapChangesETag(t *testing.T) {
	v := newFloodView()
	etag := func(cap int, header map[string]string) (int, string) {
		h := NewHandler(HandlerOptions{View: v, Channels: []Channel{{ID: "all", Title: "All", MaxItems: 10, MaxItemsPerPartner: cap}}})
		rec := serve(t, h, http.MethodGet, "/feeds/all.atom", header)
		return rec.Code, rec.Header().Get("ETag")
	}
	_, open := etag(0, nil)
	code, capped := etag(2, map[string]string{"If-None-Match": open})
	if code != http.StatusOK {
		t.Errorf("capped document with the uncapped ETag: status = %d, want 200", code)
	}
	if capped == open {
		t.Errorf("capped and uncapped documents share the ETag %s", open)
	}
}

func titles(ids []string) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = "Title " + id
	}
	return out
}

// servedTitles fetches the channel in format f, an extension of /feeds or
// "html" for the channel page, and returns the entry titles in order.
func servedTitles(t *testing.T, h http.Handler, channel, f string) []string {
	t.Helper()
	path := "/feeds/" + channel + "." + f
	if f == "html" {
		path = "/channels/" + channel
	}
	rec := serve(t, h, http.MethodGet, path, nil)
	if rec.Code != http.StatusOK {
		t.Fatalf("GET %s: status = %d, want 200: %s", path, rec.Code, rec.Body)
	}
	body := rec.Body.Bytes()
	var out []string
	switch f {
	case "rss":
		for _, it := range decodeRSS(t, body).Channel.Items {
			out = append(out, it.Title)
		}
	case "atom":
		for _, e := range decodeAtom(t, body).Entries {
			out = append(out, e.Title)
		}
	case "json":
		for _, it := range decodeJSON(t, body).Items {
			out = append(out, it.Title)
		}
	case "html":
		out = pageTitles(t, rec.Body.String())
	}
	return out
}

// pageTitles returns the heading text of each article of a channel page.
func pageTitles(t *testing.T, body string) []string {
	t.Helper()
	var out []string
	for _, article := range findAll(parsePage(t, body), "article") {
		for _, h := range findAll(article, "h3") {
			out = append(out, textOf(h))
		}
	}
	return out
}

func textOf(n *html.Node) string {
	if n.Type == html.TextNode {
		return n.Data
	}
	var s string
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		s += textOf(c)
	}
	return s
}

// TestArchiveIgnoresPerPartnerCap checks that an archive page lists every
// item of its range, the ones the cap keeps out of the live feed included.
func TestArchiveIgnoresPerPartnerCap(t *testing.T) {
	events := floodEvents()
	v := newFloodView()
	h := NewHandler(HandlerOptions{
		View:            v,
		Channels:        []Channel{{ID: "all", Title: "All", MaxItems: 10, MaxItemsPerPartner: 2}},
		BaseURL:         "https://hub.example.org",
		Archive:         &memoryArchive{events: events},
		ArchivePageSize: len(events),
	})
	rec := serve(t, h, http.MethodGet, "/feeds/all/archive/1.atom", nil)
	if rec.Code != http.StatusOK {
		t.Fatalf("status = %d, want 200: %s", rec.Code, rec.Body)
	}
	if n := len(decodeAtom(t, rec.Body.Bytes()).Entries); n != len(events) {
		t.Errorf("archive page has %d entries, want all %d", n, len(events))
	}
}

// BenchmarkChannelStories measures the selection of a 100-entry channel
// from a full default view of 20000 items, in which one of five partners
// has most items, without and with a cap:
//
//	go test ./feeds -run '^$' -bench ChannelStories -benchmem
func BenchmarkChannelStories(b *testing.B) {
	v := NewView(20000)
	start := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	for i := range 20000 {
		partner := "flood"
		if i%5 == 0 {
			partner = fmt.Sprintf("p%d", i%4)
		}
		v.Apply(partnerEvent(partner, fmt.Sprintf("i%05d", i), start.Add(time.Duration(i)*time.Minute)))
	}
	for _, cap := range []int{0, 25} {
		ch := Channel{MaxItems: 100, MaxItemsPerPartner: cap}
		b.Run(fmt.Sprintf("cap-%d", cap), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				v.ChannelStories(nil, ch, Filter{}, 0)
			}
		})
	}
}
