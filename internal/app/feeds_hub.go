package app

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"

	"github.com/syndic-network/syndic/feeds"
	"github.com/syndic-network/syndic/internal/config"
	"github.com/syndic-network/syndic/pipeline"
)

// Durable consumer names shared by every digest worker, so that each item
// event is fanned out once and each delivery is sent once, whichever
// worker takes it.
const (
	hubFanoutConsumer  = "feeds-hub-fanout"
	hubDeliverConsumer = "feeds-hub-deliver"
)

// hubBackoff is the wait before each retry of a failed delivery. WebSub
// leaves the schedule to the hub. This one spreads seven attempts over
// about three hours, which rides out a subscriber's restart or short
// outage without keeping dead callbacks busy for days.
var hubBackoff = []time.Duration{
	10 * time.Second, 30 * time.Second, 2 * time.Minute,
	10 * time.Minute, 30 * time.Minute, 2 * time.Hour,
}

// hubDeliverWorkers bounds the deliveries one process sends at once.
const hubDeliverWorkers = 8

// hubDeliverAckWait is the delivery consumer's AckWait. A delivery takes
// at most 45 seconds (send's context). A job waiting for its callback
// host is marked in progress every third of it, so it is not sent again
// while it waits.
const hubDeliverAckWait = time.Minute

// hubConfig names the streams and subjects of the hub workers.
type hubConfig struct {
	// ItemSubjects filters the item stream, such as "syndic.items.>".
	ItemSubjects string
	// Stream and Subject are the deliveries work-queue stream and its
	// only subject.
	Stream   string
	Subject  string
	Replicas int
	// Backoff is the retry schedule; nil means hubBackoff.
	Backoff []time.Duration
	// Workers and PerHost bound the deliveries in flight in all and to
	// one callback host. Zero means hubDeliverWorkers and
	// hubDeliveriesPerHost.
	Workers int
	PerHost int
	// AckWait is the delivery consumer's AckWait. Zero means
	// hubDeliverAckWait.
	AckWait time.Duration
}

// hubDeliveriesTotal counts the WebSub deliveries this process sent, by
// result: delivered (the subscriber took it or the subscription is gone),
// retried, or failed (given up after the last retry).
var hubDeliveriesTotal = promauto.NewCounterVec(prometheus.CounterOpts{
	Name: "syndic_websub_deliveries_total",
	Help: "WebSub hub deliveries sent by this process, by result (delivered, retried, failed).",
}, []string{"result"})

// hubSubscriptionsEndedTotal counts the subscriptions this process ended
// because the last retry of a delivery to them failed at the callback.
var hubSubscriptionsEndedTotal = promauto.NewCounter(prometheus.CounterOpts{
	Name: "syndic_websub_subscriptions_ended_total",
	Help: "WebSub subscriptions this process ended after the last retry of a delivery to their callback failed.",
})

// RunHubDeliveries runs the delivery side of the WebSub hub until ctx
// ends: the shared durable consumers that turn new items into delivery
// jobs and send them to the subscribers' callbacks. Feed servers only take
// subscription requests (mountHub). After each value of reloads it starts
// again with the channels of current(), and keeps the running consumers
// when that fails.
func (a *App) RunHubDeliveries(ctx context.Context, reloads <-chan struct{}, current func() *config.Config) error {
	var run *hubDeliveries
	err := a.retryOnTimeout(ctx, "starting the WebSub deliveries", func() error {
		var err error
		run, err = a.withConfig(current()).startHubDeliveries(ctx)
		return err
	})
	if err != nil {
		return err
	}
	a.probe.hubStarting.Store(false)
	for {
		select {
		case <-ctx.Done():
			// The consumers stop with ctx. Waiting for them here could
			// outlast shutdown_grace while a slow delivery holds a slot.
			return nil
		case <-reloads:
		}
		next, err := a.withConfig(current()).startHubDeliveries(ctx)
		if err != nil {
			a.Log.Error("restarting the WebSub deliveries after a reload failed; keeping the previous channels", "error", err)
			continue
		}
		run.stop(next)
		run = next
		a.Log.Info("WebSub deliveries restarted", "channels", len(current().Channels))
	}
}

// hubDeliveries is one start of the hub's consumers, with the
// subscription watch and the hub they use.
type hubDeliveries struct {
	workers *hubWorkers
	cancel  context.CancelFunc
}

