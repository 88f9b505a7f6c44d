package pipeline_test

import (
	"context"
	"testing"
	"time"

	"github.com/syndic-network/syndic/pipeline"
)

// TestClustererFollowsRecreatedBucket deletes the fingerprint bucket
// under a clusterer that has read it and creates it again, as an
// operator wiping it or restoring a backup into a new nats-server does.
// A story another process files in the new bucket must reach the
// clusterer's key index, so a copy of it joins its cluster.
func TestClustererFollowsRecreatedBucket(t *testing.T) {
	t.Cleanup(pipeline.SetFollowCheckInterval(100 * time.Millisecond))
	env := newIngestEnv(t, "embedded")
	opts := memberLogOptions(t)
	log := ensureMemberLog(t, env, opts)
	open := followLog(t, env, log)
	reader := open()
	other := storyItem(t, "other", "en", "https://other.example/rates", "Rates held steady",
		"The central bank kept its main rate unchanged for the third month in a row, citing slower inflation in services.", "")
	assignAndRecord(t, reader, other)

	ctx := context.Background()
	if err := env.js.DeleteStream(ctx, log.Stream()); err != nil {
		t.Fatalf("deleting the log: %v", err)
	}
	ensureMemberLog(t, env, opts)
	origin := storyItem(t, "chamber", "en", "https://chamber.example/news/fair", "Export fair in Vilnius", fairText, "")
	assignAndRecord(t, open(), origin)
	copied := storyItem(t, "cluster", "en", "https://cluster.example/fair", "Export fair in Vilnius",
		fairText+" Source: regional chamber.", "")
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := reader.Assign(ctx, copied); err != nil {
			t.Logf("assigning copy: %v", err)
		}
		if copied.ClusterID == origin.ID || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if copied.ClusterID != origin.ID {
		t.Errorf("copy in the reader: cluster %q, want %q", copied.ClusterID, origin.ID)
	}
}
