package broker_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/syndic-network/syndic/internal/broker"
)

// benchEventBytes is about the size of an item event of the feed farm.
const benchEventBytes = 2500

// benchPublishers is how many goroutines publish at once in the "single"
// cases: the maximum number of item publishes syndic run keeps in flight
// by default (fetch.concurrency 8 times 8 per document).
const benchPublishers = 64

// BenchmarkStreamStore measures how many events per second the embedded
// server stores in a file stream, the limit under Syndic's ingest rate.
// "single" publishes one event per PubAck from benchPublishers
// goroutines, as the ingester does. "atomic-N" sends atomic batches of N
// events one after another, which nats-server stores with one fsync per
// batch, and "atomic-NxP" sends them from P goroutines at once, as the
// documents of concurrent polls would. Each case runs with and without
// sync_always.
func BenchmarkStreamStore(b *testing.B) {
	for _, sync := range []bool{true, false} {
		for _, mode := range []string{"single", "atomic-8", "atomic-32", "atomic-5x8", "atomic-50x8"} {
			name := mode + "/sync_always=" + strconv.FormatBool(sync)
			b.Run(name, func(b *testing.B) {
				benchmarkStreamStore(b, sync, mode)
			})
		}
	}
}

// startBenchServer starts an embedded server in a temporary directory and
// connects to it. Both stop when the benchmark ends.
func startBenchServer(b *testing.B, syncAlways bool) (*nats.Conn, jetstream.JetStream) {
	b.Helper()
	ctx := context.Background()
	emb, err := broker.StartEmbedded(ctx, broker.EmbeddedOptions{DataDir: b.TempDir(), SyncAlways: syncAlways})
	if err != nil {
		b.Fatalf("starting embedded server: %v", err)
	}
	b.Cleanup(func() { _ = emb.Shutdown(context.Background()) })
	nc, js, err := emb.Connect(ctx, "bench", nil)
	if err != nil {
		b.Fatalf("connecting: %v", err)
	}
	b.Cleanup(nc.Close)
	return nc, js
}

func benchmarkStreamStore(b *testing.B, syncAlways bool, mode string) {
	ctx := context.Background()
	nc, js := startBenchServer(b, syncAlways)
	_, err := js.CreateStream(ctx, jetstream.StreamConfig{
		Name: "EVENTS", Subjects: []string{"events.>"}, Storage: jetstream.FileStorage,
		Duplicates: time.Minute, AllowAtomicPublish: true,
	})
	if err != nil {
		b.Fatalf("creating stream: %v", err)
	}
	payload := make([]byte, benchEventBytes)

	b.ResetTimer()
	switch mode {
	case "single":
		var next atomic.Int64
		var wg sync.WaitGroup
		for range benchPublishers {
			wg.Go(func() {
				for n := next.Add(1); n <= int64(b.N); n = next.Add(1) {
					msg := &nats.Msg{Subject: "events.p", Data: payload}
					if _, err := js.PublishMsg(ctx, msg, jetstream.WithMsgID("m"+strconv.FormatInt(n, 10))); err != nil {
						b.Errorf("publishing: %v", err)
						return
					}
				}
			})
		}
		wg.Wait()
	default:
		spec, parallel, _ := strings.Cut(mode[len("atomic-"):], "x")
		size, err := strconv.Atoi(spec)
		if err != nil {
			b.Fatalf("batch size of %q: %v", mode, err)
		}
		publishers := 1
		if parallel != "" {
			if publishers, err = strconv.Atoi(parallel); err != nil {
				b.Fatalf("publishers of %q: %v", mode, err)
			}
		}
		var next atomic.Int64
		var wg sync.WaitGroup
		for range publishers {
			wg.Go(func() {
				for batch := next.Add(1) - 1; batch*int64(size) < int64(b.N); batch = next.Add(1) - 1 {
					if err := publishAtomic(ctx, nc, js, "b"+strconv.FormatInt(batch, 10), size, payload); err != nil {
						b.Error(err)
						return
					}
				}
			})
		}
		wg.Wait()
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// publishAtomic sends one atomic batch of size events: all but the last
// without a reply, the last with the commit header and a wait for the
// batch's PubAck.
func publishAtomic(ctx context.Context, nc *nats.Conn, js jetstream.JetStream, id string, size int, payload []byte) error {
	for i := 1; i <= size; i++ {
		msg := nats.NewMsg("events.p")
		msg.Data = payload
		msg.Header.Set(jetstream.MsgIDHeader, id+"."+strconv.Itoa(i))
		msg.Header.Set("Nats-Batch-Id", id)
		msg.Header.Set("Nats-Batch-Sequence", strconv.Itoa(i))
		if i < size {
			if err := nc.PublishMsg(msg); err != nil {
				return fmt.Errorf("publishing batch %s: %w", id, err)
			}
			continue
		}
		msg.Header.Set("Nats-Batch-Commit", "1")
		if _, err := js.PublishMsg(ctx, msg); err != nil {
			return fmt.Errorf("committing batch %s: %w", id, err)
		}
	}
	return nil
}
