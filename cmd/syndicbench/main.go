// Command syndicbench measures Syndic's ingest end to end against a feed
// farm: a cold ingest, an all-304 repoll and a round of slid windows, each
// repeated -runs times, then prints the medians as a Markdown table. Start
// the farm first in its own process (cmd/feedfarm), so its CPU time stays
// out of the figures:
//
//	feedfarm -feeds 2000 -items 50 &
//	syndicbench -farm http://127.0.0.1:7070 -items 50 -runs 5
//
// With -mode serve it starts a built `syndic run` instead and measures
// its memory, merged-feed serving and restart.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/pprof"
	"runtime/trace"
	"syscall"
	"time"

	"github.com/syndic-network/syndic/internal/bench"
	"github.com/syndic-network/syndic/internal/feedfarm"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "syndicbench:", err)
		os.Exit(1)
	}
}

type flags struct {
	farm         string
	items        int
	slide        int
	runs         int
	cache        string
	redisURL     string
	syncAlways   bool
	conc         int
	cpuProfile   string
	trace        string
	profileRound string
	memProfile   string
	stages       bool
	mode         string
	syndic       string
	connections  int
	duration     time.Duration
	// restartMemoryLimit and pollAfterRestart configure the restart of
	// -mode serve (bench.ServeOptions).
	restartMemoryLimit string
	pollAfterRestart   int
	feedInterval       time.Duration
}

