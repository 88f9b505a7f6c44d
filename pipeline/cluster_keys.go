package pipeline

import (
	"hash/maphash"
	"math"
	"math/bits"
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
//
// In the mix of BenchmarkKeyIndexMemory, a million items file about six
// million keys, most of them with one id, so the layout is chosen for
// bytes per key. Each filing of an id stores it once in an idTable, with
// its record's stored time, SimHash and sketch digest, under a 32-bit
// handle. A key with one id keeps the handle as its map value, and
// longer lists of handles live in a listSlab. Neither the map nor the
// slabs of binary ids and lists hold pointers, so the collector does not
// scan them.
type keyIndex struct {
	mu    sync.RWMutex
	seed  maphash.Seed
	lists map[keyHash]keyCell
	idTab idTable
	spill listSlab
	// scratch is the buffer in which file builds a list before storing it.
	scratch []uint32
	// maxAge is how long a key is kept after its newest id was added.
	// Zero keeps keys for ever. Records expire from the store after the
	// same time, so an older key names no record that can still be read.
	maxAge time.Duration
	// added counts additions since the last prune.
	added int
}

// keyHash is the 64-bit hash of a key as two halves. Its alignment of 4
// bytes lets a map slot take 12 bytes instead of the 16 that a uint64
// key with a uint32 value takes: 20 bytes per key held instead of 27,
// measured at 1.4 million keys.
type keyHash [2]uint32

// keyCell is the map value of one key: the handle of its only id, or
// listFlag and the reference of its list in the listSlab. A list holds
// the newest ids, oldest first by the time each was stored. Arrival
// order differs from it, because records of other processes arrive after
// newer records of this one, and a restarted reading delivers every
// record again.
type keyCell uint32

// listFlag marks a keyCell naming a list. Id handles stay below it.
const listFlag = 1 << 31

func (c keyCell) spilled() bool   { return c&listFlag != 0 }
func (c keyCell) listRef() uint32 { return uint32(c &^ listFlag) }

func newKeyIndex() *keyIndex {
	return &keyIndex{
		seed: maphash.MakeSeed(), lists: map[keyHash]keyCell{},
		spill: newListSlab(),
	}
}

func (x *keyIndex) hash(key string) keyHash {
	h := maphash.String(x.seed, key)
	return keyHash{uint32(h), uint32(h >> 32)}
}

// storedSeconds returns Unix seconds clamped to the range of a uint32,
// the years 1970 to 2106. Records are stored within it, and a time
// outside it is taken as the nearer end.
func storedSeconds(unix int64) uint32 {
	return uint32(min(max(unix, 0), math.MaxUint32))
}

// add files rec's id under each of its keys, as stored at the given time
// at log sequence rec.seq. An id already in a list stays where it is, and
// each list keeps the listCap(key) ids stored last, so an id older than
// all of a full list's is left out.
func (x *keyIndex) add(rec memberRecord, stored time.Time) {
	keys := recordKeys(rec)
	x.mu.Lock()
	defer x.mu.Unlock()
	h := x.idTab.put(rec.ID, storedSeconds(stored.Unix()), rec.Print.SimHash, rec.seq, digestOf(rec.Print.Sketch))
	for _, key := range keys {
		x.file(x.hash(key), listCap(key), h)
	}
	x.idTab.release(h)
	x.added += len(keys)
	x.pruneLocked(stored)
}

// addLocked files id under key alone, as add does, with a zero SimHash
// and sequence and an unknown sketch digest.
func (x *keyIndex) addLocked(key, id string, stored int64) {
	h := x.idTab.put(id, storedSeconds(stored), 0, 0, sketchDigest{})
	x.file(x.hash(key), listCap(key), h)
	x.idTab.release(h)
}

// list returns the handles in the list of the key whose map value is c,
// a view that is valid until the index changes. inline holds the handle
// of a key that has a single id.
func (x *keyIndex) list(c keyCell, inline *[1]uint32) []uint32 {
	if !c.spilled() {
		inline[0] = uint32(c)
		return inline[:]
	}
	return x.spill.list(c.listRef())
}

// file files the id under handle h in the list of the key hashed to k,
// which keeps limit ids. Every list holding h takes a reference to it.
// An id the list holds already keeps its place, and takes h's SimHash
// and sequence when h was stored no earlier.
func (x *keyIndex) file(k keyHash, limit int, h uint32) {
	c, found := x.lists[k]
	var inline [1]uint32
	var old []uint32
	if found {
		old = x.list(c, &inline)
	}
	for _, e := range old {
		if x.idTab.same(e, h) {
			// The band check compares with the SimHash of the record
			// stored last, and reading the id reads that record.
			if x.idTab.stored(h) >= x.idTab.stored(e) {
				x.idTab.setRecord(e, h)
			}
			return
		}
	}
	// The id goes after every id stored in the same second or earlier.
	p := append(x.scratch[:0], old...)
	at, stored := len(p), x.idTab.stored(h)
	for at > 0 && x.idTab.stored(p[at-1]) > stored {
		at--
	}
	p = slices.Insert(p, at, h)
	x.idTab.retain(h)
	drop := max(len(p)-limit, 0)
	for _, e := range p[:drop] {
		x.idTab.release(e)
	}
	x.scratch = p
	x.lists[k] = x.store(c, found, p[drop:])
}

// store keeps p as the list of a key whose map value was c, if found,
// and returns the key's new map value.
func (x *keyIndex) store(c keyCell, found bool, p []uint32) keyCell {
	ref := c.listRef()
	reuse := found && c.spilled() && x.spill.fits(ref, len(p))
	if found && c.spilled() && !reuse {
		x.spill.release(ref)
	}
	if len(p) == 1 {
		return keyCell(p[0])
	}
	if !reuse {
		ref = x.spill.alloc(len(p))
	}
	x.spill.set(ref, p)
	return keyCell(listFlag | ref)
}

// ids returns a copy of the list under each of keys. An unknown key is
// left out. The ids of one list share one backing string, so keeping any
// of them keeps the list's text in memory, at most maxListLen ids.
func (x *keyIndex) ids(keys []string) map[string][]string {
	return x.idsAt(keys, nil)
}

// recordRef names the member record an id was filed from: its log
// sequence and its sketch digest.
type recordRef struct {
	seq    uint64
	digest sketchDigest
}

// idsAt is ids that also sets, when refs is not nil, the record of each
// id in refs.
func (x *keyIndex) idsAt(keys []string, refs map[string]recordRef) map[string][]string {
	out := make(map[string][]string, len(keys))
	x.mu.RLock()
	defer x.mu.RUnlock()
	oldest := x.oldestLive(time.Now())
	var buf []byte
	for _, key := range keys {
		if c, ok := x.lists[x.hash(key)]; ok {
			var inline [1]uint32
			out[key] = x.idsOf(x.list(c, &inline), &buf, refs, oldest)
		}
	}
	return out
}

// idsNear returns, under each of keys, the ids in its list whose
// records' SimHash differs from simhash in at most maxBits bits, and the
// ids in keep at any distance. A key left with no id is left out. It
// sets the record of each id returned in refs, as idsAt does.
func (x *keyIndex) idsNear(keys []string, simhash uint64, maxBits int, keep map[string]bool, refs map[string]recordRef) map[string][]string {
	out := make(map[string][]string, len(keys))
	x.mu.RLock()
	defer x.mu.RUnlock()
	oldest := x.oldestLive(time.Now())
	var buf, id []byte
	var near []uint32
	for _, key := range keys {
		c, ok := x.lists[x.hash(key)]
		if !ok {
			continue
		}
		var inline [1]uint32
		near = near[:0]
		for _, h := range x.list(c, &inline) {
			if bits.OnesCount64(x.idTab.simhash(h)^simhash) > maxBits {
				if len(keep) == 0 {
					continue
				}
				id = x.idTab.appendID(id[:0], h)
				if !keep[string(id)] {
					continue
				}
			}
			near = append(near, h)
		}
		if len(near) > 0 {
			out[key] = x.idsOf(near, &buf, refs, oldest)
		}
	}
	return out
}

// idsOf returns the ids under the handles in p, spelled out in buf first.
// When refs is not nil, it sets the record kept with each id in refs. An
// id under two handles gets the one of higher sequence, appended last.
// A handle whose record was stored before oldest, in Unix seconds, sets
// none, so the caller reads no record for it.
func (x *keyIndex) idsOf(p []uint32, buf *[]byte, refs map[string]recordRef, oldest uint32) []string {
	text := (*buf)[:0]
	for _, e := range p {
		text = x.idTab.appendID(text, e)
	}
	*buf = text
	all := string(text)
	ids := make([]string, len(p))
	for k, e := range p {
		n := x.idTab.idLen(e)
		ids[k], all = all[:n], all[n:]
		if refs == nil || x.idTab.stored(e) < oldest {
			continue
		}
		if seq := x.idTab.seq(e); seq >= refs[ids[k]].seq {
			refs[ids[k]] = recordRef{seq: seq, digest: x.idTab.digest(e)}
		}
	}
	return ids
}

// oldestLive returns the stored time, in Unix seconds, of the oldest
// record that has not expired at now, 0 when records never expire. The
// log can keep a record longer, because a record copied from the bucket
// of earlier releases keeps its first stored time but leaves the log a
// max age after the copy.
func (x *keyIndex) oldestLive(now time.Time) uint32 {
	if x.maxAge <= 0 {
		return 0
	}
	return storedSeconds(now.Add(-x.maxAge).Unix())
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
	for k, c := range x.lists {
		var inline [1]uint32
		p := x.list(c, &inline)
		if int64(x.idTab.stored(p[len(p)-1])) < cutoff {
			x.dropList(c, p)
			delete(x.lists, k)
		}
	}
}

// dropList releases the ids of list p, held by the key whose map value
// is c, and the slab space of the list.
func (x *keyIndex) dropList(c keyCell, p []uint32) {
	for _, e := range p {
		x.idTab.release(e)
	}
	if c.spilled() {
		x.spill.release(c.listRef())
	}
}

// size returns the number of keys held.
func (x *keyIndex) size() int {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return len(x.lists)
}