// stop stops d on a reload and passes the jobs waiting for their
// callback host to next, which sends them. It returns once d's consumers
// take no more messages. Deliveries in flight then are not awaited: a
// job that was not acknowledged is sent again after the consumer's
// AckWait, so a stop can repeat a delivery but never loses one.
func (d *hubDeliveries) stop(next *hubDeliveries) {
	d.workers.stop(next.workers)
	d.cancel()
}

// startHubDeliveries starts the hub's consumers for the channels of
// a.Config.
func (a *App) startHubDeliveries(ctx context.Context) (*hubDeliveries, error) {
	auth, err := a.TagAuthority(ctx)
	if err != nil {
		return nil, err
	}
	partners, feedURLs := a.partnerLinks()
	kv, err := a.subscriptionBucket(ctx)
	if err != nil {
		return nil, err
	}
	wctx, cancel := context.WithCancel(ctx)
	store, err := watchSubscriptions(wctx, kv, a.Log)
	if err != nil {
		cancel()
		return nil, err
	}
	hub, err := a.newHub(store, feeds.HubMeta{TagAuthority: auth, Partners: partners, FeedURLs: feedURLs, Owners: a.partnerDomains()})
	if err != nil {
		cancel()
		return nil, err
	}
	n := a.Config.NATS
	w, err := startHubWorkers(wctx, a.JS, a.Stream, hub, hubConfig{
		ItemSubjects: n.SubjectPrefix + ".>",
		Stream:       n.Stream + "_WEBSUB",
		Subject:      n.SubjectPrefix + "_websub.deliveries",
		Replicas:     n.Replicas,
	}, a.Log)
	if err != nil {
		cancel()
		hub.Close()
		return nil, err
	}
	go func() {
		<-wctx.Done()
		hub.Close()
	}()
	return &hubDeliveries{workers: w, cancel: cancel}, nil
}

// hubWorkers runs the two shared durable consumers of the WebSub hub. The
// fan-out consumer turns each new item event into one delivery job per
// matching subscription on the deliveries stream, and the delivery
// consumer sends the jobs, retrying with back-off.
type hubWorkers struct {
	js      jetstream.JetStream
	hub     *feeds.Hub
	log     *slog.Logger
	subject string
	backoff []time.Duration
	ackWait time.Duration
	// slots bounds the deliveries in flight, and hosts those to one
	// callback host.
	slots chan struct{}
	hosts *hostQueues
	wg    sync.WaitGroup
	// stopping is closed when ctx ends, and cancel ends ctx.
	stopping <-chan struct{}
	cancel   context.CancelFunc
	// successor, set before a reload stops these workers, takes the
	// jobs they took but do not send. Nil means the process stops, and
	// they go back to JetStream.
	successor atomic.Pointer[hubWorkers]
	// done is closed once both consumers have stopped after ctx ended.
	done chan struct{}
}

// startHubWorkers creates the deliveries stream and both consumers and
// consumes until ctx ends or stop is called.
func startHubWorkers(ctx context.Context, js jetstream.JetStream, items jetstream.Stream, hub *feeds.Hub, cfg hubConfig, log *slog.Logger) (*hubWorkers, error) {
	ctx, cancel := context.WithCancel(ctx)
	w := &hubWorkers{js: js, hub: hub, log: log, subject: cfg.Subject, backoff: cfg.Backoff,
		slots:    make(chan struct{}, cmp.Or(cfg.Workers, hubDeliverWorkers)),
		hosts:    newHostQueues(cmp.Or(cfg.PerHost, hubDeliveriesPerHost)),
		ackWait:  cmp.Or(cfg.AckWait, hubDeliverAckWait),
		stopping: ctx.Done(), cancel: cancel, done: make(chan struct{})}
	if w.backoff == nil {
		w.backoff = hubBackoff
	}
	deliveries, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:      cfg.Stream,
		Subjects:  []string{cfg.Subject},
		Retention: jetstream.WorkQueuePolicy,
		Storage:   jetstream.FileStorage,
		Replicas:  max(cfg.Replicas, 1),
		// A job older than the whole retry schedule was given up on.
		MaxAge: 7 * 24 * time.Hour,
	})
	if err != nil {
		cancel()
		return nil, fmt.Errorf("creating stream %s: %w", cfg.Stream, err)
	}
	fanout, err := consumeDurable(ctx, items, jetstream.ConsumerConfig{
		Durable:       hubFanoutConsumer,
		FilterSubject: cfg.ItemSubjects,
		// Subscribers get what is new from the hub's first start on,
		// never the stream's history.
		DeliverPolicy: jetstream.DeliverNewPolicy,
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       30 * time.Second,
	}, w.fanout)
	if err != nil {
		cancel()
		return nil, err
	}
	sends, err := consumeDurable(ctx, deliveries, jetstream.ConsumerConfig{
		Durable:    hubDeliverConsumer,
		AckPolicy:  jetstream.AckExplicitPolicy,
		AckWait:    w.ackWait,
		MaxDeliver: len(w.backoff) + 1,
		// NOTE: jobs waiting for their callback host or for a retry count
		// here too, so a host with this many jobs outstanding still
		// stops new jobs for every host until they end.
		MaxAckPending: 1000,
	}, w.dispatch)
	if err != nil {
		fanout.Stop()
		cancel()
		return nil, err
	}
	go w.keepWaitingJobs(ctx)
	go func() {
		<-ctx.Done()
		fanout.Stop()
		sends.Stop()
		<-fanout.Closed()
		<-sends.Closed()
		w.handBack(w.hosts.close()...)
		close(w.done)
	}()
	return w, nil
}

