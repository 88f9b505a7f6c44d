package broker_test

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"runtime"
	"testing"
	"time"

	"github.com/syndic-network/syndic/internal/broker"
)

// kvCacheExpiry is a little more than the ten seconds without a read
// after which nats-server v2.15 drops a block's cached buffer
// (defaultCacheBufferExpiration in its filestore.go).
const kvCacheExpiry = 11 * time.Second

// BenchmarkKVKeyHeap measures the live heap that the embedded server keeps
// per key of a KV bucket after its block buffers expired. That per-subject
// state is what each item's index entry and member record cost while the
// item is kept. Each operation writes one new key shaped like an item id,
// with a 300-byte value. Run it with -benchtime 200000x, because with a
// few keys the figure is noise.
func BenchmarkKVKeyHeap(b *testing.B) {
	_, js := startBenchServer(b, false)
	kv, err := broker.EnsureRebuildableKV(context.Background(), js, "HEAP", 1, 0, false)
	if err != nil {
		b.Fatal(err)
	}
	subject := "$KV." + kv.Bucket() + "."
	value := make([]byte, 300)

	before := liveHeap()
	var n uint64
	for b.Loop() {
		var id [16]byte
		binary.BigEndian.PutUint64(id[:], n*0x9e3779b97f4a7c15)
		binary.BigEndian.PutUint64(id[8:], n)
		n++
		if _, err := js.PublishAsync(subject+hex.EncodeToString(id[:]), value); err != nil {
			b.Fatalf("writing key %d: %v", n, err)
		}
		if n%1000 == 0 {
			<-js.PublishAsyncComplete()
		}
	}

	select {
	case <-js.PublishAsyncComplete():
	case <-time.After(time.Minute):
		b.Fatal("timed out after a minute waiting for the writes to be acknowledged")
	}
	time.Sleep(kvCacheExpiry)
	after := liveHeap()
	b.ReportMetric(float64(int64(after)-int64(before))/float64(n), "heap-B/key")
}

// liveHeap returns the bytes of live heap after two collections.
func liveHeap() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}
