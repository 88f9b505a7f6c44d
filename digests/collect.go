package digests

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/syndic-network/syndic/pipeline"
)

// Window is the result of reading the item stream over a time range:
// per item id, when it was created and its latest event.
type Window struct {
	items map[string]*windowItem
}

type windowItem struct {
	// created is the stream time of the item's created event, or zero when
	// the event lies before the range read.
	created time.Time
	latest  pipeline.Event
}

// Collector reads item events from the stream by time, never from an
// in-memory view, so a restarted worker reads the same items as a running
// one.
type Collector struct {
	Stream        jetstream.Stream
	SubjectPrefix string
	// FetchWait bounds the wait for each message. The stream's last
	// sequence is read first, so the wait ends a read only when the stream
	// lost messages meanwhile.
	FetchWait time.Duration
}

// Collect reads the events stored after since and at or before until,
// with an ordered consumer that starts at since.
func (c *Collector) Collect(ctx context.Context, since, until time.Time) (*Window, error) {
	w := &Window{items: map[string]*windowItem{}}
	info, err := c.Stream.Info(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading stream info: %w", err)
	}
	last := info.State.LastSeq
	if info.State.Msgs == 0 || !info.State.LastTime.After(since) {
		return w, nil
	}
	start := since.Add(time.Nanosecond)
	cons, err := c.Stream.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{c.SubjectPrefix + ".>"},
		DeliverPolicy:  jetstream.DeliverByStartTimePolicy,
		OptStartTime:   &start,
	})
	if err != nil {
		return nil, fmt.Errorf("creating ordered consumer: %w", err)
	}
	return w, c.read(ctx, cons, w, last, until)
}

// maxNoResponders bounds the retries of a pull request that found no
// responder, and noResponderWait grows the wait before each: 0.5 s, 1 s
// and so on, about 7.5 s in all.
const (
	maxNoResponders = 5
	noResponderWait = 500 * time.Millisecond
)

// fetchBatch is the number of events requested per round trip. Larger
// batches cut round trips on long catch-up reads, and an event is a few KB.
const fetchBatch = 256

func (c *Collector) read(ctx context.Context, cons jetstream.Consumer, w *Window, last uint64, until time.Time) error {
	wait := c.FetchWait
	if wait <= 0 {
		wait = 2 * time.Second
	}
	missing := 0 // pull requests in a row that found no responder
	for {
		batch, err := cons.Fetch(fetchBatch, jetstream.FetchMaxWait(wait))
		if errors.Is(err, nats.ErrNoResponders) && missing < maxNoResponders {
			// While a server of a cluster restarts, a request can find
			// no responder for a moment. The ordered consumer is created
			// again from the last event read, so nothing is read twice.
			missing++
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(time.Duration(missing) * noResponderWait):
			}
			continue
		}
		if err != nil {
			return fmt.Errorf("reading item stream: %w", err)
		}
		missing = 0
		got := 0
		for msg := range batch.Messages() {
			got++
			meta, err := msg.Metadata()
			if err != nil {
				return fmt.Errorf("reading message metadata: %w", err)
			}
			if meta.Timestamp.After(until) || meta.Sequence.Stream >= last {
				if !meta.Timestamp.After(until) {
					w.add(msg.Data(), meta.Timestamp)
				}
				return nil
			}
			w.add(msg.Data(), meta.Timestamp)
		}
		if err := batch.Error(); err != nil && !errors.Is(err, nats.ErrTimeout) {
			return fmt.Errorf("reading item stream: %w", err)
		}
		if got == 0 {
			// Nothing arrived within wait although the stream had
			// messages up to last: they expired or were removed.
			return ctx.Err()
		}
	}
}

// add applies one event. Events that do not decode are skipped: the
// pipeline validated them when it published, so they come from another
// writer on the subjects.
func (w *Window) add(data []byte, at time.Time) {
	var ev pipeline.Event
	if err := json.Unmarshal(data, &ev); err != nil || ev.ID == "" {
		return
	}
	wi := w.items[ev.ID]
	if wi == nil {
		wi = &windowItem{}
		w.items[ev.ID] = wi
	}
	if ev.Kind == pipeline.KindCreated && wi.created.IsZero() {
		wi.created = at
	}
	if wi.latest.ID == "" || ev.Revision >= wi.latest.Revision {
		wi.latest = ev
	}
}

// Select returns the items created after since whose latest event is not
// a retraction and that every filter keeps, newest first. Backfill items,
// which a feed's first poll found already old, are left out.
func (w *Window) Select(since time.Time, keep func(pipeline.Event) bool) []pipeline.Item {
	var out []pipeline.Item
	for _, wi := range w.items {
		ev := wi.latest
		switch {
		case wi.created.IsZero() || !wi.created.After(since):
		case ev.Kind == pipeline.KindRetracted || ev.Backfill:
		case keep != nil && !keep(ev):
		default:
			out = append(out, ev.Item)
		}
	}
	sortNewestFirst(out)
	return out
}

func sortNewestFirst(items []pipeline.Item) {
	slices.SortStableFunc(items, func(a, b pipeline.Item) int {
		if c := b.Published.Compare(a.Published); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
}
