package pipeline

import (
	"context"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sync/atomic"
	"testing"
	"time"
)

// TestBandCandidatesNeedNearSimHash files records that share a SimHash
// band with a new item. Only those within maxBandDistance bits, or
// sharing a sketch value, may become candidates. The ids take both forms
// that the key index keeps: hex and text.
func TestBandCandidatesNeedNearSimHash(t *testing.T) {
	const self = 0x1234_5678_9abc_def0
	// Each record keeps self's lowest band and differs in the bits of
	// the mask elsewhere.
	far := uint64(0xffff_ffff_0000) // 32 bits away
	tests := []struct {
		name   string
		id     string
		mask   uint64
		sketch uint64 // 0: no sketch value shared with self
		want   bool
	}{
		{"same SimHash", ItemID("p", "same"), 0, 0, true},
		{"at the limit", ItemID("p", "limit"), (1<<maxBandDistance - 1) << 16, 0, true},
		{"one bit past the limit", "text-id-past", (1<<(maxBandDistance+1) - 1) << 16, 0, false},
		{"far", ItemID("p", "far"), far, 0, false},
		{"far but sharing a sketch value", "text-id-sketch", far, 7, true},
	}

	c := newClusterer(newMemFingerprints(), nil)
	// The sketches are unlike self's, which the digest check would drop
	// whatever the band check decides.
	c.readAllText = true
	ctx := context.Background()
	selfRec := memberRecord{ID: ItemID("p", "self"), Print: fingerprint{
		SimHash: self, Sketch: []uint64{7, 8, 9, 10}, Words: minWords,
	}}
	for k, tt := range tests {
		sketch := []uint64{uint64(100 + k)}
		if tt.sketch != 0 {
			sketch = []uint64{tt.sketch}
		}
		rec := memberRecord{ID: tt.id, Cluster: tt.id, Print: fingerprint{
			SimHash: self ^ tt.mask, Sketch: sketch, Words: minWords,
		}}
		plant(t, c, &rec)
		c.keys.add(rec, keyIndexBase)
	}

	got, err := c.candidates(ctx, selfRec)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		if _, ok := got[tt.id]; ok != tt.want {
			t.Errorf("%s: candidate = %v, want %v", tt.name, ok, tt.want)
		}
	}
}

// countingStore counts the member records read from a fingerprint store.
type countingStore struct {
	fingerprintStore
	reads atomic.Int64
}

func (s *countingStore) Read(ctx context.Context, seqs []uint64) (map[uint64][]byte, error) {
	s.reads.Add(int64(len(seqs)))
	return s.fingerprintStore.Read(ctx, seqs)
}

// TestBandDistanceKeepsGrouping groups the same items twice, once with
// the band distance limit and once without, and requires the same
// cluster and duplicate for every item and fewer records read. The items
// are both sides of every labelled pair, whose copies share their origin
// texts across pairs, then the items of the real-world feed corpus in
// corpusDir when it is present.
func TestBandDistanceKeepsGrouping(t *testing.T) {
	items := labelledPairItems(t)
	items = append(items, corpusItems(t)...)
	limited, open := &countingStore{fingerprintStore: newMemFingerprints()}, &countingStore{fingerprintStore: newMemFingerprints()}
	withLimit, without := newClusterer(limited, nil), newClusterer(open, nil)
	without.bandDistance = 64
	// The sketch digests drop most far band candidates too, so both read
	// every text candidate to measure the band limit alone.
	withLimit.readAllText, without.readAllText = true, true
	compareGrouping(t, items, groupingRun{"with the limit", withLimit, limited}, groupingRun{"without", without, open})
}

// groupingRun is a clusterer under test, named for messages, with the
// store whose reads it counts.
type groupingRun struct {
	name  string
	c     *Clusterer
	store *countingStore
}

// compareGrouping groups every item with both runs, requires the same
// cluster and duplicate from each, and requires fewer records read by
// the first run than by the second.
func compareGrouping(t *testing.T, items []*Item, fewer, more groupingRun) {
	t.Helper()
	ctx := context.Background()
	for n, it := range items {
		a, b := *it, *it
		for _, g := range []struct {
			c  *Clusterer
			it *Item
		}{{fewer.c, &a}, {more.c, &b}} {
			fp, err := g.c.Assign(ctx, g.it)
			if err != nil {
				t.Fatalf("assigning item %d: %v", n, err)
			}
			if err := g.c.Record(ctx, g.it, fp); err != nil {
				t.Fatalf("recording item %d: %v", n, err)
			}
		}
		if a.ClusterID != b.ClusterID || a.DuplicateOf != b.DuplicateOf {
			t.Errorf("item %d (%s): cluster %s duplicate of %q %s, %s and %q %s",
				n, it.URL, a.ClusterID, a.DuplicateOf, fewer.name, b.ClusterID, b.DuplicateOf, more.name)
		}
	}

	got, other := fewer.store.reads.Load(), more.store.reads.Load()
	t.Logf("%d items, records read: %d %s, %d %s", len(items), got, fewer.name, other, more.name)
	if got >= other {
		t.Errorf("records read %s = %d, want fewer than %d", fewer.name, got, other)
	}
}

