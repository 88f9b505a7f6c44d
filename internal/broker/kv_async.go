package broker

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// kvDuplicateWindow is the duplicate window nats.go gives a KV bucket's
// stream (nats.go v1.56): two minutes, or the bucket's max age when that
// is shorter.
const kvDuplicateWindow = 2 * time.Minute

// EnsureRebuildableKV is EnsureKV for a bucket whose last writes Syndic can
// lose without losing or duplicating an item: the dedup cache, the
// grouping fingerprints, and the item index of the embedded server, which
// the next start repairs from the stream. A new single-replica bucket gets a stream in async
// persist mode (nats-server 2.12 or newer), which flushes writes in the
// background instead of with one fsync per write under sync_always. A
// crash may then drop the last writes to the bucket. For the cache and
// the fingerprints that costs index look-ups, refetches or a missed
// grouping of a copy, never an item.
//
// The persist mode of a stream cannot change after creation, so a bucket
// created earlier with the default mode keeps it and is handled as by
// EnsureKV. Replicated buckets are handled as by EnsureKV as well: the
// server rejects async persist mode on them, and their Raft log already
// relaxes the fsync per write.
func EnsureRebuildableKV(ctx context.Context, js jetstream.JetStream, bucket string, replicas int, ttl time.Duration, allowKeyTTL bool) (jetstream.KeyValue, error) {
	return ensureKVKeepingMode(ctx, js, bucket, replicas, ttl, allowKeyTTL, true)
}

// EnsureKVKeepingMode is EnsureKV for a bucket that another process may
// have created in async persist mode (EnsureRebuildableKV): it keeps that
// mode, which EnsureKV's update would try to change and fail. A new
// bucket gets the default mode.
func EnsureKVKeepingMode(ctx context.Context, js jetstream.JetStream, bucket string, replicas int, ttl time.Duration, allowKeyTTL bool) (jetstream.KeyValue, error) {
	return ensureKVKeepingMode(ctx, js, bucket, replicas, ttl, allowKeyTTL, false)
}

// ensureKVKeepingMode creates bucket in async persist mode when createAsync
// is set and it has one replica, and otherwise keeps the persist mode of
// an existing bucket.
func ensureKVKeepingMode(ctx context.Context, js jetstream.JetStream, bucket string, replicas int, ttl time.Duration, allowKeyTTL, createAsync bool) (jetstream.KeyValue, error) {
	if replicas > 1 {
		return EnsureKV(ctx, js, bucket, replicas, ttl, allowKeyTTL)
	}
	cfg := asyncKVStreamConfig(bucket, ttl, allowKeyTTL)
	s, err := js.Stream(ctx, cfg.Name)
	switch {
	case errors.Is(err, jetstream.ErrStreamNotFound) && !createAsync:
		return EnsureKV(ctx, js, bucket, replicas, ttl, allowKeyTTL)
	case errors.Is(err, jetstream.ErrStreamNotFound):
		_, err = js.CreateStream(ctx, cfg)
	case err != nil:
	case s.CachedInfo().Config.PersistMode != jetstream.AsyncPersistMode:
		return EnsureKV(ctx, js, bucket, replicas, ttl, allowKeyTTL)
	default:
		_, err = js.UpdateStream(ctx, cfg)
	}
	if err != nil {
		return nil, fmt.Errorf("ensuring kv bucket %q: %w", bucket, err)
	}
	kv, err := js.KeyValue(ctx, bucket)
	if err != nil {
		return nil, fmt.Errorf("opening kv bucket %q: %w", bucket, err)
	}
	return kv, nil
}

// asyncKVStreamConfig returns the stream configuration nats.go v1.56
// creates for a bucket with EnsureKV's settings, in async persist mode.
func asyncKVStreamConfig(bucket string, ttl time.Duration, allowKeyTTL bool) jetstream.StreamConfig {
	dup := kvDuplicateWindow
	if ttl > 0 && ttl < dup {
		dup = ttl
	}
	cfg := jetstream.StreamConfig{
		Name:              "KV_" + bucket,
		Subjects:          []string{"$KV." + bucket + ".>"},
		MaxMsgsPerSubject: 1,
		MaxBytes:          -1,
		MaxAge:            ttl,
		MaxMsgSize:        -1,
		Storage:           jetstream.FileStorage,
		Replicas:          1,
		AllowRollup:       true,
		DenyDelete:        true,
		Duplicates:        dup,
		MaxMsgs:           -1,
		MaxConsumers:      -1,
		AllowDirect:       true,
		Discard:           jetstream.DiscardNew,
		PersistMode:       jetstream.AsyncPersistMode,
	}
	if allowKeyTTL {
		cfg.AllowMsgTTL = true
		cfg.SubjectDeleteMarkerTTL = limitMarkerTTL
	}
	return cfg
}
