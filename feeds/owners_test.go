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
		"gamma": {"https://feeds.shared-host.com/beta", "http://192.0.2.7/feed"},
	})
	tests := []struct {
		link    string
		partner string
	}{
		{"https://alpha-news.org/news/1", "alpha"},
		{"https://feeds.alpha-news.org/x", "alpha"},
		{"https://beta-radio.net/a", "beta"},
		{"http://192.0.2.7/feed/x", "gamma"},
		{"http://192.0.2.7/other", ""},
		{"https://feeds.shared-host.com/beta/1", ""},
	}
	for _, tt := range tests {
		if got := domains.ownerOf(tt.link); got != tt.partner {
			t.Errorf("owner of %s = %q, want %q", tt.link, got, tt.partner)
		}
	}
}

// TestOwnerOfPlatformPages checks that a partner whose site is a page or
// subdomain of a publishing platform owns only that part of it.
func TestOwnerOfPlatformPages(t *testing.T) {
	domains := NewPartnerDomains(map[string][]string{
		"beta":    {"https://medium.com/@beta"},
		"blog":    {"https://blog-partner.wordpress.com/"},
		"site":    {"https://sites.google.com/view/site-partner"},
		"physics": {"https://physics.uni.example/"},
		"chem":    {"https://chem.uni.example/"},
		"uni":     {"https://www.uni.example/"},
	})
	tests := []struct {
		link    string
		partner string
	}{
		{"https://medium.com/@beta/fair-report-1a2b", "beta"},
		{"https://medium.com/@alpha/fair-report-1a2b", ""},
		{"https://medium.com/fair-report", ""},
		{"https://blog-partner.wordpress.com/2026/12/01/news/", "blog"},
		{"https://other.wordpress.com/2026/12/01/news/", ""},
		{"https://sites.google.com/view/site-partner/news", "site"},
		{"https://sites.google.com/view/another/news", ""},
		{"https://physics.uni.example/news/1", "physics"},
		{"https://chem.uni.example/news/1", "chem"},
		{"https://library.uni.example/news/1", "uni"},
	}
	for _, tt := range tests {
		if got := domains.ownerOf(tt.link); got != tt.partner {
			t.Errorf("owner of %s = %q, want %q", tt.link, got, tt.partner)
		}
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
