package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/syndic-network/syndic/internal/bench"
)

// runServe measures `syndic run` as a process: memory once every item
// arrived, merged-feed serving against a static file server, and the
// time to /readyz after a restart, repeated f.runs times.
func runServe(ctx context.Context, f flags, o bench.Options, stdout, stderr io.Writer) error {
	var reports []bench.ServeReport
	for i := range f.runs {
		rep, err := bench.RunServe(ctx, bench.ServeOptions{
			Options: o, Bin: f.syndic, Connections: f.connections, Duration: f.duration,
			RestartMemoryLimit: f.restartMemoryLimit, PollAfterRestart: f.pollAfterRestart,
		})
		if err != nil {
			return fmt.Errorf("run %d: %w", i+1, err)
		}
		fmt.Fprintf(stderr, "run %d: %d items in %.1f s, RSS %.0f MiB (peak %.0f), ready after restart in %.2f s (RSS %.0f MiB)\n",
			i+1, rep.Items, rep.IngestSeconds, mib(rep.RSS), mib(rep.PeakRSS), rep.ReadySeconds, mib(rep.RestartRSS))
		if f.pollAfterRestart > 0 {
			fmt.Fprintf(stderr, "run %d: %d new items after restart in %.1f s, RSS %.0f MiB (peak since restart %.0f), memory limit %s\n",
				i+1, f.pollAfterRestart, rep.PollSeconds, mib(rep.PollRSS), mib(rep.PollPeakRSS), limitText(rep.RestartMemoryLimit))
		}
		for _, l := range rep.Loads {
			fmt.Fprintf(stderr, "run %d: %-6s %d: %8.0f req/s p50 %.2f ms p99 %.2f ms\n", i+1, l.Target, l.Status, l.RPS, l.P50, l.P99)
		}
		reports = append(reports, rep)
	}
	printServe(stdout, f, reports)
	return nil
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }

// limitText formats a memory limit in MiB, or "none" for 0.
func limitText(b int64) string {
	if b == 0 {
		return "none"
	}
	return fmt.Sprintf("%.0f MiB", mib(b))
}

func printServe(w io.Writer, f flags, reports []bench.ServeReport) {
	med := func(field func(bench.ServeReport) float64) float64 {
		values := make([]float64, len(reports))
		for i, r := range reports {
			values[i] = field(r)
		}
		return median(values)
	}
	r0 := reports[0]
	fmt.Fprintf(w, "cache=%s sync_always=%t runs=%d connections=%d duration=%s\n\n", f.cache, f.syncAlways, f.runs, f.connections, f.duration)
	fmt.Fprintln(w, "| feeds | items | ingest seconds | RSS | peak RSS | /readyz after restart | RSS after restart |")
	fmt.Fprintln(w, "| --- | --- | --- | --- | --- | --- | --- |")
	fmt.Fprintf(w, "| %d | %d | %.1f | %.0f MiB | %.0f MiB | %.2f s | %.0f MiB |\n\n", r0.Feeds, r0.Items,
		med(func(r bench.ServeReport) float64 { return r.IngestSeconds }),
		med(func(r bench.ServeReport) float64 { return mib(r.RSS) }),
		med(func(r bench.ServeReport) float64 { return mib(r.PeakRSS) }),
		med(func(r bench.ServeReport) float64 { return r.ReadySeconds }),
		med(func(r bench.ServeReport) float64 { return mib(r.RestartRSS) }))
	if f.pollAfterRestart > 0 {
		fmt.Fprintln(w, "| memory limit after restart | new items after restart | seconds | RSS then | peak RSS since restart |")
		fmt.Fprintln(w, "| --- | --- | --- | --- | --- |")
		fmt.Fprintf(w, "| %s | %d | %.1f | %.0f MiB | %.0f MiB |\n\n", limitText(r0.RestartMemoryLimit), f.pollAfterRestart,
			med(func(r bench.ServeReport) float64 { return r.PollSeconds }),
			med(func(r bench.ServeReport) float64 { return mib(r.PollRSS) }),
			med(func(r bench.ServeReport) float64 { return mib(r.PollPeakRSS) }))
	}
	fmt.Fprintln(w, "| server | status | requests/s | p50 | p99 |")
	fmt.Fprintln(w, "| --- | --- | --- | --- | --- |")
	for i, l := range r0.Loads {
		fmt.Fprintf(w, "| %s | %d | %.0f | %.2f ms | %.2f ms |\n", l.Target, l.Status,
			med(func(r bench.ServeReport) float64 { return r.Loads[i].RPS }),
			med(func(r bench.ServeReport) float64 { return r.Loads[i].P50 }),
			med(func(r bench.ServeReport) float64 { return r.Loads[i].P99 }))
	}
}

// defaultLoadDuration is long enough for thousands of requests per load
// on two cores, short enough that five runs of four loads take minutes.
const defaultLoadDuration = 10 * time.Second
