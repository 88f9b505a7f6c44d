package workers

import (
	"testing"
	"time"

	"github.com/syndic-network/syndic/pipeline"
)

// TestParseMemosDropStale checks that a sweep drops the memos of feeds
// not polled for maxAge and keeps the others.
func TestParseMemosDropStale(t *testing.T) {
	var memos parseMemos
	start := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	maxAge := 48 * time.Hour
	memos.put("wipk/old", &pipeline.ParseMemo{}, start, maxAge)
	memos.put("wipk/news", &pipeline.ParseMemo{}, start, maxAge)
	later := start.Add(maxAge + time.Minute)
	memos.put("wipk/news", &pipeline.ParseMemo{}, later, maxAge)
	memos.put("izba/news", &pipeline.ParseMemo{}, later, maxAge)
	memos.put("izba/events", &pipeline.ParseMemo{}, later, maxAge)
	if memos.get("wipk/old") != nil {
		t.Error("memo of a feed not polled for longer than maxAge is still kept")
	}
	for _, feed := range []string{"wipk/news", "izba/news", "izba/events"} {
		if memos.get(feed) == nil {
			t.Errorf("memo of %s, stored just now, was dropped", feed)
		}
	}
	if n := memos.size(); n != 3 {
		t.Errorf("%d memos kept, want 3", n)
	}
}
