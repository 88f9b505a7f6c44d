package config

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mmcdole/gofeed"
)

// exampleDir is the directory of the example configuration.
var exampleDir = filepath.Join("..", "..", "deploy", "examples")

func TestExampleConfigValidates(t *testing.T) {
	cfg := mustLoad(t, filepath.Join(exampleDir, "syndic.yaml"))
	if len(cfg.Partners) != 5 {
		t.Errorf("got %d partners, want 5", len(cfg.Partners))
	}
	languages := map[string]bool{}
	for _, p := range cfg.Partners {
		languages[p.Language] = true
		for _, f := range p.Feeds {
			if !strings.HasPrefix(f.URL, "file:///") {
				t.Errorf("%s/%s url = %q, want an absolute file URL", p.ID, f.ID, f.URL)
				continue
			}
			if _, err := os.Stat(filePath(t, f.URL)); err != nil {
				t.Errorf("%s/%s: %v", p.ID, f.ID, err)
			}
		}
	}
	for _, lang := range []string{"pl", "fr", "lt", "de", "en"} {
		if !languages[lang] {
			t.Errorf("no partner in language %s", lang)
		}
	}
	var channels []string
	for _, c := range cfg.Channels {
		channels = append(channels, c.ID)
	}
	if got := strings.Join(channels, " "); got != "all pl mittelstand" {
		t.Errorf("channels = %s, want all pl mittelstand", got)
	}
}

func filePath(t *testing.T, fileURL string) string {
	t.Helper()
	return filepath.FromSlash(strings.TrimPrefix(fileURL, "file://"))
}

// TestExampleFeedsParse checks the properties the example feeds exist to
// show: each parses, has 4 to 8 items dated in 2026, and between them they
// contain a PDF enclosure, a relative image and a tracking parameter.
func TestExampleFeedsParse(t *testing.T) {
	cfg := mustLoad(t, filepath.Join(exampleDir, "syndic.yaml"))
	var enclosures, relativeImages, trackedLinks int
	types := map[string]bool{}
	for _, p := range cfg.Partners {
		path := filePath(t, p.Feeds[0].URL)
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("reading %s: %v", path, err)
		}
		feed, err := gofeed.NewParser().Parse(bytes.NewReader(data))
		if err != nil {
			t.Errorf("parsing %s: %v", path, err)
			continue
		}
		types[feed.FeedType+" "+feed.FeedVersion] = true
		if n := len(feed.Items); n < 4 || n > 8 {
			t.Errorf("%s has %d items, want 4 to 8", path, n)
		}
		for _, item := range feed.Items {
			if item.PublishedParsed == nil || item.PublishedParsed.Year() != 2026 {
				t.Errorf("%s: item %q is not dated in 2026", path, item.Title)
			}
			for _, e := range item.Enclosures {
				if e.Type == "application/pdf" {
					enclosures++
				}
			}
			if strings.Contains(item.Content, `src="/`) {
				relativeImages++
			}
			if strings.Contains(item.Link, "utm_source=") {
				trackedLinks++
			}
		}
	}
	if enclosures != 1 {
		t.Errorf("got %d PDF enclosures, want 1", enclosures)
	}
	if relativeImages != 1 {
		t.Errorf("got %d items with a relative image, want 1", relativeImages)
	}
	if trackedLinks != 1 {
		t.Errorf("got %d links with tracking parameters, want 1", trackedLinks)
	}
	if !types["atom 1.0"] || !types["rss 2.0"] {
		t.Errorf("feed types = %v, want both atom 1.0 and rss 2.0", types)
	}
}

func TestExamplePolishFeedIsWindows1250(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(exampleDir, "feeds", "wipk.xml"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(data, []byte(`<?xml version="1.0" encoding="windows-1250"?>`)) {
		t.Errorf("wipk.xml does not declare windows-1250: %q", data[:60])
	}
	// "ń" is 0xF1 in windows-1250 and would be 0xC5 0x84 in UTF-8.
	if !bytes.Contains(data, []byte("Warcia\xf1ska")) {
		t.Error("wipk.xml does not contain Warciańska in windows-1250 bytes")
	}
	feed, err := gofeed.NewParser().Parse(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("parsing wipk.xml: %v", err)
	}
	if !strings.Contains(feed.Title, "Warciańska Izba") {
		t.Errorf("title = %q, want the decoded Polish name", feed.Title)
	}
}
