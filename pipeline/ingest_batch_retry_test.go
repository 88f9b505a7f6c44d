package pipeline_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/syndic-network/syndic/pipeline"
)

// waitInFlight polls until pub holds n publishes, and fails the test
// after five seconds.
func waitInFlight(t *testing.T, pub *gatedPublisher, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for pub.inFlight() < n && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if got := pub.inFlight(); got < n {
		t.Fatalf("%d publishes under way, want %d", got, n)
	}
}

// perItemPublisher fails the publish of each item id in fail with its
// error. When hold is set, every publish waits until its context ends.
type perItemPublisher struct {
	next   pipeline.Publisher
	mu     sync.Mutex
	fail   map[string]error
	hold   bool
	waited int
}

func (p *perItemPublisher) PublishMsg(ctx context.Context, msg *nats.Msg, opts ...jetstream.PublishOpt) (*jetstream.PubAck, error) {
	p.mu.Lock()
	err, hold := p.fail[msgItemID(msg)], p.hold
	if hold {
		p.waited++
	}
	p.mu.Unlock()
	if hold {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	if err != nil {
		return nil, err
	}
	return p.next.PublishMsg(ctx, msg, opts...)
}

func (p *perItemPublisher) waiting() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.waited
}

// countByID returns how many events of each item the stream contains.
func countByID(t *testing.T, env *ingestEnv) map[string]int {
	t.Helper()
	n := map[string]int{}
	for _, ev := range env.events(t) {
		n[ev.ID]++
	}
	return n
}

func TestIngestBatchFailedPublishesRetryNextPoll(t *testing.T) {
	env := newIngestEnv(t, "embedded")
	pub := &perItemPublisher{next: env.js, fail: map[string]error{
		"b2": errors.New("connection reset"),
		"b5": fmt.Errorf("server limit: %w", pipeline.ErrItemTooLarge),
	}}
	g := env.ingester(env.newRC(), pub)
	var items []pipeline.Item
	for k := range 10 {
		items = append(items, *testItem(fmt.Sprintf("b%d", k), "h1"))
	}

	got := g.IngestBatch(context.Background(), items)
	for k, o := range got {
		want := pipeline.ResultCreated
		switch items[k].ID {
		case "b2":
			want = pipeline.ResultRetry
		case "b5":
			want = pipeline.ResultRejected
		}
		if o.Result != want {
			t.Errorf("first poll, item %s: %s, %v; want %s", items[k].ID, o.Result, o.Err, want)
		}
	}

	pub.mu.Lock()
	pub.fail = nil
	pub.mu.Unlock()
	got = g.IngestBatch(context.Background(), items)
	for k, o := range got {
		want := pipeline.ResultDuplicate
		if id := items[k].ID; id == "b2" || id == "b5" {
			want = pipeline.ResultCreated
		}
		if o.Result != want || o.Err != nil {
			t.Errorf("second poll, item %s: %s, %v; want %s", items[k].ID, o.Result, o.Err, want)
		}
	}
	counts := countByID(t, env)
	for _, it := range items {
		if counts[it.ID] != 1 {
			t.Errorf("stream holds %d events of item %s, want 1", counts[it.ID], it.ID)
		}
	}
}

func TestIngestBatchCancelledMidwayRetriesEveryItem(t *testing.T) {
	env := newIngestEnv(t, "embedded")
	pub := &perItemPublisher{next: env.js, hold: true}
	g := env.ingester(env.newRC(), pub)
	var items []pipeline.Item
	for k := range 20 {
		items = append(items, *testItem(fmt.Sprintf("c%d", k), "h1"))
	}

	ctx, cancel := context.WithCancel(context.Background())
	outcomes := make(chan []pipeline.Outcome, 1)
	go func() { outcomes <- g.IngestBatch(ctx, items) }()
	deadline := time.Now().Add(5 * time.Second)
	for pub.waiting() < 8 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	var got []pipeline.Outcome
	select {
	case got = <-outcomes:
	case <-time.After(10 * time.Second):
		t.Fatal("IngestBatch did not return after its context was cancelled")
	}
	for k, o := range got {
		if o.Result != pipeline.ResultRetry || o.Err == nil {
			t.Errorf("cancelled poll, item %s: %s, %v; want retry with an error", items[k].ID, o.Result, o.Err)
		}
	}

	pub.mu.Lock()
	pub.hold = false
	pub.mu.Unlock()
	got = g.IngestBatch(context.Background(), items)
	for k, o := range got {
		if o.Result != pipeline.ResultCreated || o.Err != nil {
			t.Errorf("next poll, item %s: %s, %v; want created", items[k].ID, o.Result, o.Err)
		}
	}
}

// An item waiting for a free publish slot must not hold its reservation,
// because a reservation that expires during the wait lets a second writer in.
func TestIngestBatchReservesOnlyWhilePublishing(t *testing.T) {
	env := newIngestEnv(t, "embedded")
	c := env.newRC()
	pub := &gatedPublisher{next: env.js, release: make(chan struct{})}
	g := env.ingester(c, pub)
	var items []pipeline.Item
	for k := range 9 {
		items = append(items, *testItem(fmt.Sprintf("r%d", k), "h1"))
	}

	outcomes := make(chan []pipeline.Outcome, 1)
	go func() { outcomes <- g.IngestBatch(context.Background(), items) }()
	waitInFlight(t, pub, 8)
	deadline := time.Now().Add(300 * time.Millisecond)
	for time.Now().Before(deadline) {
		if _, reserved, err := c.Get(context.Background(), "reserve:r8"); err != nil || reserved {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	res, err := env.ingester(c, nil).Ingest(context.Background(), testItem("r8", "h1"))
	close(pub.release)
	got := <-outcomes
	if err != nil {
		t.Errorf("other writer of a waiting item: %v, want no error", err)
	}
	if res != pipeline.ResultCreated {
		t.Errorf("other writer of a waiting item: %s, want created", res)
	}
	if o := got[8]; o.Err != nil {
		t.Errorf("batch copy of item r8: %s, %v; want no error", o.Result, o.Err)
	}
	for id, n := range countByID(t, env) {
		if n != 1 {
			t.Errorf("stream holds %d events of item %s, want 1", n, id)
		}
	}
}