// stop stops the workers for a reload and returns once their consumers
// take no more messages. The jobs they took but do not send go to next.
func (w *hubWorkers) stop(next *hubWorkers) {
	w.successor.Store(next)
	w.cancel()
	<-w.done
}

// handBack passes jobs that stopping workers took but do not send to
// their successor. Without one, because the process stops, it hands
// them back to JetStream so that another process sends them at once.
// NOTE: nats-server 2.15 counts each such hand-back as one delivery
// attempt, so every process stop takes one retry from the jobs that
// wait for their callback host. A reload takes none.
func (w *hubWorkers) handBack(ds ...hubDelivery) {
	if next := w.successor.Load(); next != nil {
		next.adopt(ds)
		return
	}
	for _, d := range ds {
		_ = d.msg.Nak()
	}
}

// adopt sends jobs taken by the workers that these replace. Their
// messages stay unacknowledged under the same durable consumer, and
// their acknowledgements go to each message's reply subject, so they
// can be sent and acknowledged here as if this consumer had taken them.
func (w *hubWorkers) adopt(ds []hubDelivery) {
	for _, d := range ds {
		// The old workers no longer mark it, and these workers' first
		// mark may be up to a third of the AckWait away.
		_ = d.msg.InProgress()
		admitted, handBack := w.hosts.admit(d)
		if handBack {
			w.handBack(d)
			continue
		}
		if !admitted {
			continue
		}
		w.wg.Add(1)
		go func() {
			if !w.takeSlot(d) {
				w.wg.Done()
				return
			}
			w.run(d)
		}()
	}
}

// keepWaitingJobs marks the jobs waiting for their callback host in
// progress until ctx ends, so that JetStream does not send them again
// after the AckWait.
func (w *hubWorkers) keepWaitingJobs(ctx context.Context) {
	tick := time.NewTicker(w.ackWait / 3)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		for _, msg := range w.hosts.waitingMsgs() {
			_ = msg.InProgress()
		}
	}
}

// wait blocks until the consumers have stopped after ctx ended and the
// deliveries still in progress have ended, each within its timeout.
func (w *hubWorkers) wait() {
	<-w.done
	w.wg.Wait()
}

func consumeDurable(ctx context.Context, s jetstream.Stream, cfg jetstream.ConsumerConfig, handle jetstream.MessageHandler) (jetstream.ConsumeContext, error) {
	cons, err := s.CreateOrUpdateConsumer(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("creating consumer %s: %w", cfg.Durable, err)
	}
	cc, err := cons.Consume(handle)
	if err != nil {
		return nil, fmt.Errorf("consuming with %s: %w", cfg.Durable, err)
	}
	return cc, nil
}

// fanout publishes one job per subscriber of ev. Each job's message id
// names the item message and the subscription, so a fan-out retried after
// a crash publishes no job twice within the stream's duplicate window.
func (w *hubWorkers) fanout(msg jetstream.Msg) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	md, err := msg.Metadata()
	if err != nil {
		w.log.Warn("reading item message metadata failed", "subject", msg.Subject(), "error", err)
		_ = msg.Term()
		return
	}
	var ev pipeline.Event
	if err := json.Unmarshal(msg.Data(), &ev); err != nil {
		w.log.Warn("skipping undecodable item event", "subject", msg.Subject(), "error", err)
		_ = msg.Term()
		return
	}
	if err := w.publishJobs(ctx, ev, md.Sequence.Stream); err != nil {
		w.log.Warn("fanning out item event failed", "item_id", ev.ID, "error", err)
		_ = msg.NakWithDelay(5 * time.Second)
		return
	}
	_ = msg.Ack()
}

