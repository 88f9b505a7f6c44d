package pipeline

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/syndic-network/syndic/internal/broker"
)

// repairBufferBytes bounds the events Repair has read ahead, and
// repairWait how long it waits for the next event before it fails.
const (
	repairBufferBytes = 8 << 20
	repairWait        = 10 * time.Second
)

// maxRepairAttempts bounds the read and compare-and-set rounds for one
// entry. A round is repeated only when another writer changed the entry,
// because any other error ends the repair.
const maxRepairAttempts = 5

// RepairStats counts what Repair did.
type RepairStats struct {
	// Events is how many events it read, Restored how many index entries
	// it wrote, and Undecodable how many events it skipped because they
	// are not item events.
	Events, Restored, Undecodable int
}

// entryOf returns the index entry that records ev, stored at seq, for an
// item first seen at firstSeen.
func entryOf(ev *Event, seq uint64, firstSeen time.Time) IndexEntry {
	return IndexEntry{
		Hash: ev.ContentHash, Revision: ev.Revision, FirstSeen: firstSeen, Seq: seq,
		Rules: ev.RulesVersion, Cluster: ev.ClusterID, DuplicateOf: ev.DuplicateOf,
	}
}

// Repair reads the events stored in events from since onwards and writes
// the index entry of each one whose item has no entry, or an entry for
// an earlier event. It brings the index back in line with the stream
// after a crash lost the last index writes, or happened between a
// publish and its index write. Entries for later events are left alone,
// and every write is a compare-and-set against the entry read, so a
// writer that records a newer revision meanwhile keeps it.
//
// An entry restored for an update or retraction keeps the first-seen
// time of the entry it replaces. Without one, it takes the event's
// ingest time.
func (x *Index) Repair(ctx context.Context, events jetstream.Stream, since time.Time) (RepairStats, error) {
	var stats RepairStats
	info, err := events.Info(ctx)
	if err != nil {
		return stats, fmt.Errorf("repairing item index: reading stream info: %w", err)
	}
	if info.State.Msgs == 0 || info.State.LastTime.Before(since) {
		return stats, nil
	}

	msgs, err := readFrom(ctx, events, since)
	if err != nil {
		return stats, fmt.Errorf("repairing item index: reading events: %w", err)
	}
	defer msgs.Stop()

	r := x.startRestorers(ctx)
	seq := feedEvents(r, msgs, &stats)
	restored, err := r.wait()
	stats.Restored = restored
	if err != nil {
		return stats, fmt.Errorf("repairing item index after event %d: %w", seq, err)
	}
	return stats, nil
}

// readFrom returns an iterator over the events stored from since on, or
// over all of them for the zero time.
func readFrom(ctx context.Context, events jetstream.Stream, since time.Time) (jetstream.MessagesContext, error) {
	cfg := jetstream.OrderedConsumerConfig{DeliverPolicy: jetstream.DeliverAllPolicy}
	if !since.IsZero() {
		cfg = jetstream.OrderedConsumerConfig{DeliverPolicy: jetstream.DeliverByStartTimePolicy, OptStartTime: &since}
	}
	cons, err := events.OrderedConsumer(ctx, cfg)
	if err != nil {
		return nil, err
	}
	return cons.Messages(jetstream.PullMaxBytes(repairBufferBytes))
}

// feedEvents passes the events of msgs to r until none is left to read,
// counting them in stats, and returns the sequence of the last one read.
// It stops early when r stops, and stops r when the next event does not
// come within repairWait although the consumer counted more.
func feedEvents(r *restorers, msgs jetstream.MessagesContext, stats *RepairStats) uint64 {
	var seq uint64
	pending := uint64(1) // unknown until the first event
	for pending > 0 {
		msg, err := msgs.Next(jetstream.NextMaxWait(repairWait))
		if errors.Is(err, nats.ErrTimeout) && stats.Events == 0 {
			// No event is stored from the start time on: they were
			// deleted or aged out since the stream info was read.
			return seq
		}
		if err != nil {
			r.stop(fmt.Errorf("reading the event after %d, with %d still to read: %w", seq, pending, err))
			return seq
		}
		md, err := msg.Metadata()
		if err != nil {
			r.stop(fmt.Errorf("reading event metadata: %w", err))
			return seq
		}
		seq, pending = md.Sequence.Stream, md.NumPending
		stats.Events++

		var ev Event
		if err := json.Unmarshal(msg.Data(), &ev); err != nil || ev.ID == "" {
			stats.Undecodable++
			continue
		}
		if !r.add(&ev, seq) {
			return seq
		}
	}
	return seq
}

