package app

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"testing"
	"time"

	"github.com/syndic-network/syndic/internal/config"
	"github.com/syndic-network/syndic/internal/testenv"
	"github.com/syndic-network/syndic/pipeline"
)

// TestChannelPerPartnerCap publishes 50 items of partner flood that are
// newer than two items each of alpha and beta, and a story of alpha with a
// copy from flood, to a real stream. The channel with
// max_items_per_partner 2 must list, in every format, alpha's story, two
// items of flood and the other items of alpha and beta. The channel
// without a cap lists flood's items only.
func TestChannelPerPartnerCap(t *testing.T) {
	cfg := testConfig(t, testenv.NATS(t).URL, "http://127.0.0.1:1", 1, time.Minute)
	for _, id := range []string{"flood", "alpha", "beta"} {
		cfg.Partners = append(cfg.Partners, config.Partner{ID: id, Name: id, Language: "en", Timezone: "UTC"})
	}
	cfg.Channels = []config.Channel{
		{ID: "capped", Title: "Capped", MaxItems: 10, MaxItemsPerPartner: 2},
		{ID: "open", Title: "Open", MaxItems: 10},
	}
	a := openApp(t, cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)

	start := time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
	events := []pipeline.Event{
		capEvent("alpha", "a0", start),
		capEvent("beta", "b0", start.Add(time.Hour)),
		capEvent("alpha", "a1", start.Add(2*time.Hour)),
		capEvent("beta", "b1", start.Add(3*time.Hour)),
	}
	for i := range 50 {
		events = append(events, capEvent("flood", fmt.Sprintf("f%02d", i), start.Add(24*time.Hour+time.Duration(i)*time.Minute)))
	}
	origin := capEvent("alpha", "a-story", start.Add(48*time.Hour))
	dup := capEvent("flood", "f-copy", start.Add(48*time.Hour))
	origin.ClusterID, dup.ClusterID, dup.DuplicateOf = "c1", "c1", origin.ID
	events = append(events, origin, dup)
	for _, ev := range events {
		data, err := json.Marshal(ev)
		if err != nil {
			t.Fatalf("encoding event %s: %v", ev.ID, err)
		}
		if _, err := a.JS.Publish(ctx, cfg.NATS.SubjectPrefix+"."+ev.Partner, data); err != nil {
			t.Fatalf("publishing event %s: %v", ev.ID, err)
		}
	}

	views, err := a.StartViews(ctx)
	if err != nil {
		t.Fatalf("starting views: %v", err)
	}
	t.Cleanup(views.Stop)
	waitFor(t, 10*time.Second, "every event in the view", func() bool { return views.View.Len() == len(events) })
	h, err := a.PublicHandler(ctx, views, Mounts{Feeds: true})
	if err != nil {
		t.Fatalf("building the public handler: %v", err)
	}

	capped := []string{"a-story", "f49", "f48", "b1", "a1", "b0"}
	open := []string{"a-story", "f49", "f48", "f47", "f46", "f45", "f44", "f43", "f42", "f41"}
	for _, format := range []string{"rss", "atom", "json", "html"} {
		t.Run(format, func(t *testing.T) {
			if got := channelTitles(t, h, "capped", format); !slices.Equal(got, capTitles(capped)) {
				t.Errorf("capped channel titles = %v, want %v", got, capTitles(capped))
			}
			if got := channelTitles(t, h, "open", format); !slices.Equal(got, capTitles(open)) {
				t.Errorf("open channel titles = %v, want %v", got, capTitles(open))
			}
		})
	}
}

func capEvent(partner, id string, published time.Time) pipeline.Event {
	return pipeline.Event{
		Version: pipeline.EventVersion, Kind: pipeline.KindCreated, Revision: 1,
		Item: pipeline.Item{
			ID: partner + "/news/" + id, Partner: partner, Feed: "news",
			URL: "https://" + partner + ".example.org/" + id, Title: "Item " + id,
			Published: published, DateSource: pipeline.DateFromFeed,
		},
		IngestedAt: published,
	}
}

func capTitles(ids []string) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = "Item " + id
	}
	return out
}

// pageHeading matches the title of one entry of a channel page, which the
// page template writes as the link text inside h3.
var pageHeading = regexp.MustCompile(`<h3><a href="[^"]*">([^<]*)</a></h3>`)

// channelTitles returns the entry titles of a channel, in order, from its
// feed in format (rss, atom or json) or from its page (html).
func channelTitles(t *testing.T, h http.Handler, channel, format string) []string {
	t.Helper()
	path := "/feeds/" + channel + "." + format
	if format == "html" {
		path = "/channels/" + channel
	}
	code, body := sendRequest(h, http.MethodGet, path, "", "")
	if code != http.StatusOK {
		t.Fatalf("GET %s = %d, want 200: %s", path, code, body)
	}
	var titles []string
	var err error
	switch format {
	case "rss":
		var doc struct {
			Items []string `xml:"channel>item>title"`
		}
		err = xml.Unmarshal([]byte(body), &doc)
		titles = doc.Items
	case "atom":
		var doc struct {
			Entries []string `xml:"entry>title"`
		}
		err = xml.Unmarshal([]byte(body), &doc)
		titles = doc.Entries
	case "json":
		var doc struct {
			Items []struct {
				Title string `json:"title"`
			} `json:"items"`
		}
		err = json.Unmarshal([]byte(body), &doc)
		for _, it := range doc.Items {
			titles = append(titles, it.Title)
		}
	case "html":
		for _, m := range pageHeading.FindAllStringSubmatch(body, -1) {
			titles = append(titles, m[1])
		}
	}
	if err != nil {
		t.Fatalf("decoding %s: %v\n%s", path, err, body)
	}
	return titles
}
