package workers_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/syndic-network/syndic/pipeline"
)

// TestPollConcurrentMemo polls one feed from several goroutines while its
// document slides, so the polls share its parse memo (run it with -race).
func TestPollConcurrentMemo(t *testing.T) {
	const rounds, pollers = 6, 3
	// The test server's ETag is the body length, so each window's names
	// grow to give every document a new length.
	name := func(n int) string { return fmt.Sprint(n) + strings.Repeat("a", n) }
	window := func(r int) []string { return []string{name(r), name(r + 1), name(r + 2)} }
	partner := newPartnerServer(t, rssDoc(window(0)...))
	env := newPollEnv(t, partner.srv.URL, func(js jetstream.JetStream) pipeline.Publisher { return js })
	ctx := context.Background()

	for r := range rounds {
		partner.set(rssDoc(window(r)...))
		var wg sync.WaitGroup
		for range pollers {
			wg.Go(func() { env.poller.Poll(ctx, env.feed) })
		}
		wg.Wait()
	}
	// A last poll of a new document settles items that a concurrent poll
	// left for retry.
	partner.set(rssDoc(window(rounds)...))
	if rep := env.poller.Poll(ctx, env.feed); rep.Err != nil {
		t.Fatalf("last poll: %v", rep.Err)
	}
	if n, want := env.msgs(t), uint64(rounds+3); n != want {
		t.Errorf("stream has %d events, want %d", n, want)
	}
}
