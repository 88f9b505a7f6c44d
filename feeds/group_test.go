package feeds

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/syndic-network/syndic/internal/feedcheck"
	"github.com/syndic-network/syndic/pipeline"
)

// storyEvents returns one story told three times (origin, a copy from
// another partner, a French translation) and one unrelated item.
func storyEvents() []pipeline.Event {
	origin := event("origin", at(5))
	origin.ClusterID, origin.Language = "origin", "en"
	copied := event("copy", at(6))
	copied.ClusterID, copied.DuplicateOf, copied.Language = "origin", "origin", "en"
	copied.Partner, copied.Feed = "radio-sud", "radio-sud-news"
	copied.URL = "https://radio-sud.example.net/copy"
	translated := event("translated", at(4))
	translated.ClusterID, translated.Language = "origin", "fr"
	other := event("other", at(3))
	other.Language = "en"
	return []pipeline.Event{origin, copied, translated, other}
}

func storyView() *View {
	v := NewView(10)
	for _, ev := range storyEvents() {
		v.Apply(ev)
	}
	return v
}

func storyIDs(stories []Story) []string {
	var out []string
	for _, s := range stories {
		id := s.Item.ID
		for _, c := range s.Copies {
			id += "+" + c.ID
		}
		out = append(out, id)
	}
	return out
}

func TestStoriesGroupCopies(t *testing.T) {
	v := storyView()
	tests := []struct {
		name    string
		channel Filter
		window  int
		query   Filter
		want    string
	}{
		{"origin shown with its copy", Filter{}, 0, Filter{}, "origin+copy translated other"},
		{"filtered origin leaves the copy", Filter{Partners: []string{"radio-sud"}}, 0, Filter{}, "copy"},
		{"query matching only the copy keeps the story", Filter{}, 0, Filter{Partners: []string{"radio-sud"}}, "copy"},
		{"window counts stories", Filter{}, 2, Filter{}, "origin+copy translated"},
		{"query stays within the window", Filter{}, 2, Filter{Languages: []string{"en"}}, "origin+copy"},
		{"translation is its own entry", Filter{Languages: []string{"fr"}}, 0, Filter{}, "translated"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := strings.Join(storyIDs(v.Stories(tt.channel, tt.window, tt.query, 0)), " ")
			if got != tt.want {
				t.Errorf("stories = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestStoriesWithoutClusterAreSingle(t *testing.T) {
	v := NewView(10)
	a, b := event("a", at(2)), event("b", at(1))
	a.DuplicateOf = "b"
	v.Apply(a)
	v.Apply(b)
	if got := strings.Join(storyIDs(v.Stories(Filter{}, 0, Filter{}, 0)), " "); got != "a b" {
		t.Errorf("stories = %q, want %q", got, "a b")
	}
}

func newStoryHandler(t *testing.T) http.Handler {
	t.Helper()
	m := testMeta()
	return NewHandler(HandlerOptions{
		View:         storyView(),
		Channels:     []Channel{{ID: "all", Title: "Everything", Language: "en"}},
		BaseURL:      "https://hub.example.org",
		TagAuthority: m.TagAuthority,
		Partners:     m.Partners,
		FeedURLs:     m.FeedURLs,
	})
}

func TestFeedsListCopiesAsVia(t *testing.T) {
	h := newStoryHandler(t)
	atomDoc := serve(t, h, http.MethodGet, "/feeds/all.atom", nil).Body.Bytes()
	atom := decodeAtom(t, atomDoc)
	if len(atom.Entries) != 3 {
		t.Fatalf("atom entries = %d, want 3", len(atom.Entries))
	}
	if got := linkHref(atom.Entries[0].Links, "via"); got != "https://radio-sud.example.net/copy" {
		t.Errorf("atom via = %q, want the copy's URL", got)
	}
	if got := linkHref(atom.Entries[1].Links, "via"); got != "" {
		t.Errorf("translation via = %q, want none", got)
	}
	feedcheck.CheckAtom(t, atomDoc)

	rssDoc := serve(t, h, http.MethodGet, "/feeds/all.rss", nil).Body.Bytes()
	if !strings.Contains(string(rssDoc), `<atom:link href="https://radio-sud.example.net/copy" rel="via" type="text/html"></atom:link>`) {
		t.Error("rss item lacks the via link")
	}
	feedcheck.CheckRSS(t, rssDoc)

	jsonDoc := serve(t, h, http.MethodGet, "/feeds/all.json", nil).Body.Bytes()
	var feed struct {
		Items []struct {
			Syndic struct {
				Copies []jsonCopy `json:"copies"`
			} `json:"_syndic"`
		} `json:"items"`
	}
	if err := json.Unmarshal(jsonDoc, &feed); err != nil {
		t.Fatalf("decoding json feed: %v", err)
	}
	copies := feed.Items[0].Syndic.Copies
	if len(copies) != 1 || copies[0].Partner != "radio-sud" || copies[0].URL != "https://radio-sud.example.net/copy" {
		t.Errorf("json copies = %+v, want the radio-sud copy", copies)
	}
	if copies[0].ID != "tag:hub.example.org,2026-12-04:copy" {
		t.Errorf("json copy id = %q, want the copy's entry id", copies[0].ID)
	}
	feedcheck.CheckJSONFeed(t, jsonDoc)
}

func TestChannelPageNamesCopies(t *testing.T) {
	h := newStoryHandler(t)
	body := serve(t, h, http.MethodGet, "/channels/all", map[string]string{"Accept-Language": "de"}).Body.String()
	want := `Auch veröffentlicht von: <a href="https://radio-sud.example.net/copy">Radio Sud</a>`
	if !strings.Contains(body, want) {
		t.Errorf("channel page lacks %q", want)
	}
	if n := strings.Count(body, "<article"); n != 3 {
		t.Errorf("articles = %d, want 3", n)
	}
}
