package pipeline

import (
	"reflect"
	"testing"
)

func memoTestItem() Item {
	return Item{
		ID: "id", Partner: "p", Feed: "f", FeedURL: "https://p.example/rss",
		GUID: "g", URL: "https://p.example/a", Title: "Title 1", Summary: "Summary",
		Content:    `<p>Text <a href="https://p.example/b">link</a></p>`,
		Authors:    []Author{{Name: "Ann", Email: "ann@p.example", URL: "https://p.example/ann"}},
		Categories: []string{"Trade", "Export"},
		Language:   "en",
		Enclosures: []Enclosure{{URL: "https://p.example/a.mp3", Type: "audio/mpeg", Length: 12}},
		Image:      "https://p.example/a.jpg",
	}
}

// TestMemoKeyCoversContentHash changes each field in turn and checks that
// whenever the content hash changes, the memo key changes too, so the
// memo never returns the hash of another item.
func TestMemoKeyCoversContentHash(t *testing.T) {
	base := memoTestItem()
	baseHash, baseKey := ContentHash(&base), contentMemoKey(&base)
	changes := map[string]func(*Item){
		"author name":      func(it *Item) { it.Authors[0].Name = "Bob" },
		"author email":     func(it *Item) { it.Authors[0].Email = "bob@p.example" },
		"no authors":       func(it *Item) { it.Authors = nil },
		"category":         func(it *Item) { it.Categories[1] = "Import" },
		"categories split": func(it *Item) { it.Categories = []string{"TradeExport"} },
		"enclosure url":    func(it *Item) { it.Enclosures[0].URL = "https://p.example/b.mp3" },
		"enclosure type":   func(it *Item) { it.Enclosures[0].Type = "audio/ogg" },
		"enclosure length": func(it *Item) { it.Enclosures[0].Length = 13 },
	}
	value := reflect.ValueOf(base)
	for i := range value.NumField() {
		field := value.Type().Field(i)
		if field.Type.Kind() != reflect.String || field.Name == "ContentHash" {
			continue
		}
		changes[field.Name] = func(it *Item) {
			f := reflect.ValueOf(it).Elem().Field(i)
			f.SetString(f.String() + " changed")
		}
	}
	changed := 0
	for name, change := range changes {
		it := memoTestItem()
		change(&it)
		if ContentHash(&it) == baseHash {
			continue
		}
		changed++
		if contentMemoKey(&it) == baseKey {
			t.Errorf("%s: content hash changed but the memo key did not", name)
		}
	}
	if changed < 12 {
		t.Errorf("only %d of %d changes moved the content hash, want at least 12", changed, len(changes))
	}
}

func TestMemoContentHashMatches(t *testing.T) {
	for _, it := range []Item{memoTestItem(), {Title: "Only a title"}, {URL: "https://p.example/x", Content: "<p>x</p>"}} {
		want := ContentHash(&it)
		for range 2 {
			if got := memoContentHash(&it); got != want {
				t.Errorf("memoContentHash(%q) = %s, want %s", it.Title, got, want)
			}
		}
	}
}
