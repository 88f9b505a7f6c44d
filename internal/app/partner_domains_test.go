package app

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/syndic-network/syndic/internal/config"
	"github.com/syndic-network/syndic/internal/testenv"
)

// TestFeedShowsLinkOwnerOverImpostor pushes an item with partner alpha's
// link from partner beta first, then alpha's own item, and checks that the
// merged feed shows alpha's item with beta's listed as a copy.
func TestFeedShowsLinkOwnerOverImpostor(t *testing.T) {
	cfg := testConfig(t, testenv.NATS(t).URL, "http://127.0.0.1:1", 1, time.Minute)
	cfg.Push.Enabled = true
	cfg.Partners = append(cfg.Partners,
		config.Partner{ID: "alpha", Name: "Alpha", URL: "https://www.alpha-chamber.org/", Language: "en", Timezone: "UTC"},
		config.Partner{ID: "beta", Name: "Beta", URL: "https://beta-chamber.org/", Language: "en", Timezone: "UTC"},
	)
	a := openApp(t, cfg)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	views, err := a.StartViews(ctx)
	if err != nil {
		t.Fatalf("starting views: %v", err)
	}
	t.Cleanup(views.Stop)
	h, err := a.PublicHandler(ctx, views, Mounts{Feeds: true, Intake: true})
	if err != nil {
		t.Fatalf("building the public handler: %v", err)
	}
	store, err := a.TokenStore(ctx)
	if err != nil {
		t.Fatalf("opening the token store: %v", err)
	}
	tokens := map[string]string{}
	for _, p := range []string{"alpha", "beta"} {
		tok, _, err := store.Issue(ctx, p)
		if err != nil {
			t.Fatalf("issuing a token for %s: %v", p, err)
		}
		tokens[p] = tok
	}

	link := "https://news.alpha-chamber.org/events/42"
	pushes := []struct{ partner, body string }{
		{"beta", `{"id":"steal-42","title":"Chamber cancels all events","url":"` + link + `","content_text":"Send refund requests elsewhere."}`},
		{"alpha", `{"id":"n-42","title":"Export training in December","url":"` + link + `","content_text":"The chamber invites members to export training."}`},
	}
	for _, p := range pushes {
		code, body := sendRequest(h, http.MethodPost, "/api/v1/items", tokens[p.partner], p.body)
		if code != http.StatusOK || !strings.Contains(body, `"created"`) {
			t.Fatalf("%s POST /api/v1/items = %d %s, want 200 created", p.partner, code, body)
		}
	}
	waitFor(t, 10*time.Second, "both pushed items in the view", func() bool { return views.View.Len() == 2 })

	_, doc := sendRequest(h, http.MethodGet, "/feeds/all.json", "", "")
	var feed struct {
		Items []struct {
			Title  string `json:"title"`
			Syndic struct {
				Partner string `json:"partner"`
				Copies  []struct {
					Partner string `json:"partner"`
				} `json:"copies"`
			} `json:"_syndic"`
		} `json:"items"`
	}
	if err := json.Unmarshal([]byte(doc), &feed); err != nil {
		t.Fatalf("decoding /feeds/all.json: %v\n%s", err, doc)
	}
	if len(feed.Items) != 1 {
		t.Fatalf("items = %d, want one story\n%s", len(feed.Items), doc)
	}
	if got := feed.Items[0].Title; got != "Export training in December" {
		t.Errorf("story title = %q, want alpha's title", got)
	}
	if got := feed.Items[0].Syndic.Partner; got != "alpha" {
		t.Errorf("story partner = %q, want alpha", got)
	}
	copies := feed.Items[0].Syndic.Copies
	if len(copies) != 1 || copies[0].Partner != "beta" {
		t.Errorf("copies = %+v, want beta's item", copies)
	}
}
