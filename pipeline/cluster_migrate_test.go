package pipeline_test

import (
	"context"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/syndic-network/syndic/internal/broker"
	"github.com/syndic-network/syndic/internal/testenv"
	"github.com/syndic-network/syndic/pipeline"
)

// TestMigratedFingerprintsKeepGrouping files a story in a bucket of the
// layout before the record log, copies the bucket into a new log twice,
// as two processes starting together would, and groups a copy of the
// story on the log. The log must hold the record once, and the copy must
// join the story's cluster.
func TestMigratedFingerprintsKeepGrouping(t *testing.T) {
	env := newIngestEnv(t, "embedded")
	ctx := context.Background()

	// A clusterer on a scratch log writes the story's record; the bucket
	// gets the same bytes under the key the earlier layout used.
	scratch := memberLog(t, env)
	origin := storyItem(t, "chamber", "en", "https://chamber.example/news/fair", "Export fair in Vilnius", fairText, "")
	assignAndRecord(t, followLog(t, env, scratch)(), origin)
	stream, err := env.js.Stream(ctx, scratch.Stream())
	if err != nil {
		t.Fatal(err)
	}
	stored, err := stream.GetMsg(ctx, 1)
	if err != nil {
		t.Fatalf("reading the scratch record: %v", err)
	}
	kv, err := broker.EnsureKV(ctx, env.js, testenv.Name(t)+"_FINGERPRINTS", 1, time.Hour, false)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kv.Put(ctx, "i."+origin.ID, stored.Data); err != nil {
		t.Fatal(err)
	}
	// A list key of older releases is not a member record.
	if _, err := kv.Put(ctx, "b.0.1f", []byte("not a record")); err != nil {
		t.Fatal(err)
	}
	entry, err := kv.Get(ctx, "i."+origin.ID)
	if err != nil {
		t.Fatal(err)
	}

	log := memberLog(t, env)
	for run := range 2 {
		copied, err := pipeline.MigrateFingerprints(ctx, kv, log)
		if err != nil || copied != 1 {
			t.Fatalf("migration %d: copied %d, error %v; want 1 record", run+1, copied, err)
		}
	}
	logStream, err := env.js.Stream(ctx, log.Stream())
	if err != nil {
		t.Fatal(err)
	}
	info, err := logStream.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.State.Msgs != 1 {
		t.Errorf("log holds %d records after two migrations, want 1", info.State.Msgs)
	}

	// The copy keeps the time the bucket stored the record.
	loaded := make(chan struct{})
	var gotStored time.Time
	fctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if _, err := log.Follow(fctx, func(_ uint64, _ []byte, at time.Time) { gotStored = at }, loaded); err != nil {
		t.Fatal(err)
	}
	<-loaded
	if !gotStored.Equal(entry.Created()) {
		t.Errorf("copied record stored at %v, want the bucket's %v", gotStored, entry.Created())
	}

	copied := storyItem(t, "cluster", "en", "https://cluster.example/fair", "Export fair in Vilnius",
		fairText+" Source: regional chamber.", "")
	if _, err := followLog(t, env, log)().Assign(ctx, copied); err != nil {
		t.Fatal(err)
	}
	if copied.ClusterID != origin.ID || copied.DuplicateOf != origin.ID {
		t.Errorf("copy after migration: cluster %q duplicate of %q, want %q for both", copied.ClusterID, copied.DuplicateOf, origin.ID)
	}
}

// storedRecordOf returns the member record of it as a clusterer on a
// scratch log stores it.
func storedRecordOf(t *testing.T, env *ingestEnv, it *pipeline.Item) []byte {
	t.Helper()
	scratch := memberLog(t, env)
	assignAndRecord(t, followLog(t, env, scratch)(), it)
	stream, err := env.js.Stream(context.Background(), scratch.Stream())
	if err != nil {
		t.Fatal(err)
	}
	msg, err := stream.GetMsg(context.Background(), 1)
	if err != nil {
		t.Fatalf("reading the scratch record: %v", err)
	}
	return msg.Data
}

// TestMigratedRecordPastMaxAgeIsNoCandidate copies a record that its
// bucket stored longer ago than the log's max age. Its event has left the
// item stream, but the log keeps the copy for a max age from the copy. A
// copy of its story must start a cluster of its own, as it did when the
// bucket expired the record.
func TestMigratedRecordPastMaxAgeIsNoCandidate(t *testing.T) {
	env := newIngestEnv(t, "embedded")
	ctx := context.Background()
	origin := storyItem(t, "chamber", "en", "https://chamber.example/news/fair", "Export fair in Vilnius", fairText, "")
	data := storedRecordOf(t, env, origin)

	log := memberLog(t, env)
	stored := time.Now().Add(-2 * log.MaxAge())
	if _, err := log.Append(ctx, data, "i."+origin.ID, stored); err != nil {
		t.Fatalf("copying the record: %v", err)
	}
	copied := storyItem(t, "cluster", "en", "https://cluster.example/fair", "Export fair in Vilnius",
		fairText+" Source: regional chamber.", "")
	if _, err := followLog(t, env, log)().Assign(ctx, copied); err != nil {
		t.Fatal(err)
	}
	if copied.ClusterID != copied.ID || copied.DuplicateOf != "" {
		t.Errorf("copy of an expired story: cluster %q duplicate of %q, want its own cluster %q",
			copied.ClusterID, copied.DuplicateOf, copied.ID)
	}
}

