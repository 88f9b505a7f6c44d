package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"github.com/nats-io/nats.go/jetstream"

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
// milliseconds, so an item published in that moment may miss it.
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

// watchSubscriptions starts watching the bucket of kv until ctx ends.
func watchSubscriptions(ctx context.Context, kv jetstream.KeyValue, log *slog.Logger) (*watchedSubscriptions, error) {
	w, err := kv.WatchAll(ctx)
	if err != nil {
		return nil, fmt.Errorf("watching the WebSub subscriptions: %w", err)
	}
	s := &watchedSubscriptions{kvSubscriptions: kvSubscriptions{kv: kv}, log: log,
		loaded: make(chan struct{}), subs: map[string]watchedSub{}}
	go s.follow(ctx, w)
	return s, nil
}

// follow applies the watch's updates until ctx ends.
func (s *watchedSubscriptions) follow(ctx context.Context, w jetstream.KeyWatcher) {
	defer func() { _ = w.Stop() }()
	initial := true
	for {
		select {
		case <-ctx.Done():
			return
		case entry, ok := <-w.Updates():
			if !ok {
				return
			}
			if entry == nil {
				if initial {
					initial = false
					close(s.loaded)
				}
				continue
			}
			s.apply(entry)
		}
	}
}

func (s *watchedSubscriptions) apply(entry jetstream.KeyValueEntry) {
	if entry.Operation() != jetstream.KeyValuePut {
		s.set(entry.Key(), watchedSub{rev: entry.Revision(), deleted: true})
		return
	}
	var sub feeds.Subscription
	if err := json.Unmarshal(entry.Value(), &sub); err != nil {
		s.log.Warn("skipping undecodable WebSub subscription; its subscriber gets no deliveries until it subscribes again",
			"key", entry.Key(), "error", err)
		s.set(entry.Key(), watchedSub{rev: entry.Revision(), deleted: true})
		return
	}
	s.set(entry.Key(), watchedSub{sub: sub, rev: entry.Revision()})
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
