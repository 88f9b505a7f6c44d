package feeds

import (
	"testing"

	"github.com/syndic-network/syndic/pipeline"
)

func TestContainsWord(t *testing.T) {
	tests := []struct {
		name string
		text string
		word string
		want bool
	}{
		{"whole word matches", "export to poland", "export", true},
		{"word at the end matches", "new export", "export", true},
		{"longer word does not match", "exporters meet", "export", false},
		{"word inside another does not match", "reexport", "export", false},
		{"later whole occurrence matches", "exporters and export", "export", true},
		{"punctuation is a boundary", "(export), import", "export", true},
		{"phrase matches in a row", "the trade fair opens", "trade fair", true},
		{"phrase with a word between fails", "trade and fair", "trade fair", false},
		{"symbol edge needs no boundary", "learn c++ today", "c++", true},
		{"letters with diacritics are word runes", "łódź", "ódź", false},
		{"empty word never matches", "anything", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := containsWord(tt.text, tt.word); got != tt.want {
				t.Errorf("containsWord(%q, %q) = %v, want %v", tt.text, tt.word, got, tt.want)
			}
		})
	}
}

func TestSearchTextSkipsMarkup(t *testing.T) {
	ev := pipeline.Event{Item: pipeline.Item{
		Title:      "EXPORT News",
		Summary:    "Short",
		Categories: []string{"Trade"},
		Content:    `<p>Body <a href="https://x.example/">link</a><strong>bold</strong></p>`,
	}}
	text := searchText(ev)
	for _, word := range []string{"export", "news", "short", "trade", "body", "link", "bold"} {
		if !containsWord(text, word) {
			t.Errorf("search text %q lacks %q", text, word)
		}
	}
	for _, word := range []string{"href", "strong", "https"} {
		if containsWord(text, word) {
			t.Errorf("search text %q contains markup word %q", text, word)
		}
	}
}

func TestFoldTextIgnoresCase(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"ascii upper case", "EXPORT", "export"},
		{"polish capitals", "ŁÓDŹ", "łódź"},
		{"german sharp s", "STRASSE", "strasse"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := foldText(tt.in); got != tt.want {
				t.Errorf("foldText(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}
