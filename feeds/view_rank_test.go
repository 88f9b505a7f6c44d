package feeds

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/syndic-network/syndic/pipeline"
)

// victimByScan is victim as it was before the ranking: a scan of every
// partner window.
func victimByScan(v *View, extra string, add int) string {
	best, maxCount := "", -1
	consider := func(id string, n int) {
		if n > maxCount || n == maxCount && id < best {
			best, maxCount = id, n
		}
	}
	for id, pw := range v.partners {
		n := len(pw.oldest)
		if id == extra {
			n += add
		}
		consider(id, n)
	}
	if _, ok := v.partners[extra]; !ok && add > 0 {
		consider(extra, add)
	}
	return best
}

func TestVictimMatchesScan(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	start := time.Date(2026, 12, 5, 0, 0, 0, 0, time.UTC)
	partners := []string{"a", "b", "c", "d", "e", "f"}
	for round := range 20 {
		v := NewView(1 + round%7)
		var applied []pipeline.Event
		for n := range 300 {
			// Item ids include the partner, as real ids do.
			partner := partners[rng.IntN(len(partners))]
			ev := event(fmt.Sprintf("%s%03d", partner, rng.IntN(20)), start.Add(time.Duration(rng.IntN(500))*time.Minute))
			ev.Partner = partner
			switch rng.IntN(10) {
			case 0:
				if len(applied) > 0 {
					ev = applied[rng.IntN(len(applied))]
					ev.Revision++
					ev.Kind = pipeline.KindRetracted
				}
			case 1:
				if len(applied) > 0 {
					ev = applied[rng.IntN(len(applied))]
					ev.Revision++
					ev.Kind = pipeline.KindUpdated
				}
			}
			v.Apply(ev)
			applied = append(applied, ev)
			extra := partners[rng.IntN(len(partners))] + []string{"", "z"}[rng.IntN(2)]
			for _, add := range []int{0, 1} {
				if got, want := v.victim(extra, add), victimByScan(v, extra, add); got != want {
					t.Fatalf("round %d, event %d: victim(%q, %d) = %q, want %q", round, n, extra, add, got, want)
				}
			}
		}
	}
}

// BenchmarkApplyFullWindow applies new events to a full window of 20,000
// entries spread over 1,000 partners, so each event evicts one entry.
func BenchmarkApplyFullWindow(b *testing.B) {
	start := time.Date(2026, 12, 5, 0, 0, 0, 0, time.UTC)
	v := NewView(20000)
	for n := range 20000 {
		ev := event(fmt.Sprintf("p%03d-%05d", n%1000, n), start.Add(time.Duration(n)*time.Second))
		ev.Partner = fmt.Sprintf("p%03d", n%1000)
		v.Apply(ev)
	}
	events := make([]pipeline.Event, b.N)
	for n := range events {
		ev := event(fmt.Sprintf("p%03d-new%07d", n%1000, n), start.Add(time.Duration(20000+n)*time.Second))
		ev.Partner = fmt.Sprintf("p%03d", n%1000)
		events[n] = ev
	}
	b.ResetTimer()
	for _, ev := range events {
		v.Apply(ev)
	}
}
