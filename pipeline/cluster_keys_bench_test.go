package pipeline

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"
	"time"
)

// benchItems is how many records the memory benchmark files. With 65,536
// values per SimHash band, each band list then holds about three ids.
const benchItems = 200_000

// benchRecords makes member records shaped like ingested items. Each has
// a text long enough for band and sketch keys and a link of its own.
// Seven in ten have an image of their own and one in ten has one of 200
// logos, an estimate of a feed mix. The same seed gives the same records.
type benchRecords struct {
	rng *rand.Rand
	n   int
}

func newBenchRecords(seed uint64) *benchRecords {
	return &benchRecords{rng: rand.New(rand.NewPCG(seed, 1))}
}

// next returns the next record. Each is made on the fly, so only what the
// index keeps of it stays on the heap.
func (g *benchRecords) next() memberRecord {
	g.n++
	rec := memberRecord{
		ID:  ItemID("partner", fmt.Sprint("https://news.example/story/", g.n)),
		URL: fmt.Sprint("https://news.example/story/", g.n),
		Print: fingerprint{
			SimHash: g.rng.Uint64(),
			Sketch:  []uint64{g.rng.Uint64(), g.rng.Uint64(), g.rng.Uint64(), g.rng.Uint64()},
			Words:   120,
		},
	}
	switch r := g.rng.IntN(10); {
	case r == 0:
		rec.Media = []string{fmt.Sprint("https://cdn.example/logo/", g.rng.IntN(200), ".png")}
	case r < 8:
		rec.Media = []string{fmt.Sprint("https://cdn.example/img/", g.n, ".jpg")}
	}
	return rec
}

// heapInUse returns the live heap after a full collection.
func heapInUse() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// BenchmarkKeyIndexMemory reports the live heap bytes that a key index
// holds per item filed, as B/item.
func BenchmarkKeyIndexMemory(b *testing.B) {
	start := time.Date(2026, 12, 5, 0, 0, 0, 0, time.UTC)
	for b.Loop() {
		before := heapInUse()
		x := newKeyIndex()
		x.setMaxAge(30 * 24 * time.Hour)
		g := newBenchRecords(1)
		for n := range benchItems {
			x.add(g.next(), start.Add(time.Duration(n)*time.Second))
		}
		after := heapInUse()
		b.ReportMetric(float64(after-before)/benchItems, "B/item")
		b.ReportMetric(float64(x.size())/benchItems, "keys/item")
		runtime.KeepAlive(x)
	}
}

// filledKeyIndex returns an index holding benchItems records and the
// keys of some of them to look up.
func filledKeyIndex(b *testing.B) (*keyIndex, [][]string) {
	b.Helper()
	start := time.Date(2026, 12, 5, 0, 0, 0, 0, time.UTC)
	x := newKeyIndex()
	g := newBenchRecords(2)
	var lookups [][]string
	for n := range benchItems {
		rec := g.next()
		x.add(rec, start.Add(time.Duration(n)*time.Second))
		if n%97 == 0 {
			lookups = append(lookups, recordKeys(rec))
		}
	}
	return x, lookups
}

// BenchmarkKeyIndexAdd measures filing one more record into a full index.
func BenchmarkKeyIndexAdd(b *testing.B) {
	x, _ := filledKeyIndex(b)
	g := newBenchRecords(3)
	recs := make([]memberRecord, 4096)
	for k := range recs {
		recs[k] = g.next()
	}
	stored := time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC)
	n := 0
	for b.Loop() {
		x.add(recs[n%len(recs)], stored.Add(time.Duration(n)*time.Second))
		n++
	}
}

// BenchmarkKeyIndexIDs measures reading the lists of one item's keys,
// as grouping an item does.
func BenchmarkKeyIndexIDs(b *testing.B) {
	x, lookups := filledKeyIndex(b)
	n := 0
	for b.Loop() {
		if len(x.ids(lookups[n%len(lookups)])) == 0 {
			b.Fatal("no list found for a filed record")
		}
		n++
	}
}
