package pipeline

import (
	"math/bits"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
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
	title, body := stripCommentCounter(it.Title), it.Summary
	if it.Content != "" {
		body = contentScanText(it.Content)
	}
	if words, ok := plainWords(title, body); ok {
		return fingerprintWords(words)
	}
	if it.Content != "" {
		body = hashText(body)
	}
	return fingerprintText(title + " \n " + body)
}

// fingerprintText computes the fingerprint of a text.
func fingerprintText(text string) fingerprint {
	return fingerprintWords(textWords(text))
}

// fingerprintWords computes the fingerprint of a text split into words.
func fingerprintWords(words []string) fingerprint {
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

// plainWords returns the words textWords would find in the texts joined
// by whitespace, and true, when every text is plain (see isPlainText).
// On plain text hashText only collapses whitespace, which never joins or
// splits a word, so this split needs no normalised copy.
func plainWords(texts ...string) ([]string, bool) {
	n := 0
	for _, s := range texts {
		if !isPlainText(s) {
			return nil, false
		}
		n += countWords(s)
	}
	words := make([]string, 0, n)
	for _, s := range texts {
		words = appendWords(words, strings.ToLower(s))
	}
	return words, true
}

// isPlainText reports whether s is ASCII without control characters other
// than tab, newline and carriage return. hashText removes the others, which
// can join two words.
func isPlainText(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= utf8.RuneSelf || c < ' ' && c != '\t' && c != '\n' && c != '\r' {
			return false
		}
	}
	return true
}

// isWordByte reports whether an ASCII byte is a letter or a digit.
func isWordByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

// countWords returns the number of runs of letters and digits in plain
// text.
func countWords(s string) int {
	n, inWord := 0, false
	for i := 0; i < len(s); i++ {
		w := isWordByte(s[i])
		if w && !inWord {
			n++
		}
		inWord = w
	}
	return n
}

// appendWords appends the runs of letters and digits of plain text s.
func appendWords(words []string, s string) []string {
	start := -1
	for i := 0; i < len(s); i++ {
		switch {
		case isWordByte(s[i]):
			if start < 0 {
				start = i
			}
		case start >= 0:
			words = append(words, s[start:i])
			start = -1
		}
	}
	if start >= 0 {
		words = append(words, s[start:])
	}
	return words
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
	out := make([]uint64, 0, max(len(words)-n+1, 0))
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
//
// Eight counts share one word: byte j of packed[i] counts bit 8*j+i, so
// each hash takes eight additions instead of 64. A byte overflows after
// 255 additions, so every 255 hashes the bytes are added to ones and
// cleared.
func simhash(shingles []uint64) uint64 {
	const lowBits = 0x0101010101010101
	var ones [64]int
	var packed [8]uint64
	for n, s := range shingles {
		for i := range packed {
			packed[i] += s >> i & lowBits
		}
		if n%255 == 254 || n == len(shingles)-1 {
			for i, p := range packed {
				for j := range 8 {
					ones[8*j+i] += int(p >> (8 * j) & 0xff)
				}
			}
			packed = [8]uint64{}
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
