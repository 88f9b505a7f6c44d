package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/syndic-network/syndic/internal/broker"

	"github.com/syndic-network/syndic/feeds"
)

// watchedSubscriptions is a subscription store that also keeps a copy of
// the whole WebSub bucket in memory, updated by one watch on the bucket,
// so List sends no request. The fan-out lists the subscriptions once per
// new item, and listing the bucket's keys creates a consumer on the
// server each time.
//
// Its own writes are in the copy at once. A subscription another process
// stores shows up once the watch delivers it, normally within
// milliseconds, so an item published in that moment may miss it. After
// nats-server restarts, the watch resumes once the client notices the
// missed heartbeats, about ten seconds in tests. A watch that stops
// delivering, or whose bucket was created again, is replaced.
type watchedSubscriptions struct {
	kvSubscriptions
	log *slog.Logger
	// loaded is closed once the watch has delivered every value stored
	// when it started.
	loaded chan struct{}

	mu   sync.RWMutex
	subs map[string]watchedSub
}

// watchedSub is the last value seen under one key of the bucket. rev is
// its revision, so an older value that the watch delivers late is ignored.
type watchedSub struct {
	sub     feeds.Subscription
	rev     uint64
	deleted bool
}

// bucketCheckInterval is how often the copy checks that the bucket it
// watches still exists as the stream it started on, and how long it
// waits before watching again after a failure. A bucket deleted and
// created again (wiped by an operator, or restored into a new
// nats-server) numbers its revisions from 1 again, and the old watch
// delivers none of its values. One status request per interval bounds
// how long the copy then stays stale.
const bucketCheckInterval = 30 * time.Second

// watchSubscriptions starts watching the bucket of kv until ctx ends.
func watchSubscriptions(ctx context.Context, kv jetstream.KeyValue, log *slog.Logger) (*watchedSubscriptions, error) {
	return watchSubscriptionsEvery(ctx, kv, log, bucketCheckInterval)
}

// watchSubscriptionsEvery is watchSubscriptions with the bucket checked
// every interval.
func watchSubscriptionsEvery(ctx context.Context, kv jetstream.KeyValue, log *slog.Logger, every time.Duration) (*watchedSubscriptions, error) {
	s := &watchedSubscriptions{kvSubscriptions: kvSubscriptions{kv: kv}, log: log,
		loaded: make(chan struct{}), subs: map[string]watchedSub{}}
	created, w, err := s.watch(ctx)
	if err != nil {
		return nil, err
	}
	go s.follow(ctx, w, created, every)
	return s, nil
}

// watch starts a watch of the whole bucket and returns it with the
// creation time of the bucket's stream, read first, so a bucket created
// again in between shows at the next check.
func (s *watchedSubscriptions) watch(ctx context.Context) (time.Time, jetstream.KeyWatcher, error) {
	created, err := s.bucketCreated(ctx)
	if err != nil {
		return time.Time{}, nil, err
	}
	w, err := s.kv.WatchAll(ctx)
	if err != nil {
		return time.Time{}, nil, fmt.Errorf("watching the WebSub subscriptions: %w", err)
	}
	return created, w, nil
}

// bucketCreated returns when the bucket's stream was created.
func (s *watchedSubscriptions) bucketCreated(ctx context.Context) (time.Time, error) {
	return broker.BucketCreated(ctx, s.kv)
}

// follow applies the watch's updates until ctx ends, and watches again
// when the watch stops delivering or the bucket was created again.
func (s *watchedSubscriptions) follow(ctx context.Context, w jetstream.KeyWatcher, created time.Time, every time.Duration) {
	keep := true
	for {
		recreated := s.consume(ctx, w, created, every, keep)
		_ = w.Stop()
		next, nextWatch, ok := s.rewatch(ctx, every)
		if !ok {
			return
		}
		recreated = recreated || !next.Equal(created)
		created, w, keep = next, nextWatch, !recreated
		s.log.Info("watching the WebSub subscriptions again", "bucket_recreated", recreated)
	}
}

// rewatch starts a new watch, trying again every interval until it
// succeeds or ctx ends, and reports false in the last case.
func (s *watchedSubscriptions) rewatch(ctx context.Context, every time.Duration) (time.Time, jetstream.KeyWatcher, bool) {
	for ctx.Err() == nil {
		created, w, err := s.watch(ctx)
		if err == nil {
			return created, w, true
		}
		s.log.Warn("watching the WebSub subscriptions again failed; deliveries use the last copy", "error", err)
		sleepCtx(ctx, every)
	}
	return time.Time{}, nil, false
}

// consume applies w's updates until ctx ends, w stops delivering, or a
// check finds a bucket stream created at a time other than created, and
// reports true in the last case. The values w delivers before its
// initial nil marker are collected apart and then replace the copy,
// keeping newer values of the copy when keep is true.
func (s *watchedSubscriptions) consume(ctx context.Context, w jetstream.KeyWatcher, created time.Time, every time.Duration, keep bool) bool {
	tick := time.NewTicker(every)
	defer tick.Stop()
	snapshot := map[string]watchedSub{}
	// seen is the highest revision w delivered, and forgettable what
	// seen was at the last tick.
	var seen, forgettable uint64
	for {
		select {
		case <-ctx.Done():
			return false
		case <-tick.C:
			now, err := s.bucketCreated(ctx)
			if err == nil && !now.Equal(created) {
				return true
			}
			s.forget(forgettable)
			forgettable = seen
		case entry, ok := <-w.Updates():
			if ok && entry != nil {
				seen = max(seen, entry.Revision())
			}
			switch {
			case !ok:
				return false
			case entry == nil && snapshot != nil:
				s.replace(snapshot, keep)
				snapshot = nil
			case entry == nil:
			case snapshot != nil:
				snapshot[entry.Key()] = s.decode(entry)
			default:
				s.set(entry.Key(), s.decode(entry))
			}
		}
	}
}

