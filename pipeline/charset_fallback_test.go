package pipeline

import (
	"slices"
	"testing"
	"time"

	"golang.org/x/text/encoding/charmap"
)

func TestParseFeedUsesPartnerFallbackCharset(t *testing.T) {
	const title = "Zażółć gęślą jaźń"
	doc := `<rss version="2.0"><channel><title>Izba</title><link>https://izba.example/</link>` +
		`<item><title>` + title + `</title><link>https://izba.example/n/1</link></item></channel></rss>`
	body, err := charmap.Windows1250.NewEncoder().String(doc)
	if err != nil {
		t.Fatalf("encoding fixture as windows-1250: %v", err)
	}
	tests := []struct {
		name, contentType, fallback, want string
	}{
		{"undeclared body uses the fallback", "application/rss+xml", "windows-1250", title},
		{"false utf-8 label uses the fallback", "application/rss+xml; charset=utf-8", "windows-1250", title},
		{"declared charset wins over the fallback", "application/rss+xml; charset=windows-1252", "windows-1250", "Za¿ó³æ gêœl¹ jaŸñ"},
		{"no fallback means windows-1252", "application/rss+xml", "", "Za¿ó³æ gêœl¹ jaŸñ"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := Source{Partner: "izba", Feed: "news", FeedURL: "https://izba.example/rss", Charset: tt.fallback}
			res, err := ParseFeed([]byte(body), tt.contentType, src, time.Now())
			if err != nil {
				t.Fatalf("parsing feed: %v", err)
			}
			if len(res.Items) != 1 {
				t.Fatalf("parsed %d items, want 1", len(res.Items))
			}
			if got := res.Items[0].Title; got != tt.want {
				t.Errorf("title = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestParseFeedRecordsDefaultCharset(t *testing.T) {
	doc := `<rss version="2.0"><channel><title>Izba</title><link>https://izba.example/</link>` +
		`<item><title>Zażółć gęślą jaźń</title><link>https://izba.example/n/1</link></item></channel></rss>`
	legacy, err := charmap.Windows1250.NewEncoder().String(doc)
	if err != nil {
		t.Fatalf("encoding fixture as windows-1250: %v", err)
	}
	tests := []struct {
		name, body, contentType, fallback string
		want                              bool
	}{
		{"false utf-8 label without fallback", legacy, "application/rss+xml; charset=utf-8", "", true},
		{"no label without fallback", legacy, "application/rss+xml", "", true},
		{"false utf-8 label with fallback", legacy, "application/rss+xml; charset=utf-8", "windows-1250", false},
		{"real utf-8", doc, "application/rss+xml; charset=utf-8", "", false},
		{"declared windows-1250", legacy, "application/rss+xml; charset=windows-1250", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := Source{Partner: "izba", Feed: "news", FeedURL: "https://izba.example/rss", Charset: tt.fallback}
			res, err := ParseFeed([]byte(tt.body), tt.contentType, src, time.Now())
			if err != nil {
				t.Fatalf("parsing feed: %v", err)
			}
			if got := slices.Contains(res.Recoveries, RecoveryDefaultCharset); got != tt.want {
				t.Errorf("recoveries = %q, want RecoveryDefaultCharset %v", res.Recoveries, tt.want)
			}
		})
	}
}
