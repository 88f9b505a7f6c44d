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
	"github.com/redis/go-redis/v9"

	"github.com/syndic-network/syndic/internal/broker"
	"github.com/syndic-network/syndic/internal/store"
	"github.com/syndic-network/syndic/internal/testenv"
	"github.com/syndic-network/syndic/pipeline"
)

// ingestEnv is one stream, one index bucket and one cache per test.
type ingestEnv struct {
	js      jetstream.JetStream
	stream  jetstream.Stream
	index   *pipeline.Index
	indexKV jetstream.KeyValue
	prefix  string
	cacheKV jetstream.KeyValue
	newRC   func() pipeline.Cache
}

func newIngestEnv(t testing.TB, cacheKind string) *ingestEnv {
	t.Helper()
	ctx := context.Background()
	srv := testenv.NATS(t)
	nc := testenv.Conn(t, srv.URL)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatalf("creating JetStream context: %v", err)
	}
	name := testenv.Name(t)
	stream, err := broker.EnsureStream(ctx, js, broker.StreamOptions{
		Stream: name, SubjectPrefix: "t." + name, Replicas: 1,
		MaxAge: time.Hour, DuplicateWindow: time.Minute,
	})
	if err != nil {
		t.Fatalf("creating stream: %v", err)
	}
	idx, err := broker.EnsureKV(ctx, js, name+"_INDEX", 1, time.Hour, false)
	if err != nil {
		t.Fatalf("creating index bucket: %v", err)
	}
	env := &ingestEnv{js: js, stream: stream, index: pipeline.NewIndex(idx), indexKV: idx, prefix: "t." + name}
	switch cacheKind {
	case "redis":
		url, prefix := testenv.Redis(t)
		opts, err := redis.ParseURL(url)
		if err != nil {
			t.Fatalf("parsing redis url: %v", err)
		}
		client := redis.NewClient(opts)
		t.Cleanup(func() { _ = client.Close() })
		n := 0
		env.newRC = func() pipeline.Cache {
			// Each call is a fresh, empty cache: a flushed Redis.
			n++
			return store.NewRedis(client, prefix+string(rune('a'+n))+":")
		}
	default:
		n := 0
		env.newRC = func() pipeline.Cache {
			n++
			kv, err := broker.EnsureKV(ctx, js, name+"_CACHE"+string(rune('A'+n)), 1, 0, true)
			if err != nil {
				t.Fatalf("creating cache bucket: %v", err)
			}
			return store.NewKV(kv)
		}
	}
	return env
}

func (e *ingestEnv) ingester(c pipeline.Cache, pub pipeline.Publisher) *pipeline.Ingester {
	if pub == nil {
		pub = e.js
	}
	return pipeline.NewIngester(pipeline.IngesterOptions{
		Cache: c, Index: e.index, Publisher: pub, SubjectPrefix: e.prefix,
		SeenTTL: time.Hour, ReserveTTL: 10 * time.Second,
	})
}

// events returns every event in the test's stream, in order.
func (e *ingestEnv) events(t *testing.T) []pipeline.Event {
	t.Helper()
	ctx := context.Background()
	info, err := e.stream.Info(ctx)
	if err != nil {
		t.Fatalf("reading stream info: %v", err)
	}
	var out []pipeline.Event
	for seq := info.State.FirstSeq; seq <= info.State.LastSeq && info.State.Msgs > 0; seq++ {
		msg, err := e.stream.GetMsg(ctx, seq)
		if err != nil {
			t.Fatalf("reading message %d: %v", seq, err)
		}
		var ev pipeline.Event
		if err := json.Unmarshal(msg.Data, &ev); err != nil {
			t.Fatalf("decoding message %d: %v", seq, err)
		}
		out = append(out, ev)
	}
	return out
}

func testItem(id, hash string) *pipeline.Item {
	return &pipeline.Item{
		ID: id, Partner: "wipk", Feed: "news", FeedURL: "https://partner.example/rss",
		Title: "Export training " + hash, URL: "https://partner.example/news/" + id,
		Published: time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC), DateSource: pipeline.DateFromFeed,
		ContentHash: hash,
	}
}

func mustIngest(t *testing.T, g *pipeline.Ingester, it *pipeline.Item, want pipeline.Result) {
	t.Helper()
	got, err := g.Ingest(context.Background(), it)
	if err != nil {
		t.Fatalf("ingesting item %s: %v", it.ID, err)
	}
	if got != want {
		t.Fatalf("ingesting item %s: result %q, want %q", it.ID, got, want)
	}
}

var cacheKinds = []string{"embedded", "redis"}

func TestIngestCreatesOnceThenDuplicates(t *testing.T) {
	for _, kind := range cacheKinds {
		t.Run(kind, func(t *testing.T) {
			env := newIngestEnv(t, kind)
			g := env.ingester(env.newRC(), nil)
			mustIngest(t, g, testItem("a1", "h1"), pipeline.ResultCreated)
			mustIngest(t, g, testItem("a1", "h1"), pipeline.ResultDuplicate)
			evs := env.events(t)
			if len(evs) != 1 {
				t.Fatalf("stream has %d events, want 1", len(evs))
			}
			if evs[0].Kind != pipeline.KindCreated || evs[0].Revision != 1 || evs[0].Version != pipeline.EventVersion {
				t.Errorf("event = kind %q revision %d v%d, want created 1 v%d", evs[0].Kind, evs[0].Revision, evs[0].Version, pipeline.EventVersion)
			}
		})
	}
}

