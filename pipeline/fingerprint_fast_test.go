package pipeline

import (
	"encoding/binary"
	"hash/fnv"
	"slices"
	"testing"
)

// The functions below are the fingerprint code as it was before the fast
// paths, kept to check that the fast paths give the same results.

func hashShingleReference(words []string) uint64 {
	h := fnv.New64a()
	for _, w := range words {
		h.Write([]byte(w))
		h.Write([]byte{0})
	}
	x := h.Sum64()
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

func simhashReference(shingles []uint64) uint64 {
	var votes [64]int
	for _, s := range shingles {
		for b := range 64 {
			if s&(1<<b) != 0 {
				votes[b]++
			} else {
				votes[b]--
			}
		}
	}
	var out uint64
	for b, v := range votes {
		if v > 0 {
			out |= 1 << b
		}
	}
	return out
}

func bottomKReference(hashes []uint64, k int) []uint64 {
	sorted := slices.Clone(hashes)
	slices.Sort(sorted)
	sorted = slices.Compact(sorted)
	return sorted[:min(k, len(sorted))]
}

func jaccardReference(a, b []uint64) float64 {
	union := bottomKReference(append(slices.Clone(a), b...), sketchSize)
	if len(union) == 0 {
		return 0
	}
	both := 0
	for _, v := range union {
		_, inA := slices.BinarySearch(a, v)
		_, inB := slices.BinarySearch(b, v)
		if inA && inB {
			both++
		}
	}
	return float64(both) / float64(len(union))
}

// fuzzHashes reads data as little-endian values, squeezed into a small
// range when narrow is set so that repeats and shared values are common.
func fuzzHashes(data []byte, narrow bool) []uint64 {
	var out []uint64
	for len(data) >= 8 {
		v := binary.LittleEndian.Uint64(data)
		if narrow {
			v %= 97
		}
		out = append(out, v)
		data = data[8:]
	}
	return out
}

func checkFingerprintFastPaths(t *testing.T, data []byte, words []string, k int) {
	for _, narrow := range []bool{false, true} {
		hashes := fuzzHashes(data, narrow)
		if got, want := simhash(hashes), simhashReference(hashes); got != want {
			t.Fatalf("simhash(%v) = %x, want %x", hashes, got, want)
		}
		if got, want := bottomK(hashes, k), bottomKReference(hashes, k); !slices.Equal(got, want) {
			t.Fatalf("bottomK(%v, %d) = %v, want %v", hashes, k, got, want)
		}
		half := len(hashes) / 2
		a, b := bottomK(hashes[:half], sketchSize), bottomK(hashes[half:], sketchSize)
		if got, want := jaccard(a, b), jaccardReference(a, b); got != want {
			t.Fatalf("jaccard(%v, %v) = %v, want %v", a, b, got, want)
		}
	}
	if got, want := hashShingle(words), hashShingleReference(words); got != want {
		t.Fatalf("hashShingle(%q) = %x, want %x", words, got, want)
	}
}

func TestFingerprintFastPathsMatch(t *testing.T) {
	words := textWords("Zażółć gęślą jaźń: the chamber opens 12 stands for 2026, ÉCOLE d'été")
	for n := range 300 {
		data := make([]byte, 8*n)
		for k := range data {
			data[k] = byte(k*131 + n*7)
		}
		checkFingerprintFastPaths(t, data, words[:n%len(words)], n%40)
	}
}

func TestJaccardOverlappingSketches(t *testing.T) {
	span := func(from, to uint64) []uint64 {
		var out []uint64
		for v := from; v <= to; v++ {
			out = append(out, v)
		}
		return out
	}
	for _, c := range []struct {
		a, b []uint64
		want float64
	}{
		{span(1, 32), span(17, 48), 0.5},
		{span(1, 32), span(1, 32), 1},
		{span(1, 10), span(5, 12), 0.5},
		{nil, span(1, 4), 0},
		{nil, nil, 0},
	} {
		if got := jaccard(c.a, c.b); got != c.want {
			t.Errorf("jaccard(%v, %v) = %v, want %v", c.a, c.b, got, c.want)
		}
		if got := jaccardReference(c.a, c.b); got != c.want {
			t.Errorf("reference jaccard(%v, %v) = %v, want %v", c.a, c.b, got, c.want)
		}
	}
}

func FuzzFingerprintFastPaths(f *testing.F) {
	f.Add([]byte("0123456789abcdef0123456789abcdefXYZ"), "export fair in vilnius", 32)
	f.Add(make([]byte, 800), "", 0)
	f.Fuzz(func(t *testing.T, data []byte, text string, k int) {
		checkFingerprintFastPaths(t, data, textWords(text), k&63)
	})
}
