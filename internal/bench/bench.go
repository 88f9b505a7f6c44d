// Package bench measures Syndic end to end: it opens the real pipeline in
// process (the same wiring as `syndic run`), polls every feed of a feed
// farm, and records wall time, CPU time and peak memory for a cold ingest,
// an all-304 repoll and a round in which every feed slid its window. It
// also times each stage of the pipeline on the same bytes. cmd/syndicbench
// runs it from the command line; docs/benchmarks.md records the results.
package bench

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"runtime/pprof"
	"time"

	"github.com/syndic-network/syndic/internal/app"
	"github.com/syndic-network/syndic/pipeline"
	"github.com/syndic-network/syndic/workers"
)

// Farm is the feed server a run polls: feedfarm.Farm in this process
// through LocalFarm, or feedfarm.Remote for a farm in its own process,
// which keeps the server's CPU time out of the measurement.
type Farm interface {
	URLs(ctx context.Context) ([]string, error)
	// Slide adds n new items to every feed and drops its n oldest.
	Slide(ctx context.Context, n int) error
}

// Options configures a Run.
type Options struct {
	Farm Farm
	// Items is the number of items in each farm document, used to check
	// that every item arrived.
	Items int
	// Slide is the number of new items each feed gets before the changed
	// round (default 5).
	Slide int
	Store Store
	// SyncAlways sets nats.sync_always: fsync on every stream write.
	SyncAlways bool
	// Concurrency sets fetch.concurrency (default 16, the configuration's
	// default).
	Concurrency int
	// FeedInterval, when set, is every feed's polling interval, and
	// fetch.min_interval and fetch.max_interval, so each feed is polled
	// again that long after its last poll. Zero keeps the defaults, with
	// which the scheduler waits for a farm feed about as long as its
	// items lie apart.
	FeedInterval time.Duration
	// Dir holds the data directories; empty means os.TempDir. Run
	// removes what it created.
	Dir    string
	Logger *slog.Logger
	// HeapProfile, when set, is the file a heap profile is written to
	// after the cold round, while the whole dedup state is in memory.
	HeapProfile string
	// ProfileRound names the round ("cold", "repoll" or "changed") during
	// which StartProfile runs. StartProfile starts a CPU profile and
	// returns the function that stops and writes it.
	ProfileRound string
	StartProfile func() (stop func() error, err error)
}

// Phase is the measurement of one round of polls.
type Phase struct {
	Name        string  `json:"name"`
	Feeds       int     `json:"feeds"`
	New         int     `json:"new"`
	Duplicate   int     `json:"duplicate"`
	NotModified int     `json:"not_modified"`
	Failed      int     `json:"failed"`
	Seconds     float64 `json:"seconds"`
	CPUSeconds  float64 `json:"cpu_seconds"`
	// PeakRSS is the peak resident set size during the phase, in bytes.
	PeakRSS int64 `json:"peak_rss"`
	// NATSMessages counts the messages the process's NATS connection sent
	// (publishes and KV requests alike); each one is a round trip.
	NATSMessages uint64 `json:"nats_messages"`
	// ItemsPerSecond counts new items from the first request to the last
	// acknowledged publish.
	ItemsPerSecond float64 `json:"items_per_second"`
	FeedsPerSecond float64 `json:"feeds_per_second"`
}

