package app

import (
	"context"
	"log/slog"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/syndic-network/syndic/internal/config"
	"github.com/syndic-network/syndic/internal/testenv"
)

// runningFollows returns the number of goroutines that apply a watch to
// a watched copy of the WebSub bucket.
func runningFollows() int {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			return strings.Count(string(buf[:n]), "(*watchedSubscriptions).follow(")
		}
		buf = make([]byte, 2*len(buf))
	}
}

// TestHubReloadsLeaveOneWatch reloads the hub deliveries several times
// and checks that one watch of the bucket is left, both as a goroutine
// and as a consumer on nats-server.
func TestHubReloadsLeaveOneWatch(t *testing.T) {
	cfg := testConfig(t, testenv.NATS(t).URL, "http://127.0.0.1:1", 1, time.Minute)
	cfg.HTTP.BaseURL = "https://hub.example.org"
	a := openApp(t, cfg)
	logs := &lockedBuffer{}
	a.Log = slog.New(slog.NewTextHandler(logs, nil))
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	before := runningFollows()
	reloads := make(chan struct{})
	var current atomic.Pointer[config.Config]
	current.Store(cfg)
	runHubDeliveries(t, ctx, a, reloads, current.Load)

	const restarts = 5
	for n := 1; n <= restarts; n++ {
		reloads <- struct{}{}
		waitFor(t, 10*time.Second, "the restarted deliveries", func() bool {
			return strings.Count(logs.String(), "WebSub deliveries restarted") == n
		})
	}
	waitFor(t, 10*time.Second, "one watch goroutine", func() bool {
		return runningFollows() == before+1
	})
	stream, err := a.JS.Stream(ctx, "KV_"+cfg.NATS.KVPrefix+"_WEBSUB")
	if err != nil {
		t.Fatalf("opening the bucket's stream: %v", err)
	}
	waitFor(t, 10*time.Second, "one consumer on the bucket", func() bool {
		info, err := stream.Info(ctx)
		return err == nil && info.State.Consumers == 1
	})
}
