package pipeline

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// IndexEntry is what the durable item index stores per item id: enough to
// tell a duplicate from an update and to number revisions, without reading
// the stream.
type IndexEntry struct {
	Hash      string    `json:"h"`
	Revision  int       `json:"r"`
	FirstSeen time.Time `json:"f"`
	Seq       uint64    `json:"s"`
	// Rules is the RulesVersion that computed Hash; 0 in entries written
	// before versions were stored, which used version 1.
	Rules int `json:"v,omitempty"`
	// Cluster and DuplicateOf keep the grouping decided when the item was
	// created, so its updates carry the same grouping.
	Cluster     string `json:"c,omitempty"`
	DuplicateOf string `json:"d,omitempty"`
	// Written is when the bucket stored the entry, which its max age
	// counts from. Get sets it; Put does not store it.
	Written time.Time `json:"-"`
}

// Index is the durable item index in a JetStream KV bucket: item id to
// content hash, revision, first-seen time and stream sequence. It cannot be
// rebuilt from Redis, so it lives in JetStream; the bucket's max age equals
// the stream's, which prunes entries together with their events.
type Index struct {
	kv jetstream.KeyValue
}

// NewIndex returns an index on kv. Item ids are hex strings, which are valid
// KV keys as they are.
func NewIndex(kv jetstream.KeyValue) *Index {
	return &Index{kv: kv}
}

// Get returns the entry of id and true, or false when the index has none.
func (x *Index) Get(ctx context.Context, id string) (IndexEntry, bool, error) {
	var e IndexEntry
	got, err := x.kv.Get(ctx, id)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return e, false, nil
	}
	if err != nil {
		return e, false, fmt.Errorf("reading item index entry %s: %w", id, err)
	}
	if err := json.Unmarshal(got.Value(), &e); err != nil {
		return e, false, fmt.Errorf("decoding item index entry %s: %w", id, err)
	}
	e.Written = got.Created()
	return e, true, nil
}

// Put stores the entry of id, replacing any earlier one.
func (x *Index) Put(ctx context.Context, id string, e IndexEntry) error {
	data, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("encoding item index entry %s: %w", id, err)
	}
	if _, err := x.kv.Put(ctx, id, data); err != nil {
		return fmt.Errorf("writing item index entry %s: %w", id, err)
	}
	return nil
}
