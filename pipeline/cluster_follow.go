package pipeline

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// errFollowStopped means the store stopped delivering member records
// before all of them were read. The next item starts reading again.
var errFollowStopped = errors.New("reading fingerprint records stopped")

// errClustererClosed is returned by a clusterer used after Close.
var errClustererClosed = errors.New("clusterer closed")

// recordFollower is implemented by stores that can deliver the member
// records written by every process.
type recordFollower interface {
	// FollowRecords calls apply with the sequence and value of each
	// member record held, in the order written, then closes loaded and
	// goes on with each record written later, until ctx ends or the store
	// stops delivering. It closes the returned done channel when it
	// stops. apply runs on one goroutine. maxAge is how long the store
	// keeps a record, zero for ever.
	FollowRecords(ctx context.Context, apply func(seq uint64, value []byte, stored time.Time), loaded chan<- struct{}) (done <-chan struct{}, maxAge time.Duration, err error)
}

// following is the state of a clusterer's reading of member records.
type following struct {
	mu     sync.Mutex
	loaded chan struct{}
	done   <-chan struct{}
	stop   context.CancelFunc
	// starting is closed when the start under way ends, nil when none is.
	starting chan struct{}
	closed   bool
}

// ownGeneration is the number of sequences in one generation of the
// records a clusterer wrote itself. The store delivers each of them back within
// milliseconds, so a few thousand cover the delay.
const ownGeneration = 8192

// newClusterer returns a clusterer on store with an empty key index.
func newClusterer(store fingerprintStore, records *recordCache) *Clusterer {
	return &Clusterer{
		store: store, records: records, keys: newKeyIndex(),
		bandDistance: maxBandDistance,
		own:          newGenerations[uint64, struct{}](ownGeneration),
	}
}

// ensureKeys returns once the key index holds every record in the store,
// starting to read them on the first call. A store that cannot deliver
// records leaves the index with this clusterer's own records.
func (c *Clusterer) ensureKeys(ctx context.Context) error {
	f, ok := c.store.(recordFollower)
	if !ok {
		return nil
	}
	loaded, done, err := c.startFollowing(ctx, f)
	if err != nil {
		return fmt.Errorf("reading fingerprint records: %w", err)
	}
	select {
	case <-loaded:
		return nil
	case <-done:
		return errFollowStopped
	case <-ctx.Done():
		return ctx.Err()
	}
}

// startFollowing starts reading records unless a reading is under way.
// The reading outlives ctx and ends with Close. While one caller starts
// it, the others wait for that start or for their own ctx.
func (c *Clusterer) startFollowing(ctx context.Context, f recordFollower) (<-chan struct{}, <-chan struct{}, error) {
	c.follow.mu.Lock()
	switch {
	case c.follow.closed:
		c.follow.mu.Unlock()
		return nil, nil, errClustererClosed
	case c.follow.loaded != nil && !closed(c.follow.done):
		defer c.follow.mu.Unlock()
		return c.follow.loaded, c.follow.done, nil
	case c.follow.starting != nil:
		starting := c.follow.starting
		c.follow.mu.Unlock()
		select {
		case <-starting:
			return c.startFollowing(ctx, f)
		case <-ctx.Done():
			return nil, nil, ctx.Err()
		}
	}
	starting := make(chan struct{})
	c.follow.starting = starting
	c.follow.mu.Unlock()
	defer func() {
		c.follow.mu.Lock()
		c.follow.starting = nil
		c.follow.mu.Unlock()
		close(starting)
	}()
	return c.follow.begin(ctx, f, c)
}

// begin opens a reading of f's records into c and keeps it unless c was
// closed meanwhile.
func (fl *following) begin(ctx context.Context, f recordFollower, c *Clusterer) (<-chan struct{}, <-chan struct{}, error) {
	fctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	// The creation time is read before the reading starts, so a log
	// created again in between shows at the first check.
	created, checkable := logCreatedBy(fctx, f)
	// A log created again numbers its records anew, so the sequences
	// this clusterer wrote to the old one would hide records of the new.
	// NOTE: an append to the old log whose acknowledgement arrives after
	// this reset still marks its sequence as own, which can hide one
	// record of another process in the new log. Not tested.
	c.own.reset()
	loaded := make(chan struct{})
	done, maxAge, err := f.FollowRecords(fctx, c.applyStored, loaded)
	if err != nil {
		cancel()
		return nil, nil, err
	}
	if checkable {
		go stopWhenRecreated(fctx, f.(logChecker), created, cancel)
	}
	c.keys.setMaxAge(maxAge)
	fl.mu.Lock()
	defer fl.mu.Unlock()
	if fl.closed {
		cancel()
		return nil, nil, errClustererClosed
	}
	fl.loaded, fl.done, fl.stop = loaded, done, cancel
	return loaded, done, nil
}

// logChecker is implemented by stores whose log can be deleted and
// created again under a running reading: by an operator wiping it, or by
// restoring a backup into a new nats-server. The reading's consumer then
// delivers none of the new log's first records.
type logChecker interface {
	// logCreated returns when the store's log was created.
	logCreated(ctx context.Context) (time.Time, error)
}

// followCheckNanos is the interval, in nanoseconds, between a reading's
// checks that its log was not created again. One status request per
// 30 seconds bounds how long other processes' records then stay out of
// the index. Tests shorten it.
var followCheckNanos atomic.Int64

func init() { followCheckNanos.Store(int64(30 * time.Second)) }

// logCreatedBy returns when f's log was created, and false when f
// cannot tell or the request failed.
func logCreatedBy(ctx context.Context, f recordFollower) (time.Time, bool) {
	bc, ok := f.(logChecker)
	if !ok {
		return time.Time{}, false
	}
	created, err := bc.logCreated(ctx)
	return created, err == nil
}

// stopWhenRecreated calls stop, ending the reading, once bc's log has a
// creation time other than created. The next item then reads the new log
// from the start. It returns when ctx ends.
func stopWhenRecreated(ctx context.Context, bc logChecker, created time.Time, stop context.CancelFunc) {
	tick := time.NewTicker(time.Duration(followCheckNanos.Load()))
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			now, err := bc.logCreated(ctx)
			if err == nil && !now.Equal(created) {
				stop()
				return
			}
		}
	}
}

func closed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// applyStored files a record read from the store. A record this clusterer
// wrote is filed already and is not decoded again. A record that cannot
// be decoded is skipped: its item only stays out of later grouping.
func (c *Clusterer) applyStored(seq uint64, value []byte, stored time.Time) {
	if _, mine := c.own.get(seq); mine {
		return
	}
	var rec memberRecord
	if err := decodeMemberRecord(value, &rec); err != nil || rec.ID == "" {
		return
	}
	rec.seq = seq
	c.keys.add(rec, stored)
	c.records.put(rec)
}

// Close stops reading member records. Grouping an item afterwards fails
// with errClustererClosed.
func (c *Clusterer) Close() {
	c.follow.mu.Lock()
	defer c.follow.mu.Unlock()
	c.follow.closed = true
	if c.follow.stop != nil {
		c.follow.stop()
		c.follow.stop = nil
	}
}

func (x *keyIndex) setMaxAge(d time.Duration) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.maxAge = d
}
