package workers_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/syndic-network/syndic/internal/broker"
	"github.com/syndic-network/syndic/internal/testenv"
	"github.com/syndic-network/syndic/pipeline"
	"github.com/syndic-network/syndic/workers"
)

// getFailing is a KV bucket whose reads fail while fail is set.
type getFailing struct {
	jetstream.KeyValue
	fail *atomic.Bool
}

func (k getFailing) Get(ctx context.Context, key string) (jetstream.KeyValueEntry, error) {
	if k.fail.Load() {
		return nil, errors.New("store unavailable")
	}
	return k.KeyValue.Get(ctx, key)
}

// TestUnchangedBodyAfterItemsLeftIsRead leaves a document's items for the
// next poll, because the identity policy cannot be read, and then serves
// the same document again: it must be read and its items published, not
// taken for the document last ingested completely.
func TestUnchangedBodyAfterItemsLeftIsRead(t *testing.T) {
	var fail atomic.Bool
	env := newSchedEnv(t, envOptions{poller: func(o *workers.PollerOptions) {
		js, err := jetstream.New(testenv.Conn(t, testenv.NATS(t).URL))
		if err != nil {
			t.Fatalf("creating JetStream context: %v", err)
		}
		kv, err := broker.EnsureKV(context.Background(), js, testenv.Name(t)+"_POLICY", 1, 0, false)
		if err != nil {
			t.Fatalf("creating policy bucket: %v", err)
		}
		o.Policies = pipeline.NewPolicies(getFailing{KeyValue: kv, fail: &fail})
	}})
	now := env.clock.Now()
	partner := newPartnerScript(t, "127.0.0.1")
	partner.route("/feed", feedOK(datedRSS("", now.Add(-time.Hour))))
	f := testFeed("left", partner.url("/feed"))
	ctx := context.Background()

	if first := env.poller.Poll(ctx, f); first.New != 1 {
		t.Fatalf("poll 1 = %d new, err %v; want 1 new", first.New, first.Err)
	}
	partner.route("/feed", feedOK(datedRSS("", now.Add(-time.Hour), now)))
	fail.Store(true)
	env.clock.Add(time.Hour)
	second := env.poller.Poll(ctx, f)
	if second.Class != "items_left" || second.New != 0 {
		t.Fatalf("poll 2 = class %q, %d new; want items_left and nothing published", second.Class, second.New)
	}
	fail.Store(false)
	env.clock.Add(time.Hour)
	third := env.poller.Poll(ctx, f)
	if third.Outcome != workers.OutcomeNewContent || third.New != 1 || third.Duplicate != 1 {
		t.Errorf("poll 3 = outcome %v, %d new, %d duplicate; want the left item published", third.Outcome, third.New, third.Duplicate)
	}
	if n := len(env.events(t)); n != 2 {
		t.Errorf("stream has %d events, want 2", n)
	}
	env.clock.Add(time.Hour)
	if fourth := env.poller.Poll(ctx, f); fourth.Outcome != workers.OutcomeNotModified {
		t.Errorf("poll 4 outcome %v, want not modified once the document was ingested completely", fourth.Outcome)
	}
}
