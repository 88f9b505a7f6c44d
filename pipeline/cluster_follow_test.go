package pipeline_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/syndic-network/syndic/internal/broker"
	"github.com/syndic-network/syndic/internal/testenv"
	"github.com/syndic-network/syndic/pipeline"
)

// followBucket returns a fingerprint bucket of its own on env and a
// function that opens a clusterer on it, closed when the test ends.
func followBucket(t *testing.T, env *ingestEnv) (jetstream.KeyValue, func() *pipeline.Clusterer) {
	t.Helper()
	kv, err := broker.EnsureKV(context.Background(), env.js, testenv.Name(t)+"_FINGERPRINTS", 1, time.Hour, false)
	if err != nil {
		t.Fatalf("creating fingerprint bucket: %v", err)
	}
	return kv, func() *pipeline.Clusterer {
		c := pipeline.NewClusterer(env.js, kv)
		t.Cleanup(c.Close)
		return c
	}
}

func assignAndRecord(t *testing.T, c *pipeline.Clusterer, it *pipeline.Item) {
	t.Helper()
	ctx := context.Background()
	fp, err := c.Assign(ctx, it)
	if err != nil {
		t.Fatalf("assigning %s: %v", it.ID, err)
	}
	if err := c.Record(ctx, it, fp); err != nil {
		t.Fatalf("recording %s: %v", it.ID, err)
	}
}

func TestClustererRebuildsKeysAfterRestart(t *testing.T) {
	env := newIngestEnv(t, "embedded")
	kv, open := followBucket(t, env)
	img := "https://cdn.chamber.example/fair.jpg"
	origin := storyItem(t, "chamber", "en", "https://chamber.example/news/fair", "Export fair in Vilnius", fairText, img)
	first := open()
	assignAndRecord(t, first, origin)
	first.Close()

	second := open()
	copied := storyItem(t, "cluster", "en", "https://cluster.example/fair", "Export fair in Vilnius",
		fairText+" Source: regional chamber.", "")
	translated := storyItem(t, "izba", "pl", "https://izba.example/targi", "Targi eksportowe w Wilnie",
		"Regionalna izba handlowa otwiera rejestrację na targi eksportowe w Wilnie 12 czerwca.", img)
	for _, it := range []*pipeline.Item{copied, translated} {
		if _, err := second.Assign(context.Background(), it); err != nil {
			t.Fatalf("assigning %s: %v", it.ID, err)
		}
	}
	if copied.ClusterID != origin.ID || copied.DuplicateOf != origin.ID {
		t.Errorf("copy after restart: cluster %q duplicate of %q, want %q for both", copied.ClusterID, copied.DuplicateOf, origin.ID)
	}
	if translated.ClusterID != origin.ID || translated.DuplicateOf != "" {
		t.Errorf("translation after restart: cluster %q duplicate of %q, want cluster %q", translated.ClusterID, translated.DuplicateOf, origin.ID)
	}

	// One record per item is all the bucket holds: the lists live in
	// memory.
	keys, err := kv.Keys(context.Background())
	if err != nil {
		t.Fatalf("listing keys: %v", err)
	}
	if len(keys) != 1 || !strings.HasPrefix(keys[0], "i.") {
		t.Errorf("bucket keys = %v, want the one member record", keys)
	}
}

func TestClustererFollowsOtherWriters(t *testing.T) {
	env := newIngestEnv(t, "embedded")
	_, open := followBucket(t, env)
	writer, reader := open(), open()
	other := storyItem(t, "other", "en", "https://other.example/rates", "Rates held steady",
		"The central bank kept its main rate unchanged for the third month in a row, citing slower inflation in services.", "")
	// The reader has read the bucket before the writer files the story.
	assignAndRecord(t, reader, other)

	origin := storyItem(t, "chamber", "en", "https://chamber.example/news/fair", "Export fair in Vilnius", fairText, "")
	assignAndRecord(t, writer, origin)
	copied := storyItem(t, "cluster", "en", "https://cluster.example/fair", "Export fair in Vilnius",
		fairText+" Source: regional chamber.", "")
	deadline := time.Now().Add(5 * time.Second)
	for {
		if _, err := reader.Assign(context.Background(), copied); err != nil {
			t.Fatalf("assigning copy: %v", err)
		}
		if copied.ClusterID == origin.ID || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if copied.ClusterID != origin.ID || copied.DuplicateOf != origin.ID {
		t.Errorf("copy in the reader: cluster %q duplicate of %q, want %q for both", copied.ClusterID, copied.DuplicateOf, origin.ID)
	}
}
