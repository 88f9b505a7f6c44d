package store

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/syndic-network/syndic/pipeline"
)

// GetMany implements pipeline.MultiGetter with one MGET.
func (r *Redis) GetMany(ctx context.Context, keys []string) ([]string, []bool, error) {
	prefixed := make([]string, len(keys))
	for i, key := range keys {
		prefixed[i] = r.prefix + key
	}
	got, err := r.client.MGet(ctx, prefixed...).Result()
	if err != nil {
		return nil, nil, fmt.Errorf("getting %d cache keys: %w", len(keys), err)
	}
	values := make([]string, len(keys))
	found := make([]bool, len(keys))
	for i, v := range got {
		s, ok := v.(string)
		values[i], found[i] = s, ok
	}
	return values, found, nil
}

var _ pipeline.MultiGetter = (*Redis)(nil)

// SetThenDelete implements pipeline.SetDeleter with a pipeline of SET and
// DEL. Redis runs the commands of one connection in order, so the delete
// follows the write.
func (r *Redis) SetThenDelete(ctx context.Context, key, value string, ttl time.Duration, del string) (setErr, delErr error) {
	var set *redis.StatusCmd
	var deleted *redis.IntCmd
	_, _ = r.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		set = p.Set(ctx, r.prefix+key, value, redisTTL(ttl))
		deleted = p.Del(ctx, r.prefix+del)
		return nil
	})
	if err := set.Err(); err != nil {
		setErr = fmt.Errorf("setting cache key %q: %w", key, err)
	}
	if err := deleted.Err(); err != nil {
		delErr = fmt.Errorf("deleting cache key %q: %w", del, err)
	}
	return setErr, delErr
}

var _ pipeline.SetDeleter = (*Redis)(nil)
