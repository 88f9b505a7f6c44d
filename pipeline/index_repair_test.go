package pipeline_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/syndic-network/syndic/pipeline"
)

// indexEntries reads the index entry of each id; a missing one is absent
// from the map.
func indexEntries(t *testing.T, env *ingestEnv, ids ...string) map[string]pipeline.IndexEntry {
	t.Helper()
	out := map[string]pipeline.IndexEntry{}
	for _, id := range ids {
		e, found, err := env.index.Get(context.Background(), id)
		if err != nil {
			t.Fatalf("reading index entry %s: %v", id, err)
		}
		if found {
			out[id] = e
		}
	}
	return out
}

func sameEntry(a, b pipeline.IndexEntry) bool {
	return a.Hash == b.Hash && a.Revision == b.Revision && a.FirstSeen.Equal(b.FirstSeen) &&
		a.Seq == b.Seq && a.Rules == b.Rules && a.Cluster == b.Cluster && a.DuplicateOf == b.DuplicateOf
}

// TestIndexRepairRestoresLostEntries loses index writes the way a crash
// of the async index bucket does: the last write of an item, or all of
// them. Repair must write back exactly the entries that the ingester and
// the retractor wrote, and leave newer entries alone.
func TestIndexRepairRestoresLostEntries(t *testing.T) {
	env := newIngestEnv(t, "embedded")
	ctx := context.Background()
	g := env.ingester(env.newRC(), nil)
	r := pipeline.NewRetractor(g, env.stream)
	before := time.Now().Add(-time.Second)

	mustIngest(t, g, testItem("a1", "h1"), pipeline.ResultCreated)
	staleA1 := indexEntries(t, env, "a1")["a1"]
	mustIngest(t, g, testItem("a1", "h2"), pipeline.ResultUpdated)
	mustIngest(t, g, testItem("b1", "h1"), pipeline.ResultCreated)
	mustIngest(t, g, testItem("c1", "h1"), pipeline.ResultCreated)
	time.Sleep(10 * time.Millisecond) // a later first-seen time than the update's
	mustIngest(t, g, testItem("c1", "h2"), pipeline.ResultUpdated)
	mustIngest(t, g, testItem("d1", "h1"), pipeline.ResultCreated)
	if _, published, err := r.Retract(ctx, "wipk", "d1"); err != nil || !published {
		t.Fatalf("retracting d1: published %v, %v", published, err)
	}
	mustIngest(t, g, testItem("e1", "h1"), pipeline.ResultCreated)
	mustIngest(t, g, testItem("f1", "h1"), pipeline.ResultCreated)
	ids := []string{"a1", "b1", "c1", "d1", "e1", "f1"}
	want := indexEntries(t, env, ids...)
	if len(want) != len(ids) {
		t.Fatalf("index holds %d of %d entries before the loss", len(want), len(ids))
	}

	// a1 lost its update's write, b1 its only write, and c1 and d1 both
	// of theirs. e1 lost nothing. f1 contains a later write than the
	// stream shows, as if another writer recorded a newer revision.
	put := func(id string, e pipeline.IndexEntry) {
		data, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := env.indexKV.Put(ctx, id, data); err != nil {
			t.Fatalf("writing index entry %s: %v", id, err)
		}
	}
	put("a1", staleA1)
	for _, id := range []string{"b1", "c1", "d1"} {
		if err := env.indexKV.Purge(ctx, id); err != nil {
			t.Fatalf("purging index entry %s: %v", id, err)
		}
	}
	newerF1 := want["f1"]
	newerF1.Seq, newerF1.Revision, newerF1.Hash = 1000, 2, "h9"
	put("f1", newerF1)
	want["f1"] = newerF1

	stats, err := env.index.Repair(ctx, env.stream, before)
	if err != nil {
		t.Fatalf("repair: %v", err)
	}
	// a1's update, b1, c1's two events and d1's two events.
	if stats.Events != 9 || stats.Restored != 6 || stats.Undecodable != 0 {
		t.Errorf("repair stats = %+v, want 9 events, 6 restored, 0 undecodable", stats)
	}
	got := indexEntries(t, env, ids...)
	for _, id := range ids {
		if !sameEntry(got[id], want[id]) {
			t.Errorf("entry %s after repair = %+v, want %+v", id, got[id], want[id])
		}
	}

	// With the cache flushed, the repaired index settles every item: the
	// same content is a duplicate, not a second publish.
	g2 := env.ingester(env.newRC(), nil)
	for _, id := range []string{"a1", "c1"} {
		mustIngest(t, g2, testItem(id, "h2"), pipeline.ResultDuplicate)
	}
	mustIngest(t, g2, testItem("b1", "h1"), pipeline.ResultDuplicate)
	mustIngest(t, g2, testItem("d1", "h1"), pipeline.ResultDuplicate)
	if n := len(env.events(t)); n != 9 {
		t.Errorf("stream holds %d events after the re-offers, want 9", n)
	}

	// A second repair finds nothing to do.
	stats, err = env.index.Repair(ctx, env.stream, before)
	if err != nil || stats.Restored != 0 {
		t.Errorf("second repair = %+v, %v; want nothing restored", stats, err)
	}
}

