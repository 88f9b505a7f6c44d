package workers_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/syndic-network/syndic/internal/broker"
	"github.com/syndic-network/syndic/internal/store"
	"github.com/syndic-network/syndic/internal/testenv"
	"github.com/syndic-network/syndic/pipeline"
	"github.com/syndic-network/syndic/workers"
)

// partnerServer serves one RSS document with an ETag and records the
// conditional headers of every request.
type partnerServer struct {
	mu      sync.Mutex
	body    string
	etag    string
	condHdr []string
	srv     *httptest.Server
}

func newPartnerServer(t *testing.T, body string) *partnerServer {
	t.Helper()
	p := &partnerServer{}
	p.set(body)
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		defer p.mu.Unlock()
		inm := r.Header.Get("If-None-Match")
		p.condHdr = append(p.condHdr, inm)
		if inm != "" && inm == p.etag {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("ETag", p.etag)
		w.Header().Set("Content-Type", "application/rss+xml; charset=utf-8")
		_, _ = w.Write([]byte(p.body))
	}))
	t.Cleanup(p.srv.Close)
	return p
}

func (p *partnerServer) set(body string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.body = body
	p.etag = fmt.Sprintf(`"v%d"`, len(body))
}

// lastCondition returns the If-None-Match header of the latest request.
func (p *partnerServer) lastCondition() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.condHdr[len(p.condHdr)-1]
}

func rssDoc(items ...string) string {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Partner</title><link>https://partner.example/</link>`)
	for _, it := range items {
		fmt.Fprintf(&b, `<item><guid>https://partner.example/news/%s</guid><title>News %s</title><link>https://partner.example/news/%s</link><description>Text of %s</description><pubDate>Mon, 30 Nov 2026 09:00:00 +0000</pubDate></item>`, it, it, it, it)
	}
	b.WriteString(`</channel></rss>`)
	return b.String()
}

type flakyPublisher struct {
	mu    sync.Mutex
	fails int
	next  pipeline.Publisher
}

func (f *flakyPublisher) PublishMsg(ctx context.Context, m *nats.Msg, o ...jetstream.PublishOpt) (*jetstream.PubAck, error) {
	f.mu.Lock()
	fail := f.fails > 0
	f.fails--
	f.mu.Unlock()
	if fail {
		return nil, errors.New("injected publish failure")
	}
	return f.next.PublishMsg(ctx, m, o...)
}

type pollEnv struct {
	poller *workers.Poller
	stream jetstream.Stream
	feed   workers.Feed
}

func newPollEnv(t *testing.T, feedURL string, pub func(jetstream.JetStream) pipeline.Publisher) *pollEnv {
	t.Helper()
	return newLoggedPollEnv(t, feedURL, pub, nil)
}

// newLoggedPollEnv is newPollEnv with a poller that logs to log (nil
// for no logging).
func newLoggedPollEnv(t *testing.T, feedURL string, pub func(jetstream.JetStream) pipeline.Publisher, log *slog.Logger) *pollEnv {
	t.Helper()
	ctx := context.Background()
	srv := testenv.NATS(t)
	js, err := jetstream.New(testenv.Conn(t, srv.URL))
	if err != nil {
		t.Fatalf("creating JetStream context: %v", err)
	}
	name := testenv.Name(t)
	stream, err := broker.EnsureStream(ctx, js, broker.StreamOptions{
		Stream: name, SubjectPrefix: "t." + name, Replicas: 1, MaxAge: time.Hour, DuplicateWindow: time.Minute,
	})
	if err != nil {
		t.Fatalf("creating stream: %v", err)
	}
	kv := func(suffix string, ttl bool) jetstream.KeyValue {
		b, err := broker.EnsureKV(ctx, js, name+suffix, 1, 0, ttl)
		if err != nil {
			t.Fatalf("creating bucket %s: %v", suffix, err)
		}
		return b
	}
	cache := store.NewKV(kv("_CACHE", true))
	ing := pipeline.NewIngester(pipeline.IngesterOptions{
		Cache: cache, Index: pipeline.NewIndex(kv("_INDEX", false)), Publisher: pub(js),
		SubjectPrefix: "t." + name, SeenTTL: time.Hour,
	})
	fetcher := workers.NewFetcher(workers.FetcherOptions{
		Timeout: 5 * time.Second, MaxBody: 1 << 20, AllowPrivateNetworks: true, UserAgent: "syndic-test",
	})
	p := workers.NewPoller(workers.PollerOptions{
		Fetcher: fetcher, Ingester: ing, State: cache, Policies: pipeline.NewPolicies(kv("_META", false)),
		MinInterval: time.Minute, MaxInterval: time.Hour, Concurrency: 2, Logger: log,
	})
	return &pollEnv{poller: p, stream: stream, feed: workers.Feed{
		Partner: "wipk", ID: "news", URL: feedURL, Interval: 15 * time.Minute, Language: "pl",
	}}
}

