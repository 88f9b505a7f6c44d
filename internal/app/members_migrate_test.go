package app

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/syndic-network/syndic/internal/broker"
	"github.com/syndic-network/syndic/internal/testenv"
)

// TestOpenCopiesFingerprintBucket opens a deployment whose grouping
// records are still in the <kv_prefix>_FINGERPRINTS bucket of earlier
// releases. Open must copy the member records into the log, skip the
// list keys, and delete the bucket; a second open finds nothing to copy.
func TestOpenCopiesFingerprintBucket(t *testing.T) {
	farm := newFarm(t)
	srv := testenv.NATS(t)
	cfg := testConfig(t, srv.URL, farm.srv.URL, 1, time.Hour)
	ctx := context.Background()
	js, err := jetstream.New(testenv.Conn(t, srv.URL))
	if err != nil {
		t.Fatal(err)
	}
	kv, err := broker.EnsureRebuildableKV(ctx, js, cfg.NATS.KVPrefix+"_FINGERPRINTS", 1, time.Hour, false)
	if err != nil {
		t.Fatal(err)
	}
	for key, value := range map[string]string{"i.one": "record one", "i.two": "record two", "b.0.1f": "a list"} {
		mustPut(t, kv, key, value)
	}

	a := openApp(t, cfg)
	if _, err := js.KeyValue(ctx, cfg.NATS.KVPrefix+"_FINGERPRINTS"); !errors.Is(err, jetstream.ErrBucketNotFound) {
		t.Errorf("bucket after open: error %v, want ErrBucketNotFound", err)
	}
	got := memberRecords(t, a)
	if len(got) != 2 || got["record one"].IsZero() || got["record two"].IsZero() {
		t.Errorf("log after open holds %v, want the two member records", got)
	}
	a.Close(ctx)

	b := openApp(t, cfg)
	if got := memberRecords(t, b); len(got) != 2 {
		t.Errorf("log after a second open holds %d records, want 2", len(got))
	}
}
