package workers

import (
	"sync"
	"time"

	"github.com/syndic-network/syndic/pipeline"
)

// parseMemos keeps the pipeline.ParseMemo of each feed's last parsed
// document, so the known items of its next changed document are not
// cleaned again. A memo takes about 250 bytes per item of the feed
// farm's documents (measured with runtime.MemStats) and at most its
// document's size plus 64 KiB. The whole set grows with the feeds and
// their document sizes, not with the items ingested over time: about
// 120 MiB for 10,000 feeds of 50 items.
type parseMemos struct {
	mu sync.Mutex
	m  map[string]memoSlot
	// puts counts the stores since the last sweep.
	puts int
}

// memoSlot is a feed's memo and when it was stored.
type memoSlot struct {
	memo   *pipeline.ParseMemo
	stored time.Time
}

func (m *parseMemos) get(feed string) *pipeline.ParseMemo {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.m[feed].memo
}

// put stores the memo of feed at now. Once the stores since the last
// sweep reach the number of memos, it drops those stored before now
// minus maxAge: the memos of feeds no longer polled, such as feeds
// removed from the configuration.
func (m *parseMemos) put(feed string, memo *pipeline.ParseMemo, now time.Time, maxAge time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.m == nil {
		m.m = map[string]memoSlot{}
	}
	m.m[feed] = memoSlot{memo: memo, stored: now}
	m.puts++
	if m.puts < len(m.m) {
		return
	}
	m.puts = 0
	for key, slot := range m.m {
		if now.Sub(slot.stored) > maxAge {
			delete(m.m, key)
		}
	}
}

// size returns the number of feeds with a memo.
func (m *parseMemos) size() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.m)
}
