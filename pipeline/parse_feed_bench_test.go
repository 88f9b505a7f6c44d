package pipeline

import (
	"context"
	"testing"
	"time"

	"github.com/syndic-network/syndic/internal/feedfarm"
)

// farmDocument returns the 50-item RSS document of feed 1 of a feed farm.
// The farm only renders it, so nothing is fetched.
func farmDocument(b *testing.B) []byte {
	b.Helper()
	epoch := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	f, err := feedfarm.Start(feedfarm.Options{Feeds: 4, Items: 50, Hosts: 1, Epoch: epoch})
	if err != nil {
		b.Fatalf("starting feed farm: %v", err)
	}
	b.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		f.Close(ctx)
	})
	return f.Bodies()[1]
}

// BenchmarkParseFeed measures ParseFeed on a 50-item farm document.
func BenchmarkParseFeed(b *testing.B) {
	body := farmDocument(b)
	src := Source{Partner: "farm", Feed: "news", FeedURL: "https://partner0.example/rss"}
	now := time.Date(2026, 5, 2, 0, 0, 0, 0, time.UTC)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		res, err := ParseFeed(body, "application/rss+xml", src, now)
		if err != nil || len(res.Items) != 50 {
			b.Fatalf("ParseFeed: %d items, error %v", len(res.Items), err)
		}
	}
}
