package pipeline

import (
	"crypto/sha256"

	lru "github.com/hashicorp/golang-lru/v2"
)

// languageCacheSize bounds the cache of detected languages. A poll that
// fetches a changed document normalises every item again, though most of
// them are known, and detection is one of the costlier steps of
// normalising an item (about 15% of BenchmarkNormaliseItem's CPU time,
// behind HTML sanitising). 131,072 entries cover one poll cycle of 2,000
// feeds of 50 items with room to spare. Each entry takes about 150 bytes of heap, so a full
// cache holds about 19 MiB (TestLanguageCacheEntrySize measures it).
const languageCacheSize = 1 << 17

// detection is the result of detectUncached for one text.
type detection struct {
	tag string
	ok  bool
}

// languageCache maps the SHA-256 of a text, cut to 128 bits, to its
// detection, and is safe for concurrent use. A cached result is the one a
// new detection would return. The letter and function-word steps of
// guessLanguage break ties in a fixed order. whatlanggo v1.0.1 orders
// languages of equal distance by map iteration, but it gives a tie at the
// top confidence 0, which detectUncached rejects.
var languageCache = mustLanguageCache()

func mustLanguageCache() *lru.Cache[[16]byte, detection] {
	c, err := lru.New[[16]byte, detection](languageCacheSize)
	if err != nil {
		panic(err) // only for a size below 1
	}
	return c
}

// cachedDetection returns detectUncached(text) from the cache, running
// and storing it on a miss.
func cachedDetection(text string) (string, bool) {
	sum := sha256.Sum256([]byte(text))
	key := [16]byte(sum[:16])
	if d, found := languageCache.Get(key); found {
		return d.tag, d.ok
	}
	tag, ok := detectUncached(text)
	languageCache.Add(key, detection{tag: tag, ok: ok})
	return tag, ok
}

// ResetMemos empties the in-process memos of detected languages, content
// hashes and content scans. Benchmarks that ingest the same texts in
// several runs of one process call it, so that every run starts as cold as
// a new process.
func ResetMemos() {
	languageCache.Purge()
	hashMemo.reset()
	contentScans.reset()
}
