package pipeline

import (
	"context"
	"fmt"
	"strings"
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

func (r *recordReads) Get(ctx context.Context, key string) ([]byte, uint64, bool, error) {
	if strings.HasPrefix(key, "i.") {
		r.mu.Lock()
		r.reads++
		r.mu.Unlock()
	}
	return r.memFingerprints.Get(ctx, key)
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
	writer := &Clusterer{store: store, records: newRecordCache(64, time.Now)}
	reader := &Clusterer{store: store, records: newRecordCache(64, time.Now)}

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

	probe := normalised(100)
	var clusters []string
	for _, c := range []struct {
		name string
		c    *Clusterer
		want int
	}{
		{"writer holds its own records", writer, 0},
		{"reader reads them the first time", reader, 5},
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
	ctx := context.Background()
	c := &Clusterer{store: newMemFingerprints()}
	keys := map[string]int{
		bandKey(0, 7):                     maxCandidatesPerKey,
		"s.ff":                            maxCandidatesPerKey,
		hashedKey("u.", "https://a.b/x"):  maxCandidatesPerKey,
		hashedKey("m.", "https://a.b/im"): maxListLen,
	}
	for key, want := range keys {
		for n := range maxListLen + 10 {
			if err := c.appendID(ctx, key, fmt.Sprintf("item%03d", n)); err != nil {
				t.Fatalf("appending to %s: %v", key, err)
			}
		}
		ids, _, err := c.list(ctx, key)
		if err != nil {
			t.Fatalf("reading %s: %v", key, err)
		}
		if len(ids) != want {
			t.Errorf("list %s keeps %d ids, want %d", key, len(ids), want)
		}
		if newest := fmt.Sprintf("item%03d", maxListLen+9); len(ids) > 0 && ids[len(ids)-1] != newest {
			t.Errorf("list %s ends with %s, want the newest %s", key, ids[len(ids)-1], newest)
		}
	}
}
