package workers_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/nats-io/nats.go/jetstream"

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
	logs := &lockedBuffer{}
	env := newLoggedPollEnv(t, srv.URL+"/feed.xml",
		func(js jetstream.JetStream) pipeline.Publisher { return js },
		slog.New(slog.NewTextHandler(logs, nil)))
	p, feed := env.poller, env.feed

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
