package app

import (
	"context"
	"encoding/json"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/syndic-network/syndic/feeds"
	"github.com/syndic-network/syndic/pipeline"
)

// Views keeps a feeds.View up to date from the item stream through a
// per-process ordered consumer, so every feed server replica builds the
// same view from the same log without shared state.
type Views struct {
	View *feeds.View
	// ready turns true once the consumer has delivered every event that
	// was in the stream when it started.
	ready atomic.Bool
	cc    jetstream.ConsumeContext
}

// StartViews starts consuming the newest window events of the stream into
// a new view. Reading a bounded window keeps start-up time independent of
// the stream's length; items older than the window are beyond every
// channel's max_items in practice.
//
// NOTE: while running, a partner that floods the window evicts its own old
// items first, but this rebuild reads only the newest window events, so
// after a restart a quiet partner's items older than the flood are gone
// from the views until they are updated.
func (a *App) StartViews(ctx context.Context) (*Views, error) {
	window := a.Config.Feeds.Window
	v := &Views{View: feeds.NewView(window)}
	info, err := a.Stream.Info(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading stream info: %w", err)
	}
	last := info.State.LastSeq
	start := uint64(1)
	if last > uint64(window) {
		start = last - uint64(window) + 1
	}
	if info.State.Msgs == 0 {
		v.ready.Store(true)
	}
	cons, err := a.Stream.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{a.Config.NATS.SubjectPrefix + ".>"},
		DeliverPolicy:  jetstream.DeliverByStartSequencePolicy,
		OptStartSeq:    start,
	})
	if err != nil {
		return nil, fmt.Errorf("creating view consumer on %s: %w", a.Config.NATS.Stream, err)
	}
	cc, err := cons.Consume(func(msg jetstream.Msg) {
		var ev pipeline.Event
		if err := json.Unmarshal(msg.Data(), &ev); err != nil {
			a.Log.Warn("skipping undecodable item event", "subject", msg.Subject(), "error", err)
		} else {
			v.View.Apply(ev)
		}
		if md, err := msg.Metadata(); err == nil && (md.NumPending == 0 || md.Sequence.Stream >= last) {
			v.ready.Store(true)
		}
	})
	if err != nil {
		return nil, fmt.Errorf("consuming %s: %w", a.Config.NATS.Stream, err)
	}
	v.cc = cc
	a.probe.views.Store(v)
	return v, nil
}

// CompleteViews returns Views over a view that already holds every event
// it should, such as one replayed from the stream, so handlers serve it at
// once.
func CompleteViews(view *feeds.View) *Views {
	v := &Views{View: view}
	v.ready.Store(true)
	return v
}

// Ready reports whether the view has caught up with the stream as it was
// at start-up.
func (v *Views) Ready() bool { return v.ready.Load() }

// WaitReady blocks until the view is ready or ctx ends.
func (v *Views) WaitReady(ctx context.Context) error {
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	for !v.Ready() {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
	return nil
}

// Stop stops the consumer.
func (v *Views) Stop() {
	if v.cc != nil {
		v.cc.Stop()
	}
}
