package pipeline

import (
	"context"
	"testing"
	"time"
)

// unfollowed hides a store's FollowRecords, so the key index holds only
// what a test files.
type unfollowed struct{ fingerprintStore }

// logRecord returns a record of id whose SimHash bands and sketch value
// are all v.
func logRecord(id, cluster string, v uint64) memberRecord {
	return memberRecord{ID: id, Cluster: cluster, Print: fingerprint{
		SimHash: v * 0x0001_0001_0001_0001, Sketch: []uint64{v}, Words: minWords,
	}}
}

// TestCandidateRecordMustNameItsID replaces the record at a sequence the
// key index names with another item's, as a log deleted and created again
// does, and requires that neither item becomes a candidate through it.
func TestCandidateRecordMustNameItsID(t *testing.T) {
	store := newMemFingerprints()
	c := newClusterer(unfollowed{store}, nil)
	ctx := context.Background()
	old := logRecord(ItemID("p", "old"), "old", 7)
	plant(t, c, &old)
	c.keys.add(old, keyIndexBase)
	other := logRecord(ItemID("p", "other"), "other", 7)
	store.mu.Lock()
	store.vals[old.seq-1] = encodeMemberRecord(&other)
	store.mu.Unlock()

	self := logRecord(ItemID("p", "self"), "self", 7)
	got, err := c.candidates(ctx, self)
	if err != nil {
		t.Fatal(err)
	}
	for id, cand := range got {
		t.Errorf("candidate %s with record of %s, want none", id, cand.rec.ID)
	}
}

// TestCachedRecordMustHaveNamedSequence files one id twice, under
// different keys, and looks it up under the key of its first record
// only. The candidate must be the first record, from the store, whether
// or not the cache holds the second.
func TestCachedRecordMustHaveNamedSequence(t *testing.T) {
	for _, cache := range []*recordCache{nil, newRecordCache(64, time.Now)} {
		c := newClusterer(unfollowed{newMemFingerprints()}, cache)
		id := ItemID("p", "twice")
		first, second := logRecord(id, "first", 7), logRecord(id, "second", 9)
		for _, rec := range []*memberRecord{&first, &second} {
			plant(t, c, rec)
			c.keys.add(*rec, keyIndexBase)
			c.records.put(*rec)
		}
		got, err := c.candidates(context.Background(), logRecord(ItemID("p", "self"), "self", 7))
		if err != nil {
			t.Fatal(err)
		}
		cand, ok := got[id]
		if !ok || cand.rec.Cluster != "first" || cand.rec.seq != first.seq {
			t.Errorf("cache %v: candidate %+v, %v; want the first record at sequence %d", cache != nil, cand, ok, first.seq)
		}
	}
}

// TestUndecodableCandidateRecordIsDropped puts a value that is no member
// record at a sequence the key index names, as a log created again can
// hold there: a newer release's record, or a value an old bucket kept
// under an id key. The candidate must be dropped, as one whose record
// names another item is, instead of failing every item that shares its
// keys.
func TestUndecodableCandidateRecordIsDropped(t *testing.T) {
	store := newMemFingerprints()
	c := newClusterer(unfollowed{store}, nil)
	old := logRecord(ItemID("p", "old"), "old", 7)
	plant(t, c, &old)
	c.keys.add(old, keyIndexBase)
	store.mu.Lock()
	store.vals[old.seq-1] = []byte{0x7f, 'n', 'e', 'w'}
	store.mu.Unlock()

	self := logRecord(ItemID("p", "self"), "self", 7)
	got, err := c.candidates(context.Background(), self)
	if err != nil {
		t.Fatalf("candidates: %v, want the undecodable record dropped", err)
	}
	for id, cand := range got {
		t.Errorf("candidate %s with record of %s, want none", id, cand.rec.ID)
	}
}
