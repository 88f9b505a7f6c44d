package app

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

// leaseChangesTotal counts feed lease changes of this process by kind:
// acquired (created), lost (expired or taken over before a renewal) and
// released (deleted at shutdown). A steady rate of lost leases means the
// TTL is too short for the NATS round trips.
var leaseChangesTotal = promauto.NewCounterVec(prometheus.CounterOpts{
	Name: "syndic_lease_changes_total",
	Help: "Feed lease changes of this process by kind (acquired, lost, released).",
}, []string{"kind"})
