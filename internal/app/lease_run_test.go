package app

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/syndic-network/syndic/internal/testenv"
)

// blockingFarm serves farmRSS for every path, but only after the test
// closes release. started receives a value when a request arrives.
func blockingFarm(t *testing.T) (srv *httptest.Server, started chan struct{}, release chan struct{}) {
	t.Helper()
	started = make(chan struct{}, 16)
	release = make(chan struct{})
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		started <- struct{}{}
		select {
		case <-release:
		case <-r.Context().Done():
			return
		}
		w.Header().Set("Content-Type", "application/rss+xml")
		_, _ = io.WriteString(w, farmRSS("f1"))
	}))
	// Close release before the server, so Close does not wait for a
	// handler that still blocks.
	t.Cleanup(srv.Close)
	return srv, started, release
}

func streamMsgs(t *testing.T, a *App) uint64 {
	t.Helper()
	info, err := a.Stream.Info(context.Background())
	if err != nil {
		t.Fatalf("reading stream info: %v", err)
	}
	return info.State.Msgs
}

func TestRunPollersFinishesPollOnStop(t *testing.T) {
	ns := testenv.NATS(t)
	srv, started, release := blockingFarm(t)
	a := openApp(t, testConfig(t, ns.URL, srv.URL, 1, time.Hour))
	stop, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan struct{})
	go func() {
		defer close(done)
		a.RunPollers(stop, 30*time.Second, nil, a.Feeds)
	}()

	<-started
	cancel()
	select {
	case <-done:
		t.Fatal("RunPollers returned while a poll was in flight")
	case <-time.After(200 * time.Millisecond):
	}
	close(release)
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("RunPollers did not return after the poll finished")
	}

	if got := streamMsgs(t, a); got != 1 {
		t.Errorf("stream holds %d events after the drained poll, want 1", got)
	}
	if got := a.Leases.Held(); got != 0 {
		t.Errorf("process holds %d leases after shutdown, want 0", got)
	}
	_, err := a.Leases.kv.Get(context.Background(), leaseKey(a.Feeds()[0]))
	if !errors.Is(err, jetstream.ErrKeyNotFound) {
		t.Errorf("lease after shutdown: got error %v, want ErrKeyNotFound", err)
	}
}

func TestRunPollersCancelsAfterGrace(t *testing.T) {
	ns := testenv.NATS(t)
	srv, started, release := blockingFarm(t)
	t.Cleanup(func() { close(release) })
	a := openApp(t, testConfig(t, ns.URL, srv.URL, 1, time.Hour))
	stop, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan struct{})
	go func() {
		defer close(done)
		a.RunPollers(stop, 300*time.Millisecond, nil, a.Feeds)
	}()

	<-started
	begin := time.Now()
	cancel()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("RunPollers did not return after the grace period")
	}
	if took := time.Since(begin); took < 300*time.Millisecond {
		t.Errorf("RunPollers returned after %s, before the 300ms grace", took)
	}
	if got := streamMsgs(t, a); got != 0 {
		t.Errorf("stream holds %d events after a cancelled poll, want 0", got)
	}
}
