package pipeline

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// checkDigestBound fails when jaccard finds a and b similar but their
// digests rule it out.
func checkDigestBound(t *testing.T, a, b []uint64) {
	t.Helper()
	if jaccard(a, b) >= minJaccard && !mayBeSimilar(digestOf(a), digestOf(b)) {
		t.Fatalf("jaccard(%v, %v) = %v, but the digests rule out a similar text", a, b, jaccard(a, b))
	}
}

func TestDigestBoundAtThreshold(t *testing.T) {
	span := func(from, to uint64) []uint64 {
		var out []uint64
		for v := from; v <= to; v++ {
			out = append(out, v*0x2545f4914f6cdd1d)
		}
		slices.Sort(out)
		return out
	}
	for _, c := range []struct {
		name string
		a, b []uint64
		want bool
	}{
		{"half of 32 shared", span(1, 32), span(17, 48), true},
		{"identical", span(1, 32), span(1, 32), true},
		{"half of 10 shared", span(1, 10), span(6, 15), true},
		{"short against long", span(1, 4), span(1, 32), false},
		{"nothing shared", span(1, 32), span(101, 132), false},
		{"empty", nil, nil, true},
		{"longer than a sketch", span(1, 40), span(1000, 1040), true},
	} {
		got := mayBeSimilar(digestOf(c.a), digestOf(c.b))
		if got != c.want {
			t.Errorf("%s: mayBeSimilar = %v, want %v (jaccard %v)", c.name, got, c.want, jaccard(c.a, c.b))
		}
		checkDigestBound(t, c.a, c.b)
	}
	if !mayBeSimilar(sketchDigest{}, digestOf(span(1, 32))) {
		t.Error("an unknown digest ruled out a similar text")
	}
}

// TestDigestBoundRandomSketches draws pairs of sketches from small value
// ranges, so that they share many values and land on both sides of the
// threshold, and requires every pair that jaccard finds similar to pass.
// It also requires most pairs sharing a single value to be ruled out,
// since those are what the digest is for.
func TestDigestBoundRandomSketches(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	similar := 0
	for range 20000 {
		span := uint64(8 + rng.IntN(120))
		a, b := make([]uint64, 0, 64), make([]uint64, 0, 64)
		for range rng.IntN(60) {
			a = append(a, rng.Uint64N(span)*0x9e3779b97f4a7c15)
		}
		for range rng.IntN(60) {
			b = append(b, rng.Uint64N(span)*0x9e3779b97f4a7c15)
		}
		a, b = bottomK(a, sketchSize), bottomK(b, sketchSize)
		if jaccard(a, b) >= minJaccard {
			similar++
		}
		checkDigestBound(t, a, b)
	}
	if similar < 1000 {
		t.Fatalf("only %d of the pairs were similar: the test does not reach the threshold", similar)
	}

	passed := 0
	const pairs = 10000
	for range pairs {
		shared := rng.Uint64()
		a, b := []uint64{shared}, []uint64{shared}
		for range sketchSize - 1 {
			a, b = append(a, rng.Uint64()), append(b, rng.Uint64())
		}
		slices.Sort(a)
		slices.Sort(b)
		if mayBeSimilar(digestOf(a), digestOf(b)) {
			passed++
		}
	}
	if passed > pairs/1000 {
		t.Errorf("%d of %d unrelated pairs passed the digest, want at most %d", passed, pairs, pairs/1000)
	}
}

func FuzzDigestBound(f *testing.F) {
	f.Add([]byte("0123456789abcdef0123456789abcdefXYZ"), 16, false)
	f.Add(make([]byte, 512), 0, true)
	f.Fuzz(func(t *testing.T, data []byte, cut int, sorted bool) {
		for _, narrow := range []bool{false, true} {
			hashes := fuzzHashes(data, narrow)
			cut := min(max(cut, 0), len(hashes))
			a, b := hashes[:cut], hashes[cut:]
			if sorted {
				a, b = bottomK(a, sketchSize), bottomK(b, sketchSize)
			}
			// Unsorted sketches with repeats stand for records that
			// another version wrote: the bound must hold for them too.
			checkDigestBound(t, a, b)
		}
	})
}

// TestDigestKeepsGrouping groups the same items twice, once dropping the
// text candidates that the digest rules out and once reading all of
// them, and requires the same cluster and duplicate for every item and
// fewer records read. The items are both sides of every labelled pair
// and the real-world feed corpus when it is present.
func TestDigestKeepsGrouping(t *testing.T) {
	items := append(labelledPairItems(t), corpusItems(t)...)
	checked, all := &countingStore{fingerprintStore: newMemFingerprints()}, &countingStore{fingerprintStore: newMemFingerprints()}
	withDigest, readAll := newClusterer(checked, nil), newClusterer(all, nil)
	readAll.readAllText = true
	compareGrouping(t, items, groupingRun{"with the digest", withDigest, checked}, groupingRun{"reading all", readAll, all})
}
