package broker

import (
	"context"
	"fmt"
	"testing"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/syndic-network/syndic/internal/testenv"
)

func TestKVBatchReaderGetMany(t *testing.T) {
	ctx := context.Background()
	srv := testenv.NATS(t)
	js, err := jetstream.New(testenv.Conn(t, srv.URL))
	if err != nil {
		t.Fatalf("opening JetStream: %v", err)
	}
	kv, err := js.CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: testenv.Name(t)})
	if err != nil {
		t.Fatalf("creating bucket: %v", err)
	}
	// More keys than one request carries, so the read is split.
	var keys []string
	want := map[string]uint64{}
	for k := range maxBatchKeys + 10 {
		key := fmt.Sprintf("k.%d", k)
		keys = append(keys, key)
		rev, err := kv.Put(ctx, key, []byte("v"+key))
		if err != nil {
			t.Fatalf("putting %s: %v", key, err)
		}
		want[key] = rev
	}
	rev, err := kv.Put(ctx, "k.0", []byte("second"))
	if err != nil {
		t.Fatalf("putting k.0 again: %v", err)
	}
	want["k.0"] = rev
	if err := kv.Delete(ctx, "k.1"); err != nil {
		t.Fatalf("deleting k.1: %v", err)
	}
	delete(want, "k.1")
	if err := kv.Purge(ctx, "k.2"); err != nil {
		t.Fatalf("purging k.2: %v", err)
	}
	delete(want, "k.2")
	keys = append(keys, "absent")

	got, err := NewKVBatchReader(js, kv.Bucket()).GetMany(ctx, keys)
	if err != nil {
		t.Fatalf("getMany: %v", err)
	}
	if len(got) != len(want) {
		t.Errorf("getMany returned %d keys, want %d", len(got), len(want))
	}
	for key, rev := range want {
		e, ok := got[key]
		if !ok {
			t.Errorf("key %s missing", key)
			continue
		}
		if e.Revision != rev {
			t.Errorf("key %s: revision %d, want %d", key, e.Revision, rev)
		}
	}
	if v := string(got["k.0"].Value); v != "second" {
		t.Errorf("k.0 = %q, want the latest value %q", v, "second")
	}
	if v := string(got["k.5"].Value); v != "vk.5" {
		t.Errorf("k.5 = %q, want %q", v, "vk.5")
	}
}

func TestKVBatchReaderNoKeysFound(t *testing.T) {
	ctx := context.Background()
	srv := testenv.NATS(t)
	js, err := jetstream.New(testenv.Conn(t, srv.URL))
	if err != nil {
		t.Fatalf("opening JetStream: %v", err)
	}
	kv, err := js.CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: testenv.Name(t)})
	if err != nil {
		t.Fatalf("creating bucket: %v", err)
	}
	got, err := NewKVBatchReader(js, kv.Bucket()).GetMany(ctx, []string{"a", "b"})
	if err != nil {
		t.Fatalf("getMany: %v", err)
	}
	if len(got) != 0 {
		t.Errorf("getMany returned %d keys from an empty bucket, want 0", len(got))
	}
}
