package pipeline

import (
	"hash/maphash"
	"slices"
	"sync"
	"time"
)

// modelKeyIndex is the key index as it was before ids became handles
// and lists moved into slabs: a slice of id strings and times per key.
// It is kept only as the reference that TestKeyIndexMatchesModel
// compares keyIndex with, and its code is left as it was.
type modelKeyIndex struct {
	mu    sync.RWMutex
	seed  maphash.Seed
	lists map[uint64]modelPosting
	// maxAge is how long a key is kept after its newest id was added.
	// Zero keeps keys for ever. Records expire from the store after the
	// same time, so an older key names no record that can still be read.
	maxAge time.Duration
	// added counts additions since the last prune.
	added int
}

// modelPosting is the list of one key: the newest ids, oldest first by the
// time each was stored. Arrival order differs from it, because records
// of other processes arrive after newer records of this one, and a
// restarted reading delivers every record again.
type modelPosting []modelListed

// modelListed is an id in a modelPosting with its record's stored time, in Unix
// seconds. Pairs in one slice keep the index near the size of a plain id
// list, where an ids slice beside a times slice nearly doubled it.
type modelListed struct {
	id     string
	stored int64
}

// last returns when the newest id was stored.
func (p modelPosting) last() int64 {
	if len(p) == 0 {
		return 0
	}
	return p[len(p)-1].stored
}

func newModelKeyIndex() *modelKeyIndex {
	return &modelKeyIndex{seed: maphash.MakeSeed(), lists: map[uint64]modelPosting{}}
}

func (x *modelKeyIndex) hash(key string) uint64 { return maphash.String(x.seed, key) }

// add files rec's id under each of its keys, as stored at the given time.
// An id already in a list stays where it is, and each list keeps the
// listCap(key) ids stored last, so an id older than all of a full list's
// is left out.
func (x *modelKeyIndex) add(rec memberRecord, stored time.Time) {
	keys := recordKeys(rec)
	x.mu.Lock()
	defer x.mu.Unlock()
	for _, key := range keys {
		x.addLocked(key, rec.ID, stored.Unix())
	}
	x.added += len(keys)
	x.pruneLocked(stored)
}

func (x *modelKeyIndex) addLocked(key, id string, stored int64) {
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
	p = slices.Insert(p, k, modelListed{id: id, stored: stored})
	if n := listCap(key); len(p) > n {
		p = slices.Clone(p[len(p)-n:])
	}
	x.lists[h] = p
}

// ids returns a copy of the list under each of keys. An unknown key is
// left out.
func (x *modelKeyIndex) ids(keys []string) map[string][]string {
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
func (x *modelKeyIndex) pruneLocked(now time.Time) {
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
func (x *modelKeyIndex) size() int {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return len(x.lists)
}

func (x *modelKeyIndex) setMaxAge(d time.Duration) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.maxAge = d
}
