package pipeline_test

import (
	"context"
	"testing"
	"time"

	"github.com/syndic-network/syndic/internal/broker"
	"github.com/syndic-network/syndic/internal/testenv"
	"github.com/syndic-network/syndic/pipeline"
)

// TestMigratedFingerprintsKeepGrouping files a story in a bucket of the
// layout before the record log, copies the bucket into a new log twice,
// as two processes starting together would, and groups a copy of the
// story on the log. The log must hold the record once, and the copy must
// join the story's cluster.
func TestMigratedFingerprintsKeepGrouping(t *testing.T) {
	env := newIngestEnv(t, "embedded")
	ctx := context.Background()

	// A clusterer on a scratch log writes the story's record; the bucket
	// gets the same bytes under the key the earlier layout used.
	scratch := memberLog(t, env)
	origin := storyItem(t, "chamber", "en", "https://chamber.example/news/fair", "Export fair in Vilnius", fairText, "")
	assignAndRecord(t, followLog(t, env, scratch)(), origin)
	stream, err := env.js.Stream(ctx, scratch.Stream())
	if err != nil {
		t.Fatal(err)
	}
	stored, err := stream.GetMsg(ctx, 1)
	if err != nil {
		t.Fatalf("reading the scratch record: %v", err)
	}
	kv, err := broker.EnsureKV(ctx, env.js, testenv.Name(t)+"_FINGERPRINTS", 1, time.Hour, false)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kv.Put(ctx, "i."+origin.ID, stored.Data); err != nil {
		t.Fatal(err)
	}
	// A list key of older releases is not a member record.
	if _, err := kv.Put(ctx, "b.0.1f", []byte("not a record")); err != nil {
		t.Fatal(err)
	}
	entry, err := kv.Get(ctx, "i."+origin.ID)
	if err != nil {
		t.Fatal(err)
	}

	log := memberLog(t, env)
	for run := range 2 {
		copied, err := pipeline.MigrateFingerprints(ctx, kv, log)
		if err != nil || copied != 1 {
			t.Fatalf("migration %d: copied %d, error %v; want 1 record", run+1, copied, err)
		}
	}
	logStream, err := env.js.Stream(ctx, log.Stream())
	if err != nil {
		t.Fatal(err)
	}
	info, err := logStream.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.State.Msgs != 1 {
		t.Errorf("log holds %d records after two migrations, want 1", info.State.Msgs)
	}

	// The copy keeps the time the bucket stored the record.
	loaded := make(chan struct{})
	var gotStored time.Time
	fctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if _, err := log.Follow(fctx, func(_ uint64, _ []byte, at time.Time) { gotStored = at }, loaded); err != nil {
		t.Fatal(err)
	}
	<-loaded
	if !gotStored.Equal(entry.Created()) {
		t.Errorf("copied record stored at %v, want the bucket's %v", gotStored, entry.Created())
	}

	copied := storyItem(t, "cluster", "en", "https://cluster.example/fair", "Export fair in Vilnius",
		fairText+" Source: regional chamber.", "")
	if _, err := followLog(t, env, log)().Assign(ctx, copied); err != nil {
		t.Fatal(err)
	}
	if copied.ClusterID != origin.ID || copied.DuplicateOf != origin.ID {
		t.Errorf("copy after migration: cluster %q duplicate of %q, want %q for both", copied.ClusterID, copied.DuplicateOf, origin.ID)
	}
}
