package main

import (
	"fmt"
	"io"
	"slices"

	"github.com/syndic-network/syndic/internal/bench"
)

func printRun(w io.Writer, n int, phases []bench.Phase) {
	for _, p := range phases {
		fmt.Fprintf(w, "run %d %-8s %6d feeds %7d new %7d dup %6d 304  %7.2f s  %6.2f cpu-s  %6.0f MiB  %8.0f items/s %7.0f feeds/s\n",
			n, p.Name, p.Feeds, p.New, p.Duplicate, p.NotModified, p.Seconds, p.CPUSeconds,
			float64(p.PeakRSS)/(1<<20), p.ItemsPerSecond, p.FeedsPerSecond)
	}
}

// median returns the median of values: the middle one, or the mean of
// the two middle ones for an even count.
func median(values []float64) float64 {
	s := slices.Clone(values)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// column returns field of phase i from every run.
func column(runs [][]bench.Phase, i int, field func(bench.Phase) float64) []float64 {
	out := make([]float64, len(runs))
	for r, phases := range runs {
		out[r] = field(phases[i])
	}
	return out
}

func printMedians(w io.Writer, runs [][]bench.Phase) {
	fmt.Fprintln(w, "| round | feeds | new items | seconds | items/s | feeds/s | CPU seconds | peak RSS | NATS messages per feed |")
	fmt.Fprintln(w, "| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
	for i, p := range runs[0] {
		fmt.Fprintf(w, "| %s | %d | %d | %.2f | %.0f | %.0f | %.2f | %.0f MiB | %.1f |\n",
			p.Name, p.Feeds, p.New,
			median(column(runs, i, func(p bench.Phase) float64 { return p.Seconds })),
			median(column(runs, i, func(p bench.Phase) float64 { return p.ItemsPerSecond })),
			median(column(runs, i, func(p bench.Phase) float64 { return p.FeedsPerSecond })),
			median(column(runs, i, func(p bench.Phase) float64 { return p.CPUSeconds })),
			median(column(runs, i, func(p bench.Phase) float64 { return float64(p.PeakRSS) }))/(1<<20),
			float64(p.NATSMessages)/float64(p.Feeds))
	}
}
