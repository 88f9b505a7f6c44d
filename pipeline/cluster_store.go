package pipeline

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"golang.org/x/sync/errgroup"

	"github.com/syndic-network/syndic/internal/broker"
)

// NewClusterer returns a clusterer that keeps its records in log, a
// stream named <kv_prefix>_MEMBERS whose max age equals the item
// stream's, so fingerprints expire together with the events they group.
// The first item it groups waits until every record in the log is read;
// Close stops following the log.
func NewClusterer(log *broker.RecordLog) *Clusterer {
	return newClusterer(logFingerprints{log}, newRecordCache(recordGeneration, time.Now))
}

// logFingerprints is the fingerprintStore on a record log.
type logFingerprints struct {
	*broker.RecordLog
}

// FollowRecords follows the log from its first record.
func (s logFingerprints) FollowRecords(ctx context.Context, apply func(uint64, []byte, time.Time), loaded chan<- struct{}) (<-chan struct{}, time.Duration, error) {
	done, err := s.Follow(ctx, apply, loaded)
	if err != nil {
		return nil, 0, fmt.Errorf("following log %s: %w", s.Stream(), err)
	}
	return done, s.MaxAge(), nil
}

// logCreated returns when the log's stream was created.
func (s logFingerprints) logCreated(ctx context.Context) (time.Time, error) {
	return s.Created(ctx)
}

// migrateInFlight is the number of appends a bucket copy keeps in
// flight. One at a time, each append waits a round trip, which on a
// replicated log across a network takes a millisecond or more, so
// 1,000,000 records would take 17 minutes or more while Open serves no
// health check. With 64, a link with a 4 ms round trip copies 2,000
// records in 0.3 s instead of 9 s (TestMigrationOverSlowLinkIsPipelined).
const migrateInFlight = 64

// MigrateFingerprints copies the member records of kv, the bucket that
// held them before the log, into log with the time each was stored, and
// returns how many it copied. Each copy carries its item's id as the
// message id, so a second process copying at the same moment adds no
// second copy within the log's duplicate window. The records reach the
// log in any order. The caller deletes the bucket afterwards. A bucket
// deleted before or during the copy was copied in full by another
// process, which deletes it only then, so the copy ends without an error.
//
// NOTE: the copy runs inside Open, before any health check is served, and
// cannot resume where it stopped. nats-server also keeps each message id
// for the 2-minute duplicate window: about 270 bytes per record, measured
// after copying 100,000. A copy of 1,000,000 records may then hold some
// 260 MB more for that time, an estimate not measured at that size.
func MigrateFingerprints(ctx context.Context, kv jetstream.KeyValue, log *broker.RecordLog) (int, error) {
	w, err := kv.Watch(ctx, memberKey("*"), jetstream.IgnoreDeletes())
	if err != nil {
		if bucketDeleted(ctx, kv) {
			return 0, nil
		}
		return 0, fmt.Errorf("reading bucket %s: %w", kv.Bucket(), err)
	}
	defer func() { _ = w.Stop() }()
	var copied atomic.Int64
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(migrateInFlight)
	err = watchRecords(gctx, kv, w, func(e jetstream.KeyValueEntry) {
		g.Go(func() error {
			if _, err := log.Append(gctx, e.Value(), e.Key(), e.Created()); err != nil {
				return fmt.Errorf("copying record %s of bucket %s: %w", e.Key(), kv.Bucket(), err)
			}
			copied.Add(1)
			return nil
		})
	})
	// An append error ends the watch through gctx, so it comes first.
	if appendErr := g.Wait(); appendErr != nil {
		err = appendErr
	}
	return int(copied.Load()), err
}

// watchRecords calls copyRecord for each record that w delivers until the
// watch has delivered every record held when it started.
func watchRecords(ctx context.Context, kv jetstream.KeyValue, w jetstream.KeyWatcher, copyRecord func(jetstream.KeyValueEntry)) error {
	delivered := 0
	for {
		select {
		case e, ok := <-w.Updates():
			// The watch of a deleted bucket stops once the client misses
			// its heartbeats and fails to create its consumer again.
			if !ok && bucketDeleted(ctx, kv) {
				return nil
			}
			if !ok {
				return fmt.Errorf("reading bucket %s: the watch stopped after %d records", kv.Bucket(), delivered)
			}
			if e == nil {
				return nil
			}
			copyRecord(e)
			delivered++
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// bucketDeleted reports whether kv's bucket no longer exists.
func bucketDeleted(ctx context.Context, kv jetstream.KeyValue) bool {
	_, err := kv.Status(ctx)
	return errors.Is(err, jetstream.ErrStreamNotFound)
}

// cluster sets the grouping of it before its event is published. An
// update keeps the grouping its item got when created, and a new item
// gets its grouping from the clusterer. It returns what to
// record after the publish, nil when there is nothing to record.
//
// An update whose feed gave no usable date also keeps its first-seen
// time: the parser can only stamp the current poll's time, which would
// move the item to the top of every list on each edit. An update without
// a later feed update date gets the ingest time as its updated date, so
// readers can see that the entry changed.
//
// fprint is the item's fingerprint when the caller computed it already,
// nil otherwise.
func (g *Ingester) cluster(ctx context.Context, it *Item, prev IndexEntry, found bool, fprint *fingerprint) (*assignment, error) {
	if found {
		it.ClusterID = firstNonEmpty(prev.Cluster, it.ID)
		it.DuplicateOf = prev.DuplicateOf
		if it.DateSource == DateFirstSeen && !prev.FirstSeen.IsZero() {
			it.Published = prev.FirstSeen.UTC()
		}
		if it.Updated == nil || !it.Updated.After(it.Published) {
			now := g.o.Now().UTC()
			it.Updated = &now
		}
		return nil, nil
	}
	if g.o.Clusters == nil {
		it.ClusterID, it.DuplicateOf = it.ID, ""
		return nil, nil
	}
	if fprint == nil {
		fp := itemFingerprint(it)
		fprint = &fp
	}
	a, err := g.o.Clusters.assignPrint(ctx, it, *fprint)
	if err != nil {
		return nil, fmt.Errorf("grouping item %s: %w", it.ID, err)
	}
	return &a, nil
}

// recordCluster files a new item's fingerprint. A failure is logged, not
// returned: the event is already in the stream, and the only loss is that
// later copies of the item start clusters of their own.
func (g *Ingester) recordCluster(ctx context.Context, it *Item, a *assignment) {
	if a == nil {
		return
	}
	if err := g.o.Clusters.record(ctx, it, *a); err != nil {
		g.o.Logger.Warn("recording item fingerprint failed", "item_id", it.ID, "error", err)
	}
}
