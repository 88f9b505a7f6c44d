package pipeline

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/golden")

// goldenFixtures are the feeds whose normalised items are pinned, one per
// kind of normalisation fault.
var goldenFixtures = []string{
	"twelve-hour-no-zone.xml",
	"future-date.xml",
	"missing-guid.xml",
	"repeated-guid.xml",
	"tracking-link.xml",
	"relative-image.xml",
	"lazy-images.xml",
	"enclosure-no-type.xml",
	"same-article-home.xml",
	"same-article-section.xml",
	"websub-hub.atom.xml",
	"json-feed.json",
	"hreflang-alternates.atom.xml",
	"entry-xml-base.atom.xml",
}

func TestNormalisedItemsGolden(t *testing.T) {
	berlin := mustLocation(t, "Europe/Berlin")
	for _, name := range goldenFixtures {
		t.Run(name, func(t *testing.T) {
			src := Source{FeedURL: "https://feeds.example.org/" + name, Language: "en", Location: berlin}
			res := parseFixture(t, name, src, fetchTime)
			var buf bytes.Buffer
			enc := json.NewEncoder(&buf)
			enc.SetIndent("", "  ")
			enc.SetEscapeHTML(false)
			if err := enc.Encode(res.Items); err != nil {
				t.Fatalf("encoding items: %v", err)
			}
			got := buf.Bytes()
			path := filepath.Join("testdata", "golden", strings.TrimSuffix(name, filepath.Ext(name))+".json")
			if *update {
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatalf("creating golden folder: %v", err)
				}
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatalf("writing golden file: %v", err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("reading golden file (run with -update to create it): %v", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("items differ from %s (run with -update after checking the change):\n%s", path, got)
			}
		})
	}
}

func TestGoldenFixturesDateFixed(t *testing.T) {
	if !fetchTime.Equal(time.Date(2026, 4, 1, 12, 0, 0, 0, time.UTC)) {
		t.Errorf("fetchTime changed: the golden files pin items fetched at 2026-04-01T12:00:00Z")
	}
}
