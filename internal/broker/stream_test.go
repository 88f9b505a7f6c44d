package broker

import (
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/syndic-network/syndic/internal/testenv"
)

func testJetStream(t *testing.T) jetstream.JetStream {
	t.Helper()
	ns := testenv.NATS(t)
	nc, js, err := Connect(testContext(t), ns.URL, t.Name(), testLogger())
	if err != nil {
		t.Fatalf("Connect: %v", err)
	}
	t.Cleanup(nc.Close)
	return js
}

func TestEnsureStreamIsIdempotent(t *testing.T) {
	js := testJetStream(t)
	ctx := testContext(t)
	opts := StreamOptions{
		Stream:          testenv.Name(t),
		SubjectPrefix:   "test.items",
		MaxAge:          time.Hour,
		DuplicateWindow: 2 * time.Minute,
	}

	first, err := EnsureStream(ctx, js, opts)
	if err != nil {
		t.Fatalf("first EnsureStream: %v", err)
	}
	second, err := EnsureStream(ctx, js, opts)
	if err != nil {
		t.Fatalf("second EnsureStream: %v", err)
	}

	got, want := second.CachedInfo().Config, first.CachedInfo().Config
	if got.MaxAge != want.MaxAge || got.Duplicates != want.Duplicates || got.Replicas != want.Replicas {
		t.Errorf("second call changed the config: got %+v, want %+v", got, want)
	}
	if created := second.CachedInfo().Created; !created.Equal(first.CachedInfo().Created) {
		t.Errorf("second call recreated the stream: created %s, want %s", created, first.CachedInfo().Created)
	}
}

func TestEnsureStreamConfig(t *testing.T) {
	js := testJetStream(t)
	name := testenv.Name(t)
	stream, err := EnsureStream(testContext(t), js, StreamOptions{Stream: name, SubjectPrefix: "cfg.items"})
	if err != nil {
		t.Fatalf("EnsureStream: %v", err)
	}
	cfg := stream.CachedInfo().Config

	if len(cfg.Subjects) != 1 || cfg.Subjects[0] != "cfg.items.>" {
		t.Errorf("subjects = %q, want [cfg.items.>]", cfg.Subjects)
	}
	if cfg.Storage != jetstream.FileStorage {
		t.Errorf("storage = %s, want file", cfg.Storage)
	}
	if cfg.AllowMsgTTL {
		t.Error("AllowMsgTTL = true, want false")
	}
	if cfg.Replicas != 1 {
		t.Errorf("replicas = %d, want 1", cfg.Replicas)
	}
}

func TestEnsureStreamUpdatesMaxAge(t *testing.T) {
	js := testJetStream(t)
	ctx := testContext(t)
	opts := StreamOptions{Stream: testenv.Name(t), SubjectPrefix: "age.items", MaxAge: time.Hour}
	if _, err := EnsureStream(ctx, js, opts); err != nil {
		t.Fatalf("first EnsureStream: %v", err)
	}

	opts.MaxAge = 48 * time.Hour
	if _, err := EnsureStream(ctx, js, opts); err != nil {
		t.Fatalf("EnsureStream with new MaxAge: %v", err)
	}

	// Read the config back from the server, not from the returned
	// handle, to prove the server applied the update.
	stream, err := js.Stream(ctx, opts.Stream)
	if err != nil {
		t.Fatalf("looking up stream: %v", err)
	}
	if got := stream.CachedInfo().Config.MaxAge; got != 48*time.Hour {
		t.Errorf("MaxAge = %s, want 48h", got)
	}
}

func TestEnsureStreamRejectsBadPrefix(t *testing.T) {
	tests := []struct {
		name   string
		prefix string
	}{
		{name: "wildcard token", prefix: "syndic.*"},
		{name: "full wildcard", prefix: "syndic.>"},
		{name: "trailing dot", prefix: "syndic.items."},
		{name: "space", prefix: "syndic items"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := streamConfig(StreamOptions{SubjectPrefix: tt.prefix}); err == nil {
				t.Errorf("streamConfig accepted prefix %q, want an error", tt.prefix)
			}
		})
	}
}

func TestEnsureKV(t *testing.T) {
	js := testJetStream(t)
	ctx := testContext(t)
	bucket := testenv.Name(t)

	if _, err := EnsureKV(ctx, js, bucket, 1, time.Hour, true); err != nil {
		t.Fatalf("first EnsureKV: %v", err)
	}
	kv, err := EnsureKV(ctx, js, bucket, 1, time.Hour, true)
	if err != nil {
		t.Fatalf("second EnsureKV: %v", err)
	}

	status, err := kv.Status(ctx)
	if err != nil {
		t.Fatalf("reading bucket status: %v", err)
	}
	if status.TTL() != time.Hour {
		t.Errorf("bucket TTL = %s, want 1h", status.TTL())
	}
	if status.LimitMarkerTTL() != limitMarkerTTL {
		t.Errorf("LimitMarkerTTL = %s, want %s", status.LimitMarkerTTL(), limitMarkerTTL)
	}
	if status.History() != 1 {
		t.Errorf("history = %d, want 1", status.History())
	}
}

func TestEnsureKVAllowsKeyTTL(t *testing.T) {
	js := testJetStream(t)
	ctx := testContext(t)
	kv, err := EnsureKV(ctx, js, testenv.Name(t), 1, 0, true)
	if err != nil {
		t.Fatalf("EnsureKV: %v", err)
	}

	if _, err := kv.Create(ctx, "key", []byte("value"), jetstream.KeyTTL(time.Hour)); err != nil {
		t.Errorf("Create with KeyTTL: %v", err)
	}
}

func TestEnsureKVWithoutKeyTTL(t *testing.T) {
	js := testJetStream(t)
	ctx := testContext(t)
	kv, err := EnsureKV(ctx, js, testenv.Name(t), 1, 0, false)
	if err != nil {
		t.Fatalf("EnsureKV: %v", err)
	}

	if _, err := kv.Create(ctx, "key", []byte("value"), jetstream.KeyTTL(time.Hour)); err == nil {
		t.Error("Create with KeyTTL succeeded on a bucket without per-key TTLs, want an error")
	}
}
