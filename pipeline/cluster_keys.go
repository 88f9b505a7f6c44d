package pipeline

import (
	"hash/maphash"
	"slices"
	"sync"
	"time"
)

// keyIndex holds, in memory, the newest item ids filed under each
// fingerprint key (SimHash band, sketch hash, link or medium). It is a
// view of the member records in the store, built by reading them all
// once and then following new ones, so grouping a new item writes one
// record instead of one list per key. Keys are held as 64-bit hashes: a
// collision only adds a candidate, and every candidate's record is
// checked before it counts. It is safe for concurrent use.
type keyIndex struct {
	mu    sync.RWMutex
	seed  maphash.Seed
	lists map[uint64]posting
	// maxAge is how long a key is kept after its newest id was added.
	// Zero keeps keys for ever. Records expire from the store after the
	// same time, so an older key names no record that can still be read.
	maxAge time.Duration
	// added counts additions since the last prune.
	added int
}

// posting is the list of one key: the newest ids, oldest first by the
// time each was stored. Arrival order differs from it, because records
// of other processes arrive after newer records of this one, and a
// restarted reading delivers every record again.
type posting []listed

// listed is an id in a posting with its record's stored time, in Unix
// seconds. Pairs in one slice keep the index near the size of a plain id
// list, where an ids slice beside a times slice nearly doubled it.
type listed struct {
	id     string
	stored int64
}

// last returns when the newest id was stored.
func (p posting) last() int64 {
	if len(p) == 0 {
		return 0
	}
	return p[len(p)-1].stored
}

func newKeyIndex() *keyIndex {
	return &keyIndex{seed: maphash.MakeSeed(), lists: map[uint64]posting{}}
}

func (x *keyIndex) hash(key string) uint64 { return maphash.String(x.seed, key) }

// add files rec's id under each of its keys, as stored at the given time.
// An id already in a list stays where it is, and each list keeps the
// listCap(key) ids stored last, so an id older than all of a full list's
// is left out.
func (x *keyIndex) add(rec memberRecord, stored time.Time) {
	keys := recordKeys(rec)
	x.mu.Lock()
	defer x.mu.Unlock()
	for _, key := range keys {
		x.addLocked(key, rec.ID, stored.Unix())
	}
	x.added += len(keys)
	x.pruneLocked(stored)
}

func (x *keyIndex) addLocked(key, id string, stored int64) {
	h := x.hash(key)
	p := x.lists[h]
	for _, e := range p {
		if e.id == id {
			return
		}
	}
	// The id goes after every id stored in the same second or earlier.
	k := len(p)
	for k > 0 && p[k-1].stored > stored {
		k--
	}
	p = slices.Insert(p, k, listed{id: id, stored: stored})
	if n := listCap(key); len(p) > n {
		p = slices.Clone(p[len(p)-n:])
	}
	x.lists[h] = p
}

// ids returns a copy of the list under each of keys. An unknown key is
// left out.
func (x *keyIndex) ids(keys []string) map[string][]string {
	out := make(map[string][]string, len(keys))
	x.mu.RLock()
	defer x.mu.RUnlock()
	for _, key := range keys {
		if p, ok := x.lists[x.hash(key)]; ok {
			ids := make([]string, len(p))
			for k, e := range p {
				ids[k] = e.id
			}
			out[key] = ids
		}
	}
	return out
}

// pruneLocked drops the keys whose newest id is older than maxAge before
// now. It scans only once the additions since the last scan reach half
// the number of keys, so the cost per addition stays constant on average.
func (x *keyIndex) pruneLocked(now time.Time) {
	if x.maxAge <= 0 || x.added < max(len(x.lists)/2, 1024) {
		return
	}
	x.added = 0
	cutoff := now.Add(-x.maxAge).Unix()
	for h, p := range x.lists {
		if p.last() < cutoff {
			delete(x.lists, h)
		}
	}
}

// size returns the number of keys held.
func (x *keyIndex) size() int {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return len(x.lists)
}
