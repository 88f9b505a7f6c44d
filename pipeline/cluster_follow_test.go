package pipeline_test

import (
	"context"
	"testing"
	"time"

	"github.com/syndic-network/syndic/internal/broker"
	"github.com/syndic-network/syndic/internal/testenv"
	"github.com/syndic-network/syndic/pipeline"
)

// memberLogOptions returns the options of a member log of the test's
// own.
func memberLogOptions(t *testing.T) broker.RecordLogOptions {
	name := testenv.Name(t)
	return broker.RecordLogOptions{Stream: name + "_MEMBERS", Subject: "$SYNDIC.MEMBERS." + name, MaxAge: time.Hour}
}

// memberLog returns a member log of its own on env.
func memberLog(t *testing.T, env *ingestEnv) *broker.RecordLog {
	t.Helper()
	return ensureMemberLog(t, env, memberLogOptions(t))
}

func ensureMemberLog(t *testing.T, env *ingestEnv, o broker.RecordLogOptions) *broker.RecordLog {
	t.Helper()
	log, err := broker.EnsureRecordLog(context.Background(), env.js, o)
	if err != nil {
		t.Fatalf("creating the member log %s: %v", o.Stream, err)
	}
	return log
}

// followLog returns a member log of its own on env and a function that
// opens a clusterer on it, closed when the test ends.
func followLog(t *testing.T, env *ingestEnv, log *broker.RecordLog) func() *pipeline.Clusterer {
	t.Helper()
	return func() *pipeline.Clusterer {
		c := pipeline.NewClusterer(log)
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
	log := memberLog(t, env)
	open := followLog(t, env, log)
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

	// One record per item is all the log holds: the lists live in
	// memory.
	stream, err := env.js.Stream(context.Background(), log.Stream())
	if err != nil {
		t.Fatalf("opening the log's stream: %v", err)
	}
	if n := stream.CachedInfo().State.Msgs; n != 1 {
		t.Errorf("log holds %d records, want the one member record", n)
	}
}

func TestClustererFollowsOtherWriters(t *testing.T) {
	env := newIngestEnv(t, "embedded")
	open := followLog(t, env, memberLog(t, env))
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
