package tokens

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"
)

// Watch loads every partner's hashes and keeps them current until ctx
// ends, following the bucket's changes in the background. It returns once
// the initial values are loaded.
func (s *Store) Watch(ctx context.Context) error {
	w, err := s.kv.WatchAll(ctx)
	if err != nil {
		return fmt.Errorf("watching token bucket: %w", err)
	}
	loaded := make(chan struct{})
	go s.follow(ctx, w, loaded)
	select {
	case <-loaded:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// follow applies watcher updates. The watcher sends nil once it has
// delivered every value present when it started.
func (s *Store) follow(ctx context.Context, w jetstream.KeyWatcher, loaded chan<- struct{}) {
	defer func() {
		if err := w.Stop(); err != nil {
			s.log.Debug("stopping token watcher failed", "error", err)
		}
		s.mu.Lock()
		s.watching = false
		s.mu.Unlock()
	}()
	for {
		select {
		case <-ctx.Done():
			return
		case entry, ok := <-w.Updates():
			if !ok {
				return
			}
			if entry == nil {
				s.mu.Lock()
				s.watching = true
				s.mu.Unlock()
				close(loaded)
				continue
			}
			s.apply(entry)
		}
	}
}

func (s *Store) apply(entry jetstream.KeyValueEntry) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if cur, ok := s.byKey[entry.Key()]; ok && cur.revision >= entry.Revision() {
		return
	}
	if entry.Operation() != jetstream.KeyValuePut {
		s.byKey[entry.Key()] = cached{revision: entry.Revision()}
		return
	}
	var rec record
	if err := json.Unmarshal(entry.Value(), &rec); err != nil {
		// Keep no hashes for the partner: a token that cannot be checked
		// against the in-memory copy is read from the bucket again.
		s.log.Warn("skipping undecodable token record", "partner", entry.Key(), "error", err)
		rec = record{}
	}
	s.byKey[entry.Key()] = cached{rec: rec, revision: entry.Revision()}
}