// TestIndexRepairReadsOnlyFromSince checks that events stored before the
// start time are not read.
func TestIndexRepairReadsOnlyFromSince(t *testing.T) {
	env := newIngestEnv(t, "embedded")
	ctx := context.Background()
	g := env.ingester(env.newRC(), nil)
	mustIngest(t, g, testItem("a1", "h1"), pipeline.ResultCreated)
	time.Sleep(50 * time.Millisecond)
	since := time.Now()
	time.Sleep(50 * time.Millisecond)
	mustIngest(t, g, testItem("b1", "h1"), pipeline.ResultCreated)
	for _, id := range []string{"a1", "b1"} {
		if err := env.indexKV.Purge(ctx, id); err != nil {
			t.Fatalf("purging index entry %s: %v", id, err)
		}
	}
	stats, err := env.index.Repair(ctx, env.stream, since)
	if err != nil {
		t.Fatalf("repair: %v", err)
	}
	if stats.Events != 1 || stats.Restored != 1 {
		t.Errorf("repair stats = %+v, want 1 event read and 1 entry restored", stats)
	}
	got := indexEntries(t, env, "a1", "b1")
	if _, ok := got["a1"]; ok {
		t.Error("repair restored a1, whose event is older than the start time")
	}
	if _, ok := got["b1"]; !ok {
		t.Error("repair did not restore b1")
	}

	// After the stream's last event, there is nothing to read.
	stats, err = env.index.Repair(ctx, env.stream, time.Now().Add(time.Minute))
	if err != nil || stats.Events != 0 {
		t.Errorf("repair from the future = %+v, %v; want no event read", stats, err)
	}
}

// cancelAfterConsumer is a stream that cancels a context once Repair has
// created its consumer, so the cancellation lands while events are read.
type cancelAfterConsumer struct {
	jetstream.Stream
	cancel context.CancelFunc
}

func (s cancelAfterConsumer) OrderedConsumer(ctx context.Context, cfg jetstream.OrderedConsumerConfig) (jetstream.Consumer, error) {
	c, err := s.Stream.OrderedConsumer(ctx, cfg)
	s.cancel()
	return c, err
}

// TestIndexRepairStopsOnCancel checks that a repair cancelled while it
// reads events reports the cancellation instead of success, so the
// caller does not trust the index.
func TestIndexRepairStopsOnCancel(t *testing.T) {
	env := newIngestEnv(t, "embedded")
	g := env.ingester(env.newRC(), nil)
	for _, id := range []string{"a1", "b1", "c1"} {
		mustIngest(t, g, testItem(id, "h1"), pipeline.ResultCreated)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stream := cancelAfterConsumer{Stream: env.stream, cancel: cancel}
	if _, err := env.index.Repair(ctx, stream, time.Time{}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled repair returned %v, want context.Canceled", err)
	}
}

// TestIndexRepairReplacesUnreadableEntry checks that an entry that is not
// JSON is replaced by the entry of its item's last event instead of
// failing the repair, which would stop the start that runs it.
func TestIndexRepairReplacesUnreadableEntry(t *testing.T) {
	env := newIngestEnv(t, "embedded")
	ctx := context.Background()
	g := env.ingester(env.newRC(), nil)
	mustIngest(t, g, testItem("a1", "h1"), pipeline.ResultCreated)
	want := indexEntries(t, env, "a1")["a1"]
	if _, err := env.indexKV.Put(ctx, "a1", []byte("{not json")); err != nil {
		t.Fatalf("writing unreadable entry: %v", err)
	}
	stats, err := env.index.Repair(ctx, env.stream, time.Time{})
	if err != nil {
		t.Fatalf("repair: %v", err)
	}
	if stats.Restored != 1 {
		t.Errorf("repair restored %d entries, want 1", stats.Restored)
	}
	if got := indexEntries(t, env, "a1")["a1"]; !sameEntry(got, want) {
		t.Errorf("entry after repair = %+v, want %+v", got, want)
	}
}
