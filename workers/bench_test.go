package workers_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/syndic-network/syndic/internal/store"
	"github.com/syndic-network/syndic/internal/testenv"
	"github.com/syndic-network/syndic/workers"
)

// Size of the loopback benchmark: benchHosts servers on distinct
// 127.0.0.0/8 addresses, each serving benchFeedsPerHost feeds of
// benchItems items, so the per-host limit applies as with real partners.
const (
	benchHosts        = 200
	benchFeedsPerHost = 10
	benchItems        = 5
)

// benchHandler serves a distinct small RSS document per path with an
// ETag, and 304 when the request carries it.
func benchHandler(w http.ResponseWriter, r *http.Request) {
	etag := `"` + r.URL.Path + `"`
	if r.Header.Get("If-None-Match") == etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Bench</title><link>https://bench.example/</link>`)
	for i := range benchItems {
		fmt.Fprintf(&b, `<item><guid>https://bench.example%s/%d</guid><title>Story %d of %s</title><link>https://bench.example%s/%d</link><description>Text %d</description><pubDate>Fri, 04 Dec 2026 0%d:00:00 +0000</pubDate></item>`,
			r.URL.Path, i, i, r.URL.Path, r.URL.Path, i, i, i)
	}
	b.WriteString(`</channel></rss>`)
	w.Header().Set("ETag", etag)
	w.Header().Set("Content-Type", "application/rss+xml; charset=utf-8")
	_, _ = w.Write([]byte(b.String()))
}

// resourceUsage returns the CPU seconds (user and system) used by this
// process so far and its peak resident set size in MiB.
func resourceUsage(b *testing.B) (cpuSeconds, maxRSSMiB float64) {
	b.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatalf("reading resource usage: %v", err)
	}
	cpu := time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	// Maxrss is in KiB on Linux.
	return cpu.Seconds(), float64(ru.Maxrss) / 1024
}

// BenchmarkPollLoopback polls 2,000 feeds on 200 loopback hosts twice:
// a full poll that ingests every item, then a poll where every feed
// returns 304. It runs once with the fetch state in the JetStream KV
// cache (the embedded default) and once in Redis. Run it with
// -benchtime=1x; the CPU and memory figures include the test servers and
// the embedded NATS server, which share the process.
func BenchmarkPollLoopback(b *testing.B) {
	for _, cache := range []string{"kv", "redis"} {
		b.Run(cache, func(b *testing.B) {
			var eo envOptions
			if cache == "redis" {
				url, prefix := testenv.Redis(b)
				eo.cache = store.NewRedis(testenv.RedisClient(b, url), prefix)
			}
			eo.poller = func(o *workers.PollerOptions) {
				o.Concurrency = 8
				o.PerHost = 2
				o.Now = time.Now
			}
			benchPollPhases(b, newSchedEnv(b, eo), benchFeeds(b))
		})
	}
}

func benchFeeds(b *testing.B) []workers.Feed {
	b.Helper()
	var feeds []workers.Feed
	for h := range benchHosts {
		script := newPartnerScript(b, fmt.Sprintf("127.0.%d.%d", 1+h/250, 1+h%250))
		script.srv.Config.Handler = http.HandlerFunc(benchHandler)
		for i := range benchFeedsPerHost {
			feeds = append(feeds, testFeed(fmt.Sprintf("f%d-%d", h, i), script.url(fmt.Sprintf("/h%d/f%d", h, i))))
		}
	}
	return feeds
}

func benchPollPhases(b *testing.B, env *schedEnv, feeds []workers.Feed) {
	ctx := context.Background()
	for _, phase := range []struct {
		name    string
		outcome workers.Outcome
	}{
		{"full", workers.OutcomeNewContent},
		{"not-modified", workers.OutcomeNotModified},
	} {
		b.Run(phase.name, func(b *testing.B) {
			for b.Loop() {
				cpu0, _ := resourceUsage(b)
				start := time.Now()
				reports := env.poller.PollAll(ctx, feeds, nil)
				elapsed := time.Since(start)
				cpu1, rss := resourceUsage(b)
				for _, r := range reports {
					if r.Outcome != phase.outcome || r.Err != nil {
						b.Fatalf("%s: outcome %v, err %v; want %v", r.Feed.Key(), r.Outcome, r.Err, phase.outcome)
					}
				}
				b.ReportMetric(float64(len(feeds))/elapsed.Seconds(), "feeds/s")
				b.ReportMetric(cpu1-cpu0, "cpu-s")
				b.ReportMetric(rss, "peak-rss-MiB")
			}
		})
	}
}
