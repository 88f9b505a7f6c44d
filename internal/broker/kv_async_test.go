package broker

import (
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/syndic-network/syndic/internal/testenv"
)

func TestEnsureRebuildableKVMatchesEnsureKV(t *testing.T) {
	js := testJetStream(t)
	ctx := testContext(t)
	for _, tc := range []struct {
		name        string
		ttl         time.Duration
		allowKeyTTL bool
	}{
		{"no max age", 0, false},
		{"max age over the duplicate window", time.Hour, false},
		{"max age under the duplicate window", time.Minute, false},
		{"per-key ttl", 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			name := testenv.Name(t)
			plain, err := EnsureKV(ctx, js, name+"_PLAIN", 1, tc.ttl, tc.allowKeyTTL)
			if err != nil {
				t.Fatalf("EnsureKV: %v", err)
			}
			async, err := EnsureRebuildableKV(ctx, js, name+"_ASYNC", 1, tc.ttl, tc.allowKeyTTL)
			if err != nil {
				t.Fatalf("EnsureRebuildableKV: %v", err)
			}
			want := bucketStreamConfig(t, js, plain.Bucket())
			got := bucketStreamConfig(t, js, async.Bucket())
			if got.PersistMode != jetstream.AsyncPersistMode {
				t.Errorf("persist mode %v, want async", got.PersistMode)
			}
			got.PersistMode = want.PersistMode
			got.Name, got.Subjects = want.Name, want.Subjects
			if !configsEqual(got, want) {
				t.Errorf("stream config differs from EnsureKV's:\n got %+v\nwant %+v", got, want)
			}
			if _, err := EnsureRebuildableKV(ctx, js, name+"_ASYNC", 1, tc.ttl, tc.allowKeyTTL); err != nil {
				t.Errorf("second EnsureRebuildableKV: %v", err)
			}
		})
	}
}

func configsEqual(a, b jetstream.StreamConfig) bool {
	return a.MaxMsgsPerSubject == b.MaxMsgsPerSubject && a.MaxBytes == b.MaxBytes &&
		a.MaxAge == b.MaxAge && a.MaxMsgSize == b.MaxMsgSize && a.Storage == b.Storage &&
		a.Replicas == b.Replicas && a.AllowRollup == b.AllowRollup && a.DenyDelete == b.DenyDelete &&
		a.Duplicates == b.Duplicates && a.MaxMsgs == b.MaxMsgs && a.MaxConsumers == b.MaxConsumers &&
		a.AllowDirect == b.AllowDirect && a.Discard == b.Discard && a.AllowMsgTTL == b.AllowMsgTTL &&
		a.SubjectDeleteMarkerTTL == b.SubjectDeleteMarkerTTL && a.DenyPurge == b.DenyPurge
}

func bucketStreamConfig(t *testing.T, js jetstream.JetStream, bucket string) jetstream.StreamConfig {
	t.Helper()
	s, err := js.Stream(testContext(t), "KV_"+bucket)
	if err != nil {
		t.Fatalf("reading stream of bucket %s: %v", bucket, err)
	}
	return s.CachedInfo().Config
}

func TestEnsureRebuildableKVKeepsOlderBucket(t *testing.T) {
	js := testJetStream(t)
	ctx := testContext(t)
	name := testenv.Name(t)
	if _, err := EnsureKV(ctx, js, name, 1, 0, true); err != nil {
		t.Fatalf("EnsureKV: %v", err)
	}
	kv, err := EnsureRebuildableKV(ctx, js, name, 1, 0, true)
	if err != nil {
		t.Fatalf("EnsureRebuildableKV on an existing bucket: %v", err)
	}
	if mode := bucketStreamConfig(t, js, kv.Bucket()).PersistMode; mode != jetstream.DefaultPersistMode {
		t.Errorf("persist mode %v, want the default mode the bucket was created with", mode)
	}
}

func TestEnsureRebuildableKVStoresKeysWithTTL(t *testing.T) {
	js := testJetStream(t)
	ctx := testContext(t)
	kv, err := EnsureRebuildableKV(ctx, js, testenv.Name(t), 1, 0, true)
	if err != nil {
		t.Fatalf("EnsureRebuildableKV: %v", err)
	}
	if _, err := kv.Create(ctx, "k", []byte("v"), jetstream.KeyTTL(time.Hour)); err != nil {
		t.Fatalf("creating a key with a ttl: %v", err)
	}
	e, err := kv.Get(ctx, "k")
	if err != nil {
		t.Fatalf("reading the key: %v", err)
	}
	if string(e.Value()) != "v" {
		t.Errorf("value %q, want %q", e.Value(), "v")
	}
}
