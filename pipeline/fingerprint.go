package pipeline

import (
	"math/bits"
	"slices"
	"strings"
	"unicode"
)

// Fingerprint parameters. docs/dedup.md gives the reasons and the
// labelled set they were tuned on.
const (
	// shingleWords is the number of words in a shingle. Three words keep
	// word order without letting one edited word change too many shingles.
	shingleWords = 3
	// sketchSize is the number of smallest shingle hashes kept as a
	// bottom-k sketch for the Jaccard estimate: 32 values give a standard
	// error of about 0.09 at a similarity of 0.5, and less near 1.
	sketchSize = 32
	// simhashBands split the 64-bit SimHash into 4 bands of 16 bits. Two
	// fingerprints that differ in at most 3 bits share at least one band.
	simhashBands = 4
	bandBits     = 64 / simhashBands
)

// fingerprint is the summary of an item's text that near-duplicate
// detection stores.
type fingerprint struct {
	SimHash uint64   `json:"s"`
	Sketch  []uint64 `json:"k,omitempty"`
	// Numbers are the tokens of the text that contain a digit, sorted
	// with repeats: dates, amounts and counts, which tell a template
	// release or an update from a copy.
	Numbers []string `json:"n,omitempty"`
	// Words is the number of words in the text.
	Words int `json:"w"`
}

// itemFingerprint fingerprints the title and the visible text of an
// item's content, or its summary when it has no content.
func itemFingerprint(it *Item) fingerprint {
	body := it.Summary
	if it.Content != "" {
		body, _ = contentTextAndTargets(it.Content)
	}
	return fingerprintText(stripCommentCounter(it.Title) + " \n " + body)
}

// fingerprintText computes the fingerprint of a text.
func fingerprintText(text string) fingerprint {
	words := textWords(text)
	fp := fingerprint{Words: len(words), Numbers: numberTokens(words)}
	fp.SimHash = simhash(wordHashes(words))
	fp.Sketch = bottomK(shingleHashes(words), sketchSize)
	return fp
}

// textWords splits text into lower-case words of letters and digits.
func textWords(text string) []string {
	return strings.FieldsFunc(strings.ToLower(hashText(text)), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	})
}

func numberTokens(words []string) []string {
	var out []string
	for _, w := range words {
		if strings.ContainsFunc(w, unicode.IsDigit) {
			out = append(out, w)
		}
	}
	slices.Sort(out)
	return out
}

// shingleHashes returns the 64-bit hash of every run of shingleWords
// words, or of every word when the text is shorter.
func shingleHashes(words []string) []uint64 {
	n := shingleWords
	if len(words) < n {
		n = 1
	}
	var out []uint64
	for k := 0; k+n <= len(words); k++ {
		out = append(out, hashShingle(words[k:k+n]))
	}
	return out
}

// wordHashes returns the hash of every word. SimHash runs over words
// rather than shingles: an edit changes one word feature but up to three
// shingles, and the SimHash only has to find candidates, which the
// shingle sketch then checks.
func wordHashes(words []string) []uint64 {
	out := make([]uint64, len(words))
	for k := range words {
		out[k] = hashShingle(words[k : k+1])
	}
	return out
}

// hashShingle is FNV-1a followed by a SplitMix64 finaliser, which spreads
// FNV's weak high bits. Both are fixed functions, so fingerprints stored by
// one process match those of another.
func hashShingle(words []string) uint64 {
	// FNV-1a written out: hash/fnv needs each word converted to a byte
	// slice.
	x := uint64(fnvOffset)
	for _, w := range words {
		for k := 0; k < len(w); k++ {
			x ^= uint64(w[k])
			x *= fnvPrime
		}
		x *= fnvPrime // the 0 byte after each word
	}
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

// FNV-1a 64-bit parameters.
const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

// simhash returns the 64-bit SimHash of a multiset of shingle hashes:
// bit b is set when more shingles have it set than not.
func simhash(shingles []uint64) uint64 {
	var ones [64]int
	for _, s := range shingles {
		for b := range 64 {
			ones[b] += int(s >> b & 1)
		}
	}
	var out uint64
	for b, n := range ones {
		if 2*n > len(shingles) {
			out |= 1 << b
		}
	}
	return out
}

// bottomK returns the k smallest distinct values of hashes, sorted. It
// keeps the smallest seen so far in a max-heap, so most values cost one
// comparison with its top.
func bottomK(hashes []uint64, k int) []uint64 {
	if k <= 0 {
		return nil
	}
	heap := make([]uint64, 0, min(k, len(hashes)))
	for _, h := range hashes {
		switch {
		case len(heap) == k && h >= heap[0]:
		case slices.Contains(heap, h):
		case len(heap) < k:
			heap = append(heap, h)
			siftUp(heap, len(heap)-1)
		default:
			heap[0] = h
			siftDown(heap, 0)
		}
	}
	slices.Sort(heap)
	return heap
}

// siftUp restores the max-heap order of h after h[k] grew or was added.
func siftUp(h []uint64, k int) {
	for k > 0 {
		parent := (k - 1) / 2
		if h[parent] >= h[k] {
			return
		}
		h[parent], h[k] = h[k], h[parent]
		k = parent
	}
}

// siftDown restores the max-heap order of h after h[k] shrank.
func siftDown(h []uint64, k int) {
	for {
		big := k
		if l := 2*k + 1; l < len(h) && h[l] > h[big] {
			big = l
		}
		if r := 2*k + 2; r < len(h) && h[r] > h[big] {
			big = r
		}
		if big == k {
			return
		}
		h[k], h[big] = h[big], h[k]
		k = big
	}
}

// jaccard estimates the Jaccard similarity of the shingle sets behind two
// bottom-k sketches: the share of the k smallest values of their union
// that both sketches hold. Both sketches are sorted without repeats, as
// bottomK returns them, so one merge walk finds that union.
func jaccard(a, b []uint64) float64 {
	union, both := 0, 0
	for i, j := 0, 0; union < sketchSize && (i < len(a) || j < len(b)); union++ {
		switch {
		case j == len(b) || i < len(a) && a[i] < b[j]:
			i++
		case i == len(a) || b[j] < a[i]:
			j++
		default:
			both++
			i++
			j++
		}
	}
	if union == 0 {
		return 0
	}
	return float64(both) / float64(union)
}

func hammingDistance(a, b uint64) int {
	return bits.OnesCount64(a ^ b)
}

// bands returns the SimHash split into simhashBands values.
func (fp fingerprint) bands() [simhashBands]uint16 {
	var out [simhashBands]uint16
	for k := range out {
		out[k] = uint16(fp.SimHash >> (k * bandBits))
	}
	return out
}

// numbersCompatible reports whether the numbers of the text with fewer
// numbers are a sub-multiset of the other's, both sorted. A copy may drop
// a paragraph, but a text whose date or amount differs is another release
// or an update. Counting repeats catches an update that moves a date onto
// a number the text already had.
func numbersCompatible(a, b []string) bool {
	if len(a) > len(b) {
		a, b = b, a
	}
	j := 0
	for _, n := range a {
		for j < len(b) && b[j] < n {
			j++
		}
		if j == len(b) || b[j] != n {
			return false
		}
		j++
	}
	return true
}
