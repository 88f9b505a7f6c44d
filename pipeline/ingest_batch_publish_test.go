package pipeline_test

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/syndic-network/syndic/pipeline"
)

// gatedPublisher holds every publish until release is closed, and counts
// how many are waiting. Publishes of the item ids in fail return an error.
type gatedPublisher struct {
	next    pipeline.Publisher
	release chan struct{}
	mu      sync.Mutex
	waiting int
	fail    map[string]bool
}

func (g *gatedPublisher) PublishMsg(ctx context.Context, msg *nats.Msg, opts ...jetstream.PublishOpt) (*jetstream.PubAck, error) {
	g.mu.Lock()
	g.waiting++
	failing := g.fail[msgItemID(msg)]
	g.mu.Unlock()
	<-g.release
	if failing {
		return nil, errors.New("stream unavailable")
	}
	return g.next.PublishMsg(ctx, msg, opts...)
}

// msgItemID returns the item id of an event message.
func msgItemID(msg *nats.Msg) string {
	var ev struct {
		ID string `json:"id"`
	}
	_ = json.Unmarshal(msg.Data, &ev)
	return ev.ID
}

func (g *gatedPublisher) inFlight() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.waiting
}

// batchIngester returns an ingester on env whose publishes go through pub,
// with a clusterer on a fingerprint bucket of the test's own.
func batchIngester(t *testing.T, env *ingestEnv, pub pipeline.Publisher) *pipeline.Ingester {
	t.Helper()
	log := memberLog(t, env)
	c := pipeline.NewClusterer(log)
	t.Cleanup(c.Close)
	return pipeline.NewIngester(pipeline.IngesterOptions{
		Cache: env.newRC(), Index: env.index, Publisher: pub, SubjectPrefix: env.prefix,
		SeenTTL: time.Hour, ReserveTTL: 10 * time.Second, Events: env.stream, Clusters: c,
	})
}

func TestIngestBatchPublishesTogether(t *testing.T) {
	env := newIngestEnv(t, "embedded")
	pub := &gatedPublisher{next: env.js, release: make(chan struct{})}
	g := batchIngester(t, env, pub)
	origin := storyItem(t, "chamber", "en", "https://chamber.example/news/fair", "Export fair in Vilnius", fairText, "")
	other := storyItem(t, "other", "en", "https://other.example/rates", "Rates held steady",
		"The central bank kept its main rate unchanged for the third month in a row, citing slower inflation in services.", "")
	copied := storyItem(t, "cluster", "en", "https://cluster.example/fair", "Export fair in Vilnius",
		fairText+" Source: regional chamber.", "")

	outcomes := make(chan []pipeline.Outcome, 1)
	go func() { outcomes <- g.IngestBatch(context.Background(), []pipeline.Item{*origin, *other, *copied}) }()
	waitInFlight(t, pub, 2)
	// The copy shares keys with the origin, so it waits for the origin's
	// record instead of publishing beside it.
	time.Sleep(50 * time.Millisecond)
	if n := pub.inFlight(); n != 2 {
		t.Errorf("%d publishes under way while the origin's was held, want 2 (origin and other story)", n)
	}
	close(pub.release)
	for i, o := range <-outcomes {
		if o.Err != nil || o.Result != pipeline.ResultCreated {
			t.Errorf("item %d: %s, %v; want created", i, o.Result, o.Err)
		}
	}

	byID := map[string]pipeline.Event{}
	for _, ev := range env.events(t) {
		byID[ev.ID] = ev
	}
	if ev := byID[copied.ID]; ev.ClusterID != origin.ID || ev.DuplicateOf != origin.ID {
		t.Errorf("copy: cluster %q duplicate of %q, want %q for both", ev.ClusterID, ev.DuplicateOf, origin.ID)
	}
	if ev := byID[other.ID]; ev.ClusterID != other.ID {
		t.Errorf("other story: cluster %q, want its own", ev.ClusterID)
	}
}

