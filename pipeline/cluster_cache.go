package pipeline

import "time"

// Sizes of the in-process copy of member records. A record never changes
// once written, so a copy can stand in for reading and decoding it again.
// Since the sketch digests rule out most text candidates unread, the
// records still read are those of items sharing a link, a medium or a
// similar text, mostly copies of one story. A few thousand recent
// records are kept, and a copy of an older item costs one read.
const (
	// recordGeneration is the number of records in one generation. The
	// cache keeps one to two generations. A record of the feed farm took
	// about 900 bytes with its decoded fields in a heap profile at
	// 1,000,000 items, so two full generations take about 7 MiB.
	// Grouping the labelled pairs and the corpus, 4,720 items, read one
	// record with 1,024 and none with 4,096.
	recordGeneration = 4096
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
