package app

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/syndic-network/syndic/internal/testenv"
	"github.com/syndic-network/syndic/pipeline"
)

// TestPushToVisibleLatency publishes items to the stream at a steady 200 a
// second and measures how long each takes to reach the feed view that the
// feed handler renders every document from. The view applies events in
// stream order, so item k is visible once the view holds k+1 items. A
// watcher checks that every 200 µs, which is the resolution of the
// figures. It is a measurement, not a check, so it runs only when asked:
//
//	SYNDIC_MEASURE=1 go test ./internal/app -run PushToVisible -v
func TestPushToVisibleLatency(t *testing.T) {
	if os.Getenv("SYNDIC_MEASURE") == "" {
		t.Skip("set SYNDIC_MEASURE=1 to measure push-to-visible latency")
	}
	const (
		perSecond = 200
		items     = 2000
	)
	cfg := testConfig(t, testenv.NATS(t).URL, "http://127.0.0.1:1", 1, time.Minute)
	cfg.Feeds.Window = items
	a := openApp(t, cfg)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	views, err := a.StartViews(ctx)
	if err != nil {
		t.Fatalf("starting views: %v", err)
	}
	defer views.Stop()

	visible := make([]time.Time, items)
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(200 * time.Microsecond)
		defer tick.Stop()
		seen := 0
		for seen < items {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			n, now := views.View.Len(), time.Now()
			for ; seen < n; seen++ {
				visible[seen] = now
			}
		}
	}()
	sent, err := publishPaced(ctx, a, items, perSecond)
	if err != nil {
		t.Fatalf("publishing: %v", err)
	}
	<-done
	if ctx.Err() != nil {
		t.Fatalf("not every item became visible: %v", ctx.Err())
	}
	lat := make([]time.Duration, items)
	for i := range items {
		lat[i] = visible[i].Sub(sent[i])
	}
	slices.Sort(lat)
	t.Logf("push-to-visible over %d items at %d/s: p50 %v, p99 %v, max %v",
		items, perSecond, lat[items/2], lat[items*99/100], lat[items-1])
}

// publishPaced publishes n item events at perSecond and returns when each
// was handed to the client.
func publishPaced(ctx context.Context, a *App, n, perSecond int) ([]time.Time, error) {
	sent := make([]time.Time, n)
	tick := time.NewTicker(time.Second / time.Duration(perSecond))
	defer tick.Stop()
	for i := range n {
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-tick.C:
		}
		ev := pipeline.Event{Version: pipeline.EventVersion, Kind: pipeline.KindCreated, Revision: 1,
			Item: pipeline.Item{ID: fmt.Sprintf("bench/f/%d", i), Partner: "bench", Feed: "f",
				Title: fmt.Sprint("Item ", i), Published: time.Now().UTC()}}
		data, err := json.Marshal(ev)
		if err != nil {
			return nil, fmt.Errorf("encoding event %d: %w", i, err)
		}
		sent[i] = time.Now()
		if _, err := a.JS.PublishAsync(a.Config.NATS.SubjectPrefix+".bench", data); err != nil {
			return nil, fmt.Errorf("publishing event %d: %w", i, err)
		}
	}
	select {
	case <-a.JS.PublishAsyncComplete():
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return sent, nil
}
