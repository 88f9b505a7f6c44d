package pipeline

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"
)

// recordReads counts the reads of member records from a memFingerprints.
type recordReads struct {
	*memFingerprints
	mu    sync.Mutex
	reads int
}

func (r *recordReads) Read(ctx context.Context, seqs []uint64) (map[uint64][]byte, error) {
	r.mu.Lock()
	r.reads += len(seqs)
	r.mu.Unlock()
	return r.memFingerprints.Read(ctx, seqs)
}

func TestRecordCacheGeneration(t *testing.T) {
	now := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	c := newRecordCache(2, func() time.Time { return now })
	// "a" and "b" fill the first generation, "c" and "d" the second and
	// "e" starts a third, which drops the first.
	for _, id := range []string{"a", "b", "c", "d", "e"} {
		c.put(memberRecord{ID: id, Cluster: "k" + id})
	}
	for _, id := range []string{"a", "b"} {
		if _, ok := c.get(id); ok {
			t.Errorf("get(%q) found a record two generations old", id)
		}
	}
	for _, id := range []string{"c", "d", "e"} {
		rec, ok := c.get(id)
		if !ok || rec.Cluster != "k"+id {
			t.Errorf("get(%q) = %+v, %v; want cluster k%s", id, rec, ok, id)
		}
	}
}

func TestRecordCacheExpires(t *testing.T) {
	now := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	c := newRecordCache(8, func() time.Time { return now })
	c.put(memberRecord{ID: "a"})
	now = now.Add(recordCacheMaxAge + time.Second)
	if _, ok := c.get("a"); ok {
		t.Error("get(a) used a copy older than recordCacheMaxAge")
	}
	var nilCache *recordCache
	nilCache.put(memberRecord{ID: "a"})
	if _, ok := nilCache.get("a"); ok {
		t.Error("nil cache returned a record")
	}
}

func TestAssignReadsRecordsOnce(t *testing.T) {
	ctx := context.Background()
	store := &recordReads{memFingerprints: newMemFingerprints()}
	clock := time.Now()
	writer := newClusterer(store, newRecordCache(64, time.Now))
	reader := newClusterer(store, newRecordCache(64, func() time.Time { return clock }))

	src := Source{Partner: "p", Feed: "news", FeedURL: "https://p.example/rss"}
	now := time.Date(2026, 5, 2, 0, 0, 0, 0, time.UTC)
	normalised := func(n int) Item {
		it := benchItem(n)
		if err := NormaliseItem(&it, src, now); err != nil {
			t.Fatalf("normalising: %v", err)
		}
		return it
	}
	for n := range 5 {
		it := normalised(n)
		if err := writer.Record(ctx, &it, itemFingerprint(&it)); err != nil {
			t.Fatalf("recording: %v", err)
		}
	}

	// The reader keeps copies of the records it follows; once they are
	// stale it reads each record once.
	if err := reader.ensureKeys(ctx); err != nil {
		t.Fatalf("reading records: %v", err)
	}
	clock = clock.Add(recordCacheMaxAge + time.Minute)
	probe := normalised(100)
	var clusters []string
	for _, c := range []struct {
		name string
		c    *Clusterer
		want int
	}{
		{"writer holds its own records", writer, 0},
		{"reader reads its stale copies again", reader, 5},
		{"reader reads them once", reader, 0},
	} {
		store.reads = 0
		if _, err := c.c.Assign(ctx, &probe); err != nil {
			t.Fatalf("%s: assigning: %v", c.name, err)
		}
		clusters = append(clusters, probe.ClusterID+"/"+probe.DuplicateOf)
		if store.reads != c.want {
			t.Errorf("%s: read %d records, want %d", c.name, store.reads, c.want)
		}
	}

	if clusters[0] != clusters[1] || clusters[1] != clusters[2] {
		t.Errorf("groupings %v differ between copies and reads", clusters)
	}
}

func TestListCapByKeyKind(t *testing.T) {
	x := newKeyIndex()
	keys := map[string]int{
		bandKey(0, 7):                     maxCandidatesPerKey,
		"s.ff":                            maxCandidatesPerKey,
		hashedKey("u.", "https://a.b/x"):  maxCandidatesPerKey,
		hashedKey("m.", "https://a.b/im"): maxListLen,
	}
	for key, want := range keys {
		for n := range maxListLen + 10 {
			x.addLocked(key, fmt.Sprintf("item%03d", n), 1)
		}
		x.addLocked(key, "item000", 1)
		ids := x.ids([]string{key})[key]
		if len(ids) != want {
			t.Errorf("list %s keeps %d ids, want %d", key, len(ids), want)
		}
		if newest := "item000"; len(ids) > 0 && ids[len(ids)-1] != newest {
			t.Errorf("list %s ends with %s, want the newest %s", key, ids[len(ids)-1], newest)
		}
	}
}

func TestKeyIndexDropsExpiredKeys(t *testing.T) {
	x := newKeyIndex()
	x.setMaxAge(time.Hour)
	start := time.Date(2026, 12, 5, 0, 0, 0, 0, time.UTC)
	rec := func(n int) memberRecord {
		return memberRecord{ID: fmt.Sprintf("item%05d", n), URL: fmt.Sprintf("https://p.example/%d", n)}
	}
	for n := range 2000 {
		x.add(rec(n), start)
	}
	later := start.Add(2 * time.Hour)
	for n := 2000; n < 10000; n++ {
		x.add(rec(n), later.Add(time.Duration(n)*time.Millisecond))
	}
	if got := x.ids(linkKeys(rec(5))); len(got) != 0 {
		t.Errorf("key of an item stored two hours ago still holds %v", got)
	}
	if got := x.ids(linkKeys(rec(9999))); len(got) != 1 {
		t.Errorf("key of the newest item holds %v, want its id", got)
	}
	if n := x.size(); n > 8000+1024 {
		t.Errorf("index holds %d keys after 8,000 recent items, want at most 9,024", n)
	}
}