// TestMigrationEndsWhenBucketDeleted deletes the bucket while a copy of
// it is under way, as a second process that started together with this
// one does once it has copied every record. The copy must end without an
// error, which would stop this process from starting.
func TestMigrationEndsWhenBucketDeleted(t *testing.T) {
	env := newIngestEnv(t, "embedded")
	ctx := context.Background()
	kv, err := broker.EnsureKV(ctx, env.js, testenv.Name(t)+"_FINGERPRINTS", 1, time.Hour, false)
	if err != nil {
		t.Fatal(err)
	}
	// The watch delivers a few thousand records before the delete, so
	// the copy of 20,000 is still under way then.
	const records = 20000
	value := make([]byte, 500)
	for n := range records {
		if _, err := kv.Put(ctx, fmt.Sprintf("i.%08d", n), value); err != nil {
			t.Fatal(err)
		}
	}

	log := memberLog(t, env)
	result := make(chan error, 1)
	go func() {
		_, err := pipeline.MigrateFingerprints(ctx, kv, log)
		result <- err
	}()
	stream, err := env.js.Stream(ctx, log.Stream())
	if err != nil {
		t.Fatal(err)
	}
	for {
		info, err := stream.Info(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if info.State.Msgs >= 100 {
			break
		}
		time.Sleep(time.Millisecond)
	}

	if err := env.js.DeleteKeyValue(ctx, kv.Bucket()); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-result:
		if err != nil {
			t.Errorf("copy of a bucket deleted meanwhile: %v, want no error", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("copy still running 30 s after its bucket was deleted")
	}
}

// TestMigrationOfDeletedBucketCopiesNothing opens the bucket and deletes
// it before the copy starts, as a second process that finished copying
// does between this process's look-up and its copy.
func TestMigrationOfDeletedBucketCopiesNothing(t *testing.T) {
	env := newIngestEnv(t, "embedded")
	ctx := context.Background()
	kv, err := broker.EnsureKV(ctx, env.js, testenv.Name(t)+"_FINGERPRINTS", 1, time.Hour, false)
	if err != nil {
		t.Fatal(err)
	}
	if err := env.js.DeleteKeyValue(ctx, kv.Bucket()); err != nil {
		t.Fatal(err)
	}
	copied, err := pipeline.MigrateFingerprints(ctx, kv, memberLog(t, env))
	if err != nil || copied != 0 {
		t.Errorf("copy of a deleted bucket: copied %d, error %v; want 0 and no error", copied, err)
	}
}

// TestMigrationOverSlowLinkIsPipelined copies a bucket over a connection
// that adds 2 ms each way, as a NATS cluster across a network can. One
// append at a time took 9 s for 2,000 records, and would take over an
// hour for 1,000,000, while Open serves no health check. Appends must
// overlap.
func TestMigrationOverSlowLinkIsPipelined(t *testing.T) {
	srv := testenv.NATS(t)
	ctx := context.Background()
	direct, err := jetstream.New(testenv.Conn(t, srv.URL))
	if err != nil {
		t.Fatal(err)
	}
	bucket := testenv.Name(t) + "_FINGERPRINTS"
	if _, err := broker.EnsureKV(ctx, direct, bucket, 1, time.Hour, false); err != nil {
		t.Fatal(err)
	}
	const records = 2000
	value := make([]byte, 500)
	for n := range records {
		if _, err := direct.PublishAsync(fmt.Sprintf("$KV.%s.i.%032x", bucket, n), value); err != nil {
			t.Fatal(err)
		}
	}
	<-direct.PublishAsyncComplete()

	slow, err := jetstream.New(testenv.Conn(t, "nats://"+delayedProxy(t, strings.TrimPrefix(srv.URL, "nats://"), 2*time.Millisecond)))
	if err != nil {
		t.Fatal(err)
	}
	kv, err := slow.KeyValue(ctx, bucket)
	if err != nil {
		t.Fatal(err)
	}
	log, err := broker.EnsureRecordLog(ctx, slow, memberLogOptions(t))
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	copied, err := pipeline.MigrateFingerprints(ctx, kv, log)
	took := time.Since(start)
	if err != nil || copied != records {
		t.Fatalf("copied %d, error %v; want %d records", copied, err, records)
	}
	if took > 3*time.Second {
		t.Errorf("copy of %d records took %v, want under 3 s", records, took)
	}
}

// delayedProxy forwards connections on a random 127.0.0.1 port to target
// and holds the bytes for delay in each direction. It returns the port's
// address.
func delayedProxy(t *testing.T, target string, delay time.Duration) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	t.Cleanup(func() {
		_ = ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			_ = c.Close()
		}
	})
	go func() {
		for {
			client, err := ln.Accept()
			if err != nil {
				return
			}
			server, err := net.Dial("tcp", target)
			if err != nil {
				_ = client.Close()
				continue
			}
			mu.Lock()
			conns = append(conns, client, server)
			mu.Unlock()
			go forwardLate(server, client, delay)
			go forwardLate(client, server, delay)
		}
	}()
	return ln.Addr().String()
}

// forwardLate copies src to dst, writing each chunk delay after it was
// read, and closes both when either fails.
func forwardLate(dst, src net.Conn, delay time.Duration) {
	type chunk struct {
		due  time.Time
		data []byte
	}
	queue := make(chan chunk, 4096)
	go func() {
		defer close(queue)
		for {
			buf := make([]byte, 32<<10)
			n, err := src.Read(buf)
			if n > 0 {
				queue <- chunk{time.Now().Add(delay), buf[:n]}
			}
			if err != nil {
				return
			}
		}
	}()
	for c := range queue {
		time.Sleep(time.Until(c.due))
		if _, err := dst.Write(c.data); err != nil {
			break
		}
	}
	_ = dst.Close()
	_ = src.Close()
}