func (o Options) withDefaults() Options {
	if o.Slide <= 0 {
		o.Slide = 5
	}
	if o.Concurrency <= 0 {
		o.Concurrency = 16
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// Run opens a fresh Syndic on the farm's feeds and measures three
// rounds: cold (every item new), repoll (every feed returns 304) and
// changed (every feed slid by o.Slide items). It returns an error when a
// round did not end as expected, because its numbers would then measure
// failures.
func Run(ctx context.Context, o Options) ([]Phase, error) {
	o = o.withDefaults()
	urls, err := o.Farm.URLs(ctx)
	if err != nil {
		return nil, err
	}
	a, cleanup, err := openApp(ctx, urls, o)
	if err != nil {
		return nil, err
	}
	defer cleanup()
	pipeline.ResetMemos()
	feeds := a.Feeds()
	want := []struct {
		name           string
		new, dup, n304 int
		before         func() error
	}{
		{"cold", len(feeds) * o.Items, 0, 0, nil},
		{"repoll", 0, 0, len(feeds), nil},
		{"changed", len(feeds) * o.Slide, len(feeds) * (o.Items - o.Slide), 0,
			func() error { return o.Farm.Slide(ctx, o.Slide) }},
	}
	var phases []Phase
	for _, w := range want {
		if w.before != nil {
			if err := w.before(); err != nil {
				return phases, err
			}
		}
		var stopProfile func() error
		if w.name == o.ProfileRound && o.StartProfile != nil {
			if stopProfile, err = o.StartProfile(); err != nil {
				return phases, err
			}
		}
		p := pollRound(ctx, a, feeds, w.name)
		phases = append(phases, p)
		if stopProfile != nil {
			if err := stopProfile(); err != nil {
				return phases, err
			}
		}
		if w.name == "cold" && o.HeapProfile != "" {
			if err := writeHeapProfile(o.HeapProfile); err != nil {
				return phases, err
			}
		}
		if p.Failed > 0 || p.New != w.new || p.Duplicate != w.dup || p.NotModified != w.n304 {
			return phases, fmt.Errorf("checking %s round: got %d new, %d duplicate, %d not modified, %d failed; want %d, %d, %d, 0",
				w.name, p.New, p.Duplicate, p.NotModified, p.Failed, w.new, w.dup, w.n304)
		}
	}
	return phases, nil
}

// openApp writes a configuration for urls into a new directory and opens
// Syndic on it as `syndic run` does. cleanup closes it and removes the
// directory and, for Redis, the run's keys.
func openApp(ctx context.Context, urls []string, o Options) (*app.App, func(), error) {
	dir, err := os.MkdirTemp(o.Dir, "syndicbench-")
	if err != nil {
		return nil, nil, fmt.Errorf("creating benchmark directory: %w", err)
	}
	cfg, err := writeConfig(dir, urls, o)
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, nil, err
	}
	a, err := app.Open(ctx, cfg, o.Logger, app.OpenOptions{Owner: true})
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, nil, fmt.Errorf("opening syndic: %w", err)
	}
	cleanup := func() {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		a.Close(cctx)
		if err := deleteRedisKeys(cctx, o.Store); err != nil {
			o.Logger.Warn("deleting benchmark keys failed", "error", err)
		}
		_ = os.RemoveAll(dir)
	}
	return a, cleanup, nil
}

// pollRound polls every feed once through the poller's PollAll, the
// path of `syndic poll --once`, and measures it.
func pollRound(ctx context.Context, a *app.App, feeds []workers.Feed, name string) Phase {
	resetPeakRSS()
	cpu0 := cpuTime()
	msgs0 := a.Conn.Stats().OutMsgs
	start := time.Now()
	reports := a.Poller.PollAll(ctx, feeds, nil)
	wall := time.Since(start)
	ph := Phase{
		Name: name, Feeds: len(feeds), Seconds: wall.Seconds(),
		CPUSeconds: (cpuTime() - cpu0).Seconds(), PeakRSS: peakRSS(),
		NATSMessages: a.Conn.Stats().OutMsgs - msgs0,
	}
	for _, r := range reports {
		ph.New += r.New + r.Updated
		ph.Duplicate += r.Duplicate
		if r.Outcome == workers.OutcomeNotModified {
			ph.NotModified++
		}
		if r.Failed() {
			ph.Failed++
		}
	}
	ph.ItemsPerSecond = float64(ph.New) / wall.Seconds()
	ph.FeedsPerSecond = float64(len(feeds)) / wall.Seconds()
	return ph
}

// writeHeapProfile collects garbage and writes a heap profile to path.
func writeHeapProfile(path string) error {
	out, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("creating heap profile: %w", err)
	}
	runtime.GC()
	if err := pprof.WriteHeapProfile(out); err != nil {
		_ = out.Close()
		return fmt.Errorf("writing heap profile %s: %w", path, err)
	}
	return out.Close()
}
