package pipeline

import (
	"context"
	"reflect"
	"testing"
	"time"
)

// TestCachedRecordsGroupAsStored groups the labelled items once with
// cached records, which candidates point into, and once with records
// decoded from the store. Groupings and records must not differ.
func TestCachedRecordsGroupAsStored(t *testing.T) {
	cached := newClusterer(newMemFingerprints(), newRecordCache(recordGeneration, time.Now))
	stored := newClusterer(newMemFingerprints(), nil)
	var ids []string
	grouped := 0
	for _, p := range loadPairs(t) {
		for _, in := range []labelledItem{p.A, p.B} {
			a, b := normalisedPairItem(t, in), normalisedPairItem(t, in)
			assignAndRecord(t, cached, a)
			assignAndRecord(t, stored, b)
			if a.ClusterID != b.ClusterID || a.DuplicateOf != b.DuplicateOf {
				t.Fatalf("item %s of pair %s: cached records give %s/%s, stored records %s/%s",
					a.ID, p.ID, a.ClusterID, a.DuplicateOf, b.ClusterID, b.DuplicateOf)
			}
			if a.ClusterID != a.ID {
				grouped++
			}
			ids = append(ids, a.ID)
		}
	}
	if grouped == 0 {
		t.Fatal("no item joined another cluster, so no candidate was compared")
	}
	for _, id := range ids {
		requireCachedEqualsStored(t, cached, id)
	}
}

func assignAndRecord(t *testing.T, c *Clusterer, it *Item) {
	t.Helper()
	fp, err := c.Assign(context.Background(), it)
	if err != nil {
		t.Fatalf("assigning %s: %v", it.ID, err)
	}
	if err := c.Record(context.Background(), it, fp); err != nil {
		t.Fatalf("recording %s: %v", it.ID, err)
	}
}

func requireCachedEqualsStored(t *testing.T, c *Clusterer, id string) {
	t.Helper()
	rec, ok := c.records.get(id)
	if !ok {
		t.Fatalf("record of %s is not cached", id)
	}
	var want memberRecord
	if err := decodeMemberRecord(c.store.(*memFingerprints).value(rec.seq), &want); err != nil {
		t.Fatalf("decoding stored record of %s: %v", id, err)
	}
	var gotDecoded memberRecord
	if err := decodeMemberRecord(encodeMemberRecord(rec), &gotDecoded); err != nil {
		t.Fatalf("decoding cached record of %s: %v", id, err)
	}
	if !reflect.DeepEqual(gotDecoded, want) {
		t.Fatalf("cached record of %s changed after it was stored:\n got %+v\nwant %+v", id, gotDecoded, want)
	}
}