func TestIngestChangedContentIsUpdate(t *testing.T) {
	for _, kind := range cacheKinds {
		t.Run(kind, func(t *testing.T) {
			env := newIngestEnv(t, kind)
			g := env.ingester(env.newRC(), nil)
			mustIngest(t, g, testItem("a1", "h1"), pipeline.ResultCreated)
			mustIngest(t, g, testItem("a1", "h2"), pipeline.ResultUpdated)
			mustIngest(t, g, testItem("a1", "h2"), pipeline.ResultDuplicate)
			evs := env.events(t)
			if len(evs) != 2 {
				t.Fatalf("stream has %d events, want 2", len(evs))
			}
			if evs[1].Kind != pipeline.KindUpdated || evs[1].Revision != 2 {
				t.Errorf("second event = kind %q revision %d, want updated 2", evs[1].Kind, evs[1].Revision)
			}
		})
	}
}

func TestIngestFlushedCacheMakesNoDuplicate(t *testing.T) {
	for _, kind := range cacheKinds {
		t.Run(kind, func(t *testing.T) {
			env := newIngestEnv(t, kind)
			mustIngest(t, env.ingester(env.newRC(), nil), testItem("a1", "h1"), pipeline.ResultCreated)
			// A new, empty cache stands for a flushed Redis: the durable
			// index must still recognise the item.
			mustIngest(t, env.ingester(env.newRC(), nil), testItem("a1", "h1"), pipeline.ResultDuplicate)
			if n := len(env.events(t)); n != 1 {
				t.Fatalf("stream has %d events after a cache flush, want 1", n)
			}
		})
	}
}

// failingPublisher fails the first n publishes, then passes through.
type failingPublisher struct {
	mu   sync.Mutex
	n    int
	next pipeline.Publisher
}

func (f *failingPublisher) PublishMsg(ctx context.Context, msg *nats.Msg, opts ...jetstream.PublishOpt) (*jetstream.PubAck, error) {
	f.mu.Lock()
	fail := f.n > 0
	f.n--
	f.mu.Unlock()
	if fail {
		return nil, errors.New("injected publish failure")
	}
	return f.next.PublishMsg(ctx, msg, opts...)
}

func TestIngestFailedPublishReleasesReservation(t *testing.T) {
	for _, kind := range cacheKinds {
		t.Run(kind, func(t *testing.T) {
			env := newIngestEnv(t, kind)
			c := env.newRC()
			g := env.ingester(c, &failingPublisher{n: 1, next: env.js})
			res, err := g.Ingest(context.Background(), testItem("a1", "h1"))
			if err == nil || res != pipeline.ResultRetry {
				t.Fatalf("first ingest = %q, %v; want retry and an error", res, err)
			}
			if n := len(env.events(t)); n != 0 {
				t.Fatalf("stream has %d events after a failed publish, want 0", n)
			}
			// The retry right after must not find the item reserved.
			mustIngest(t, g, testItem("a1", "h1"), pipeline.ResultCreated)
			if n := len(env.events(t)); n != 1 {
				t.Fatalf("stream has %d events after the retry, want 1", n)
			}
		})
	}
}

func TestIngestReservedItemIsRetryNotDuplicate(t *testing.T) {
	for _, kind := range cacheKinds {
		t.Run(kind, func(t *testing.T) {
			env := newIngestEnv(t, kind)
			c := env.newRC()
			ok, err := c.Reserve(context.Background(), "reserve:a1", "other", time.Minute)
			if err != nil || !ok {
				t.Fatalf("reserving as another writer = %v, %v", ok, err)
			}
			res, err := env.ingester(c, nil).Ingest(context.Background(), testItem("a1", "h1"))
			if !errors.Is(err, pipeline.ErrReserved) {
				t.Fatalf("ingest error = %v, want ErrReserved", err)
			}
			if res != pipeline.ResultRetry {
				t.Errorf("ingest result = %q, want retry", res)
			}
		})
	}
}

func TestIngestConcurrentWritersPublishOnce(t *testing.T) {
	for _, kind := range cacheKinds {
		t.Run(kind, func(t *testing.T) {
			env := newIngestEnv(t, kind)
			c := env.newRC()
			var wg sync.WaitGroup
			results := make(chan pipeline.Result, 16)
			for range 16 {
				g := env.ingester(c, nil)
				wg.Go(func() {
					res, _ := g.Ingest(context.Background(), testItem("a1", "h1"))
					results <- res
				})
			}
			wg.Wait()
			close(results)
			created := 0
			for r := range results {
				if r == pipeline.ResultCreated {
					created++
				}
			}
			if created != 1 {
				t.Errorf("%d writers reported created, want 1", created)
			}
			if n := len(env.events(t)); n != 1 {
				t.Errorf("stream has %d events, want 1", n)
			}
		})
	}
}
