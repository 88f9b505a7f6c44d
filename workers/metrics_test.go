package workers_test

import (
	"context"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// metricSum returns the sum of the values of the series of family name
// whose labels include every pair of match: counters by value, histograms
// by sample count.
func metricSum(t *testing.T, name string, match map[string]string) float64 {
	t.Helper()
	families, err := prometheus.DefaultGatherer.Gather()
	if err != nil {
		t.Fatalf("gathering metrics: %v", err)
	}
	var sum float64
	for _, fam := range families {
		if fam.GetName() != name {
			continue
		}
		for _, m := range fam.GetMetric() {
			if labelsMatch(m, match) {
				sum += m.GetCounter().GetValue() + float64(m.GetHistogram().GetSampleCount())
			}
		}
	}
	return sum
}

func labelsMatch(m *dto.Metric, match map[string]string) bool {
	found := 0
	for _, l := range m.GetLabel() {
		if v, ok := match[l.GetName()]; ok && v == l.GetValue() {
			found++
		}
	}
	return found == len(match)
}

func TestPollMetrics(t *testing.T) {
	env := newSchedEnv(t, envOptions{})
	partner := newPartnerScript(t, "127.0.0.1")
	body := strings.Replace(datedRSS("", env.clock.Now()), "Story 0", "Fish & Chips", 1)
	partner.route("/feed", feedOK(body))
	partner.route("/busy", response{status: 503})
	tests := []struct {
		name   string
		metric string
		labels map[string]string
		want   float64
	}{
		{"new content polls by outcome", "syndic_polls_total", map[string]string{"outcome": "new_content"}, 1},
		{"failed polls by outcome", "syndic_polls_total", map[string]string{"outcome": "retry_later"}, 1},
		{"fetch durations by outcome", "syndic_fetch_duration_seconds", map[string]string{"outcome": "new_content"}, 1},
		{"new items", "syndic_poll_items_total", map[string]string{"result": "new"}, 1},
		{"bare ampersand recovery", "syndic_feed_recoveries_total", map[string]string{"kind": "bare ampersand"}, 1},
		{"fetched bytes", "syndic_fetch_bytes_total", nil, float64(len(body))},
	}
	before := make([]float64, len(tests))
	for i, tc := range tests {
		before[i] = metricSum(t, tc.metric, tc.labels)
	}
	ctx := context.Background()
	env.poller.Poll(ctx, testFeed("metrics", partner.url("/feed")))
	env.poller.Poll(ctx, testFeed("busy", partner.url("/busy")))
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := metricSum(t, tc.metric, tc.labels) - before[i]; got != tc.want {
				t.Errorf("%s%v grew by %v, want %v", tc.metric, tc.labels, got, tc.want)
			}
		})
	}
}
