package digests

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

// Prometheus metrics of digests. Label values come from fixed sets, so the
// number of series stays bounded.
var (
	digestsTotal = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "syndic_digests_total",
		Help: "Subscriber digests per run by result (sent, empty, skipped, failed, deferred).",
	}, []string{"result"})
	signUpsTotal = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "syndic_digest_signups_total",
		Help: "Digest sign-up requests by result (accepted, invalid, rate_limited, error).",
	}, []string{"result"})
	confirmationsTotal = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "syndic_digest_confirmations_total",
		Help: "Queued confirmation mails by result (sent, skipped, retried, failed).",
	}, []string{"result"})
	bouncesTotal = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "syndic_digest_bounces_total",
		Help: "Bounces and complaints received by the webhook, by type (hard, soft, complaint).",
	}, []string{"type"})
)

func countReport(rep Report) {
	digestsTotal.WithLabelValues("sent").Add(float64(rep.Sent))
	digestsTotal.WithLabelValues("empty").Add(float64(rep.Empty))
	digestsTotal.WithLabelValues("skipped").Add(float64(rep.Skipped))
	digestsTotal.WithLabelValues("failed").Add(float64(rep.Failed))
	digestsTotal.WithLabelValues("deferred").Add(float64(rep.Deferred))
}

func signUpResult(err error) string {
	switch {
	case err == nil:
		return "accepted"
	case errors.Is(err, ErrInvalidSubscriber), errors.Is(err, ErrUnknownDigest):
		return "invalid"
	case errors.Is(err, ErrRateLimited):
		return "rate_limited"
	default:
		return "error"
	}
}
