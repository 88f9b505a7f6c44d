package feeds

import (
	"encoding/json"
	"encoding/xml"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/syndic-network/syndic/pipeline"
)

// loadEvents reads a JSON array of events from testdata.
func loadEvents(t testing.TB, name string) []pipeline.Event {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatalf("reading fixture: %v", err)
	}
	var events []pipeline.Event
	if err := json.Unmarshal(data, &events); err != nil {
		t.Fatalf("decoding fixture %s: %v", name, err)
	}
	return events
}

func testMeta() Meta {
	return Meta{
		ID:           "all",
		Title:        "Partner hub - merged",
		Description:  "Every partner item",
		SiteURL:      "https://hub.example.org/",
		SelfURL:      "https://hub.example.org/feeds/all.rss",
		Language:     "en",
		TagAuthority: "hub.example.org,2026-12-04",
		Partners: map[string]PartnerInfo{
			"northwind": {Name: "Northwind Gazette", URL: "https://northwind.example.com/"},
			"radio-sud": {Name: "Radio Sud", URL: "https://radio-sud.example.net/"},
		},
		FeedURLs: map[string]string{"northwind/northwind-news": "https://northwind.example.com/news.rss"},
	}
}

// fixtureEntries applies the shared fixture to a view and lists it.
func fixtureEntries(t testing.TB) []pipeline.Event {
	t.Helper()
	v := NewView(100)
	for _, ev := range loadEvents(t, "events.json") {
		v.Apply(ev)
	}
	return v.Entries(Filter{}, 0)
}

// event returns a minimal valid event for tests that vary one field.
func event(id string, published time.Time) pipeline.Event {
	return pipeline.Event{
		Version:  pipeline.EventVersion,
		Kind:     pipeline.KindCreated,
		Revision: 1,
		Item: pipeline.Item{
			ID:         id,
			Partner:    "northwind",
			Feed:       "northwind-news",
			FeedURL:    "https://northwind.example.com/news.rss",
			URL:        "https://northwind.example.com/" + id,
			Title:      "Title " + id,
			Content:    "<p>Body " + id + "</p>",
			Published:  published,
			DateSource: pipeline.DateFromFeed,
		},
		IngestedAt: published.Add(time.Minute),
	}
}

func mustTime(t testing.TB, s string) time.Time {
	t.Helper()
	ts, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatalf("parsing time %q: %v", s, err)
	}
	return ts
}

type testLink struct {
	Href   string `xml:"href,attr"`
	Rel    string `xml:"rel,attr"`
	Type   string `xml:"type,attr"`
	Length string `xml:"length,attr"`
}

type rssTestDoc struct {
	Channel struct {
		Title         string     `xml:"title"`
		Language      string     `xml:"language"`
		LastBuildDate string     `xml:"lastBuildDate"`
		AtomLinks     []testLink `xml:"http://www.w3.org/2005/Atom link"`
		Items         []struct {
			Title       string `xml:"title"`
			Link        string `xml:"link"`
			Description string `xml:"description"`
			Encoded     string `xml:"http://purl.org/rss/1.0/modules/content/ encoded"`
			GUID        struct {
				Value       string `xml:",chardata"`
				IsPermaLink string `xml:"isPermaLink,attr"`
			} `xml:"guid"`
			PubDate    *string  `xml:"pubDate"`
			Categories []string `xml:"category"`
			Creators   []string `xml:"http://purl.org/dc/elements/1.1/ creator"`
			Enclosure  *struct {
				URL    string `xml:"url,attr"`
				Type   string `xml:"type,attr"`
				Length string `xml:"length,attr"`
			} `xml:"enclosure"`
			Source *struct {
				URL  string `xml:"url,attr"`
				Name string `xml:",chardata"`
			} `xml:"source"`
		} `xml:"item"`
	} `xml:"channel"`
}

type atomTestDoc struct {
	ID      string     `xml:"http://www.w3.org/2005/Atom id"`
	Lang    string     `xml:"http://www.w3.org/XML/1998/namespace lang,attr"`
	Updated string     `xml:"http://www.w3.org/2005/Atom updated"`
	Links   []testLink `xml:"http://www.w3.org/2005/Atom link"`
	Entries []struct {
		ID        string     `xml:"http://www.w3.org/2005/Atom id"`
		Lang      string     `xml:"http://www.w3.org/XML/1998/namespace lang,attr"`
		Title     string     `xml:"http://www.w3.org/2005/Atom title"`
		Updated   string     `xml:"http://www.w3.org/2005/Atom updated"`
		Published string     `xml:"http://www.w3.org/2005/Atom published"`
		Links     []testLink `xml:"http://www.w3.org/2005/Atom link"`
		Content   struct {
			Type string `xml:"type,attr"`
			Body string `xml:",chardata"`
		} `xml:"http://www.w3.org/2005/Atom content"`
		Source *struct {
			Title string     `xml:"http://www.w3.org/2005/Atom title"`
			Links []testLink `xml:"http://www.w3.org/2005/Atom link"`
		} `xml:"http://www.w3.org/2005/Atom source"`
	} `xml:"http://www.w3.org/2005/Atom entry"`
}

type jsonTestDoc struct {
	FeedURL  string `json:"feed_url"`
	Language string `json:"language"`
	Items    []struct {
		ID            string `json:"id"`
		Title         string `json:"title"`
		ContentHTML   string `json:"content_html"`
		DatePublished string `json:"date_published"`
		Language      string `json:"language"`
		Attachments   []struct {
			URL      string `json:"url"`
			MIMEType string `json:"mime_type"`
			Size     int64  `json:"size_in_bytes"`
		} `json:"attachments"`
		Syndic struct {
			Partner string `json:"partner"`
			Feed    string `json:"feed"`
		} `json:"_syndic"`
	} `json:"items"`
}

func decodeRSS(t testing.TB, doc []byte) rssTestDoc {
	t.Helper()
	var d rssTestDoc
	if err := xml.Unmarshal(doc, &d); err != nil {
		t.Fatalf("decoding rss: %v\n%s", err, doc)
	}
	return d
}

func decodeAtom(t testing.TB, doc []byte) atomTestDoc {
	t.Helper()
	var d atomTestDoc
	if err := xml.Unmarshal(doc, &d); err != nil {
		t.Fatalf("decoding atom: %v\n%s", err, doc)
	}
	return d
}

func decodeJSON(t testing.TB, doc []byte) jsonTestDoc {
	t.Helper()
	var d jsonTestDoc
	if err := json.Unmarshal(doc, &d); err != nil {
		t.Fatalf("decoding json feed: %v\n%s", err, doc)
	}
	return d
}

func mustRender(t testing.TB, render func(Meta, []pipeline.Event) ([]byte, error), m Meta, entries []pipeline.Event) []byte {
	t.Helper()
	doc, err := render(m, entries)
	if err != nil {
		t.Fatalf("rendering: %v", err)
	}
	return doc
}