// labelledPairItems returns both sides of every labelled pair,
// normalised, with ids made unique per pair.
func labelledPairItems(t *testing.T) []*Item {
	var out []*Item
	for _, p := range loadPairs(t) {
		for side, in := range []labelledItem{p.A, p.B} {
			it := normalisedPairItem(t, in)
			it.ID = ItemID(p.ID, string(rune('a'+side)))
			out = append(out, it)
		}
	}
	return out
}

// corpusItems returns the items of every document in corpusDir that
// parses, or none when the directory is absent.
func corpusItems(t *testing.T) []*Item {
	entries, err := os.ReadDir(corpusDir)
	if errors.Is(err, os.ErrNotExist) {
		t.Log("corpus directory is absent: grouping only the labelled pairs")
		return nil
	}
	if err != nil {
		t.Fatalf("reading corpus: %v", err)
	}
	var out []*Item
	for _, e := range entries {
		body, err := os.ReadFile(filepath.Join(corpusDir, e.Name()))
		if err != nil {
			t.Fatalf("reading %s: %v", e.Name(), err)
		}
		src := Source{Partner: e.Name(), Feed: "news", FeedURL: "https://corpus.example/" + e.Name()}
		res, err := ParseFeed(body, "", src, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
		if err != nil {
			continue
		}
		for i := range res.Items {
			out = append(out, &res.Items[i])
		}
	}
	if len(out) < 1000 {
		t.Fatalf("corpus gave %d items, want at least 1000", len(out))
	}
	return slices.Clip(out)
}

// TestBandCheckUsesNewestSimHash files one id from two records whose
// SimHashes share a band, and requires the band check to use the newer one.
func TestBandCheckUsesNewestSimHash(t *testing.T) {
	const newest = 0x1234_5678_9abc_def0
	stale := uint64(newest ^ 0x0f00_0f00_0f00_0000) // 12 bits away
	self := uint64(newest ^ 0x0001_0001_0001_0000)  // 3 bits away, lowest band shared
	start := time.Date(2026, 12, 5, 0, 0, 0, 0, time.UTC)
	type filing struct {
		simhash uint64
		stored  time.Time
	}
	first, second := filing{stale, start}, filing{newest, start.Add(time.Minute)}
	tests := []struct {
		id    string
		filed []filing // in the order of arrival
	}{
		{ItemID("p", "again"), []filing{first, second}},
		{"text-id-again", []filing{first, second}},
		// A record of another process can arrive after a newer one.
		{ItemID("p", "late"), []filing{second, first}},
	}
	for _, tt := range tests {
		id := tt.id
		c := newClusterer(newMemFingerprints(), nil)
		c.readAllText = true // the sketches are unlike self's
		ctx := context.Background()
		for k, f := range tt.filed {
			rec := memberRecord{ID: id, Cluster: id, Print: fingerprint{
				SimHash: f.simhash, Sketch: []uint64{uint64(100 + k)}, Words: minWords,
			}}
			if f == second {
				plant(t, c, &rec)
			}
			c.keys.add(rec, f.stored)
		}
		selfRec := memberRecord{ID: ItemID("p", "self"), Print: fingerprint{
			SimHash: self, Sketch: []uint64{7}, Words: minWords,
		}}
		got, err := c.candidates(ctx, selfRec)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := got[id]; !ok {
			t.Errorf("%s: not a candidate, though its stored record is 3 bits from the new item's SimHash", id)
		}
	}
}

// TestSketchKeyMissRates measures how often two texts at a shingle
// Jaccard similarity of 0.5 share none of their sketch keys, for the
// figures in the maxBandDistance comment and docs/dedup.md.
func TestSketchKeyMissRates(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 9))
	word := func() string {
		v := r.IntN(5000)
		return string([]byte{'a' + byte(v%26), 'a' + byte(v/26%26), 'a' + byte(v/676)})
	}
	// pairs and missed count the pairs of each kind near a Jaccard
	// similarity of 0.5, and those sharing no sketch key.
	var pairs, missed [2]int
	const edited, cut = 0, 1
	for range 60_000 {
		n := 40 + r.IntN(41)
		a := make([]string, n)
		for i := range a {
			a[i] = word()
		}
		kind, b := cut, slices.Clone(a[:n/2+r.IntN(n/4)])
		if r.IntN(2) == 0 {
			// A passage of the same length replaced in the middle.
			kind, b = edited, slices.Clone(a)
			length := n/5 + r.IntN(n/4)
			at := r.IntN(n - length)
			for i := at; i < at+length; i++ {
				b[i] = word()
			}
		}
		if j := shingleJaccard(a, b); j < 0.48 || j > 0.52 {
			continue
		}
		pairs[kind]++
		if !shareSketchKey(fingerprintWords(a), fingerprintWords(b)) {
			missed[kind]++
		}
	}

	names := [2]string{edited: "passage replaced", cut: "cut short"}
	for kind, want := range [][2]float64{edited: {0.01, 0.03}, cut: {0.04, 0.08}} {
		rate := float64(missed[kind]) / float64(pairs[kind])
		t.Logf("%s: %d of %d pairs share no sketch key (%.1f%%)", names[kind], missed[kind], pairs[kind], 100*rate)
		if pairs[kind] < 2000 {
			t.Errorf("%s: %d pairs near 0.5, want at least 2000", names[kind], pairs[kind])
		}
		if rate < want[0] || rate > want[1] {
			t.Errorf("%s: miss rate %.3f, want %.2f to %.2f", names[kind], rate, want[0], want[1])
		}
	}
}