func parseFlags(args []string, stderr io.Writer) (flags, error) {
	var f flags
	fs := flag.NewFlagSet("syndicbench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&f.farm, "farm", "http://127.0.0.1:7070", "control URL of a running feedfarm")
	fs.IntVar(&f.items, "items", 50, "items per feed document, as given to feedfarm -items")
	fs.IntVar(&f.slide, "slide", 5, "new items per feed in the changed round")
	fs.IntVar(&f.runs, "runs", 5, "repetitions; the table shows the median")
	fs.StringVar(&f.cache, "cache", "embedded", "dedup cache: embedded or redis")
	fs.StringVar(&f.redisURL, "redis-url", "redis://127.0.0.1:6379/0", "Redis for -cache redis; keys go under syndicbench:<pid>:")
	fs.BoolVar(&f.syncAlways, "sync-always", true, "nats.sync_always: fsync every stream write")
	fs.IntVar(&f.conc, "concurrency", 16, "fetch.concurrency")
	fs.StringVar(&f.cpuProfile, "cpuprofile", "", "write a CPU profile of all runs to this file")
	fs.StringVar(&f.profileRound, "cpuprofile-round", "", "with -cpuprofile, profile only this round (cold, repoll or changed), one file per run: FILE.1, FILE.2, ...")
	fs.StringVar(&f.trace, "trace", "", "with -cpuprofile-round, also write an execution trace of that round to this file, one per run: FILE.1, FILE.2, ... (go tool trace -pprof=net FILE.1 shows where goroutines waited)")
	fs.StringVar(&f.memProfile, "memprofile", "", "write a heap profile to this file after each cold round (-mode ingest), or to FILE.ingest once every item is in and FILE.restart at /readyz after the restart (-mode serve)")
	fs.BoolVar(&f.stages, "stages", false, "after the runs, time each pipeline stage on the same bytes")
	fs.StringVar(&f.mode, "mode", "ingest", "ingest: rounds in this process; serve: `syndic run` as a process, memory, serving and restart")
	fs.StringVar(&f.syndic, "syndic", "./syndic", "syndic binary for -mode serve")
	fs.IntVar(&f.connections, "connections", 16, "keep-alive connections of the load generator (-mode serve)")
	fs.DurationVar(&f.duration, "duration", defaultLoadDuration, "length of each load (-mode serve)")
	fs.StringVar(&f.restartMemoryLimit, "restart-memory-limit", "", "memory_limit of the process after the restart, such as 450MiB (-mode serve); the ingest keeps the default")
	fs.DurationVar(&f.feedInterval, "feed-interval", 0, "poll every feed again this long after its last poll (fetch.min_interval, fetch.max_interval and each feed's interval); 0 keeps the defaults")
	fs.IntVar(&f.pollAfterRestart, "poll-after-restart", 0, "after the restart, give every feed one new item and wait until this many are created; reports the RSS then (-mode serve)")
	if err := fs.Parse(args); err != nil {
		return f, err
	}
	if f.cache != "embedded" && f.cache != "redis" {
		return f, fmt.Errorf("invalid -cache %q: use embedded or redis", f.cache)
	}
	if f.mode != "ingest" && f.mode != "serve" {
		return f, fmt.Errorf("invalid -mode %q: use ingest or serve", f.mode)
	}
	switch f.profileRound {
	case "", "cold", "repoll", "changed":
	default:
		return f, fmt.Errorf("invalid -cpuprofile-round %q: use cold, repoll or changed", f.profileRound)
	}
	if f.profileRound != "" && f.cpuProfile == "" {
		return f, errors.New("missing -cpuprofile FILE: -cpuprofile-round needs it")
	}
	if f.trace != "" && f.profileRound == "" {
		return f, errors.New("missing -cpuprofile-round: -trace records the round it names")
	}
	if f.pollAfterRestart > 0 && f.feedInterval == 0 {
		return f, errors.New("missing -feed-interval: -poll-after-restart needs the feeds polled again, and with the default intervals the farm's feeds wait hours")
	}
	if f.pollAfterRestart < 0 {
		return f, fmt.Errorf("invalid -poll-after-restart %d: use 0 or more", f.pollAfterRestart)
	}
	if f.runs < 1 {
		return f, fmt.Errorf("invalid -runs %d: use 1 or more", f.runs)
	}
	return f, nil
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) (err error) {
	f, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	if f.cpuProfile != "" && f.profileRound == "" {
		stopProfile, err := startProfile(f.cpuProfile)
		if err != nil {
			return err
		}
		defer func() { err = errors.Join(err, stopProfile()) }()
	}
	o := bench.Options{
		Farm: feedfarm.Dial(f.farm), Items: f.items, Slide: f.slide,
		SyncAlways: f.syncAlways, Concurrency: f.conc, HeapProfile: f.memProfile, FeedInterval: f.feedInterval,
	}
	if f.profileRound != "" {
		n := 0
		o.ProfileRound = f.profileRound
		o.StartProfile = func() (func() error, error) {
			n++
			stopCPU, err := startProfile(fmt.Sprintf("%s.%d", f.cpuProfile, n))
			if err != nil || f.trace == "" {
				return stopCPU, err
			}
			stopTrace, err := startTrace(fmt.Sprintf("%s.%d", f.trace, n))
			if err != nil {
				return nil, errors.Join(err, stopCPU())
			}
			return func() error { return errors.Join(stopTrace(), stopCPU()) }, nil
		}
	}
	if f.cache == "redis" {
		o.Store = bench.Store{RedisURL: f.redisURL, RedisPrefix: fmt.Sprintf("syndicbench:%d:", os.Getpid())}
	}
	if f.mode == "serve" {
		return runServe(ctx, f, o, stdout, stderr)
	}
	var runs [][]bench.Phase
	for i := range f.runs {
		phases, err := bench.Run(ctx, o)
		if err != nil {
			return fmt.Errorf("run %d: %w", i+1, err)
		}
		printRun(stderr, i+1, phases)
		runs = append(runs, phases)
	}
	fmt.Fprintf(stdout, "cache=%s sync_always=%t concurrency=%d runs=%d\n\n", f.cache, f.syncAlways, f.conc, f.runs)
	printMedians(stdout, runs)
	if f.stages {
		return runStages(ctx, o, runs, stdout)
	}
	return nil
}

func startTrace(path string) (func() error, error) {
	out, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("creating execution trace: %w", err)
	}
	if err := trace.Start(out); err != nil {
		_ = out.Close()
		return nil, fmt.Errorf("starting execution trace: %w", err)
	}
	return func() error {
		trace.Stop()
		return out.Close()
	}, nil
}

func startProfile(path string) (func() error, error) {
	out, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("creating CPU profile: %w", err)
	}
	if err := pprof.StartCPUProfile(out); err != nil {
		_ = out.Close()
		return nil, fmt.Errorf("starting CPU profile: %w", err)
	}
	return func() error {
		pprof.StopCPUProfile()
		return out.Close()
	}, nil
}
