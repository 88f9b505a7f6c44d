package workers

import (
	"sync"
	"time"

	"github.com/syndic-network/syndic/pipeline"
)

// DefaultParseMemoBytes is the memory the parse memos of all feeds may
// take when PollerOptions.ParseMemoBytes is zero: about 210,000 items at
// the 316 bytes that ParseMemo.Bytes gives an item of a feed farm
// document, such as 8,000 feeds of 25 items.
const DefaultParseMemoBytes = 64 << 20

// parseMemos keeps the pipeline.ParseMemo of each feed's last parsed
// document, so the known items of its next changed document are neither
// parsed nor cleaned again. A memo takes about 400 bytes per item of the
// feed farm's documents (measured with runtime.MemStats) and at most its
// document's size plus 64 KiB. The set grows with the feeds and their
// document sizes, not with the items ingested over time, and limit
// bounds it: 10,000 feeds of 100 items would otherwise take about
// 400 MB.
type parseMemos struct {
	mu sync.Mutex
	m  map[string]memoSlot
	// limit is the maximum bytes the memos may take together, by
	// ParseMemo.Bytes. Below 1 keeps no memo.
	//
	// NOTE: ParseMemo.Bytes leaves out the spare slots of the memo's
	// map, so the heap held under a full 64 MiB limit was about 89 MB in
	// a profile of syndic run with 10,000 feeds of 100 items.
	limit int64
	// total is the bytes the kept memos take.
	total int64
	// puts counts the stores since the last sweep.
	puts int
}

// memoSlot is a feed's memo, its size and when it was stored.
type memoSlot struct {
	memo   *pipeline.ParseMemo
	bytes  int64
	stored time.Time
}

func (m *parseMemos) get(feed string) *pipeline.ParseMemo {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.m[feed].memo
}

// put stores the memo of feed at now. It replaces the feed's previous
// memo, and when the new one does not fit within limit beside the other
// feeds' memos, the feed keeps none. So once the limit is reached, the
// feeds that got a memo first keep theirs and the others are cleaned in
// full, instead of every feed losing its memo to the next before it is
// polled again. Once the stores since the last sweep reach the number of
// memos, it drops those stored before now minus maxAge: the memos of
// feeds no longer polled, such as feeds removed from the configuration.
func (m *parseMemos) put(feed string, memo *pipeline.ParseMemo, now time.Time, maxAge time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.m == nil {
		m.m = map[string]memoSlot{}
	}
	m.drop(feed)
	if n := int64(memo.Bytes()); m.total+n <= m.limit {
		m.m[feed] = memoSlot{memo: memo, bytes: n, stored: now}
		m.total += n
	}
	m.puts++
	if m.puts < len(m.m) {
		return
	}
	m.puts = 0
	for key, slot := range m.m {
		if now.Sub(slot.stored) > maxAge {
			m.drop(key)
		}
	}
}

// drop removes the memo of feed, if any.
func (m *parseMemos) drop(feed string) {
	if slot, ok := m.m[feed]; ok {
		m.total -= slot.bytes
		delete(m.m, feed)
	}
}

// size returns the number of feeds with a memo.
func (m *parseMemos) size() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.m)
}

// bytes returns the memory the kept memos take, by ParseMemo.Bytes.
func (m *parseMemos) bytes() int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.total
}