// shingleJaccard returns the exact Jaccard similarity of the shingle
// hash sets of two word lists.
func shingleJaccard(a, b []string) float64 {
	set := map[uint64]int{}
	for _, h := range shingleHashes(a) {
		set[h] |= 1
	}
	for _, h := range shingleHashes(b) {
		set[h] |= 2
	}
	both := 0
	for _, in := range set {
		if in == 3 {
			both++
		}
	}
	return float64(both) / float64(len(set))
}

// shareSketchKey reports whether two fingerprints share one of the
// sketch values that items are filed under.
func shareSketchKey(a, b fingerprint) bool {
	for _, v := range a.Sketch[:min(sketchKeys, len(a.Sketch))] {
		if slices.Contains(b.Sketch[:min(sketchKeys, len(b.Sketch))], v) {
			return true
		}
	}
	return false
}

// TestFarBandKeepsEvidenceOfReadRecords files a copy whose SimHash is 12
// bits from the new item's and that shares a band and a medium or a
// listing-page link with it. Its record is read for that medium or link
// anyway, so the band must still count as text evidence and make it a
// duplicate.
func TestFarBandKeepsEvidenceOfReadRecords(t *testing.T) {
	const selfHash = 0x1234_5678_9abc_def0
	shared := make([]uint64, 0, sketchSize)
	for v := range uint64(sketchSize - 4) {
		shared = append(shared, 100+v)
	}
	// The sketches share 28 of their 32 smallest values but none of the
	// four that items are filed under.
	selfSketch := append([]uint64{1, 2, 3, 4}, shared...)
	copySketch := append([]uint64{5, 6, 7, 8}, shared...)
	tests := []struct {
		name string
		edit func(*memberRecord)
	}{
		{"shared medium", func(r *memberRecord) { r.Media = []string{"https://img.example/photo.jpg"} }},
		{"listing-page link", func(r *memberRecord) {
			r.URL, r.SharedLink = "https://news.example/latest", true
		}},
	}
	for _, tt := range tests {
		c := newClusterer(newMemFingerprints(), nil)
		ctx := context.Background()
		cp := memberRecord{ID: ItemID("p", "copy"), Cluster: "story", Language: "pl", Print: fingerprint{
			SimHash: selfHash ^ 0x0fff_0000_0000_0000, Sketch: copySketch, Words: 40,
		}}
		tt.edit(&cp)
		plant(t, c, &cp)
		c.keys.add(cp, keyIndexBase)

		self := memberRecord{ID: ItemID("q", "self"), Language: "pl", Print: fingerprint{
			SimHash: selfHash, Sketch: selfSketch, Words: 40,
		}}
		tt.edit(&self)
		cands, err := c.candidates(ctx, self)
		if err != nil {
			t.Fatal(err)
		}
		best, relation := pickCandidate(&self, cands)
		if relation != relationDuplicate || best.ID != cp.ID {
			t.Errorf("%s: relation %d to %q, want a duplicate of %q", tt.name, relation, best.ID, cp.ID)
		}
	}
}