// replace makes snapshot, the values a new watch delivered before its
// marker, the copy. When keep is true, a value this store wrote
// meanwhile, at a revision above the snapshot's, stays until the watch
// delivers it. A copy of a bucket created again is replaced whole
// (keep false), as the revisions of its old stream mean nothing in the
// new one.
func (s *watchedSubscriptions) replace(snapshot map[string]watchedSub, keep bool) {
	var top uint64
	for _, v := range snapshot {
		top = max(top, v.rev)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for key, v := range s.subs {
		if keep && newerThan(v, snapshot, key, top) {
			snapshot[key] = v
		}
	}
	s.subs = snapshot
	select {
	case <-s.loaded:
	default:
		close(s.loaded)
	}
}

// forget drops the deleted marks at revisions up to upTo, which the
// watch had passed at the previous check. The watch delivers values in
// revision order, so no older value of those keys can arrive from it.
// A mark kept for every key ever deleted would grow without bound as
// clients subscribe and unsubscribe.
func (s *watchedSubscriptions) forget(upTo uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for key, v := range s.subs {
		if v.deleted && v.rev <= upTo {
			delete(s.subs, key)
		}
	}
}

// newerThan reports whether v, the copy's value of key, is newer than
// the snapshot's, whose highest revision is top. A deleted mark at the
// revision of the snapshot's value is the delete of that value.
func newerThan(v watchedSub, snapshot map[string]watchedSub, key string, top uint64) bool {
	cur, ok := snapshot[key]
	if !ok {
		return v.rev > top
	}
	return v.rev > cur.rev || v.rev == cur.rev && v.deleted && !cur.deleted
}

// decode returns the copy's value for entry: a deleted mark for a delete
// or a value that is not a subscription.
func (s *watchedSubscriptions) decode(entry jetstream.KeyValueEntry) watchedSub {
	if entry.Operation() != jetstream.KeyValuePut {
		return watchedSub{rev: entry.Revision(), deleted: true}
	}
	var sub feeds.Subscription
	if err := json.Unmarshal(entry.Value(), &sub); err != nil {
		s.log.Warn("skipping undecodable WebSub subscription; its subscriber gets no deliveries until it subscribes again",
			"key", entry.Key(), "error", err)
		return watchedSub{rev: entry.Revision(), deleted: true}
	}
	return watchedSub{sub: sub, rev: entry.Revision()}
}

// sleepCtx waits for d or until ctx ends.
func sleepCtx(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// set stores v under key unless the copy already has a newer revision.
// A value of the revision that Delete marked deleted is the watch's late
// entry of a put that Delete already removed, so it is ignored too.
func (s *watchedSubscriptions) set(key string, v watchedSub) {
	s.mu.Lock()
	defer s.mu.Unlock()
	old, ok := s.subs[key]
	if ok && (old.rev > v.rev || old.rev == v.rev && old.deleted) {
		return
	}
	s.subs[key] = v
}

// Put stores sub in the bucket and in the copy.
func (s *watchedSubscriptions) Put(ctx context.Context, sub feeds.Subscription) error {
	rev, err := s.put(ctx, sub)
	if err != nil {
		return err
	}
	s.set(sub.Key(), watchedSub{sub: sub, rev: rev})
	return nil
}

// Delete removes the subscription under key from the bucket and the copy.
// The hub deletes what it read from the copy (an expired lease, or a
// callback that returned 410), so only the revision in the copy is
// deleted. A renewal that a feed server stored since then, not yet
// delivered by the watch, is kept, and Delete returns nil.
//
// The delete's own revision is not known here, so the copy keeps the
// revision it had: an older value arriving later is still ignored, and
// the watch's delete entry replaces the mark.
func (s *watchedSubscriptions) Delete(ctx context.Context, key string) error {
	s.mu.RLock()
	old := s.subs[key]
	s.mu.RUnlock()
	var opts []jetstream.KVDeleteOpt
	if old.rev > 0 && !old.deleted {
		opts = append(opts, jetstream.LastRevision(old.rev))
	}
	err := s.kv.Delete(ctx, key, opts...)
	switch {
	case errors.Is(err, jetstream.ErrKeyRevisionMismatch):
		s.log.DebugContext(ctx, "keeping a WebSub subscription renewed after the copy read it", "key", key)
		return nil
	case err != nil && !errors.Is(err, jetstream.ErrKeyNotFound):
		return fmt.Errorf("deleting subscription %s: %w", key, err)
	}
	s.set(key, watchedSub{rev: old.rev, deleted: true})
	return nil
}

// List returns the subscriptions in the copy, after waiting until the
// watch has delivered the values stored when it started.
func (s *watchedSubscriptions) List(ctx context.Context) ([]feeds.Subscription, error) {
	select {
	case <-s.loaded:
	case <-ctx.Done():
		return nil, fmt.Errorf("listing subscriptions: %w", ctx.Err())
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]feeds.Subscription, 0, len(s.subs))
	for _, v := range s.subs {
		if !v.deleted {
			out = append(out, v.sub)
		}
	}
	return out, nil
}

var _ feeds.SubscriptionStore = (*watchedSubscriptions)(nil)
