package pipeline

import (
	"context"
	"fmt"
	"math/rand/v2"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
	"testing"
	"time"
)

// benchItem returns a typical partner item: a title, a summary and three
// paragraphs of content with a link and an image.
func benchItem(n int) Item {
	return Item{
		GUID:    fmt.Sprintf("https://chamber.example/news/%d?utm_source=rss", n),
		URL:     fmt.Sprintf("https://Chamber.example/news/%d?utm_source=rss#top", n),
		Title:   fmt.Sprintf("Export fair number %d opens registration (4 comments)", n),
		Summary: "The regional chamber of commerce opens registration for the export fair.",
		Content: fmt.Sprintf(`<p>The regional chamber of commerce opens registration for export fair %d in Vilnius on 12 June.</p>`+
			`<p>Forty companies from the food and furniture sectors will meet buyers from Scandinavia. `+
			`<a href="/fair?utm_medium=feed">Details</a></p><p><img data-src="/img/%d.jpg" src="data:image/gif;base64,R0">`+
			`The chamber covers half of the stand fee for its members, and applications are accepted until 20 May.</p>`, n, n),
		Categories: []string{"Export", "Fairs"},
		Language:   "en",
		Published:  time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC),
	}
}

func BenchmarkNormaliseItem(b *testing.B) {
	src := Source{Partner: "chamber", Feed: "news", FeedURL: "https://chamber.example/rss"}
	now := time.Date(2026, 5, 2, 0, 0, 0, 0, time.UTC)
	// Every run of -count makes the same items, so start with no cached
	// languages, as for items never seen.
	ResetMemos()
	b.ReportAllocs()
	for n := 0; b.Loop(); n++ {
		it := benchItem(n)
		if err := NormaliseItem(&it, src, now); err != nil {
			b.Fatalf("normalising: %v", err)
		}
	}
}

func BenchmarkContentHash(b *testing.B) {
	it := normalisedBenchItem(b)
	b.ReportAllocs()
	for b.Loop() {
		_ = ContentHash(&it)
	}
}

// BenchmarkHashThenFingerprint measures what a new item's text costs from
// cleaning to grouping: its content hash, then its fingerprint, which
// reads the content's text that the hash scanned.
func BenchmarkHashThenFingerprint(b *testing.B) {
	it := normalisedBenchItem(b)
	b.ReportAllocs()
	for b.Loop() {
		_ = ContentHash(&it)
		_ = itemFingerprint(&it)
	}
}

// normalisedBenchItem returns benchItem(1) after normalisation.
func normalisedBenchItem(b *testing.B) Item {
	b.Helper()
	it := benchItem(1)
	if err := NormaliseItem(&it, Source{Partner: "p"}, time.Now()); err != nil {
		b.Fatalf("normalising: %v", err)
	}
	return it
}

// distinctItem returns an item whose text shares no shingles with other
// item numbers: 60 words drawn from a 5000-word vocabulary.
func distinctItem(n int) Item {
	rng := rand.New(rand.NewPCG(uint64(n), 7))
	words := make([]string, 60)
	for k := range words {
		words[k] = "w" + strconv.Itoa(rng.IntN(5000))
	}
	it := benchItem(n)
	it.Content = "<p>" + strings.Join(words, " ") + "</p>"
	it.Summary = ""
	return it
}

// BenchmarkClusterAssign measures the grouping decision for one new item
// against 2000 recorded items, with the in-memory store, so it counts the
// decision and decoding work without network round trips. "templated"
// items share most of their text, so every key returns a full list of
// candidates: the worst case. "distinct" items share none.
func BenchmarkClusterAssign(b *testing.B) {
	for _, kind := range []struct {
		name string
		item func(int) Item
	}{{"templated", benchItem}, {"distinct", distinctItem}} {
		b.Run(kind.name, func(b *testing.B) {
			benchmarkAssign(b, kind.item)
		})
	}
}

func benchmarkAssign(b *testing.B, item func(int) Item) {
	ctx := context.Background()
	c := newClusterer(newMemFingerprints(), nil)
	src := Source{Partner: "p", Feed: "news", FeedURL: "https://p.example/rss"}
	now := time.Date(2026, 5, 2, 0, 0, 0, 0, time.UTC)
	for n := range 2000 {
		it := item(n)
		if err := NormaliseItem(&it, src, now); err != nil {
			b.Fatalf("normalising: %v", err)
		}
		if err := c.Record(ctx, &it, itemFingerprint(&it)); err != nil {
			b.Fatalf("recording: %v", err)
		}
	}
	probe := item(20000)
	if err := NormaliseItem(&probe, src, now); err != nil {
		b.Fatalf("normalising: %v", err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Assign(ctx, &probe); err != nil {
			b.Fatalf("assigning: %v", err)
		}
	}
}

// BenchmarkNormaliseItemHugeHTML measures an item whose content is 9.9 MB
// of 3.3 million empty <a> tags, which a hostile partner sent. It reports
// the peak of the live heap, sampled every millisecond, as peak-heap-MiB.
func BenchmarkNormaliseItemHugeHTML(b *testing.B) {
	content := strings.Repeat("<a>", 3_300_000)
	src := Source{Partner: "hostile", Feed: "news", FeedURL: "https://hostile.example/rss"}
	now := time.Date(2026, 5, 2, 0, 0, 0, 0, time.UTC)
	ResetMemos()
	runtime.GC()
	sampler := startHeapSampler()
	b.ReportAllocs()
	for b.Loop() {
		it := Item{URL: "https://hostile.example/1", Title: "Anchors", Content: content}
		if err := NormaliseItem(&it, src, now); err != nil {
			b.Fatalf("normalising: %v", err)
		}
	}
	b.ReportMetric(float64(sampler.stop())/(1<<20), "peak-heap-MiB")
}

// heapSampler records the largest live heap it reads.
type heapSampler struct {
	done chan struct{}
	peak chan uint64
}

// startHeapSampler reads the heap objects' bytes every millisecond until
// stop, so the peak it returns may miss a spike shorter than that.
func startHeapSampler() heapSampler {
	s := heapSampler{done: make(chan struct{}), peak: make(chan uint64)}
	go func() {
		sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		var peak uint64
		for {
			metrics.Read(sample)
			peak = max(peak, sample[0].Value.Uint64())
			select {
			case <-s.done:
				s.peak <- peak
				return
			case <-tick.C:
			}
		}
	}()
	return s
}

// stop ends the sampling and returns the peak in bytes.
func (s heapSampler) stop() uint64 {
	close(s.done)
	return <-s.peak
}
