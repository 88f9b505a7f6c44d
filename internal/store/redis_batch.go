package store

import (
	"context"
	"fmt"

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