func (w *hubWorkers) publishJobs(ctx context.Context, ev pipeline.Event, seq uint64) error {
	jobs, err := w.hub.Jobs(ctx, ev)
	if err != nil {
		return err
	}
	for _, job := range jobs {
		data, err := json.Marshal(job)
		if err != nil {
			return fmt.Errorf("encoding delivery job: %w", err)
		}
		id := strconv.FormatUint(seq, 10) + "-" + job.Key
		if _, err := w.js.Publish(ctx, w.subject, data, jetstream.WithMsgID(id)); err != nil {
			return fmt.Errorf("publishing delivery job %s: %w", id, err)
		}
	}
	return nil
}

// dispatch admits a job to its callback host and sends it on a worker
// slot. A job whose host already has its limit of deliveries in flight
// waits without a slot, so slow hosts cannot hold up the others, and
// dispatch blocks only while every slot is busy.
func (w *hubWorkers) dispatch(msg jetstream.Msg) {
	var job feeds.HubJob
	if err := json.Unmarshal(msg.Data(), &job); err != nil {
		w.log.Warn("dropping undecodable delivery job", "error", err)
		_ = msg.Term()
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	d := hubDelivery{msg: msg, job: job, host: w.hub.JobHost(ctx, job)}
	cancel()
	admitted, handBack := w.hosts.admit(d)
	if handBack {
		w.handBack(d)
	}
	if !admitted || !w.takeSlot(d) {
		return
	}
	w.wg.Add(1)
	go w.run(d)
}

// takeSlot waits for a free worker slot for d, which its host admitted.
// When the workers stop first, it ends d's place at its host, hands d
// back and returns false.
//
// A job that waits here has left its host's waiting list, so
// keepWaitingJobs no longer marks it. takeSlot marks it in progress as
// often instead, and once more when the slot is taken, because with
// many slow hosts the wait can outlast the AckWait, after which
// JetStream would send the job again and count a delivery.
func (w *hubWorkers) takeSlot(d hubDelivery) bool {
	tick := time.NewTicker(w.ackWait / 3)
	defer tick.Stop()
	for {
		select {
		case w.slots <- struct{}{}:
			_ = d.msg.InProgress()
			return true
		case <-tick.C:
			_ = d.msg.InProgress()
		case <-w.stopping:
			w.hosts.release(d.host)
			w.handBack(d)
			return false
		}
	}
}

// run sends d, and then the jobs that wait for d's host one after the
// other, giving its slot back between two jobs so that the next one
// queues for a slot behind the jobs of other hosts.
func (w *hubWorkers) run(d hubDelivery) {
	defer w.wg.Done()
	for {
		w.send(d)
		<-w.slots
		next, ok := w.hosts.next(d.host)
		if !ok || !w.takeSlot(next) {
			return
		}
		d = next
	}
}

// send delivers one job. A failure is retried after the next back-off
// step. The last attempt's failure ends the job with a warning, and ends
// the subscription too when the callback caused it.
func (w *hubWorkers) send(d hubDelivery) {
	ctx, cancel := context.WithTimeout(context.Background(), 45*time.Second)
	defer cancel()
	msg, job := d.msg, d.job
	err := w.hub.Deliver(ctx, job)
	if err == nil {
		hubDeliveriesTotal.WithLabelValues("delivered").Inc()
		_ = msg.Ack()
		return
	}
	attempt := 1
	if md, mdErr := msg.Metadata(); mdErr == nil {
		attempt = int(md.NumDelivered)
	}
	log := w.log.With("subscription", job.Key, "callback_host", d.host, "item_id", job.Event.ID, "attempt", attempt, "error", err)
	if attempt <= len(w.backoff) {
		hubDeliveriesTotal.WithLabelValues("retried").Inc()
		log.Debug("WebSub delivery failed, retrying")
		_ = msg.NakWithDelay(w.backoff[attempt-1])
		return
	}
	hubDeliveriesTotal.WithLabelValues("failed").Inc()
	_ = msg.Term()
	if !errors.Is(err, feeds.ErrCallbackFailed) {
		log.Warn("giving up on a WebSub delivery")
		return
	}
	if endErr := w.hub.EndSubscription(ctx, job.Key); endErr != nil {
		log.Warn("giving up on a WebSub delivery, and ending its subscription failed", "end_error", endErr)
		return
	}
	hubSubscriptionsEndedTotal.Inc()
	log.Warn("giving up on a WebSub delivery and ending its subscription")
}
