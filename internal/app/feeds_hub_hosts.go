package app

import (
	"sync"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"

	"github.com/syndic-network/syndic/feeds"
)

// hubDeliveriesPerHost bounds the deliveries one process has in flight
// to one callback host. Two let a healthy host receive the next delivery
// while it responds to the current one, and match the idle connections
// the hub's HTTP client keeps per host. Hosts that hold every delivery
// until the timeout then take at most two of the hubDeliverWorkers slots
// each.
const hubDeliveriesPerHost = 2

// hubDeliveriesWaiting counts the delivery jobs this process holds in
// memory because their callback host is at hubDeliveriesPerHost.
var hubDeliveriesWaiting = promauto.NewGauge(prometheus.GaugeOpts{
	Name: "syndic_websub_deliveries_waiting",
	Help: "WebSub hub deliveries this process holds until their callback host has fewer deliveries in flight.",
})

// hubDelivery is one delivery job with the callback host it goes to.
type hubDelivery struct {
	msg  jetstream.Msg
	job  feeds.HubJob
	host string
}

// hostQueues limits the deliveries in flight to each callback host. A
// job whose host is at the limit waits in memory, in arrival order,
// instead of taking a delivery worker. It is not handed back to
// JetStream, because every redelivery counts against the consumer's
// MaxDeliver, which bounds the retries of failed deliveries. Waiting
// jobs are still unacknowledged, so the owner must call InProgress on
// them (waitingMsgs) within the consumer's AckWait, and they count
// against its MaxAckPending. A waiting job lives only in this process,
// so another digest worker cannot send it while this one is busy with
// its host.
type hostQueues struct {
	limit int

	mu     sync.Mutex
	hosts  map[string]*hostQueue
	closed bool
}

// hostQueue is the state of one callback host. active counts the jobs
// admitted to the host, whether sending or waiting for a worker.
type hostQueue struct {
	active  int
	waiting []hubDelivery
}

func newHostQueues(limit int) *hostQueues {
	return &hostQueues{limit: max(limit, 1), hosts: map[string]*hostQueue{}}
}

// admit reports whether d may be sent now, and counts it against its
// host when it may. Otherwise d waits for a delivery to its host to end
// (next), and admit returns false. After close, admit takes nothing and
// returns false with handBack set, and the caller hands d back.
func (q *hostQueues) admit(d hubDelivery) (ok, handBack bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return false, true
	}
	h := q.hosts[d.host]
	if h == nil {
		h = &hostQueue{}
		q.hosts[d.host] = h
	}
	if h.active < q.limit {
		h.active++
		return true, false
	}
	h.waiting = append(h.waiting, d)
	hubDeliveriesWaiting.Inc()
	return false, false
}

// next ends one delivery to host. It returns the host's oldest waiting
// job, which stays counted against the host, or false when none waits or
// the queues are closed.
func (q *hostQueues) next(host string) (hubDelivery, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	h := q.hosts[host]
	if h == nil {
		return hubDelivery{}, false
	}
	if len(h.waiting) > 0 && !q.closed {
		d := h.waiting[0]
		h.waiting[0] = hubDelivery{}
		h.waiting = h.waiting[1:]
		hubDeliveriesWaiting.Dec()
		return d, true
	}
	q.releaseLocked(host)
	return hubDelivery{}, false
}

// release ends one delivery to host without taking the next waiting
// job, for a job that next returned but that was handed back.
func (q *hostQueues) release(host string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.releaseLocked(host)
}

func (q *hostQueues) releaseLocked(host string) {
	h := q.hosts[host]
	if h == nil {
		return
	}
	h.active--
	if h.active <= 0 && len(h.waiting) == 0 {
		delete(q.hosts, host)
	}
}

// waitingMsgs returns the messages of the waiting jobs.
func (q *hostQueues) waitingMsgs() []jetstream.Msg {
	q.mu.Lock()
	defer q.mu.Unlock()
	var out []jetstream.Msg
	for _, h := range q.hosts {
		for _, d := range h.waiting {
			out = append(out, d.msg)
		}
	}
	return out
}

// close stops admitting jobs and returns the waiting ones, which the
// caller passes to the workers that replace it or hands back to
// JetStream.
func (q *hostQueues) close() []hubDelivery {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.closed = true
	var out []hubDelivery
	for _, h := range q.hosts {
		out = append(out, h.waiting...)
		hubDeliveriesWaiting.Sub(float64(len(h.waiting)))
		h.waiting = nil
	}
	return out
}