// repairWorkers is how many entries Repair restores at once. The events of
// one item all go to the same worker, in stream order. restoreQueue is
// how many events wait for each worker.
const (
	repairWorkers = 8
	restoreQueue  = 32
)

// restorers restore index entries on repairWorkers goroutines, each for
// the items whose id hashes to it. The first error stops them all.
type restorers struct {
	x        *Index
	ctx      context.Context
	cancel   context.CancelCauseFunc
	jobs     []chan restoreJob
	wg       sync.WaitGroup
	restored atomic.Int64
}

// restoreJob is one event to restore the entry of, and its sequence.
type restoreJob struct {
	ev  *Event
	seq uint64
}

func (x *Index) startRestorers(ctx context.Context) *restorers {
	r := &restorers{x: x, jobs: make([]chan restoreJob, repairWorkers)}
	r.ctx, r.cancel = context.WithCancelCause(ctx)
	for i := range r.jobs {
		jobs := make(chan restoreJob, restoreQueue)
		r.jobs[i] = jobs
		r.wg.Go(func() {
			for j := range jobs {
				if r.ctx.Err() != nil {
					continue
				}
				wrote, err := x.restore(r.ctx, j.ev, j.seq)
				if err != nil {
					r.cancel(err)
				} else if wrote {
					r.restored.Add(1)
				}
			}
		})
	}
	return r
}

// add queues ev for the worker of its item and reports false once the
// workers have stopped.
func (r *restorers) add(ev *Event, seq uint64) bool {
	h := fnv.New32a()
	_, _ = h.Write([]byte(ev.ID))
	select {
	case r.jobs[h.Sum32()%repairWorkers] <- restoreJob{ev: ev, seq: seq}:
		return true
	case <-r.ctx.Done():
		return false
	}
}

// stop ends the work with err.
func (r *restorers) stop(err error) { r.cancel(err) }

// wait waits for the queued events and returns how many entries were
// written, with the error that stopped the workers, if any.
func (r *restorers) wait() (int, error) {
	for _, jobs := range r.jobs {
		close(jobs)
	}
	r.wg.Wait()
	var err error
	if r.ctx.Err() != nil {
		err = context.Cause(r.ctx)
	}
	r.cancel(nil)
	return int(r.restored.Load()), err
}

// restore writes the entry of ev, stored at seq, unless the index holds
// it or a later one, and reports whether it wrote.
func (x *Index) restore(ctx context.Context, ev *Event, seq uint64) (bool, error) {
	for range maxRepairAttempts {
		cur, rev, found, err := x.getRevision(ctx, ev.ID)
		if err != nil {
			return false, err
		}
		if found && cur.Seq >= seq {
			return false, nil
		}
		firstSeen := ev.IngestedAt
		if found && ev.Kind != KindCreated {
			firstSeen = cur.FirstSeen
		}
		data, err := json.Marshal(entryOf(ev, seq, firstSeen))
		if err != nil {
			return false, fmt.Errorf("encoding item index entry %s: %w", ev.ID, err)
		}
		if found {
			_, err = x.kv.Update(ctx, ev.ID, data, rev)
		} else {
			_, err = x.kv.Create(ctx, ev.ID, data)
		}
		if err == nil {
			return true, nil
		}
		if !broker.IsKeyConflict(err) {
			return false, fmt.Errorf("restoring item index entry %s: %w", ev.ID, err)
		}
	}
	return false, fmt.Errorf("restoring item index entry %s: other writers won %d attempts", ev.ID, maxRepairAttempts)
}

// getRevision is Get with the revision of the entry read. An entry that
// cannot be decoded reads as a zero entry.
func (x *Index) getRevision(ctx context.Context, id string) (IndexEntry, uint64, bool, error) {
	var e IndexEntry
	got, err := x.kv.Get(ctx, id)
	if errors.Is(err, jetstream.ErrKeyNotFound) || errors.Is(err, jetstream.ErrKeyDeleted) {
		return e, 0, false, nil
	}
	if err != nil {
		return e, 0, false, fmt.Errorf("reading item index entry %s: %w", id, err)
	}
	if err := json.Unmarshal(got.Value(), &e); err != nil {
		// An entry that cannot be read counts as older than every event,
		// so the repair replaces it.
		return IndexEntry{}, got.Revision(), true, nil
	}
	return e, got.Revision(), true, nil
}
