package workers_test

import (
	"fmt"
	"net/http"
	"sort"
	"testing"
	"time"
)

// BenchmarkPush sends one new item per request, one request at a time, and
// reports accepted items per second and the p50 and p99 time from request
// to response. The response comes after the PubAck, so the item is in the
// stream by then.
func BenchmarkPush(b *testing.B) {
	for _, kind := range pushCacheKinds {
		b.Run(kind, func(b *testing.B) {
			env := newPushEnv(b, kind, pushConfig{maxBody: 1 << 20, maxItems: 100, rate: 1_000_000})
			latencies := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			start := time.Now()
			for i := range b.N {
				body := fmt.Sprintf(`{"id":"b-%d","title":"Item %d","content_html":"<p>Text of item %d</p>"}`, i, i, i)
				sent := time.Now()
				r := env.push(env.tokenA, body)
				latencies = append(latencies, time.Since(sent))
				if r.status != http.StatusOK {
					b.Fatalf("status = %d: %s", r.status, r.body)
				}
			}
			elapsed := time.Since(start)
			b.StopTimer()
			sort.Slice(latencies, func(i, j int) bool { return latencies[i] < latencies[j] })
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "items/s")
			b.ReportMetric(float64(latencies[len(latencies)/2].Microseconds())/1000, "p50_ms")
			b.ReportMetric(float64(latencies[len(latencies)*99/100].Microseconds())/1000, "p99_ms")
		})
	}
}
