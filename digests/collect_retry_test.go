package digests

import (
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/syndic-network/syndic/pipeline"
)

// unansweredConsumer fails its first pull requests with no responder, as
// a cluster does while one of its servers restarts.
type unansweredConsumer struct {
	jetstream.Consumer
	failures int
}

func (c *unansweredConsumer) Fetch(batch int, opts ...jetstream.FetchOpt) (jetstream.MessageBatch, error) {
	if c.failures > 0 {
		c.failures--
		return nil, nats.ErrNoResponders
	}
	return c.Consumer.Fetch(batch, opts...)
}

// TestCollectRetriesNoResponders checks that a digest run reads every
// event when its first pull requests find no responder, and gives up
// when they keep failing.
func TestCollectRetriesNoResponders(t *testing.T) {
	e := newNATSEnv(t)
	ctx := testContext(t)
	since := time.Now().Add(-time.Minute)
	for _, id := range []string{"a", "b", "c"} {
		e.publish(t, event(pipeline.KindCreated, 1, pipeline.Item{ID: id, Partner: "wipk", Title: "Item " + id}))
	}
	info, err := e.Stream.Info(ctx)
	if err != nil {
		t.Fatalf("reading stream info: %v", err)
	}

	for _, tc := range []struct {
		name      string
		failures  int
		wantItems int
		wantErr   bool
	}{
		{"two failures", 2, 3, false},
		{"failures past the limit", maxNoResponders + 1, 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			start := since.Add(time.Nanosecond)
			cons, err := e.Stream.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{
				DeliverPolicy: jetstream.DeliverByStartTimePolicy, OptStartTime: &start,
			})
			if err != nil {
				t.Fatalf("creating ordered consumer: %v", err)
			}
			w := &Window{items: map[string]*windowItem{}}
			err = e.Collector.read(ctx, &unansweredConsumer{Consumer: cons, failures: tc.failures}, w, info.State.LastSeq, time.Now())
			if (err != nil) != tc.wantErr {
				t.Fatalf("read error = %v, want error %v", err, tc.wantErr)
			}
			if len(w.items) != tc.wantItems {
				t.Errorf("read %d items, want %d", len(w.items), tc.wantItems)
			}
		})
	}
}
