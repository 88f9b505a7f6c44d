package store

import (
	"context"
	"encoding/hex"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/syndic-network/syndic/internal/genmap"
	"github.com/syndic-network/syndic/pipeline"
)

// DefaultSeenMemo is the number of seen keys a Local cache keeps in memory
// per generation, and the memo contains at most twice as many: 262,144 keys
// in two full generations took 35 MiB of heap, measured once. 131,072
// covers every item listed by 5,000 feeds of 25 items.
const DefaultSeenMemo = 131072

// sweepReservationsAt is the number of held reservations above which Reserve
// drops the expired ones. Released reservations leave at once, so only
// the reservations of a crashed client, kept until they expire, can
// accumulate.
const sweepReservationsAt = 4096

// LocalOptions configures a Local cache.
type LocalOptions struct {
	// ReservePrefix names the keys that Local holds in memory only:
	// reservations, which need no other copy because every process that
	// reserves goes through this one.
	ReservePrefix string
	// SeenPrefix names the keys that Local keeps in a memo in front of the
	// next cache, so reading a key in the memo needs no round trip.
	SeenPrefix string
	// SeenMemo is the memo's generation size; zero means DefaultSeenMemo.
	SeenMemo int
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
}

// Local is the ingest cache of the process that started the embedded NATS
// server, when no Redis is configured. Every other process that ingests
// through that server reaches it with a Remote, so every reservation and
// every seen write passes through this process. It can therefore keep
// reservations in memory instead of in the bucket, and serve reads of the
// seen keys it wrote or read before from memory. Other keys pass through to the next
// cache. Little is lost when the process stops: reservations end with
// the process anyway, and the seen keys stay in the next cache. Only the
// values that RememberSeen kept in memory are lost, and the item index
// contains the same hashes until its entries expire.
//
// The memo follows every write that passes through this process, but it
// does not expire entries with the bucket's per-key TTL: an entry can
// outlive its key, which keeps an unchanged item a duplicate. Like the
// seen keys, the memo is a hint, and the ingester reads the item index
// before it publishes.
type Local struct {
	next          pipeline.Cache
	o             LocalOptions
	mu            sync.Mutex
	reservedUntil map[string]time.Time
	memo          *seenMemo
	stats         LocalStats
}

// LocalStats counts the seen-key reads a Local cache served from memory
// (hits) and from the next cache (misses).
type LocalStats struct {
	MemoHits, MemoMisses int
}

