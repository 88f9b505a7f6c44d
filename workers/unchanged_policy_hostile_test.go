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

// putFailing is a KV bucket whose writes fail while fail is set.
type putFailing struct {
	jetstream.KeyValue
	fail *atomic.Bool
}

func (k putFailing) Put(ctx context.Context, key string, value []byte) (uint64, error) {
	if k.fail.Load() {
		return 0, errors.New("store unavailable")
	}
	return k.KeyValue.Put(ctx, key, value)
}

// TestHostileUnchangedBodyRetriesIdentityPolicy gives a feed a document
// that repeats a GUID while the policy store rejects writes, so the switch
// to link keys is not stored. The store recovers, the same document is
// served again, and then the item with the repeated GUID leaves the feed.
// The remaining items must keep their link-keyed ids rather than come back
// as new items under GUID keys.
func TestHostileUnchangedBodyRetriesIdentityPolicy(t *testing.T) {
	var fail atomic.Bool
	fail.Store(true)
	env := newSchedEnv(t, envOptions{poller: func(o *workers.PollerOptions) {
		js, err := jetstream.New(testenv.Conn(t, testenv.NATS(t).URL))
		if err != nil {
			t.Fatalf("creating JetStream context: %v", err)
		}
		kv, err := broker.EnsureKV(context.Background(), js, testenv.Name(t)+"_POLICY", 1, 0, false)
		if err != nil {
			t.Fatalf("creating policy bucket: %v", err)
		}
		o.Policies = pipeline.NewPolicies(putFailing{KeyValue: kv, fail: &fail})
	}})
	date := env.clock.Now().Add(-time.Hour).Format(time.RFC1123Z)
	item := func(guid, n string) string {
		return `<item><guid isPermaLink="false">` + guid + `</guid><title>Story ` + n +
			`</title><link>https://partner.example/a/` + n + `</link><pubDate>` + date + `</pubDate></item>`
	}
	doc := func(items ...string) string {
		s := `<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Partner</title><link>https://partner.example/</link>`
		for _, it := range items {
			s += it
		}
		return s + `</channel></rss>`
	}
	partner := newPartnerScript(t, "127.0.0.1")
	partner.route("/feed", feedOK(doc(item("g1", "1"), item("g1", "2"), item("g3", "3"))))
	f := testFeed("dup", partner.url("/feed"))
	ctx := context.Background()

	if first := env.poller.Poll(ctx, f); first.New != 3 {
		t.Fatalf("poll 1 = %d new, err %v; want 3 new", first.New, first.Err)
	}
	fail.Store(false)
	env.clock.Add(time.Hour)
	second := env.poller.Poll(ctx, f)
	t.Logf("poll 2 (same document, policy store back) = outcome %v", second.Outcome)

	partner.route("/feed", feedOK(doc(item("g1", "1"), item("g3", "3"))))
	env.clock.Add(time.Hour)
	third := env.poller.Poll(ctx, f)
	if third.New != 0 {
		t.Errorf("poll 3 = %d new, %d duplicate; want 0 new: stories 1 and 3 were published already and came back under new ids", third.New, third.Duplicate)
	}
	if n := len(env.events(t)); n != 3 {
		t.Errorf("stream has %d events, want 3", n)
	}
}
