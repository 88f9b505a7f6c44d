package app

import (
	"testing"

	"github.com/syndic-network/syndic/internal/config"
)

func TestPartnerLinksHideFeedCredentials(t *testing.T) {
	a := &App{Config: &config.Config{Partners: []config.Partner{{
		ID: "wipk", Name: "WIPK", URL: "https://wipk.example.org/",
		Feeds: []config.PartnerFeed{
			{ID: "news", URL: "https://reader:pw@wipk.example.org/rss?token=abc&lang=pl"},
			{ID: "local", URL: "file:///srv/feeds/wipk.xml"},
		},
	}}}}
	_, feedURLs := a.partnerLinks()
	if got, want := feedURLs["wipk/news"], "https://wipk.example.org/rss?lang=pl"; got != want {
		t.Errorf("public URL of wipk/news = %q, want %q", got, want)
	}
	if got, ok := feedURLs["wipk/local"]; ok {
		t.Errorf("public URL of the file: feed = %q, want none", got)
	}
}
