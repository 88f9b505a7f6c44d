package pipeline

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/syndic-network/syndic/internal/broker"
)

// NewClusterer returns a clusterer that keeps its records in kv, a
// JetStream KV bucket named <kv_prefix>_FINGERPRINTS whose max age equals
// the stream's, so fingerprints expire together with the events they
// group. It reads many records at once through js, which must be the
// JetStream context kv was opened with. The first item it groups waits
// until every record in the bucket is read; Close stops following the
// bucket.
func NewClusterer(js jetstream.JetStream, kv jetstream.KeyValue) *Clusterer {
	store := kvFingerprints{kv: kv, batch: broker.NewKVBatchReader(js, kv.Bucket())}
	return newClusterer(store, newRecordCache(recordGeneration, time.Now))
}

// kvFingerprints is the fingerprintStore on a JetStream KV bucket.
type kvFingerprints struct {
	kv    jetstream.KeyValue
	batch broker.KVBatchReader
}

// GetMany reads keys in one batch request, or key by key on a server
// without batch reads.
func (s kvFingerprints) GetMany(ctx context.Context, keys []string) (map[string]broker.KVEntry, error) {
	got, err := s.batch.GetMany(ctx, keys)
	if errors.Is(err, broker.ErrBatchReadUnsupported) {
		return getEach(ctx, s, keys)
	}
	return got, err
}

func (s kvFingerprints) Get(ctx context.Context, key string) ([]byte, uint64, bool, error) {
	e, err := s.kv.Get(ctx, key)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil, 0, false, nil
	}
	if err != nil {
		return nil, 0, false, err
	}
	return e.Value(), e.Revision(), true, nil
}

func (s kvFingerprints) Put(ctx context.Context, key string, value []byte) error {
	_, err := s.kv.Put(ctx, key, value)
	return err
}

// FollowRecords watches the member keys of the bucket. The watcher
// delivers the last value of each key, then nil, then every new value.
func (s kvFingerprints) FollowRecords(ctx context.Context, apply func(string, []byte, time.Time), loaded chan<- struct{}) (<-chan struct{}, time.Duration, error) {
	status, err := s.kv.Status(ctx)
	if err != nil {
		return nil, 0, fmt.Errorf("reading bucket %s: %w", s.kv.Bucket(), err)
	}
	w, err := s.kv.Watch(ctx, memberKey("*"), jetstream.IgnoreDeletes())
	if err != nil {
		return nil, 0, fmt.Errorf("watching bucket %s: %w", s.kv.Bucket(), err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer func() { _ = w.Stop() }()
		for e := range w.Updates() {
			if e == nil {
				close(loaded)
				continue
			}
			apply(e.Key(), e.Value(), e.Created())
		}
	}()
	return done, status.TTL(), nil
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