// NewLocal returns a Local cache in front of next, which must also
// implement pipeline.MultiGetter when reads of many keys are to stay one
// round trip.
func NewLocal(next pipeline.Cache, o LocalOptions) *Local {
	if o.SeenMemo <= 0 {
		o.SeenMemo = DefaultSeenMemo
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Local{next: next, o: o, reservedUntil: map[string]time.Time{}, memo: newSeenMemo(o.SeenMemo)}
}

// Stats returns the memo's hit and miss counts so far.
func (l *Local) Stats() LocalStats {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.stats
}

func (l *Local) isReservation(key string) bool {
	return l.o.ReservePrefix != "" && strings.HasPrefix(key, l.o.ReservePrefix)
}

// memoKey returns the memo key of a seen key, false for other keys and
// for seen keys the memo cannot hold.
func (l *Local) memoKey(key string) (memoID, bool) {
	if l.o.SeenPrefix == "" || !strings.HasPrefix(key, l.o.SeenPrefix) {
		return memoID{}, false
	}
	return parseMemoID(key[len(l.o.SeenPrefix):])
}

// Get implements pipeline.Cache. A held reservation reads as present with
// an empty value.
func (l *Local) Get(ctx context.Context, key string) (string, bool, error) {
	if l.isReservation(key) {
		l.mu.Lock()
		defer l.mu.Unlock()
		return "", l.reservedNow(key), nil
	}
	id, memo := l.memoKey(key)
	if !memo {
		return l.next.Get(ctx, key)
	}
	if v, ok := l.memo.get(id); ok {
		l.count(1, 0)
		return v, true, nil
	}
	l.count(0, 1)
	since := l.memo.begin()
	defer l.memo.end()
	v, found, err := l.next.Get(ctx, key)
	if err == nil && found {
		l.memo.fill(id, v, since)
	}
	return v, found, err
}

// GetMany implements pipeline.MultiGetter: seen keys in the memo come
// from memory and the rest from the next cache in one request.
func (l *Local) GetMany(ctx context.Context, keys []string) ([]string, []bool, error) {
	values := make([]string, len(keys))
	found := make([]bool, len(keys))
	var missing []int
	hits := 0
	for i, key := range keys {
		if l.isReservation(key) {
			l.mu.Lock()
			found[i] = l.reservedNow(key)
			l.mu.Unlock()
			continue
		}
		if id, ok := l.memoKey(key); ok {
			if values[i], found[i] = l.memo.get(id); found[i] {
				hits++
				continue
			}
		}
		missing = append(missing, i)
	}
	l.count(hits, len(missing))
	if len(missing) == 0 {
		return values, found, nil
	}

	since := l.memo.begin()
	defer l.memo.end()
	got, ok, err := readMany(ctx, l.next, pick(keys, missing))
	if err != nil {
		return nil, nil, err
	}

	for j, i := range missing {
		values[i], found[i] = got[j], ok[j]
		if id, memo := l.memoKey(keys[i]); memo && ok[j] {
			l.memo.fill(id, got[j], since)
		}
	}
	return values, found, nil
}

// readMany reads keys from c in one request where c is a
// pipeline.MultiGetter, and key by key otherwise.
func readMany(ctx context.Context, c pipeline.Cache, keys []string) ([]string, []bool, error) {
	if mg, ok := c.(pipeline.MultiGetter); ok {
		return mg.GetMany(ctx, keys)
	}
	values := make([]string, len(keys))
	found := make([]bool, len(keys))
	for i, key := range keys {
		var err error
		if values[i], found[i], err = c.Get(ctx, key); err != nil {
			return nil, nil, err
		}
	}
	return values, found, nil
}

// Set implements pipeline.Cache. A seen key is written to the next cache
// first and kept in the memo only once that write succeeded and no other
// write of the key overlapped it, since the next cache may have ordered
// overlapping writes either way. Otherwise the key leaves the memo, so the
// next read goes to the next cache.
func (l *Local) Set(ctx context.Context, key, value string, ttl time.Duration) error {
	if l.isReservation(key) {
		l.mu.Lock()
		defer l.mu.Unlock()
		l.reservedUntil[key] = l.until(ttl)
		return nil
	}
	id, memo := l.memoKey(key)
	if !memo {
		return l.next.Set(ctx, key, value, ttl)
	}
	return l.writeSeen(id, value, func() error { return l.next.Set(ctx, key, value, ttl) })
}

// writeSeen runs write, a write of the next cache or nil for the memo
// alone, as a write of id in the memo. The memo keeps value when write
// succeeds, value is not empty and no other write of id overlapped, and
// drops id otherwise.
func (l *Local) writeSeen(id memoID, value string, write func() error) error {
	l.memo.begin()
	defer l.memo.end()
	mark := l.memo.touch(id)
	var err error
	if write != nil {
		err = write()
	}
	l.memo.finishWrite(id, value, mark, err == nil && value != "")
	return err
}

// RememberSeen implements pipeline.SeenRememberer: a seen key goes into
// the memo only, and other keys are written to the next cache. It counts
// as a write of the key, so a read of the next cache that started before
// it does not put the older value back.
func (l *Local) RememberSeen(ctx context.Context, key, value string, ttl time.Duration) error {
	id, memo := l.memoKey(key)
	if !memo {
		return l.next.Set(ctx, key, value, ttl)
	}
	return l.writeSeen(id, value, nil)
}

// Reserve implements pipeline.Cache. A reservation is held in memory until
// Delete or until ttl has passed.
func (l *Local) Reserve(ctx context.Context, key, value string, ttl time.Duration) (bool, error) {
	if !l.isReservation(key) {
		return l.next.Reserve(ctx, key, value, ttl)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.reservedNow(key) {
		return false, nil
	}
	if len(l.reservedUntil) >= sweepReservationsAt {
		l.sweep()
	}
	l.reservedUntil[key] = l.until(ttl)
	return true, nil
}

// until returns the end of a reservation for ttl; zero or less means none.
func (l *Local) until(ttl time.Duration) time.Time {
	if ttl <= 0 {
		return time.Unix(1<<62, 0)
	}
	return l.o.Now().Add(ttl)
}

// Delete implements pipeline.Cache.
func (l *Local) Delete(ctx context.Context, key string) error {
	if l.isReservation(key) {
		l.mu.Lock()
		defer l.mu.Unlock()
		delete(l.reservedUntil, key)
		return nil
	}
	id, memo := l.memoKey(key)
	if !memo {
		return l.next.Delete(ctx, key)
	}
	return l.writeSeen(id, "", func() error { return l.next.Delete(ctx, key) })
}

// reservedNow reports whether key is reserved and unexpired. l.mu must be
// held.
func (l *Local) reservedNow(key string) bool {
	until, ok := l.reservedUntil[key]
	if ok && !l.o.Now().Before(until) {
		delete(l.reservedUntil, key)
		return false
	}
	return ok
}

// sweep drops expired reservations. l.mu must be held.
func (l *Local) sweep() {
	now := l.o.Now()
	for key, until := range l.reservedUntil {
		if !now.Before(until) {
			delete(l.reservedUntil, key)
		}
	}
}

func (l *Local) count(hits, misses int) {
	l.mu.Lock()
	l.stats.MemoHits += hits
	l.stats.MemoMisses += misses
	l.mu.Unlock()
}

// memoID is an item id of 32 hex digits, as bytes.
type memoID [16]byte

func parseMemoID(s string) (memoID, bool) {
	var id memoID
	if !pipeline.IsItemID(s) {
		return id, false
	}
	_, err := hex.Decode(id[:], []byte(s))
	return id, err == nil
}

// memoValue is a seen value, a SHA-256 content hash in lower-case hex and
// an optional Unix time after a space, in 41 bytes instead of up to 86.
type memoValue struct {
	hash    [32]byte
	unix    int64
	hasTime bool
}

func parseMemoValue(v string) (memoValue, bool) {
	var m memoValue
	hash, unix, hasTime := strings.Cut(v, " ")
	if len(hash) != 2*len(m.hash) || !isLowerHex(hash) {
		return m, false
	}
	if _, err := hex.Decode(m.hash[:], []byte(hash)); err != nil {
		return m, false
	}
	if hasTime {
		sec, err := strconv.ParseInt(unix, 10, 64)
		// Only the form strconv writes comes back unchanged.
		if err != nil || strconv.FormatInt(sec, 10) != unix {
			return m, false
		}
		m.unix, m.hasTime = sec, true
	}
	return m, true
}

func (m memoValue) String() string {
	s := hex.EncodeToString(m.hash[:])
	if m.hasTime {
		s += " " + strconv.FormatInt(m.unix, 10)
	}
	return s
}

func isLowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// seenMemo keeps recently used seen values in a genmap.Map.
//
// Calls to the next cache run outside the lock, so a read or write can
// overlap a write of the same key and finish in either order. The memo
// therefore numbers the start and the end of every write with clock and,
// while any call is active, records in changed the number of each key's
// latest write event. A call started at clock value since has overlapped a
// write of id if changed[id] > since, or if since < floor, the clock value
// at which changed was last emptied to keep it bounded.
type seenMemo struct {
	mu      sync.Mutex
	size    int
	values  *genmap.Map[memoID, memoValue]
	clock   uint64
	floor   uint64
	active  int
	changed map[memoID]uint64
}

func newSeenMemo(size int) *seenMemo {
	return &seenMemo{size: size, values: genmap.New[memoID, memoValue](size), changed: map[memoID]uint64{}}
}

// begin registers a call to the next cache and returns the clock value at
// its start; end must follow.
func (s *seenMemo) begin() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.active++
	return s.clock
}

func (s *seenMemo) end() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.active--
	if s.active == 0 {
		clear(s.changed)
	}
}

