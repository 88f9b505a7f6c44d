package feeds

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"sync"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
)

// document is one rendered representation set. It is immutable once
// built, so handlers read it without locks.
type document struct {
	body     []byte
	gzBody   []byte
	etag     string
	gzETag   string
	modified time.Time
	// cacheControl is the Cache-Control value sent with the document.
	cacheControl string
}

type cacheKey struct {
	channel string
	format  string
	// query is feedQuery.key, empty for the channel's own document.
	query string
}

// DefaultQueryCacheSize is the number of documents for ad-hoc queries that
// a handler keeps when HandlerOptions.QueryCacheSize is below 1. A document of
// 100 items takes roughly 100 to 300 KB with its gzip copy, so the default
// bounds the query cache at an estimated 25 to 75 MB.
const DefaultQueryCacheSize = 256

// DefaultQueryCacheBytes is the total size of cached ad-hoc query
// documents, body and gzip copy counted, that a handler keeps when
// HandlerOptions.QueryCacheBytes is below 1. It is an estimate of the default
// 256 documents at about 250 KB each, so typical documents fill the count
// before the bytes. A channel whose items carry large content fills the bytes
// first, so each distinct query string can no longer pin a whole large
// document.
const DefaultQueryCacheBytes = 64 << 20

// queryDocumentShare is the fraction of the byte bound that one query
// document may take and still be cached. A larger document is built for
// its request and dropped afterwards, and the query slots bound how many
// such builds run at once. With the default bound the limit is 8 MiB.
const queryDocumentShare = 8

// renderCache stores the last document per channel, format and query. Each
// entry has its own lock, so a slow render of one channel does not delay
// requests for another, and concurrent requests for a stale document
// render it once.
//
// The channels' own documents live in a map, bounded by the configured
// channels and formats. Documents for ad-hoc queries live in an LRU list
// bounded by entry count and by total bytes, so any number of distinct
// query strings cannot exhaust memory or evict the documents most readers
// fetch.
type renderCache struct {
	mu      sync.Mutex
	entries map[cacheKey]*cacheEntry
	queries *lru.Cache[cacheKey, *cacheEntry]
	// queryBytes is the sum of the size fields of the entries in queries.
	queryBytes    int64
	maxQueryBytes int64
}

type cacheEntry struct {
	mu      sync.Mutex
	version uint64
	doc     *document
	// size is the byte count of doc that queryBytes includes, 0 while the
	// entry is not counted. renderCache.mu guards it.
	size int64
}

// newRenderCache returns an empty cache that keeps at most querySize query
// documents of at most queryBytes in total. Values below 1 select
// DefaultQueryCacheSize and DefaultQueryCacheBytes.
func newRenderCache(querySize int, queryBytes int64) *renderCache {
	if querySize < 1 {
		querySize = DefaultQueryCacheSize
	}
	if queryBytes < 1 {
		queryBytes = DefaultQueryCacheBytes
	}
	c := &renderCache{entries: make(map[cacheKey]*cacheEntry), maxQueryBytes: queryBytes}
	// lru.NewWithEvict fails only for a size below 1, which is ruled out
	// above. golang-lru v2 runs the callback synchronously in the goroutine
	// that adds or removes, and that goroutine holds c.mu.
	c.queries, _ = lru.NewWithEvict(querySize, func(_ cacheKey, e *cacheEntry) {
		c.queryBytes -= e.size
		e.size = 0
	})
	return c
}

// entry returns the entry for k, creating it when missing. The lock makes
// lookup and insert one step, so two requests never render into different
// entries for the same key.
func (c *renderCache) entry(k cacheKey) *cacheEntry {
	c.mu.Lock()
	defer c.mu.Unlock()
	if k.query != "" {
		e, ok := c.queries.Get(k)
		if !ok {
			e = &cacheEntry{}
			c.queries.Add(k, e)
		}
		return e
	}
	e, ok := c.entries[k]
	if !ok {
		e = &cacheEntry{}
		c.entries[k] = e
	}
	return e
}

// store sets doc as the document of e, the entry of k, and returns whether
// the cache keeps it. The caller holds e.mu. A query document larger than
// maxQueryBytes/queryDocumentShare is not kept and its entry leaves the
// cache. Otherwise the least recently used query documents are dropped
// until the total fits maxQueryBytes again.
func (c *renderCache) store(k cacheKey, e *cacheEntry, doc *document, version uint64) bool {
	if k.query == "" {
		e.doc, e.version = doc, version
		return true
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	size := int64(len(doc.body) + len(doc.gzBody))
	current, listed := c.queries.Peek(k)
	listed = listed && current == e
	if size > c.maxQueryBytes/queryDocumentShare {
		if listed {
			c.queries.Remove(k)
		}
		e.doc, e.version = nil, 0
		return false
	}
	e.doc, e.version = doc, version
	if !listed {
		// The entry was evicted while its document was built. Requests that
		// wait on e.mu still reuse doc, and nothing retains it after them.
		return false
	}
	c.queryBytes += size - e.size
	e.size = size
	c.queries.Get(k) // marks k as the most recently used
	for c.queryBytes > c.maxQueryBytes && c.queries.Len() > 1 {
		c.queries.RemoveOldest()
	}
	return true
}

// queryLen returns the number of cached query documents.
func (c *renderCache) queryLen() int {
	return c.queries.Len()
}

// queryByteCount returns the size of the cached query documents.
func (c *renderCache) queryByteCount() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.queryBytes
}

