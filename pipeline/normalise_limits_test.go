package pipeline

import (
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

var limitsNow = time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)

func pushSource() Source {
	return Source{Partner: "alpha", Feed: "push", FeedURL: "push", Language: "en"}
}

func normaliseWithWarnings(t *testing.T, it Item) (Item, FieldWarnings) {
	t.Helper()
	warnings, err := NormaliseItemWarnings(&it, pushSource(), limitsNow)
	if err != nil {
		t.Fatalf("normalising item: %v", err)
	}
	return it, warnings
}

func TestNormaliseItemCutsLongTitle(t *testing.T) {
	tests := []struct {
		name, title, wantEnd string
	}{
		{"one long word", strings.Repeat("T", 1_000_000), "T…"},
		{"many words", strings.Repeat("word ", 400), "word…"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			it, warnings := normaliseWithWarnings(t, Item{GUID: "t-big", Title: tt.title})
			if n := utf8.RuneCountInString(it.Title); n > maxTitleRunes {
				t.Errorf("title has %d characters, want at most %d", n, maxTitleRunes)
			}
			if !strings.HasSuffix(it.Title, tt.wantEnd) {
				t.Errorf("title ends %q, want %q", it.Title[len(it.Title)-12:], tt.wantEnd)
			}
			if warnings["title"] == "" {
				t.Errorf("warnings = %v, want one for title", warnings)
			}
		})
	}
}

func TestNormaliseItemKeepsShortTitle(t *testing.T) {
	title := strings.Repeat("a", maxTitleRunes)
	it, warnings := normaliseWithWarnings(t, Item{GUID: "t", Title: title})
	if it.Title != title {
		t.Errorf("a title of exactly %d characters was changed", maxTitleRunes)
	}
	if len(warnings) != 0 {
		t.Errorf("warnings = %v, want none", warnings)
	}
}

func TestNormaliseItemLimitsCategories(t *testing.T) {
	tags := make([]string, 0, 100_000)
	tags = append(tags, strings.Repeat("c", maxCategoryRunes+1))
	for i := range 100_000 {
		tags = append(tags, fmt.Sprintf("t%d", i))
	}
	it, warnings := normaliseWithWarnings(t, Item{GUID: "many-tags", Title: "many tags", Categories: tags})
	if len(it.Categories) != maxCategories {
		t.Fatalf("kept %d categories, want %d", len(it.Categories), maxCategories)
	}
	if it.Categories[0] != "t0" {
		t.Errorf("first category = %q, want t0 (the long one dropped)", it.Categories[0])
	}
	msg := warnings["categories"]
	if !strings.Contains(msg, "1 longer than 100 characters dropped") {
		t.Errorf("categories warning = %q, want the long one named", msg)
	}
	if !strings.Contains(msg, "kept the first 50 of 100000") {
		t.Errorf("categories warning = %q, want the count named", msg)
	}
}

func TestNormaliseItemLimitsAuthors(t *testing.T) {
	authors := []Author{{Name: strings.Repeat("<script>x</script>", 1000) + strings.Repeat("n", 300)}}
	for i := range maxAuthors + 5 {
		authors = append(authors, Author{Name: fmt.Sprintf("Author %d", i), URL: "https://a.example/" + strings.Repeat("p", MaxURLBytes)})
	}
	it, warnings := normaliseWithWarnings(t, Item{GUID: "authors", Title: "authors", Authors: authors})
	if len(it.Authors) != maxAuthors {
		t.Fatalf("kept %d authors, want %d", len(it.Authors), maxAuthors)
	}
	if n := utf8.RuneCountInString(it.Authors[0].Name); n > maxAuthorNameRunes {
		t.Errorf("first author name has %d characters, want at most %d", n, maxAuthorNameRunes)
	}
	if strings.Contains(it.Authors[0].Name, "<") {
		t.Errorf("first author name kept markup: %q", it.Authors[0].Name[:40])
	}
	if it.Authors[1].URL != "" {
		t.Errorf("author URL of %d bytes kept", len(it.Authors[1].URL))
	}
	if warnings["authors"] == "" {
		t.Errorf("warnings = %v, want one for authors", warnings)
	}
}

