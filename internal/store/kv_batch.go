package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/syndic-network/syndic/internal/broker"
	"github.com/syndic-network/syndic/pipeline"
)

// GetMany implements pipeline.MultiGetter. A cache opened WithJetStream
// reads every key in one batch request; otherwise, or on a server
// without batch reads, it reads key by key.
func (c *KV) GetMany(ctx context.Context, keys []string) ([]string, []bool, error) {
	values := make([]string, len(keys))
	found := make([]bool, len(keys))
	if c.js != nil {
		err := c.getBatch(ctx, keys, values, found)
		if !errors.Is(err, broker.ErrBatchReadUnsupported) {
			return values, found, err
		}
	}
	for i, key := range keys {
		var err error
		values[i], found[i], err = c.Get(ctx, key)
		if err != nil {
			return nil, nil, err
		}
	}
	return values, found, nil
}

func (c *KV) getBatch(ctx context.Context, keys, values []string, found []bool) error {
	mapped := make([]string, len(keys))
	for i, key := range keys {
		mapped[i] = kvKey(key)
	}
	got, err := broker.NewKVBatchReader(c.js, c.kv.Bucket()).GetMany(ctx, mapped)
	if err != nil {
		return fmt.Errorf("getting %d cache keys: %w", len(keys), err)
	}
	for i, k := range mapped {
		e, ok := got[k]
		values[i], found[i] = string(e.Value), ok
	}
	return nil
}

var _ pipeline.MultiGetter = (*KV)(nil)