// rendered returns the document for ch in format f narrowed by q.
func (h *handler) rendered(r *http.Request, ch Channel, f format, q feedQuery) (*document, error) {
	key := cacheKey{channel: ch.ID, format: f.ext, query: q.key}
	return h.cachedDocument(r, key, false, func() (built, error) {
		if q.key != "" {
			if err := h.acquireQuerySlot(r.Context()); err != nil {
				return built{}, err
			}
			defer h.releaseQuerySlot()
		}
		stories := h.opts.View.ChannelStories(h.opts.PartnerDomains, ch, q.filter, q.limit)
		entries := items(stories)
		m := h.meta(ch, f, q)
		m.Copies = copiesMap(stories)
		if q.key == "" {
			// Archives hold the whole channel, so a narrowed document
			// has none of its own.
			m.History = h.currentHistory(r.Context(), ch, f)
			// Only the channel's own feeds are WebSub topics.
			m.HubURL = h.opts.HubURL
		}
		body, err := f.render(m, entries)
		if err != nil {
			return built{}, fmt.Errorf("rendering channel %q as %s: %w", ch.ID, f.ext, err)
		}
		return built{body: body, entries: len(entries)}, nil
	})
}

// built is the output of a document build.
type built struct {
	body    []byte
	entries int
	// modified is the Last-Modified time; zero means the View's.
	modified time.Time
	// cacheControl replaces the default Cache-Control when not empty.
	cacheControl string
}

// cachedDocument returns the document stored under key, calling build when
// there is none or, unless immutable, when the View changed since it was
// stored. The version is read before build reads the View, so a change
// that lands during a build makes the next request build again instead of
// serving a stale copy forever.
func (h *handler) cachedDocument(r *http.Request, key cacheKey, immutable bool, build func() (built, error)) (*document, error) {
	e := h.cache.entry(key)
	e.mu.Lock()
	defer e.mu.Unlock()

	version := h.opts.View.Version()
	if e.doc != nil && (immutable || e.version == version) {
		return e.doc, nil
	}
	// NOTE: a handler rebuilt for a configuration reload that changes a
	// channel's filter, max_items or max_items_per_partner serves other
	// documents with the same Last-Modified. A client that revalidates
	// with If-Modified-Since alone keeps its copy until the View changes,
	// and a client that sends the ETag gets the new document.
	modified := h.opts.View.LastModified()
	start := time.Now()
	b, err := build()
	if err != nil {
		return nil, err
	}
	if !b.modified.IsZero() {
		modified = b.modified
	}
	doc, err := newDocument(b.body, modified)
	if err != nil {
		return nil, fmt.Errorf("compressing channel %q as %s: %w", key.channel, key.format, err)
	}
	if b.cacheControl != "" {
		doc.cacheControl = b.cacheControl
	}
	kept := h.cache.store(key, e, doc, version)
	h.log.DebugContext(r.Context(), "rendered document",
		"channel", key.channel, "format", key.format, "query", key.query, "entries", b.entries,
		"bytes", len(b.body), "cached", kept, "duration_ms", time.Since(start).Milliseconds())
	return doc, nil
}

// meta returns the feed-level data of a document. A narrowed document is a
// feed of its own, so its id and self link carry the normalised query.
func (h *handler) meta(ch Channel, f format, q feedQuery) Meta {
	m := Meta{
		ID:           ch.ID,
		Title:        ch.Title,
		Description:  ch.Description,
		SiteURL:      h.baseURL + "/",
		SelfURL:      h.feedURL(ch, f),
		Language:     ch.language(),
		TagAuthority: h.opts.TagAuthority,
		Partners:     h.opts.Partners,
		FeedURLs:     h.opts.FeedURLs,
	}
	if q.key != "" {
		m.ID += "?" + q.key
		m.SelfURL += "?" + q.key
		if len(q.filter.Languages) == 1 {
			m.Language = q.filter.Languages[0]
		}
	}
	return m
}

// newDocument compresses body and derives strong ETags from its SHA-256.
// The gzip variant gets its own ETag because a strong validator names
// exact bytes.
func newDocument(body []byte, modified time.Time) (*document, error) {
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	if _, err := zw.Write(body); err != nil {
		return nil, fmt.Errorf("writing gzip stream: %w", err)
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("closing gzip stream: %w", err)
	}
	sum := sha256.Sum256(body)
	tag := hex.EncodeToString(sum[:16])
	return &document{
		body:         body,
		gzBody:       gz.Bytes(),
		etag:         `"` + tag + `"`,
		gzETag:       `"` + tag + `-gzip"`,
		modified:     modified,
		cacheControl: cacheControl,
	}, nil
}
