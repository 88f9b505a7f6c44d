package workers

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

// Prometheus metrics of the fetcher and the scheduler. Label values come
// from fixed sets (outcome classes, item results, recovery names of the
// pipeline), so the number of series stays bounded.
var (
	pollsTotal = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "syndic_polls_total",
		Help: "Feed polls by outcome class (not_modified, new_content, retry_later, permanent, gone, parse_error, items_left).",
	}, []string{"outcome"})
	pollSeconds = promauto.NewHistogram(prometheus.HistogramOpts{
		Name:    "syndic_poll_duration_seconds",
		Help:    "Time from the start of a fetch to the last item published.",
		Buckets: prometheus.ExponentialBuckets(0.01, 2, 12),
	})
	fetchSeconds = promauto.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "syndic_fetch_duration_seconds",
		Help:    "Duration of the HTTP fetch of a feed, redirects and body included, by outcome.",
		Buckets: prometheus.ExponentialBuckets(0.01, 2, 13),
	}, []string{"outcome"})
	unchangedBodiesTotal = promauto.NewCounter(prometheus.CounterOpts{
		Name: "syndic_poll_unchanged_bodies_total",
		Help: "Full responses whose body was the one last ingested completely, counted as not modified without parsing.",
	})
	fetchBytes = promauto.NewCounter(prometheus.CounterOpts{
		Name: "syndic_fetch_bytes_total",
		Help: "Decompressed bytes of feed bodies fetched.",
	})
	itemsTotal = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "syndic_poll_items_total",
		Help: "Items of polled feeds by result (new, updated, duplicate, rejected, retry).",
	}, []string{"result"})
	recoveriesTotal = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "syndic_feed_recoveries_total",
		Help: "Repairs needed to read fetched feeds, by kind (such as bare ampersand or byte-order mark).",
	}, []string{"kind"})
	websubForgedTotal = promauto.NewCounter(prometheus.CounterOpts{
		Name: "syndic_websub_forged_deliveries_total",
		Help: "WebSub content deliveries dropped because their signature was missing or wrong.",
	})
	warningsTotal = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "syndic_feed_warnings_total",
		Help: "Polls whose document had a fault the pipeline worked around, by warning (such as duplicate guid in feed).",
	}, []string{"warning"})
	schedulerLag = promauto.NewHistogram(prometheus.HistogramOpts{
		Name:    "syndic_scheduler_lag_seconds",
		Help:    "Delay between the time a feed was due and the start of its poll.",
		Buckets: prometheus.ExponentialBuckets(0.001, 4, 12),
	})
	hostBusyTotal = promauto.NewCounter(prometheus.CounterOpts{
		Name: "syndic_fetch_host_busy_total",
		Help: "Polls deferred because their host had no free fetch slot (fetch.per_host).",
	})
)

// countItems adds a poll's item results to itemsTotal.
func countItems(r PollReport) {
	for result, n := range map[string]int{
		"new": r.New, "updated": r.Updated, "duplicate": r.Duplicate,
		"rejected": r.Rejected, "retry": r.Retry,
	} {
		if n > 0 {
			itemsTotal.WithLabelValues(result).Add(float64(n))
		}
	}
}
