package feeds

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/syndic-network/syndic/pipeline"
)

func TestNewPartnerDomains(t *testing.T) {
	domains := NewPartnerDomains(map[string][]string{
		"alpha": {"https://www.alpha-news.org/", "https://feeds.alpha-news.org/news.rss"},
		"beta":  {"https://beta-radio.net", "file:///srv/beta.xml", "https://feeds.shared-host.com/beta"},
		"gamma": {"https://feeds.shared-host.com/gamma", "http://192.0.2.7/feed"},
	})
	tests := []struct {
		domain  string
		partner string
	}{
		{"alpha-news.org", "alpha"},
		{"beta-radio.net", "beta"},
		{"192.0.2.7", "gamma"},
		{"shared-host.com", ""},
	}
	for _, tt := range tests {
		if got := domains[tt.domain]; got != tt.partner {
			t.Errorf("owner of %s = %q, want %q", tt.domain, got, tt.partner)
		}
	}
	if len(domains) != 3 {
		t.Errorf("domains = %v, want 3 entries", domains)
	}
}

func TestOwnsLinkMatchesSubdomains(t *testing.T) {
	domains := NewPartnerDomains(map[string][]string{"alpha": {"https://alpha-news.org/"}})
	tests := []struct {
		partner, url string
		want         bool
	}{
		{"alpha", "https://news.alpha-news.org/42", true},
		{"alpha", "HTTP://WWW.ALPHA-NEWS.ORG./42", true},
		{"beta", "https://alpha-news.org/42", false},
		{"alpha", "https://alpha-news.org.evil.example/42", false},
		{"alpha", "https://notalpha-news.org/42", false},
		{"alpha", "", false},
	}
	for _, tt := range tests {
		ev := pipeline.Event{Item: pipeline.Item{Partner: tt.partner, URL: tt.url}}
		if got := domains.ownsLink(ev); got != tt.want {
			t.Errorf("ownsLink(%s, %q) = %v, want %v", tt.partner, tt.url, got, tt.want)
		}
	}
}

// impostorView returns a view in which partner radio-sud pushed an item
// with northwind's link first, so the pipeline made it the cluster's
// origin and northwind's own item a copy of it.
func impostorView() *View {
	v := NewView(10)
	fake := event("fake", at(6))
	fake.Partner, fake.Feed = "radio-sud", "radio-sud-push"
	fake.Title = "Fake story"
	fake.URL = "https://northwind.example.com/news/42"
	fake.ClusterID, fake.Language = "fake", "en"
	real := event("real", at(5))
	real.Title = "Real story"
	real.URL = "https://northwind.example.com/news/42"
	real.ClusterID, real.DuplicateOf, real.Language = "fake", "fake", "en"
	v.Apply(fake)
	v.Apply(real)
	return v
}

// storyOwners returns the domains of the partners of testMeta.
func storyOwners() PartnerDomains {
	return NewPartnerDomains(map[string][]string{
		"northwind": {"https://northwind.example.com/"},
		"radio-sud": {"https://radio-sud.example.net/"},
	})
}

func TestOwnedStoriesShowLinkOwner(t *testing.T) {
	v := impostorView()
	owners := storyOwners()
	got := strings.Join(storyIDs(v.OwnedStories(owners, Filter{}, 0, Filter{}, 0)), " ")
	if got != "real+fake" {
		t.Errorf("stories with owners = %q, want %q", got, "real+fake")
	}
	got = strings.Join(storyIDs(v.OwnedStories(owners, Filter{Partners: []string{"radio-sud"}}, 0, Filter{}, 0)), " ")
	if got != "fake" {
		t.Errorf("stories of radio-sud alone = %q, want %q", got, "fake")
	}
	got = strings.Join(storyIDs(v.OwnedStories(nil, Filter{}, 0, Filter{}, 0)), " ")
	if got != "fake+real" {
		t.Errorf("stories without owners = %q, want the cluster origin %q", got, "fake+real")
	}
}

func TestFeedShowsLinkOwnerItem(t *testing.T) {
	m := testMeta()
	h := NewHandler(HandlerOptions{
		View:           impostorView(),
		Channels:       []Channel{{ID: "all", Title: "Everything", Language: "en"}},
		BaseURL:        "https://hub.example.org",
		TagAuthority:   m.TagAuthority,
		Partners:       m.Partners,
		PartnerDomains: storyOwners(),
	})
	rec := serve(t, h, http.MethodGet, "/feeds/all.json", nil)
	var feed struct {
		Items []struct {
			Title  string `json:"title"`
			Syndic struct {
				Partner string     `json:"partner"`
				Copies  []jsonCopy `json:"copies"`
			} `json:"_syndic"`
		} `json:"items"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &feed); err != nil {
		t.Fatalf("decoding json feed: %v", err)
	}
	if len(feed.Items) != 1 {
		t.Fatalf("items = %d, want 1", len(feed.Items))
	}
	if feed.Items[0].Title != "Real story" {
		t.Errorf("title = %q, want the link owner's %q", feed.Items[0].Title, "Real story")
	}
	copies := feed.Items[0].Syndic.Copies
	if len(copies) != 1 || copies[0].Partner != "radio-sud" {
		t.Errorf("copies = %+v, want the radio-sud item", copies)
	}
}
