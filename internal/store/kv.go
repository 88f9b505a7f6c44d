package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/syndic-network/syndic/internal/broker"
	"github.com/syndic-network/syndic/pipeline"
)

// Key mapping. KV keys must match [-/_=.a-zA-Z0-9]+ and become part of a
// subject, so kvKey stores each cache key as a readable head of at most
// keyHeadLen characters plus 32 hex digits (128 bits) of its SHA-256. The
// head helps operators who list a bucket. The hash alone keeps distinct
// keys apart.
const (
	keyHeadLen   = 32
	keyHashChars = 32
)

// maxSetAttempts bounds the create-or-purge loop of Set. A round fails only
// when another writer changed the key within it, and Set stops once it
// reads a newer value, so a handful of rounds covers heavy contention.
const maxSetAttempts = 8

// purgeMarkerTTL is how long the marker left by Delete stays in the bucket.
// It only needs to outlive concurrent readers of the old value, and without
// a TTL every deleted key would stay behind as a marker forever.
const purgeMarkerTTL = time.Minute

// KV is a pipeline.Cache on a JetStream KV bucket with per-key TTLs, as
// created by broker.EnsureKV with allowKeyTTL. It is safe for concurrent
// use.
//
// NOTE: nats-server counts per-key TTLs in whole seconds, so KV rounds
// every ttl up to the next second, and the server removes expired keys
// shortly after their deadline rather than at it.
type KV struct {
	kv jetstream.KeyValue
	// js, when set, lets Set replace a value in one publish with a
	// Nats-TTL header instead of the create-purge loop.
	js jetstream.JetStream
}

// KVOption configures a KV cache.
type KVOption func(*KV)

// WithJetStream lets Set write with one publish to the bucket's subject,
// carrying the TTL in the Nats-TTL header (nats-server 2.11 or newer). It
// is atomic and about six times fewer round trips than the create-purge
// loop, which matters because the pipeline refreshes a key on every
// sighting of a known item.
func WithJetStream(js jetstream.JetStream) KVOption {
	return func(c *KV) { c.js = js }
}

// NewKV returns a cache on kv. Per-key TTLs need a bucket created with
// LimitMarkerTTL; on other buckets every write with a ttl fails.
func NewKV(kv jetstream.KeyValue, opts ...KVOption) *KV {
	c := &KV{kv: kv}
	for _, o := range opts {
		o(c)
	}
	return c
}

// publishSet replaces the value of k with one publish. The bucket keeps
// one message per key, so the new message supersedes the old one.
func (c *KV) publishSet(ctx context.Context, key, k, value string, ttl time.Duration) error {
	var opts []jetstream.PublishOpt
	if ttl > 0 {
		opts = append(opts, jetstream.WithMsgTTL(roundUpToSecond(ttl)))
	}
	subject := "$KV." + c.kv.Bucket() + "." + k
	if _, err := c.js.Publish(ctx, subject, []byte(value), opts...); err != nil {
		return fmt.Errorf("setting cache key %q: %w", key, err)
	}
	return nil
}

// Get implements pipeline.Cache. Delete and purge markers, and keys the
// server has expired, read as absent.
func (c *KV) Get(ctx context.Context, key string) (string, bool, error) {
	entry, err := c.kv.Get(ctx, kvKey(key))
	if isAbsent(err) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("getting cache key %q: %w", key, err)
	}
	if entry.Operation() != jetstream.KeyValuePut {
		return "", false, nil
	}
	return string(entry.Value()), true, nil
}