func (e *pollEnv) msgs(t *testing.T) uint64 {
	t.Helper()
	info, err := e.stream.Info(context.Background())
	if err != nil {
		t.Fatalf("reading stream info: %v", err)
	}
	return info.State.Msgs
}

func TestPollSecondPollIsConditional(t *testing.T) {
	partner := newPartnerServer(t, rssDoc("1", "2", "3"))
	env := newPollEnv(t, partner.srv.URL, func(js jetstream.JetStream) pipeline.Publisher { return js })
	ctx := context.Background()

	first := env.poller.Poll(ctx, env.feed)
	if first.Err != nil || first.New != 3 {
		t.Fatalf("first poll = %d new, err %v; want 3 new", first.New, first.Err)
	}
	second := env.poller.Poll(ctx, env.feed)
	if second.Outcome != workers.OutcomeNotModified {
		t.Errorf("second poll outcome = %v, want not_modified", second.Outcome)
	}
	if got := partner.lastCondition(); got == "" {
		t.Error("second poll sent no If-None-Match")
	}
	partner.set(rssDoc("1", "2", "3", "4"))
	third := env.poller.Poll(ctx, env.feed)
	if third.New != 1 || third.Duplicate != 3 {
		t.Errorf("changed feed = %d new, %d duplicate; want 1 and 3", third.New, third.Duplicate)
	}
	if n := env.msgs(t); n != 4 {
		t.Errorf("stream has %d events, want 4", n)
	}
}

func TestPollFailedPublishRefetchesWithoutValidators(t *testing.T) {
	partner := newPartnerServer(t, rssDoc("1", "2"))
	env := newPollEnv(t, partner.srv.URL, func(js jetstream.JetStream) pipeline.Publisher {
		return &flakyPublisher{fails: 1, next: js}
	})
	ctx := context.Background()

	first := env.poller.Poll(ctx, env.feed)
	if first.Retry != 1 || first.Err == nil {
		t.Fatalf("first poll = %d retry, err %v; want 1 item left for retry", first.Retry, first.Err)
	}
	second := env.poller.Poll(ctx, env.feed)
	if got := partner.lastCondition(); got != "" {
		t.Errorf("poll after a failed publish sent If-None-Match %q, want none", got)
	}
	if second.Err != nil || second.New != 1 {
		t.Errorf("second poll = %d new, err %v; want the failed item ingested", second.New, second.Err)
	}
	if n := env.msgs(t); n != 2 {
		t.Errorf("stream has %d events, want 2", n)
	}
}

func TestPollBadFeedReportsAndContinues(t *testing.T) {
	partner := newPartnerServer(t, "<html><body>not a feed</body></html>")
	env := newPollEnv(t, partner.srv.URL, func(js jetstream.JetStream) pipeline.Publisher { return js })
	good := newPartnerServer(t, rssDoc("9"))
	goodFeed := env.feed
	goodFeed.ID, goodFeed.URL = "other", good.srv.URL
	reports := env.poller.PollAll(context.Background(), []workers.Feed{env.feed, goodFeed}, nil)
	if !errors.Is(reports[0].Err, pipeline.ErrNotAFeed) {
		t.Errorf("bad feed error = %v, want ErrNotAFeed", reports[0].Err)
	}
	if reports[1].Err != nil || reports[1].New != 1 {
		t.Errorf("good feed = %d new, err %v; want 1 new", reports[1].New, reports[1].Err)
	}
}
