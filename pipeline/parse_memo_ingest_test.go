package pipeline_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/syndic-network/syndic/pipeline"
)

var memoDoc = []byte(`<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Izba</title><link>https://partner.example/</link>
<item><guid>izba-1</guid><title>Targi eksportowe</title><link>https://partner.example/news/1</link>
<description><![CDATA[<p>Zapraszamy na <b>targi</b> w Poznaniu.</p><img src="/img/targi.jpg">]]></description>
<pubDate>Tue, 01 Dec 2026 09:00:00 +0000</pubDate></item>
<item><title>Szkolenie z eksportu</title><link>https://partner.example/news/2</link>
<description>Szkolenie dla firm.</description></item>
<item><title>Bez linku</title><description>Wpis bez linku i daty.</description></item>
</channel></rss>`)

var memoSrc = pipeline.Source{Partner: "wipk", Feed: "news", FeedURL: "https://partner.example/rss"}

// memoParses parses memoDoc twice, the second time with the first parse's
// memo, so every item of the second parse comes from the memo.
func memoParses(t *testing.T, now time.Time) (first, second *pipeline.ParseResult) {
	t.Helper()
	first, err := pipeline.ParseFeedMemo(memoDoc, "", memoSrc, now, nil)
	if err != nil {
		t.Fatalf("parsing: %v", err)
	}
	second, err = pipeline.ParseFeedMemo(memoDoc, "", memoSrc, now, first.Memo)
	if err != nil {
		t.Fatalf("parsing with memo: %v", err)
	}
	if second.Memo.Len() != 3 {
		t.Fatalf("memo holds %d items, want 3", second.Memo.Len())
	}
	return first, second
}

// TestMemoItemsAfterCacheFlush ingests a document, flushes the cache and
// ingests the memo's items of the same document: the index still
// contains them, so no event is published twice.
func TestMemoItemsAfterCacheFlush(t *testing.T) {
	for _, kind := range cacheKinds {
		t.Run(kind, func(t *testing.T) {
			ctx := context.Background()
			env := newIngestEnv(t, kind)
			first, second := memoParses(t, time.Now())
			for i, o := range env.ingester(env.newRC(), nil).IngestBatch(ctx, first.Items) {
				if o.Err != nil || o.Result != pipeline.ResultCreated {
					t.Fatalf("first ingest of item %d: %s %v", i, o.Result, o.Err)
				}
			}
			for i, o := range env.ingester(env.newRC(), nil).IngestBatch(ctx, second.Items) {
				if o.Err != nil || o.Result != pipeline.ResultDuplicate {
					t.Errorf("memo item %d after a cache flush: %s %v, want duplicate", i, o.Result, o.Err)
				}
			}
			if n := len(env.events(t)); n != 3 {
				t.Fatalf("stream has %d events, want 3", n)
			}
		})
	}
}

// TestMemoItemsPublishedInFull offers the memo's items to a store that
// never saw them, through IngestBatch and through Ingest. They must be
// cleaned in full first: each event carries the item ParseFeed gives.
func TestMemoItemsPublishedInFull(t *testing.T) {
	now := time.Now().UTC().Truncate(time.Second)
	want, err := pipeline.ParseFeed(memoDoc, "", memoSrc, now)
	if err != nil {
		t.Fatal(err)
	}
	ingest := map[string]func(*pipeline.Ingester, []pipeline.Item) []pipeline.Result{
		"batch": func(g *pipeline.Ingester, items []pipeline.Item) []pipeline.Result {
			var out []pipeline.Result
			for _, o := range g.IngestBatch(context.Background(), items) {
				out = append(out, o.Result)
			}
			return out
		},
		"one at a time": func(g *pipeline.Ingester, items []pipeline.Item) []pipeline.Result {
			var out []pipeline.Result
			for i := range items {
				r, _ := g.Ingest(context.Background(), &items[i])
				out = append(out, r)
			}
			return out
		},
	}
	for name, run := range ingest {
		t.Run(name, func(t *testing.T) {
			env := newIngestEnv(t, "embedded")
			_, second := memoParses(t, now)
			for i, r := range run(env.ingester(env.newRC(), nil), second.Items) {
				if r != pipeline.ResultCreated {
					t.Errorf("memo item %d on an empty store: %s, want created", i, r)
				}
			}
			events := env.events(t)
			if len(events) != len(want.Items) {
				t.Fatalf("stream has %d events, want %d", len(events), len(want.Items))
			}
			byID := map[string]pipeline.Item{}
			for _, ev := range events {
				byID[ev.ID] = ev.Item
			}
			for _, it := range want.Items {
				got, ok := byID[it.ID]
				if !ok {
					t.Errorf("no event for item %s (%s)", it.ID, it.Title)
					continue
				}
				// Ingest starts a story of its own for a new item.
				it.ClusterID = it.ID
				if g, w := mustJSON(t, got), mustJSON(t, it); g != w {
					t.Errorf("event item differs from ParseFeed's:\n got %s\nwant %s", g, w)
				}
			}
		})
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("encoding: %v", err)
	}
	return string(b)
}
