package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
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
	// was in the stream when it started, and the back-fill of partners
	// with few items in that window has ended.
	ready atomic.Bool
	// caught guards the start of the back-fill, which runs once.
	caught sync.Once
	cc     jetstream.ConsumeContext
	// mu guards stopped, which keeps a back-fill from starting after Stop,
	// and background counts the back-fill that Stop waits for.
	mu         sync.Mutex
	stopped    bool
	background sync.WaitGroup
}

// maxBackfillWindows is the number of windows of events, before the
// newest one, that the back-fill after a restart reads at most. It keeps
// start-up bounded on a long stream. A partner whose items lie up to this
// many windows back still gets them into the views.
const maxBackfillWindows = 9

// maxFilterSubjects is the most partner subjects a back-fill consumer
// filters on. nats-server compares every filter subject of a new consumer
// with every other, so a consumer for 1,000 partners took seconds to
// create, and back-fill creates several. Beyond this many partners the
// consumer reads every item subject and the events of other partners are
// skipped here.
const maxFilterSubjects = 32

// StartViews starts consuming the newest window events of the stream into
// a new view. Reading a bounded window keeps start-up time independent of
// the stream's length. Once that window is read, backfill reads older
// events of the partners with fewer items in the view than the largest
// channel shows. So a partner that flooded the stream before a restart
// does not push the others out of the rebuilt view.
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
	caughtUp := func() {
		if start <= info.State.FirstSeq {
			v.ready.Store(true)
			return
		}
		v.goBackground(func() {
			a.backfill(ctx, v.View, info.State.FirstSeq, start)
			v.ready.Store(true)
		})
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
		a.applyEvent(v.View, msg)
		if md, err := msg.Metadata(); err == nil && (md.NumPending == 0 || md.Sequence.Stream >= last) {
			v.caught.Do(caughtUp)
		}
	})
	if err != nil {
		return nil, fmt.Errorf("consuming %s: %w", a.Config.NATS.Stream, err)
	}
	v.cc = cc
	a.probe.views.Store(v)
	go a.watchExpiry(ctx, v, last, func() { v.caught.Do(caughtUp) })
	return v, nil
}

// watchExpiry calls caughtUp when every event up to last has left the
// stream (by max age) before the consumer delivered it, which would
// otherwise keep the views unready until the next event arrives. It ends
// once the views are ready or ctx ends.
func (a *App) watchExpiry(ctx context.Context, v *Views, last uint64, caughtUp func()) {
	t := time.NewTicker(2 * time.Second)
	defer t.Stop()
	for !v.Ready() {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		info, err := a.Stream.Info(ctx)
		if err == nil && (info.State.Msgs == 0 || info.State.FirstSeq > last) {
			caughtUp()
		}
	}
}

// backfill reads the events before sequence start, a window at a time
// back to first and for at most maxBackfillWindows windows, of the
// configured partners that have fewer items in view than the largest
// channel's max_items. Failures are logged: the view then lacks some old
// items, which is what it had before back-fill existed.
func (a *App) backfill(ctx context.Context, view *feeds.View, first, start uint64) {
	need := 0
	for _, ch := range a.Config.Channels {
		need = max(need, ch.MaxItems)
	}
	window := uint64(max(a.Config.Feeds.Window, 1))
	for range maxBackfillWindows {
		if start <= first {
			return
		}
		needed := map[string]bool{}
		for _, p := range a.Config.Partners {
			if view.PartnerLen(p.ID) < need {
				needed[a.Config.NATS.SubjectPrefix+"."+p.ID] = true
			}
		}
		if len(needed) == 0 {
			return
		}
		from := max(first, start-min(start-1, window))
		err := a.readEvents(ctx, view, backfillFilter(a.Config.NATS.SubjectPrefix, needed), needed, from, start-1)
		if ctx.Err() != nil {
			// Shutting down: the next start back-fills again.
			return
		}
		if err != nil {
			a.Log.Warn("back-filling the merged feed views failed; older items of quiet partners may be missing until the next restart", "error", err)
			return
		}
		start = from
	}
}

// backfillFilter returns the filter subjects of a back-fill consumer for
// the subjects of partners that need back-fill: those subjects, or every
// item subject when there are more than maxFilterSubjects.
func backfillFilter(prefix string, needed map[string]bool) []string {
	if len(needed) > maxFilterSubjects {
		return []string{prefix + ".>"}
	}
	return slices.Sorted(maps.Keys(needed))
}

// readEvents applies to view the events on the needed subjects from
// sequence from to to, both included, reading them through a consumer
// filtered on filter.
func (a *App) readEvents(ctx context.Context, view *feeds.View, filter []string, needed map[string]bool, from, to uint64) error {
	cons, err := a.Stream.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{
		FilterSubjects: filter,
		DeliverPolicy:  jetstream.DeliverByStartSequencePolicy,
		OptStartSeq:    from,
	})
	if err != nil {
		return fmt.Errorf("creating back-fill consumer on %s: %w", a.Config.NATS.Stream, err)
	}
	info, err := cons.Info(ctx)
	if err != nil {
		return fmt.Errorf("reading back-fill consumer info: %w", err)
	}
	if info.NumPending == 0 {
		// No event on these subjects from here on: a fetch would only
		// wait out its timeout.
		return nil
	}
	for {
		batch, err := cons.FetchNoWait(500)
		if err != nil {
			return fmt.Errorf("fetching events %d to %d: %w", from, to, err)
		}
		got, done := 0, false
		for msg := range batch.Messages() {
			got++
			md, err := msg.Metadata()
			if err != nil || md.Sequence.Stream > to {
				done = true
				continue
			}
			if needed[msg.Subject()] {
				a.applyEvent(view, msg)
			}
			if md.NumPending == 0 || md.Sequence.Stream == to {
				done = true
			}
		}
		if err := batch.Error(); err != nil && !errors.Is(err, nats.ErrTimeout) && !errors.Is(err, jetstream.ErrNoMessages) {
			return fmt.Errorf("fetching events %d to %d: %w", from, to, err)
		}
		if done || got == 0 {
			return nil
		}
	}
}

// applyEvent decodes the item event in msg and applies it to view. An
// undecodable event is logged and skipped.
func (a *App) applyEvent(view *feeds.View, msg jetstream.Msg) {
	var ev pipeline.Event
	if err := json.Unmarshal(msg.Data(), &ev); err != nil {
		a.Log.Warn("skipping undecodable item event", "subject", msg.Subject(), "error", err)
		return
	}
	view.Apply(ev)
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

// Stop stops the consumer and waits for a back-fill under way. Cancelling
// the context given to StartViews first ends that back-fill early.
func (v *Views) Stop() {
	v.mu.Lock()
	v.stopped = true
	v.mu.Unlock()
	if v.cc != nil {
		v.cc.Stop()
	}
	v.background.Wait()
}

// goBackground runs fn in a goroutine that Stop waits for, unless Stop
// was called already.
func (v *Views) goBackground(fn func()) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.stopped {
		return
	}
	v.background.Go(fn)
}
