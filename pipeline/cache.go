package pipeline

import (
	"context"
	"time"
)

// Cache is the rebuildable key-value store of the pipeline: the "seen" cache,
// publish reservations, HTTP validators and next-poll times. Redis backs it
// in a cluster, a JetStream KV bucket in the embedded default. Losing every
// key costs refetches and index look-ups, never a duplicate or a lost item.
//
// Keys are opaque strings chosen by the pipeline; an implementation may hash
// or prefix them. Values are short strings. Implementations are safe for
// concurrent use. Every error is a store failure (connection, timeout) that
// the caller treats as "retry later"; an absent key is not an error.
type Cache interface {
	// Get returns the value of key and true, or "" and false when the key is
	// absent or expired.
	Get(ctx context.Context, key string) (string, bool, error)
	// Set stores value under key for ttl, replacing any earlier value and
	// restarting its expiry.
	Set(ctx context.Context, key, value string, ttl time.Duration) error
	// Reserve stores value under key for ttl only when the key is absent and
	// reports whether it did (Redis SET NX). A false result with a nil error
	// means another writer holds the key.
	Reserve(ctx context.Context, key, value string, ttl time.Duration) (bool, error)
	// Delete removes key; deleting an absent key is not an error.
	Delete(ctx context.Context, key string) error
}

// MultiGetter is implemented by caches that read many keys in one round
// trip, such as Redis with MGET. The values and found flags line up with
// keys. An error is a store failure that applies to every key.
type MultiGetter interface {
	GetMany(ctx context.Context, keys []string) (values []string, found []bool, err error)
}

// SeenRememberer is implemented by caches that can keep a seen value in
// memory without writing it to their store. The ingester calls it, when
// the seen lookup found no older value, for a new item it has just
// recorded and for a known item whose young index entry it has just read.
// The item index contains the same content hash, so a lost memory costs
// an index read. Once the index entry is half as old as its max age, a
// sighting writes the seen value to the store (Set). Updates use Set,
// because the store may contain the hash of an earlier revision.
type SeenRememberer interface {
	RememberSeen(ctx context.Context, key, value string, ttl time.Duration) error
}

// SetDeleter is implemented by caches that can write one key and delete
// another in one round trip, the write first, such as Redis with a
// pipeline. After a publish, the ingester writes the seen value and
// releases the reservation with it. Each returned error belongs to its
// own command, so a failed delete can be retried alone.
type SetDeleter interface {
	SetThenDelete(ctx context.Context, key, value string, ttl time.Duration, del string) (setErr, delErr error)
}