// TestBatchCopyOfFailedItem checks that a copy never names an item of its
// document whose publish failed, since the stream does not hold that item.
func TestBatchCopyOfFailedItem(t *testing.T) {
	env := newIngestEnv(t, "embedded")
	origin := storyItem(t, "chamber", "en", "https://chamber.example/news/fair", "Export fair in Vilnius", fairText, "")
	copied := storyItem(t, "cluster", "en", "https://cluster.example/fair", "Export fair in Vilnius",
		fairText+" Source: regional chamber.", "")
	pub := &gatedPublisher{next: env.js, release: make(chan struct{}), fail: map[string]bool{origin.ID: true}}
	g := batchIngester(t, env, pub)

	outcomes := make(chan []pipeline.Outcome, 1)
	go func() { outcomes <- g.IngestBatch(context.Background(), []pipeline.Item{*origin, *copied}) }()
	waitInFlight(t, pub, 1)
	close(pub.release)
	got := <-outcomes
	if got[0].Result != pipeline.ResultRetry {
		t.Fatalf("origin: %s, %v; want retry", got[0].Result, got[0].Err)
	}
	if got[1].Result != pipeline.ResultCreated {
		t.Fatalf("copy: %s, %v; want created", got[1].Result, got[1].Err)
	}
	events := env.events(t)
	if len(events) != 1 {
		t.Fatalf("stream holds %d events, want the copy only", len(events))
	}
	if ev := events[0]; ev.ClusterID != copied.ID || ev.DuplicateOf != "" {
		t.Errorf("copy of an unpublished item: cluster %q duplicate of %q, want a cluster of its own",
			ev.ClusterID, ev.DuplicateOf)
	}

	// The next poll offers the origin again: it must not become a
	// duplicate of itself.
	pub.mu.Lock()
	delete(pub.fail, origin.ID)
	pub.mu.Unlock()
	again := g.IngestBatch(context.Background(), []pipeline.Item{*origin})
	if again[0].Result != pipeline.ResultCreated {
		t.Fatalf("origin again: %s, %v; want created", again[0].Result, again[0].Err)
	}
	for _, ev := range env.events(t) {
		if ev.ID == origin.ID && ev.DuplicateOf == origin.ID {
			t.Errorf("origin is recorded as a duplicate of itself (cluster %q)", ev.ClusterID)
		}
	}
}

func TestIngestBatchFailedPublishLeavesGrouping(t *testing.T) {
	env := newIngestEnv(t, "embedded")
	origin := storyItem(t, "chamber", "en", "https://chamber.example/news/fair", "Export fair in Vilnius", fairText, "")
	release := make(chan struct{})
	close(release)
	pub := &gatedPublisher{next: env.js, release: release, fail: map[string]bool{origin.ID: true}}
	g := batchIngester(t, env, pub)

	first := g.IngestBatch(context.Background(), []pipeline.Item{*origin})
	if first[0].Result != pipeline.ResultRetry || first[0].Err == nil {
		t.Fatalf("failed publish: %s, %v; want retry with an error", first[0].Result, first[0].Err)
	}
	copied := storyItem(t, "cluster", "en", "https://cluster.example/fair", "Export fair in Vilnius",
		fairText+" Source: regional chamber.", "")
	second := g.IngestBatch(context.Background(), []pipeline.Item{*copied})
	if second[0].Result != pipeline.ResultCreated {
		t.Fatalf("copy: %s, %v; want created", second[0].Result, second[0].Err)
	}
	events := env.events(t)
	if len(events) != 1 {
		t.Fatalf("stream holds %d events, want the copy only", len(events))
	}
	if events[0].ClusterID != copied.ID || events[0].DuplicateOf != "" {
		t.Errorf("copy of an unpublished item: cluster %q duplicate of %q, want a cluster of its own",
			events[0].ClusterID, events[0].DuplicateOf)
	}
}
