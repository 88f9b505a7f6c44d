package pipeline

import (
	"sync"
	"time"
)

// Sizes of the in-process copy of member records. A record never changes
// once written, so a copy can stand in for reading and decoding it again.
// Grouping a new item reads about twenty candidate records, mostly items
// of the last few days, so recent records are kept.
const (
	// recordGeneration is the number of records in one generation. The
	// cache keeps one to two generations, at an estimated 300 bytes per
	// record under about 20 MiB.
	recordGeneration = 32768
	// recordCacheMaxAge bounds how long a copy is used without reading
	// the store.
	// NOTE: a record that expires from the store with the stream's
	// max_age may still be used for up to this long afterwards, so an
	// item can join the cluster of an event that just expired.
	recordCacheMaxAge = time.Hour
)

// recordCache keeps the most recently used member records in two
// generations: lookups promote a record from the old generation to the
// current one, and a full current generation replaces the old one. It
// is safe for concurrent use.
type recordCache struct {
	mu       sync.Mutex
	size     int
	now      func() time.Time
	current  map[string]cachedRecord
	previous map[string]cachedRecord
}

type cachedRecord struct {
	rec   memberRecord
	added time.Time
}

func newRecordCache(size int, now func() time.Time) *recordCache {
	return &recordCache{size: size, now: now, current: make(map[string]cachedRecord, size)}
}

// get returns the record of item id and true when the cache contains a copy
// younger than recordCacheMaxAge.
func (c *recordCache) get(id string) (memberRecord, bool) {
	if c == nil {
		return memberRecord{}, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.current[id]
	if !ok {
		e, ok = c.previous[id]
		if ok {
			c.putLocked(id, e)
		}
	}
	if !ok || c.now().Sub(e.added) > recordCacheMaxAge {
		return memberRecord{}, false
	}
	return e.rec, true
}

// put stores a copy of rec, read from or written to the store just now.
func (c *recordCache) put(rec memberRecord) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.putLocked(rec.ID, cachedRecord{rec: rec, added: c.now()})
}

func (c *recordCache) putLocked(id string, e cachedRecord) {
	if len(c.current) >= c.size {
		c.previous, c.current = c.current, make(map[string]cachedRecord, c.size)
	}
	c.current[id] = e
}
