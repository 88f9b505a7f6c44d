package pipeline

import (
	"strings"
	"testing"
	"time"
)

func hashBase() Item {
	return Item{
		Title:      "Export fair in Vilnius",
		Summary:    "The chamber invites members to the fair in Šiauliai.",
		Content:    `<p>The chamber invites <a href="https://fair.example/lt?id=4">members</a> to the fair.</p><img src="https://fair.example/a.jpg">`,
		URL:        "https://chamber.example/news/fair",
		Categories: []string{"Export", "Events"},
		Language:   "en",
		Published:  time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC),
	}
}

func TestContentHashIgnoresTrivialChanges(t *testing.T) {
	tests := []struct {
		name   string
		change func(*Item)
	}{
		{"whitespace in content", func(it *Item) {
			it.Content = strings.ReplaceAll(it.Content, "invites ", "invites \n\t ")
		}},
		{"whitespace in title", func(it *Item) { it.Title = " Export  fair in\u00a0Vilnius " }},
		{"tracking parameters in url", func(it *Item) { it.URL += "?utm_source=rss&fbclid=x" }},
		{"tracking parameters in content link", func(it *Item) {
			it.Content = strings.Replace(it.Content, "id=4", "id=4&amp;utm_medium=feed&amp;gclid=1", 1)
		}},
		{"url host case and fragment", func(it *Item) { it.URL = "https://Chamber.EXAMPLE/news/fair#top" }},
		{"english comment counter", func(it *Item) { it.Title += " (3 comments)" }},
		{"polish comment counter", func(it *Item) { it.Title += " – 12 komentarzy" }},
		{"german comment counter", func(it *Item) { it.Title += " [5 Kommentare]" }},
		{"counter before number", func(it *Item) { it.Title += " Comments (7)" }},
		{"bumped updated date", func(it *Item) {
			u := it.Published.Add(time.Hour)
			it.Updated = &u
		}},
		{"new published date", func(it *Item) { it.Published = it.Published.Add(time.Minute) }},
		{"category order and case", func(it *Item) { it.Categories = []string{"events", "EXPORT"} }},
		{"zero width space", func(it *Item) { it.Title = "Export\u200b fair in Vilnius" }},
		{"decomposed accents", func(it *Item) { it.Summary = strings.Replace(it.Summary, "Š", "S\u030c", 1) }},
	}
	base := hashBase()
	want := ContentHash(&base)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			it := hashBase()
			tt.change(&it)
			if got := ContentHash(&it); got != want {
				t.Errorf("hash changed: %s, want %s", got, want)
			}
		})
	}
}

func TestContentHashSeesRealChanges(t *testing.T) {
	tests := []struct {
		name   string
		change func(*Item)
	}{
		{"edited title", func(it *Item) { it.Title = "Export fair in Kaunas" }},
		{"title number that is not a counter", func(it *Item) { it.Title += " (3 days)" }},
		{"edited content", func(it *Item) { it.Content = strings.Replace(it.Content, "fair.", "fair on 3 May.", 1) }},
		{"new link target", func(it *Item) { it.Content = strings.Replace(it.Content, "id=4", "id=5", 1) }},
		{"new image", func(it *Item) { it.Content = strings.Replace(it.Content, "a.jpg", "b.jpg", 1) }},
		{"other url", func(it *Item) { it.URL = "https://chamber.example/news/fair-2" }},
		{"new category", func(it *Item) { it.Categories = append(it.Categories, "Lithuania") }},
		{"new enclosure", func(it *Item) {
			it.Enclosures = []Enclosure{{URL: "https://fair.example/a.pdf", Type: "application/pdf"}}
		}},
	}
	base := hashBase()
	old := ContentHash(&base)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			it := hashBase()
			tt.change(&it)
			if ContentHash(&it) == old {
				t.Errorf("hash did not change")
			}
		})
	}
}

func TestStripCommentCounter(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"english", "Fair opens (3 comments)", "Fair opens"},
		{"one comment", "Fair opens (1 comment)", "Fair opens"},
		{"french", "La foire ouvre (2 commentaires)", "La foire ouvre"},
		{"lithuanian", "Mugė atidaryta (4 komentarai)", "Mugė atidaryta"},
		{"dutch", "Beurs opent - 6 reacties", "Beurs opent"},
		{"number without counter word", "Top 10 exporters", "Top 10 exporters"},
		{"only a counter", "(3 comments)", "(3 comments)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := stripCommentCounter(tt.in); got != tt.want {
				t.Errorf("stripCommentCounter(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestParseFeedSetsRulesVersion(t *testing.T) {
	res := parseFixture(t, "missing-guid.xml", Source{}, fetchTime)
	for k, it := range res.Items {
		if it.RulesVersion != RulesVersion {
			t.Errorf("item %d rules version = %d, want %d", k, it.RulesVersion, RulesVersion)
		}
		if it.ContentHash != hashRules[RulesVersion](&it) {
			t.Errorf("item %d hash is not the current rules' hash", k)
		}
	}
}

func TestGUIDKeyDropsTrackingParameters(t *testing.T) {
	tests := []struct {
		name, guid, want string
	}{
		{"utm parameters", "https://news.example/a?utm_source=rss&utm_medium=home", "https://news.example/a"},
		{"other parameters kept", "http://news.example/a?p=2&fbclid=x", "https://news.example/a?p=2"},
		{"fragment kept", "https://news.example/entries.php#98", "https://news.example/entries.php#98"},
		{"opaque guid unchanged", "3f2a-chipmaker?utm_source=x", "3f2a-chipmaker?utm_source=x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := guidKey(tt.guid); got != tt.want {
				t.Errorf("guidKey(%q) = %q, want %q", tt.guid, got, tt.want)
			}
		})
	}
}
