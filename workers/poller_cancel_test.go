package workers_test

import (
	"context"
	"log/slog"
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

// lockedBuffer collects log lines written from several goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestPollCancelledByShutdown cancels a poll while the partner's server
// is still sending its response, as a stop signal does. The poll must not
// count as a failure of the feed, store no state and log no warning.
func TestPollCancelledByShutdown(t *testing.T) {
	arrived := make(chan struct{}, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived <- struct{}{}
		<-r.Context().Done() // a partner slower than the shutdown grace
	}))
	t.Cleanup(srv.Close)

	ctx := t.Context()
	js, err := jetstream.New(testenv.Conn(t, testenv.NATS(t).URL))
	if err != nil {
		t.Fatalf("creating JetStream context: %v", err)
	}
	name := testenv.Name(t)
	if _, err := broker.EnsureStream(ctx, js, broker.StreamOptions{
		Stream: name, SubjectPrefix: "t." + name, Replicas: 1, MaxAge: time.Hour, DuplicateWindow: time.Minute,
	}); err != nil {
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
	logs := &lockedBuffer{}
	p := workers.NewPoller(workers.PollerOptions{
		Fetcher: workers.NewFetcher(workers.FetcherOptions{
			Timeout: 30 * time.Second, MaxBody: 1 << 20, AllowPrivateNetworks: true, UserAgent: "syndic-test",
		}),
		Ingester: pipeline.NewIngester(pipeline.IngesterOptions{
			Cache: cache, Index: pipeline.NewIndex(kv("_INDEX", false)), Publisher: js,
			SubjectPrefix: "t." + name, SeenTTL: time.Hour,
		}),
		State: cache, Policies: pipeline.NewPolicies(kv("_META", false)),
		MinInterval: time.Minute, MaxInterval: time.Hour, Concurrency: 2,
		Logger: slog.New(slog.NewTextHandler(logs, nil)),
	})
	feed := workers.Feed{Partner: "wipk", ID: "news", URL: srv.URL + "/feed.xml", Interval: 15 * time.Minute}

	pollCtx, stop := context.WithCancel(ctx)
	done := make(chan workers.PollReport, 1)
	go func() { done <- p.Poll(pollCtx, feed) }()
	<-arrived
	stop()
	rep := <-done

	if strings.Contains(logs.String(), "level=WARN") {
		t.Errorf("a cancelled poll logged a warning:\n%s", logs.String())
	}
	if !strings.Contains(logs.String(), "feed poll cancelled by shutdown") {
		t.Errorf("log has no line for the cancelled poll:\n%s", logs.String())
	}
	if rep.Err == nil {
		t.Error("report of the cancelled poll has no error")
	}
	health, err := p.Health(ctx, []workers.Feed{feed})
	if err != nil {
		t.Fatalf("reading feed health: %v", err)
	}
	if got := health[0].ConsecutiveFailures; got != 0 {
		t.Errorf("consecutive failures = %d, want 0", got)
	}
	if !health[0].LastAttempt.IsZero() {
		t.Errorf("last attempt = %v, want none stored", health[0].LastAttempt)
	}
}