// Set implements pipeline.Cache. A ttl of zero or less stores the value
// without a per-key expiry, so only the bucket's max age removes it.
//
// JetStream KV sets a per-key TTL only when it creates a key, so Set
// replaces a live value in steps: read its revision, purge it only if that
// revision is still the latest, then create the key again. A reader between
// purge and create gets the key as absent, which a cache tolerates. When
// another writer puts a newer value while Set runs, Set returns nil without
// writing: its value counts as written and then overwritten.
//
// NOTE: a Reserve that lands between the purge and the create wins over a
// concurrent Set. Redis orders the two atomically instead.
func (c *KV) Set(ctx context.Context, key, value string, ttl time.Duration) error {
	k := kvKey(key)
	if c.js != nil {
		return c.publishSet(ctx, key, k, value, ttl)
	}
	var firstSeen uint64
	for range maxSetAttempts {
		_, err := c.kv.Create(ctx, k, []byte(value), createOpts(ttl)...)
		if !broker.IsKeyConflict(err) {
			return wrapSetError(key, err)
		}

		entry, err := c.kv.Get(ctx, k)
		switch {
		case isAbsent(err):
			continue // deleted or expired meanwhile; create again
		case err != nil:
			return wrapSetError(key, err)
		case firstSeen == 0:
			firstSeen = entry.Revision()
		case entry.Revision() != firstSeen:
			return nil // another writer replaced the value during this call
		}

		err = c.kv.Purge(ctx, k, jetstream.LastRevision(entry.Revision()), jetstream.PurgeTTL(purgeMarkerTTL))
		if err != nil && !errors.Is(err, jetstream.ErrKeyRevisionMismatch) {
			return fmt.Errorf("setting cache key %q: purging old value: %w", key, err)
		}
	}
	return fmt.Errorf("setting cache key %q: other writers won %d attempts: %w",
		key, maxSetAttempts, jetstream.ErrKeyExists)
}

func wrapSetError(key string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("setting cache key %q: %w", key, err)
}

func isAbsent(err error) bool {
	return errors.Is(err, jetstream.ErrKeyNotFound) || errors.Is(err, jetstream.ErrKeyDeleted)
}

// Reserve implements pipeline.Cache with a create-only write. A key that
// exists, including one that another Reserve created a moment earlier,
// returns false and no error.
func (c *KV) Reserve(ctx context.Context, key, value string, ttl time.Duration) (bool, error) {
	_, err := c.kv.Create(ctx, kvKey(key), []byte(value), createOpts(ttl)...)
	if broker.IsKeyConflict(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("reserving cache key %q: %w", key, err)
	}
	return true, nil
}

// Delete implements pipeline.Cache by purging the key, which removes its
// value and leaves a marker that expires after purgeMarkerTTL.
func (c *KV) Delete(ctx context.Context, key string) error {
	err := c.kv.Purge(ctx, kvKey(key), jetstream.PurgeTTL(purgeMarkerTTL))
	if err != nil {
		return fmt.Errorf("deleting cache key %q: %w", key, err)
	}
	return nil
}

// createOpts returns the KeyTTL option for ttl, rounded up to whole
// seconds, because the server truncates the Nats-TTL header to seconds and
// rejects values below one second.
func createOpts(ttl time.Duration) []jetstream.KVCreateOpt {
	if ttl <= 0 {
		return nil
	}
	return []jetstream.KVCreateOpt{jetstream.KeyTTL(roundUpToSecond(ttl))}
}

func roundUpToSecond(ttl time.Duration) time.Duration {
	seconds := ttl.Truncate(time.Second)
	if seconds < ttl {
		seconds += time.Second
	}
	return seconds
}

// kvKey maps a cache key to a valid KV key: the key's first keyHeadLen
// characters with everything outside [-_=a-zA-Z0-9] replaced by an
// underscore ("_" for an empty key), a dot, and keyHashChars hex digits of
// the key's SHA-256.
func kvKey(key string) string {
	sum := sha256.Sum256([]byte(key))

	var b strings.Builder
	b.Grow(keyHeadLen + 1 + keyHashChars)
	for _, r := range key {
		if b.Len() == keyHeadLen {
			break
		}
		if isKeyHeadChar(r) {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	if b.Len() == 0 {
		// A KV key must not start with a dot.
		b.WriteByte('_')
	}
	b.WriteByte('.')
	b.WriteString(hex.EncodeToString(sum[:keyHashChars/2]))
	return b.String()
}

func isKeyHeadChar(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' ||
		r == '-' || r == '_' || r == '='
}

var _ pipeline.Cache = (*KV)(nil)