// touch records a write event of id, its start or its end, and returns
// its number.
func (s *seenMemo) touch(id memoID) uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.touchLocked(id)
}

func (s *seenMemo) touchLocked(id memoID) uint64 {
	if len(s.changed) >= s.size {
		// Every active call that started before now counts as overlapped.
		clear(s.changed)
		s.floor = s.clock + 1
	}
	s.clock++
	s.changed[id] = s.clock
	return s.clock
}

// overlapped reports whether a write event of id came after since.
func (s *seenMemo) overlapped(id memoID, since uint64) bool {
	return since < s.floor || s.changed[id] > since
}

// fill stores value, read from the next cache by a call that started at
// since, unless a write of id overlapped that read.
func (s *seenMemo) fill(id memoID, value string, since uint64) {
	v, ok := parseMemoValue(value)
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.overlapped(id, since):
	case ok:
		s.values.Put(id, v)
	default:
		s.values.Delete(id)
	}
}

// finishWrite ends the write of id whose start touch returned mark. It
// stores value when written is true and no other write of id started
// since mark, and drops id otherwise. The end counts as a write event, so
// a read that started during the write does not fill the memo with what
// the next cache held before the write landed.
func (s *seenMemo) finishWrite(id memoID, value string, mark uint64, written bool) {
	v, ok := parseMemoValue(value)
	s.mu.Lock()
	defer s.mu.Unlock()
	alone := s.changed[id] == mark && mark >= s.floor
	if written && ok && alone {
		s.values.Put(id, v)
	} else {
		s.values.Delete(id)
	}
	s.touchLocked(id)
}

func (s *seenMemo) get(id memoID) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.values.Get(id)
	if !ok {
		return "", false
	}
	return v.String(), true
}

var (
	_ pipeline.Cache          = (*Local)(nil)
	_ pipeline.MultiGetter    = (*Local)(nil)
	_ pipeline.SeenRememberer = (*Local)(nil)
)
