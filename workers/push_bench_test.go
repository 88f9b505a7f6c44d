package workers_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/syndic-network/syndic/feeds"
	"github.com/syndic-network/syndic/pipeline"
)

// BenchmarkPush sends one new item per request, one request at a time. It
// reports accepted items per second and the p50 and p99 time from request
// to response, which comes after the PubAck. It also reports the p50 and
// p99 time from request until a feeds.View fed by an ordered consumer
// holds the item, as the merged feeds' view does.
func BenchmarkPush(b *testing.B) {
	for _, kind := range pushCacheKinds {
		b.Run(kind, func(b *testing.B) {
			env := newPushEnv(b, kind, pushConfig{maxBody: 1 << 20, maxItems: 100, rate: 1_000_000})
			applied := followView(b, env.stream)
			responded := make([]time.Duration, 0, b.N)
			visible := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			start := time.Now()
			for i := range b.N {
				body := fmt.Sprintf(`{"id":"b-%d","title":"Item %d","content_html":"<p>Text of item %d</p>"}`, i, i, i)
				sent := time.Now()
				r := env.push(env.tokenA, body)
				responded = append(responded, time.Since(sent))
				if r.status != http.StatusOK {
					b.Fatalf("status = %d: %s", r.status, r.body)
				}
				waitApplied(b, applied, i+1)
				visible = append(visible, time.Since(sent))
			}
			elapsed := time.Since(start)
			b.StopTimer()
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "items/s")
			reportPercentiles(b, responded, "response")
			reportPercentiles(b, visible, "visible")
		})
	}
}

// followView applies every event of stream to a new view and sends the
// view's length after each one.
func followView(b *testing.B, stream jetstream.Stream) <-chan int {
	b.Helper()
	view := feeds.NewView(1_000_000)
	out := make(chan int, 1024)
	cons, err := stream.OrderedConsumer(context.Background(), jetstream.OrderedConsumerConfig{})
	if err != nil {
		b.Fatalf("creating consumer: %v", err)
	}
	cc, err := cons.Consume(func(msg jetstream.Msg) {
		var ev pipeline.Event
		if err := json.Unmarshal(msg.Data(), &ev); err == nil {
			view.Apply(ev)
		}
		out <- view.Len()
	})
	if err != nil {
		b.Fatalf("consuming: %v", err)
	}
	b.Cleanup(cc.Stop)
	return out
}

func waitApplied(b *testing.B, applied <-chan int, want int) {
	b.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case n := <-applied:
			if n >= want {
				return
			}
		case <-timeout:
			b.Fatalf("view did not reach %d items within 10s", want)
		}
	}
}

func reportPercentiles(b *testing.B, d []time.Duration, name string) {
	sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
	b.ReportMetric(float64(d[len(d)/2].Microseconds())/1000, name+"_p50_ms")
	b.ReportMetric(float64(d[len(d)*99/100].Microseconds())/1000, name+"_p99_ms")
}
