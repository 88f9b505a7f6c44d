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
)

// document is one rendered representation set. It is immutable once
// built, so handlers read it without locks.
type document struct {
	body     []byte
	gzBody   []byte
	etag     string
	gzETag   string
	modified time.Time
}

type cacheKey struct {
	channel string
	format  string
}

// renderCache stores the last document per channel and format. Each entry
// has its own lock, so a slow render of one channel does not delay requests
// for another, and concurrent requests for a stale document render it once.
type renderCache struct {
	mu      sync.Mutex
	entries map[cacheKey]*cacheEntry
}

type cacheEntry struct {
	mu      sync.Mutex
	version uint64
	doc     *document
}

func (c *renderCache) entry(k cacheKey) *cacheEntry {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[k]
	if !ok {
		e = &cacheEntry{}
		c.entries[k] = e
	}
	return e
}

// rendered returns the document for ch in format f, rendering it when the
// View changed since the cached copy. The version is read before the
// entries, so a change that lands during a render makes the next request
// render again instead of serving a stale copy forever.
func (h *handler) rendered(r *http.Request, ch Channel, f format) (*document, error) {
	e := h.cache.entry(cacheKey{channel: ch.ID, format: f.ext})
	e.mu.Lock()
	defer e.mu.Unlock()

	version := h.opts.View.Version()
	if e.doc != nil && e.version == version {
		return e.doc, nil
	}
	modified := h.opts.View.LastModified()
	start := time.Now()
	entries := h.opts.View.Entries(ch.Filter, ch.MaxItems)
	body, err := f.render(h.meta(ch, f), entries)
	if err != nil {
		return nil, fmt.Errorf("rendering channel %q as %s: %w", ch.ID, f.ext, err)
	}
	doc, err := newDocument(body, modified)
	if err != nil {
		return nil, fmt.Errorf("compressing channel %q as %s: %w", ch.ID, f.ext, err)
	}
	e.doc, e.version = doc, version
	h.log.DebugContext(r.Context(), "rendered feed",
		"channel", ch.ID, "format", f.ext, "entries", len(entries),
		"bytes", len(body), "duration_ms", time.Since(start).Milliseconds())
	return doc, nil
}

func (h *handler) meta(ch Channel, f format) Meta {
	return Meta{
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
		body:     body,
		gzBody:   gz.Bytes(),
		etag:     `"` + tag + `"`,
		gzETag:   `"` + tag + `-gzip"`,
		modified: modified,
	}, nil
}
