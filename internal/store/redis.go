// Package store implements pipeline.Cache on Redis (Redis) and on a
// JetStream KV bucket (KV). Both hold only rebuildable state, so neither
// needs durability guarantees beyond what its server gives.
package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/syndic-network/syndic/pipeline"
)

// Redis is a pipeline.Cache on Redis. It is safe for concurrent use.
type Redis struct {
	client *redis.Client
	prefix string
}

// NewRedis returns a cache that stores each key as prefix+key in the
// client's database. Two caches with different prefixes do not see each
// other's keys. The caller owns the client and closes it.
func NewRedis(client *redis.Client, prefix string) *Redis {
	return &Redis{client: client, prefix: prefix}
}

// Get implements pipeline.Cache.
func (r *Redis) Get(ctx context.Context, key string) (string, bool, error) {
	value, err := r.client.Get(ctx, r.prefix+key).Result()
	if errors.Is(err, redis.Nil) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("getting cache key %q: %w", key, err)
	}
	return value, true, nil
}

// Set implements pipeline.Cache. A ttl of zero or less stores the value
// without expiry.
func (r *Redis) Set(ctx context.Context, key, value string, ttl time.Duration) error {
	if err := r.client.Set(ctx, r.prefix+key, value, redisTTL(ttl)).Err(); err != nil {
		return fmt.Errorf("setting cache key %q: %w", key, err)
	}
	return nil
}

// Reserve implements pipeline.Cache with SET NX PX. A ttl of zero or less
// reserves without expiry.
func (r *Redis) Reserve(ctx context.Context, key, value string, ttl time.Duration) (bool, error) {
	ok, err := r.client.SetNX(ctx, r.prefix+key, value, redisTTL(ttl)).Result()
	if err != nil {
		return false, fmt.Errorf("reserving cache key %q: %w", key, err)
	}
	return ok, nil
}

// Delete implements pipeline.Cache.
func (r *Redis) Delete(ctx context.Context, key string) error {
	if err := r.client.Del(ctx, r.prefix+key).Err(); err != nil {
		return fmt.Errorf("deleting cache key %q: %w", key, err)
	}
	return nil
}

// redisTTL maps a cache ttl to a go-redis expiration. go-redis reads
// negative values as KEEPTTL (-1) or rejects them, so every ttl of zero or
// less becomes 0, which means no expiry. Positive values below the 1 ms
// resolution of PX become 1 ms instead of an instant expiry.
func redisTTL(ttl time.Duration) time.Duration {
	switch {
	case ttl <= 0:
		return 0
	case ttl < time.Millisecond:
		return time.Millisecond
	default:
		return ttl
	}
}

var _ pipeline.Cache = (*Redis)(nil)
