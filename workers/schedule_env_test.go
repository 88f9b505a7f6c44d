package workers_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/syndic-network/syndic/internal/broker"
	"github.com/syndic-network/syndic/internal/store"
	"github.com/syndic-network/syndic/internal/testenv"
	"github.com/syndic-network/syndic/pipeline"
	"github.com/syndic-network/syndic/workers"
)

// schedEnv is a poller on an in-process NATS server with a stream, an index
// and a cache bucket, and a clock the test controls.
type schedEnv struct {
	poller *workers.Poller
	stream jetstream.Stream
	cache  pipeline.Cache
	clock  *testenv.Clock
}

// envOptions are the knobs of newSchedEnv.
type envOptions struct {
	// cache replaces the JetStream KV cache, such as a Redis cache shared
	// by two pollers.
	cache pipeline.Cache
	// guardPrivate keeps the SSRF guard on for loopback addresses, which
	// tests otherwise need to reach their servers.
	guardPrivate bool
	poller       func(*workers.PollerOptions)
}

func newSchedEnv(t testing.TB, eo envOptions) *schedEnv {
	t.Helper()
	ctx := context.Background()
	js, err := jetstream.New(testenv.Conn(t, testenv.NATS(t).URL))
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
	bucket := func(suffix string, ttl bool) jetstream.KeyValue {
		b, err := broker.EnsureKV(ctx, js, name+suffix, 1, 0, ttl)
		if err != nil {
			t.Fatalf("creating bucket %s: %v", suffix, err)
		}
		return b
	}
	cache := eo.cache
	if cache == nil {
		cache = store.NewKV(bucket("_CACHE", true))
	}
	ing := pipeline.NewIngester(pipeline.IngesterOptions{
		Cache: cache, Index: pipeline.NewIndex(bucket("_INDEX", false)), Publisher: js,
		SubjectPrefix: "t." + name, SeenTTL: time.Hour,
	})
	fo := workers.FetcherOptions{
		Timeout: 5 * time.Second, AllowPrivateNetworks: !eo.guardPrivate, UserAgent: "syndic-test",
	}
	clk := testenv.NewClock(time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC))
	po := workers.PollerOptions{
		Fetcher: workers.NewFetcher(fo), Ingester: ing, State: cache,
		Policies:    pipeline.NewPolicies(bucket("_META", false)),
		MinInterval: time.Minute, MaxInterval: time.Hour, Concurrency: 4, PerHost: 2,
		BackfillMaxAge: 7 * 24 * time.Hour, Now: clk.Now,
		Jitter: func(d time.Duration) time.Duration { return d - 1 },
	}
	if eo.poller != nil {
		eo.poller(&po)
	}
	return &schedEnv{poller: workers.NewPoller(po), stream: stream, cache: cache, clock: clk}
}

// events returns every item event in the stream, oldest first.
func (e *schedEnv) events(t *testing.T) []pipeline.Event {
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
			t.Fatalf("reading event %d: %v", seq, err)
		}
		var ev pipeline.Event
		if err := json.Unmarshal(msg.Data, &ev); err != nil {
			t.Fatalf("decoding event %d: %v", seq, err)
		}
		out = append(out, ev)
	}
	return out
}

// response is one scripted HTTP response of a partnerScript.
type response struct {
	status  int
	header  map[string]string
	body    string
	blockOn chan struct{} // when set, the handler waits for it to close
}

// partnerScript serves scripted responses by path and counts requests.
type partnerScript struct {
	mu     sync.Mutex
	routes map[string]response
	hits   map[string]int
	srv    *httptest.Server
}

// newPartnerScript starts a script server listening on ip (a 127.0.0.0/8
// address), so that tests can give partners distinct hosts.
func newPartnerScript(t testing.TB, ip string) *partnerScript {
	t.Helper()
	p := &partnerScript{routes: map[string]response{}, hits: map[string]int{}}
	p.srv = httptest.NewUnstartedServer(http.HandlerFunc(p.serve))
	ln, err := net.Listen("tcp", ip+":0")
	if err != nil {
		t.Fatalf("listening on %s: %v", ip, err)
	}
	p.srv.Listener = ln
	p.srv.Start()
	t.Cleanup(p.srv.Close)
	return p
}

func (p *partnerScript) route(path string, r response) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.routes[path] = r
}

func (p *partnerScript) hitCount(path string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.hits[path]
}

func (p *partnerScript) url(path string) string { return p.srv.URL + path }

func (p *partnerScript) serve(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	p.hits[r.URL.Path]++
	resp, ok := p.routes[r.URL.Path]
	p.mu.Unlock()
	if !ok {
		http.NotFound(w, r)
		return
	}
	if resp.blockOn != nil {
		select {
		case <-resp.blockOn:
		case <-r.Context().Done():
			return
		}
	}
	for k, v := range resp.header {
		w.Header().Set(k, v)
	}
	if resp.status == 0 {
		resp.status = http.StatusOK
	}
	w.WriteHeader(resp.status)
	_, _ = w.Write([]byte(resp.body))
}

// feedOK returns a 200 response with an RSS document.
func feedOK(body string) response {
	return response{header: map[string]string{"Content-Type": "application/rss+xml; charset=utf-8"}, body: body}
}

// datedRSS returns an RSS document whose items are published at the given
// times, with an optional channel element such as "<ttl>60</ttl>".
func datedRSS(channelExtra string, dates ...time.Time) string {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Partner</title><link>https://partner.example/</link>`)
	b.WriteString(channelExtra)
	for i, d := range dates {
		fmt.Fprintf(&b, `<item><guid>https://partner.example/a/%d</guid><title>Story %d</title><link>https://partner.example/a/%d</link><pubDate>%s</pubDate></item>`,
			i, i, i, d.Format(time.RFC1123Z))
	}
	b.WriteString(`</channel></rss>`)
	return b.String()
}

func testFeed(id, url string) workers.Feed {
	return workers.Feed{Partner: "wipk", ID: id, URL: url, Interval: 15 * time.Minute, Language: "pl"}
}

// healthOf returns the health row of feed key, failing the test when it is
// missing.
func healthOf(t *testing.T, rows []workers.FeedHealth, key string) workers.FeedHealth {
	t.Helper()
	for _, r := range rows {
		if r.Feed == key {
			return r
		}
	}
	t.Fatalf("no health row for %s in %d rows", key, len(rows))
	return workers.FeedHealth{}
}
