package pipeline_test

import (
	"testing"
	"time"

	"github.com/syndic-network/syndic/internal/feedfarm"
	"github.com/syndic-network/syndic/pipeline"
)

// BenchmarkParseChangedDocument parses the feed farm's documents after
// their window slid by 5 items (5 new items, 45 known), as a poll of a
// changed feed does: with the memo of the document before, with that
// memo but every item read by gofeed (as before known items could skip
// it), and without a memo.
func BenchmarkParseChangedDocument(b *testing.B) {
	farm, err := feedfarm.Start(feedfarm.Options{Feeds: 4, Items: 50})
	if err != nil {
		b.Fatal(err)
	}
	defer farm.Close(b.Context())

	before := farm.Bodies()
	farm.Slide(5)
	after := farm.Bodies()

	now := time.Now()
	src := pipeline.Source{Partner: "bench", Feed: "news", FeedURL: "http://127.0.0.1/feed.xml"}
	memos := make([]*pipeline.ParseMemo, len(before))
	for i, body := range before {
		res, err := pipeline.ParseFeedMemo(body, "application/rss+xml", src, now, nil)
		if err != nil {
			b.Fatal(err)
		}
		memos[i] = res.Memo
	}

	b.Run("memo", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			k := i % len(after)
			if _, err := pipeline.ParseFeedMemo(after[k], "application/rss+xml", src, now, memos[k]); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("memo without skipping gofeed", func(b *testing.B) {
		parsed := make([]*pipeline.ParseMemo, len(memos))
		for k, m := range memos {
			parsed[k] = pipeline.MemoWithoutSegments(m)
		}
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			k := i % len(after)
			if _, err := pipeline.ParseFeedMemo(after[k], "application/rss+xml", src, now, parsed[k]); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("no memo", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			if _, err := pipeline.ParseFeed(after[i%len(after)], "application/rss+xml", src, now); err != nil {
				b.Fatal(err)
			}
		}
	})
}
