package app

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/syndic-network/syndic/workers"
)

// DefaultLeaseTTL is how long a feed lease lives without renewal. It bounds
// how long the feeds of a crashed ingest process wait before another one
// takes them over. Fifteen seconds is long enough that a NATS leader
// election, which usually takes a few seconds, does not move every feed,
// and short enough that a feed polled every minute misses at most one
// poll.
const DefaultLeaseTTL = 15 * time.Second

// leaseOpTimeout bounds one KV request of the lease code, so a NATS
// outage delays a poll decision by at most this long.
const leaseOpTimeout = 5 * time.Second

// Leases shares the feed list between the pollers of several ingest
// processes. Each feed has a key "<partner>.<feed>" in the leases bucket
// whose value names its owner. A poller claims a feed by creating the key
// with a per-key TTL and keeps it by updating the key at the revision it
// last wrote, so a lost race or an expired lease shows up as a revision
// mismatch. Only the owner polls a feed, and the owner follows the
// schedule stored in the shared fetch state, so two processes never poll
// one feed in the same interval while the owner lives. When it dies, the
// lease expires after the TTL and the next process whose turn comes takes
// the feed over at the stored next-poll time.
//
// Leases is safe for concurrent use.
type Leases struct {
	kv    jetstream.KeyValue
	owner string
	ttl   time.Duration
	log   *slog.Logger

	mu sync.Mutex
	// held maps each owned key to the revision this process last wrote.
	held     map[string]uint64
	inFlight int
	stopped  bool
	// idle is closed when the process is stopped and no poll is in flight.
	idle chan struct{}
}

// LeaseOptions configures NewLeases.
type LeaseOptions struct {
	// Owner names this process in the lease values; default
	// "<hostname>-<pid>-<random>".
	Owner string
	// TTL is the lease lifetime; default DefaultLeaseTTL. It must match the
	// TTL of the bucket (EnsureLeaseBucket), because renewal relies on the
	// bucket's maximum age to expire an updated key.
	TTL    time.Duration
	Logger *slog.Logger
}

// EnsureLeaseBucket creates or updates the leases bucket. Every value
// expires ttl after it was written: a created key through its per-key TTL
// and an updated one through the bucket's maximum age, because a KV update
// cannot carry a TTL of its own.
func EnsureLeaseBucket(ctx context.Context, js jetstream.JetStream, bucket string, replicas int, ttl time.Duration) (jetstream.KeyValue, error) {
	cfg := jetstream.KeyValueConfig{
		Bucket:         bucket,
		Description:    "feed leases of the Syndic pollers",
		History:        1,
		TTL:            ttl,
		Storage:        jetstream.FileStorage,
		Replicas:       max(replicas, 1),
		LimitMarkerTTL: time.Minute,
	}
	kv, err := js.CreateOrUpdateKeyValue(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("ensuring kv bucket %q: %w", bucket, err)
	}
	return kv, nil
}

// NewLeases returns the leases of one process on kv.
func NewLeases(kv jetstream.KeyValue, o LeaseOptions) *Leases {
	if o.TTL <= 0 {
		o.TTL = DefaultLeaseTTL
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Owner == "" {
		o.Owner = defaultOwner()
	}
	return &Leases{
		kv: kv, owner: o.Owner, ttl: o.TTL, log: o.Logger,
		held: map[string]uint64{},
		idle: make(chan struct{}),
	}
}

func defaultOwner() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "unknown"
	}
	return fmt.Sprintf("%s-%d-%s", host, os.Getpid(), rand.Text()[:8])
}

// Owner returns the name this process writes into its leases.
func (l *Leases) Owner() string { return l.owner }

func leaseKey(f workers.Feed) string { return f.Partner + "." + f.ID }

// Claim reports whether this process may poll f now, taking or renewing
// its lease. After a true result the caller must call done once the poll
// ends. Claim returns false when another process holds the lease, when
// NATS cannot be reached (a poll could not publish anyway) and after Stop.
// It is the workers.PollerOptions.Claim hook.
func (l *Leases) Claim(ctx context.Context, f workers.Feed) (done func(), ok bool) {
	l.mu.Lock()
	if l.stopped {
		l.mu.Unlock()
		return nil, false
	}
	l.inFlight++
	l.mu.Unlock()
	if !l.acquire(ctx, leaseKey(f)) {
		l.finish()
		return nil, false
	}
	return sync.OnceFunc(l.finish), true
}

// finish ends one claimed poll and closes idle when it was the last one of
// a stopped process.
func (l *Leases) finish() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.inFlight--
	if l.stopped && l.inFlight == 0 {
		closeOnce(l.idle)
	}
}

func closeOnce(c chan struct{}) {
	select {
	case <-c:
	default:
		close(c)
	}
}

