package pipeline_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/syndic-network/syndic/pipeline"
)

// lostAckPublisher stores the first n publishes and then reports a
// failure, as when the acknowledgement is lost or the writer crashes
// before it reads it.
type lostAckPublisher struct {
	mu   sync.Mutex
	n    int
	next pipeline.Publisher
}

func (p *lostAckPublisher) PublishMsg(ctx context.Context, msg *nats.Msg, opts ...jetstream.PublishOpt) (*jetstream.PubAck, error) {
	ack, err := p.next.PublishMsg(ctx, msg, opts...)
	p.mu.Lock()
	defer p.mu.Unlock()
	if err == nil && p.n > 0 {
		p.n--
		return nil, errors.New("injected lost acknowledgement")
	}
	return ack, err
}

// TestIngestLostAckPublishesOnce checks that a retry after a lost
// acknowledgement sends the same Nats-Msg-Id, so the stream drops the copy
// inside its duplicate window, for a new item and for an update.
func TestIngestLostAckPublishesOnce(t *testing.T) {
	env := newIngestEnv(t, "embedded")
	ctx := context.Background()
	c := env.newRC()
	lost := &lostAckPublisher{next: env.js}
	g := env.ingester(c, lost)

	steps := []struct {
		name string
		item *pipeline.Item
		want pipeline.Result
	}{
		{"new item", testItem("a1", "h1"), pipeline.ResultCreated},
		{"update", testItem("a1", "h2"), pipeline.ResultUpdated},
	}
	for i, step := range steps {
		lost.mu.Lock()
		lost.n = 1
		lost.mu.Unlock()
		if res, err := g.Ingest(ctx, step.item); err == nil || res != pipeline.ResultRetry {
			t.Fatalf("%s: first ingest = %q, %v; want retry and an error", step.name, res, err)
		}
		if n := len(env.events(t)); n != i+1 {
			t.Fatalf("%s: stream has %d events after the lost acknowledgement, want %d", step.name, n, i+1)
		}
		mustIngest(t, g, step.item, step.want)
		if n := len(env.events(t)); n != i+1 {
			t.Fatalf("%s: stream has %d events after the retry, want %d: the retry was stored again", step.name, n, i+1)
		}
	}
	evs := env.events(t)
	if evs[0].Revision != 1 {
		t.Errorf("first event: revision %d, want 1", evs[0].Revision)
	}
	if evs[1].Revision != 2 {
		t.Errorf("second event: revision %d, want 2", evs[1].Revision)
	}
	if evs[1].ContentHash != "h2" {
		t.Errorf("second event: content hash %q, want h2", evs[1].ContentHash)
	}
}
