package pipeline

import "time"

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

// recordCache keeps the most recently used member records. A nil
// recordCache keeps none.
type recordCache struct {
	now     func() time.Time
	records *generations[string, cachedRecord]
}

// cachedRecord points to its record, which is never changed after put,
// so a get copies a pointer instead of the whole record.
type cachedRecord struct {
	rec   *memberRecord
	added time.Time
}

func newRecordCache(size int, now func() time.Time) *recordCache {
	return &recordCache{now: now, records: newGenerations[string, cachedRecord](size)}
}

// get returns the record of item id and true when the cache contains a copy
// younger than recordCacheMaxAge. The caller must not change the record.
func (c *recordCache) get(id string) (*memberRecord, bool) {
	if c == nil {
		return nil, false
	}
	e, ok := c.records.get(id)
	if !ok || c.now().Sub(e.added) > recordCacheMaxAge {
		return nil, false
	}
	return e.rec, true
}

// put stores a copy of rec, read from or written to the store just now.
func (c *recordCache) put(rec memberRecord) {
	if c == nil {
		return
	}
	c.records.put(rec.ID, cachedRecord{rec: &rec, added: c.now()})
}