// acquire renews the lease on key when this process holds it, and creates
// it otherwise.
func (l *Leases) acquire(ctx context.Context, key string) bool {
	ctx, cancel := context.WithTimeout(ctx, leaseOpTimeout)
	defer cancel()
	if l.renew(ctx, key) {
		return true
	}
	rev, err := l.kv.Create(ctx, key, []byte(l.owner), jetstream.KeyTTL(l.ttl))
	switch {
	case errors.Is(err, jetstream.ErrKeyExists):
		return false
	case err != nil:
		l.log.Warn("claiming feed lease failed", "lease_key", key, "error", err)
		return false
	}
	l.mu.Lock()
	l.held[key] = rev
	l.mu.Unlock()
	leaseChangesTotal.WithLabelValues("acquired").Inc()
	return true
}

// renew updates a held lease at its last revision. It returns false and
// drops the lease when the revision no longer matches, because the lease
// then expired and may belong to another process.
func (l *Leases) renew(ctx context.Context, key string) bool {
	l.mu.Lock()
	rev, ok := l.held[key]
	l.mu.Unlock()
	if !ok {
		return false
	}
	next, err := l.kv.Update(ctx, key, []byte(l.owner), rev)
	l.mu.Lock()
	defer l.mu.Unlock()
	if err != nil {
		if errors.Is(err, jetstream.ErrKeyRevisionMismatch) || errors.Is(err, jetstream.ErrKeyNotFound) {
			delete(l.held, key)
			leaseChangesTotal.WithLabelValues("lost").Inc()
		} else {
			l.log.Warn("renewing feed lease failed", "lease_key", key, "error", err)
		}
		return false
	}
	if _, still := l.held[key]; still {
		l.held[key] = next
	}
	return true
}

// Keep renews every held lease each third of the TTL until ctx ends, so a
// feed stays with its owner between polls.
func (l *Leases) Keep(ctx context.Context) {
	t := time.NewTicker(l.ttl / 3)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		for _, key := range l.heldKeys() {
			l.renew(ctx, key)
		}
	}
}

func (l *Leases) heldKeys() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	keys := make([]string, 0, len(l.held))
	for k := range l.held {
		keys = append(keys, k)
	}
	return keys
}

// Held returns the number of leases this process holds.
func (l *Leases) Held() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.held)
}

// Stop makes every later Claim return false. The returned channel is
// closed once the polls claimed before Stop have ended.
func (l *Leases) Stop() <-chan struct{} {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.stopped = true
	if l.inFlight == 0 {
		closeOnce(l.idle)
	}
	return l.idle
}

// Release deletes every held lease at its last revision, so other
// processes take the feeds over at their next due time instead of after
// the TTL. A lease that changed hands meanwhile is left alone.
func (l *Leases) Release(ctx context.Context) {
	l.mu.Lock()
	held := l.held
	l.held = map[string]uint64{}
	l.mu.Unlock()
	l.deleteLeases(ctx, held)
}

// deleteLeases deletes each lease at its revision, leaving alone a lease
// that changed hands meanwhile.
func (l *Leases) deleteLeases(ctx context.Context, leases map[string]uint64) {
	for key, rev := range leases {
		dctx, cancel := context.WithTimeout(ctx, leaseOpTimeout)
		err := l.kv.Delete(dctx, key, jetstream.LastRevision(rev))
		cancel()
		if err != nil && !errors.Is(err, jetstream.ErrKeyRevisionMismatch) {
			l.log.Warn("releasing feed lease failed", "lease_key", key, "error", err)
			continue
		}
		leaseChangesTotal.WithLabelValues("released").Inc()
	}
}

// Retain releases the held leases of feeds that are not in feeds, such
// as feeds removed from the configuration by a reload.
func (l *Leases) Retain(ctx context.Context, feeds []workers.Feed) {
	keep := make(map[string]bool, len(feeds))
	for _, f := range feeds {
		keep[leaseKey(f)] = true
	}
	l.mu.Lock()
	drop := map[string]uint64{}
	for key, rev := range l.held {
		if !keep[key] {
			drop[key] = rev
			delete(l.held, key)
		}
	}
	l.mu.Unlock()
	l.deleteLeases(ctx, drop)
}

// openLeases ensures the leases bucket and creates this process's leases.
func (a *App) openLeases(ctx context.Context) error {
	n := a.Config.NATS
	ttl := a.Config.Fetch.LeaseTTL
	kv, err := EnsureLeaseBucket(ctx, a.JS, n.KVPrefix+"_LEASES", n.Replicas, ttl)
	if err != nil {
		return err
	}
	if a.embedded != nil {
		// Every lease in the bucket belongs to a process of the server's
		// last run, which cannot reach this one: its URL and password
		// change at every start. Dropping them saves a restart after a
		// crash from waiting fetch.lease_ttl before it polls those feeds.
		name := "KV_" + n.KVPrefix + "_LEASES"
		s, err := a.JS.Stream(ctx, name)
		if err == nil {
			err = s.Purge(ctx)
		}
		if err != nil {
			return fmt.Errorf("dropping the feed leases of the last run in %s: %w", name, err)
		}
	}
	a.Leases = NewLeases(kv, LeaseOptions{TTL: ttl, Logger: a.Log})
	return nil
}
