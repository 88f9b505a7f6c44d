package workers

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/syndic-network/syndic/pipeline"
)

// TestParseMemosDropStale checks that a sweep drops the memos of feeds
// not polled for maxAge and keeps the others.
func TestParseMemosDropStale(t *testing.T) {
	memos := parseMemos{limit: DefaultParseMemoBytes}
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

// sampleMemo returns the memo of a document of three items, which each
// feed of the tests below stores.
func sampleMemo(t *testing.T) *pipeline.ParseMemo {
	t.Helper()
	var b strings.Builder
	b.WriteString(`<rss version="2.0"><channel><title>Klaster</title><link>https://klaster.example/</link>`)
	for i := range 3 {
		fmt.Fprintf(&b, `<item><guid>https://klaster.example/n/%d</guid><title>Targi numer %d</title><link>https://klaster.example/n/%d</link><description>Opis wydarzenia %d</description></item>`, i, i, i, i)
	}
	b.WriteString(`</channel></rss>`)
	src := pipeline.Source{Partner: "klaster", Feed: "news", FeedURL: "https://klaster.example/rss"}
	res, err := pipeline.ParseFeedMemo([]byte(b.String()), "application/rss+xml", src, time.Now(), nil)
	if err != nil {
		t.Fatalf("parsing the sample document: %v", err)
	}
	if res.Memo.Len() != 3 || res.Memo.Bytes() == 0 {
		t.Fatalf("sample memo has %d items and %d bytes, want 3 items", res.Memo.Len(), res.Memo.Bytes())
	}
	return res.Memo
}

// TestParseMemosLimit checks that the memos stay within the limit, that
// a feed holding a memo can replace it when full, and that a feed
// without one gets none then.
func TestParseMemosLimit(t *testing.T) {
	memo := sampleMemo(t)
	n := int64(memo.Bytes())
	memos := parseMemos{limit: 2*n + n/2}
	now := time.Date(2026, 12, 5, 0, 0, 0, 0, time.UTC)
	maxAge := 48 * time.Hour

	memos.put("klaster/news", memo, now, maxAge)
	memos.put("izba/news", memo, now, maxAge)
	memos.put("agencja/news", memo, now, maxAge)
	if memos.get("agencja/news") != nil {
		t.Error("a third memo was kept beyond the limit of two and a half")
	}
	if got := memos.bytes(); got != 2*n {
		t.Errorf("memos take %d bytes, want %d", got, 2*n)
	}

	memos.put("klaster/news", memo, now.Add(time.Hour), maxAge)
	if memos.get("klaster/news") == nil {
		t.Error("a feed that held a memo lost it when replacing it at the limit")
	}
	if got := memos.bytes(); got != 2*n {
		t.Errorf("memos take %d bytes after a replacement, want %d", got, 2*n)
	}
}

// TestParseMemosSweepFreesRoom checks that memos dropped as stale give
// their bytes back to other feeds.
func TestParseMemosSweepFreesRoom(t *testing.T) {
	memo := sampleMemo(t)
	memos := parseMemos{limit: int64(memo.Bytes())}
	start := time.Date(2026, 12, 5, 0, 0, 0, 0, time.UTC)
	maxAge := 48 * time.Hour
	memos.put("klaster/old", memo, start, maxAge)

	later := start.Add(maxAge + time.Minute)
	memos.put("izba/news", memo, later, maxAge)
	memos.put("izba/news", memo, later, maxAge)
	if memos.get("klaster/old") != nil {
		t.Error("the stale memo was not dropped")
	}
	if memos.get("izba/news") == nil {
		t.Error("the stale memo's bytes were not given back")
	}
	if got, want := memos.bytes(), int64(memo.Bytes()); got != want {
		t.Errorf("memos take %d bytes, want %d", got, want)
	}
}

// TestParseMemosNoLimitKeepsNone checks that a limit below 1 keeps no
// memo, which fetch.parse_memo_bytes: 0 requests.
func TestParseMemosNoLimitKeepsNone(t *testing.T) {
	memos := parseMemos{limit: -1}
	memos.put("klaster/news", sampleMemo(t), time.Now(), time.Hour)
	if memos.get("klaster/news") != nil || memos.size() != 0 {
		t.Error("a memo was kept with no memory allowed")
	}
}
