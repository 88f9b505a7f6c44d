package broker

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// limitMarkerTTL is how long a bucket with per-key TTLs keeps the marker
// that the server writes when a key expires. Only KV watchers use the
// marker, and Syndic does not watch its buckets, so a minute is enough and
// keeps expired keys from piling up as markers.
const limitMarkerTTL = time.Minute

// EnsureKV creates the KV bucket, or updates it when it exists; calling it
// again with the same arguments changes nothing. The bucket uses file
// storage and keeps one revision per key. ttl is the maximum age of every
// value, 0 for none. allowKeyTTL enables per-key TTLs (jetstream.KeyTTL),
// which needs nats-server 2.11 or newer and cannot be turned off again
// once on.
func EnsureKV(ctx context.Context, js jetstream.JetStream, bucket string, replicas int, ttl time.Duration, allowKeyTTL bool) (jetstream.KeyValue, error) {
	cfg := jetstream.KeyValueConfig{
		Bucket:   bucket,
		History:  1,
		TTL:      ttl,
		Storage:  jetstream.FileStorage,
		Replicas: max(replicas, 1),
	}
	if allowKeyTTL {
		cfg.LimitMarkerTTL = limitMarkerTTL
	}
	kv, err := js.CreateOrUpdateKeyValue(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("ensuring kv bucket %q: %w", bucket, err)
	}
	return kv, nil
}

// BucketCreated returns when the stream of kv's bucket was created. A
// bucket deleted and created again gets a new time, and its revisions
// start from 1 again, so a reader that follows the bucket compares this
// time to notice it. The zero time means the status did not name one.
func BucketCreated(ctx context.Context, kv jetstream.KeyValue) (time.Time, error) {
	status, err := kv.Status(ctx)
	if err != nil {
		return time.Time{}, fmt.Errorf("reading the status of bucket %s: %w", kv.Bucket(), err)
	}
	if b, ok := status.(*jetstream.KeyValueBucketStatus); ok {
		return b.StreamInfo().Created, nil
	}
	return time.Time{}, nil
}

// IsKeyConflict reports whether a KV create or update failed because
// another writer changed the key first. nats.go maps a create's conflict
// to ErrKeyExists. When the key held a delete marker, it retries the
// create against the marker's revision and returns that conflict
// unmapped, as "wrong last sequence" (code 10071, or 10164 on replicated
// buckets), and an update's conflict comes back the same way.
func IsKeyConflict(err error) bool {
	if errors.Is(err, jetstream.ErrKeyExists) {
		return true
	}
	var apiErr *jetstream.APIError
	return errors.As(err, &apiErr) &&
		(apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence ||
			apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequenceConstant)
}