func TestNormaliseItemDropsLongURLs(t *testing.T) {
	long := "https://a.example/" + strings.Repeat("x", MaxURLBytes)
	it, warnings := normaliseWithWarnings(t, Item{
		GUID: "long-urls", Title: "long urls", URL: long, Image: long + ".jpg",
		Enclosures: []Enclosure{{URL: long + ".mp3"}, {URL: "https://a.example/ok.mp3"}},
	})
	if it.URL != "" {
		t.Errorf("link of %d bytes kept", len(it.URL))
	}
	if it.Image != "" {
		t.Errorf("image of %d bytes kept", len(it.Image))
	}
	if len(it.Enclosures) != 1 || it.Enclosures[0].URL != "https://a.example/ok.mp3" {
		t.Errorf("enclosures = %v, want only the short one", it.Enclosures)
	}
	for _, field := range []string{"image", "enclosures"} {
		if warnings[field] == "" {
			t.Errorf("warnings = %v, want one for %s", warnings, field)
		}
	}
}

func TestNormaliseItemWarnsAboutDroppedFields(t *testing.T) {
	it, warnings := normaliseWithWarnings(t, Item{
		GUID: "px-3", Title: "img", URL: "https://a.example/px3",
		Image:      "javascript:alert(1)",
		Enclosures: []Enclosure{{URL: "data:text/html,x", Type: "text/html"}},
		Language:   "xx-<script>",
		Content:    "<script>alert(3)</script>",
	})
	if it.Image != "" || len(it.Enclosures) != 0 || it.Content != "" {
		t.Fatalf("image, enclosures, content = %q, %v, %q, want all dropped", it.Image, it.Enclosures, it.Content)
	}
	for _, field := range []string{"image", "enclosures", "language", "content"} {
		if warnings[field] == "" {
			t.Errorf("warnings = %v, want one for %s", warnings, field)
		}
	}
}

func TestParseFeedLimitsPolledItems(t *testing.T) {
	var cats strings.Builder
	for i := range 200 {
		fmt.Fprintf(&cats, "<category>c%d</category>", i)
	}
	doc := `<rss version="2.0"><channel><title>Big</title><link>https://big.example/</link><item>` +
		`<title>` + strings.Repeat("long ", 1000) + `</title><link>https://big.example/n/1</link>` +
		cats.String() + `</item></channel></rss>`
	res, err := ParseFeed([]byte(doc), "application/rss+xml", Source{Partner: "big", Feed: "news", FeedURL: "https://big.example/rss"}, limitsNow)
	if err != nil {
		t.Fatalf("parsing feed: %v", err)
	}
	if len(res.Items) != 1 {
		t.Fatalf("parsed %d items, want 1", len(res.Items))
	}
	it := res.Items[0]
	if n := utf8.RuneCountInString(it.Title); n > maxTitleRunes {
		t.Errorf("title has %d characters, want at most %d", n, maxTitleRunes)
	}
	if len(it.Categories) != maxCategories {
		t.Errorf("kept %d categories, want %d", len(it.Categories), maxCategories)
	}
}

func TestContentHashOfItemStoredBeforeLimits(t *testing.T) {
	stored := hashBase()
	stored.Title = strings.Repeat("Export fair ", 200)
	for i := range 80 {
		stored.Categories = append(stored.Categories, fmt.Sprintf("tag %d", i))
	}
	cut := stored
	limitFields(&cut)
	if cut.Title == stored.Title || len(cut.Categories) == len(stored.Categories) {
		t.Fatalf("fixture is within the limits")
	}
	if ContentHash(&stored) != ContentHash(&cut) {
		t.Errorf("an item stored before the limits hashes apart from the same item cut today")
	}
}

func TestLimitFieldsIsIdempotent(t *testing.T) {
	it := hashBase()
	it.Title = strings.Repeat("word ", 700)
	it.Authors = []Author{{Name: strings.Repeat("name ", 100)}}
	limitFields(&it)
	again := it
	if warnings := limitFields(&again); len(warnings) != 0 {
		t.Errorf("second pass warned %v", warnings)
	}
	if again.Title != it.Title || again.Authors[0].Name != it.Authors[0].Name {
		t.Errorf("second pass changed the item")
	}
}

func TestHashIdentityUsesWholeTitle(t *testing.T) {
	// Items without GUID and link are keyed by their title. Two titles
	// that differ only after the cut keep their ids from before the limit.
	base := strings.Repeat("x", 2*maxTitleRunes)
	first, _ := normaliseWithWarnings(t, Item{Title: base + "a"})
	second, _ := normaliseWithWarnings(t, Item{Title: base + "b"})
	if first.Title != second.Title {
		t.Fatalf("fixture titles differ after the cut")
	}
	if first.ID == second.ID {
		t.Errorf("two items got one id because the cut title keyed them")
	}
}
