package main

import (
	"context"
	"fmt"
	"io"
	"runtime"

	"github.com/syndic-network/syndic/internal/bench"
)

// runStages times each stage on the farm's documents and compares the
// stages' sum with the median cold round of runs.
func runStages(ctx context.Context, o bench.Options, runs [][]bench.Phase, w io.Writer) error {
	sc, err := bench.MeasureStages(ctx, o)
	if err != nil {
		return fmt.Errorf("measuring stages: %w", err)
	}
	us := func(seconds float64) string { return fmt.Sprintf("%.0f µs", seconds*1e6) }
	fmt.Fprintf(w, "\nstage costs over %d items (CPU per item)\n\n", sc.Items)
	fmt.Fprintln(w, "| stage | CPU per item |")
	fmt.Fprintln(w, "| --- | --- |")
	for _, row := range []struct {
		name string
		cost float64
	}{
		{"fetch", sc.Fetch}, {"parse (gofeed alone)", sc.Parse}, {"normalise", sc.Normalise},
		{"dedup, cluster, record", sc.Dedup}, {"publish with PubAck", sc.Publish},
		{"sum", sc.Sum()}, {"known item (cache hit)", sc.Known},
	} {
		fmt.Fprintf(w, "| %s | %s |\n", row.name, us(row.cost))
	}
	fmt.Fprintf(w, "\nNATS messages per item: %.1f for a new item, %.1f for a known one\n", sc.NewMessages, sc.KnownMessages)
	cold := column(runs, 0, func(p bench.Phase) float64 { return p.CPUSeconds / float64(p.New) })
	rate := median(column(runs, 0, func(p bench.Phase) float64 { return p.ItemsPerSecond }))
	cores := runtime.NumCPU()
	ideal := float64(cores) / sc.Sum()
	fmt.Fprintf(w, "\ncold round: %s CPU per item, %.0f items/s; %d cores / sum of stages = %.0f items/s; fraction %.0f%%\n",
		us(median(cold)), rate, cores, ideal, 100*rate/ideal)
	return nil
}
