package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/syndic-network/syndic/internal/broker"
	"github.com/syndic-network/syndic/internal/config"
	"github.com/syndic-network/syndic/pipeline"
)

// These tests lose item index writes the way the async index bucket can,
// stop the embedded server without a clean-stop mark, and check that no
// item is published twice as "created" afterwards. They set
// redis.reserve_ttl to 1s, so the check's window starts the duplicate
// window plus 31 s before the index's last write.

// windowWait is longer than reserve_ttl plus repairMargin (31 s here), so
// an event older than that is reached only through the duplicate window
// or the recorded start of an earlier check.
const windowWait = 34 * time.Second

// cancelAfterPublish publishes through js and cancels the ingest's
// context once the stream has acknowledged the event. The index write
// that follows then fails, as it does for a poll cancelled when the
// stop's grace period ends, or a push request whose client went away.
type cancelAfterPublish struct {
	js     jetstream.JetStream
	cancel context.CancelFunc
}

func (p cancelAfterPublish) PublishMsg(ctx context.Context, msg *nats.Msg, opts ...jetstream.PublishOpt) (*jetstream.PubAck, error) {
	ack, err := p.js.PublishMsg(ctx, msg, opts...)
	if err == nil {
		p.cancel()
	}
	return ack, err
}

func repairConfig(t *testing.T) *config.Config {
	t.Helper()
	cfg := testConfig(t, "", "http://127.0.0.1:9", 0, time.Minute)
	cfg.Redis.ReserveTTL = time.Second
	cfg.NATS.DuplicateWindow = 5 * time.Minute
	return cfg
}

func repairItem(id, hash string) *pipeline.Item {
	return &pipeline.Item{
		ID: id, Partner: "farm", Feed: "f1", FeedURL: "https://farm.example/f1",
		Title: "Trade fair " + id, URL: "https://farm.example/" + id,
		Published: time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC), DateSource: pipeline.DateFromFeed,
		ContentHash: hash,
	}
}

// testContext returns a context that ends after timeout or with the test.
func testContext(t *testing.T, timeout time.Duration) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	t.Cleanup(cancel)
	return ctx
}

func repairOpen(ctx context.Context, t *testing.T, cfg *config.Config) *App {
	t.Helper()
	a, err := Open(ctx, cfg, slog.New(slog.DiscardHandler), OpenOptions{Owner: true})
	if err != nil {
		t.Fatalf("opening app: %v", err)
	}
	return a
}

// crashStop stops a as a crash would for the index check: the next
// start finds no clean-stop mark.
func crashStop(ctx context.Context, t *testing.T, a *App) {
	t.Helper()
	a.Close(ctx)
	if err := os.Remove(filepath.Join(a.Config.DataDir, "nats.clean")); err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("removing clean-stop mark: %v", err)
	}
}

// ingestWithoutIndexWrite runs it through an ingester whose index write
// fails after the publish, and checks that it did.
func ingestWithoutIndexWrite(ctx context.Context, t *testing.T, a *App, it *pipeline.Item) {
	t.Helper()
	ictx, cancel := context.WithCancel(ctx)
	defer cancel()
	g := pipeline.NewIngester(pipeline.IngesterOptions{
		Cache: a.IngestCache, Index: a.Index, Publisher: cancelAfterPublish{a.JS, cancel},
		SubjectPrefix: a.Config.NATS.SubjectPrefix, ReserveTTL: a.Config.Redis.ReserveTTL,
	})
	if res, err := g.Ingest(ictx, it); err == nil || res != pipeline.ResultRetry {
		t.Fatalf("ingest with a failing index write: %v, %v; want retry and an error", res, err)
	}
	// The app's own ingester would have failed this way: Close reads it.
	a.Ingester = g
	if _, found, err := a.Index.Get(ctx, it.ID); err != nil || found {
		t.Fatalf("index entry of %s after the failed write: found %t, %v; want none", it.ID, found, err)
	}
}

// TestIndexRepairAfterDedupedRepublish loses the index write of a
// republish that JetStream dropped as a duplicate. That write records an
// event stored 34 s earlier, more than reserve_ttl plus the margin, so
// the check must reach back over the duplicate window to restore it.
// Otherwise the item's next change is published as "created" again.
func TestIndexRepairAfterDedupedRepublish(t *testing.T) {
	t.Parallel()
	cfg := repairConfig(t)
	ctx := testContext(t, 2*time.Minute)

	a := repairOpen(ctx, t, cfg)
	ingestWithoutIndexWrite(ctx, t, a, repairItem("a", "h1"))
	time.Sleep(windowWait)
	if res, err := a.Ingester.Ingest(ctx, repairItem("a", "h1")); err != nil || res != pipeline.ResultCreated {
		t.Fatalf("republishing a: %v, %v; want created", res, err)
	}
	info, err := a.Stream.Info(ctx)
	if err != nil {
		t.Fatalf("reading stream info: %v", err)
	}
	if info.State.Msgs != 1 {
		t.Fatalf("stream holds %d events after the republish, want 1 (dropped as a duplicate)", info.State.Msgs)
	}
	kv, err := a.JS.KeyValue(ctx, cfg.NATS.KVPrefix+"_INDEX")
	if err != nil {
		t.Fatalf("opening index bucket: %v", err)
	}
	if err := kv.Purge(ctx, "a"); err != nil {
		t.Fatalf("purging index entry: %v", err)
	}
	crashStop(ctx, t, a)

	a = repairOpen(ctx, t, cfg)
	defer a.Close(ctx)
	if _, found, err := a.Index.Get(ctx, "a"); err != nil || !found {
		t.Errorf("index entry of a after the repair: found %t, %v; want restored from event 1", found, err)
	}
	res, err := a.Ingester.Ingest(ctx, repairItem("a", "h2"))
	if err != nil || res != pipeline.ResultUpdated {
		t.Errorf("changed content of a: %v, %v; want updated (a second created event duplicates the item)", res, err)
	}
}

// TestIndexRepairResumesAfterStop stops a start while its index check
// runs. The entries it wrote move the index's last write time, so the
// next start must begin no later than the stopped check did (the
// nats.repair record), or the events it had not read stay unrestored.
func TestIndexRepairResumesAfterStop(t *testing.T) {
	t.Parallel()
	cfg := repairConfig(t)
	// A short duplicate window keeps the check's window under the wait.
	cfg.NATS.DuplicateWindow = time.Second
	ctx := testContext(t, 3*time.Minute)
	const n = 30000

	a := repairOpen(ctx, t, cfg)
	if res, err := a.Ingester.Ingest(ctx, repairItem("first", "h")); err != nil || res != pipeline.ResultCreated {
		t.Fatalf("ingesting: %v, %v", res, err)
	}
	publishLostEvents(ctx, t, a, "x", n)
	crashStop(ctx, t, a)
	time.Sleep(windowWait)

	// The next start is stopped 200 ms into its index check.
	octx, stop := context.WithCancel(ctx)
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		cancelDuringRepair(octx, t, cfg, stop)
	}()
	if a, err := Open(octx, cfg, slog.New(slog.DiscardHandler), OpenOptions{Owner: true}); err == nil {
		a.Close(ctx)
		stop()
		<-watched
		t.Fatal("the repair finished before it could be stopped; raise n")
	}
	stop()
	<-watched

	a = repairOpen(ctx, t, cfg)
	defer a.Close(ctx)
	missing := 0
	for i := range n {
		if _, found, err := a.Index.Get(ctx, fmt.Sprintf("x%05d", i)); err != nil {
			t.Fatalf("reading index: %v", err)
		} else if !found {
			missing++
		}
	}
	if missing > 0 {
		t.Errorf("%d of %d index entries still missing after a stopped repair and a full start", missing, n)
	}
}

// cancelDuringRepair calls stop 200 ms after the start under way has
// recorded the start of its index check, so the check is stopped
// part way. The owner publishes its URL only after the check, so the
// record file is the earliest sign of it.
func cancelDuringRepair(ctx context.Context, t *testing.T, cfg *config.Config, stop context.CancelFunc) {
	t.Helper()
	for {
		if _, err := os.Stat(filepath.Join(cfg.DataDir, "nats.repair")); err == nil {
			break
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Millisecond):
		}
	}
	select {
	case <-ctx.Done():
	case <-time.After(200 * time.Millisecond):
		stop()
	}
}

// TestIndexFailedWriteMakesStopUnclean fails an index write after its
// publish, as a poll cancelled at the end of the stop's grace period or a
// push request whose client left would. That stop must not be marked
// clean, so the next start restores the entry.
func TestIndexFailedWriteMakesStopUnclean(t *testing.T) {
	t.Parallel()
	cfg := repairConfig(t)
	ctx := testContext(t, time.Minute)

	a := repairOpen(ctx, t, cfg)
	ingestWithoutIndexWrite(ctx, t, a, repairItem("b", "h1"))
	a.Close(ctx)
	if _, err := os.Stat(filepath.Join(cfg.DataDir, "nats.clean")); err == nil {
		t.Error("stop marked clean although the index misses the entry of a stored event")
	}

	a = repairOpen(ctx, t, cfg)
	defer a.Close(ctx)
	if _, found, err := a.Index.Get(ctx, "b"); err != nil || !found {
		t.Errorf("index entry of b at the next start: found %t, %v; want it restored from the stream", found, err)
	}
	time.Sleep(1100 * time.Millisecond) // the failed write kept the reservation
	res, err := a.Ingester.Ingest(ctx, repairItem("b", "h2"))
	if err != nil || res != pipeline.ResultUpdated {
		t.Errorf("changed content of b: %v, %v; want updated (a second created event duplicates the item)", res, err)
	}
}

// publishLostEvents publishes n created events with no index entries, as
// if a crash had lost their index writes.
func publishLostEvents(ctx context.Context, t *testing.T, a *App, prefix string, n int) {
	t.Helper()
	var futures []jetstream.PubAckFuture
	for i := range n {
		if len(futures) == 1000 {
			waitAcks(ctx, t, futures)
			futures = futures[:0]
		}
		ev := pipeline.Event{
			Version: pipeline.EventVersion, Kind: pipeline.KindCreated, Revision: 1,
			Item: *repairItem(fmt.Sprintf("%s%05d", prefix, i), "h"), IngestedAt: time.Now().UTC(),
		}
		data, err := json.Marshal(ev)
		if err != nil {
			t.Fatal(err)
		}
		f, err := a.JS.PublishAsync(a.Config.NATS.SubjectPrefix+".farm", data)
		if err != nil {
			t.Fatalf("publishing event %d: %v", i, err)
		}
		futures = append(futures, f)
	}
	waitAcks(ctx, t, futures)
}

func waitAcks(ctx context.Context, t *testing.T, futures []jetstream.PubAckFuture) {
	t.Helper()
	for _, f := range futures {
		select {
		case <-f.Ok():
		case err := <-f.Err():
			t.Fatalf("publishing an event: %v", err)
		case <-ctx.Done():
			t.Fatal(ctx.Err())
		}
	}
}

// TestIndexPollWaitsForRepair opens a second process while the owner's
// start checks an index with 20,000 lost entries. The owner publishes its
// URL only after the check, so the second process ingests against the
// repaired index and publishes the change of an item as an update.
func TestIndexPollWaitsForRepair(t *testing.T) {
	t.Parallel()
	cfg := repairConfig(t)
	ctx := testContext(t, 2*time.Minute)

	a := repairOpen(ctx, t, cfg)
	publishLostEvents(ctx, t, a, "y", 20000)
	ingestWithoutIndexWrite(ctx, t, a, repairItem("c", "h1"))
	crashStop(ctx, t, a)
	time.Sleep(1100 * time.Millisecond) // the reservation of c expires

	type opened struct {
		a   *App
		err error
	}
	owner := make(chan opened, 1)
	go func() {
		oa, err := Open(ctx, cfg, slog.New(slog.DiscardHandler), OpenOptions{Owner: true})
		owner <- opened{oa, err}
	}()
	waitFor(t, 30*time.Second, "the owner's URL file", func() bool {
		_, err := broker.ReadURLFile(cfg.DataDir)
		return err == nil
	})
	poll, err := Open(ctx, cfg, slog.New(slog.DiscardHandler), OpenOptions{})
	if err != nil {
		t.Fatalf("opening the poll process: %v", err)
	}
	res, ierr := poll.Ingester.Ingest(ctx, repairItem("c", "h2"))
	repairing := true
	var o opened
	select {
	case o = <-owner:
		repairing = false
	default:
	}
	poll.Close(ctx)
	if repairing {
		o = <-owner
	}
	if o.err != nil {
		t.Fatalf("opening the owner: %v", o.err)
	}
	defer o.a.Close(ctx)
	if !repairing {
		t.Log("the owner's Open had finished before the poll ingested")
	}
	if ierr != nil || res != pipeline.ResultUpdated {
		t.Errorf("poll ingesting changed c during the owner's repair: %v, %v; want updated (a second created event duplicates the item)", res, ierr)
	}
}

// TestIndexOpensThroughURL opens the embedded server's async index
// bucket from a process configured with the server's URL in nats.url,
// which keeps the bucket's persist mode instead of failing to change it.
func TestIndexOpensThroughURL(t *testing.T) {
	t.Parallel()
	cfg := repairConfig(t)
	ctx := testContext(t, time.Minute)

	a := repairOpen(ctx, t, cfg)
	defer a.Close(ctx)
	url, err := broker.ReadURLFile(cfg.DataDir)
	if err != nil {
		t.Fatalf("reading the embedded server's URL: %v", err)
	}
	other := *cfg
	other.NATS.URL = url
	b, err := Open(ctx, &other, slog.New(slog.DiscardHandler), OpenOptions{})
	if err != nil {
		t.Fatalf("opening through nats.url = the embedded server: %v", err)
	}
	b.Close(ctx)
}

// TestConnectToOwnerRereadsURLFile gives a second process a URL file that
// names a dead server, as a killed owner leaves it, and then lets the
// running owner publish its URL again. The second process must reach the
// owner instead of waiting for the dead server for ever.
func TestConnectToOwnerRereadsURLFile(t *testing.T) {
	t.Parallel()
	cfg := repairConfig(t)
	ctx := testContext(t, time.Minute)

	a := repairOpen(ctx, t, cfg)
	defer a.Close(ctx)
	stale := "nats://syndic:gone@127.0.0.1:1"
	if err := os.WriteFile(filepath.Join(cfg.DataDir, "nats.url"), []byte(stale+"\n"), 0o600); err != nil {
		t.Fatalf("writing stale URL file: %v", err)
	}
	go func() {
		time.Sleep(time.Second)
		if err := a.embedded.PublishURL(); err != nil {
			t.Errorf("publishing the owner's URL again: %v", err)
		}
	}()
	start := time.Now()
	b, err := Open(ctx, cfg, slog.New(slog.DiscardHandler), OpenOptions{})
	if err != nil {
		t.Fatalf("opening beside the owner with a stale URL file: %v", err)
	}
	b.Close(ctx)
	if d := time.Since(start); d > 30*time.Second {
		t.Errorf("reaching the owner took %s", d)
	}
}

// TestEmbeddedStartDropsOldLeases leaves a feed lease behind, as a killed
// syndic run does, and checks that the next start of the embedded server
// drops it instead of waiting for it to expire.
func TestEmbeddedStartDropsOldLeases(t *testing.T) {
	t.Parallel()
	cfg := repairConfig(t)
	cfg.Fetch.LeaseTTL = time.Hour
	ctx := testContext(t, time.Minute)

	a := repairOpen(ctx, t, cfg)
	kv, err := a.JS.KeyValue(ctx, cfg.NATS.KVPrefix+"_LEASES")
	if err != nil {
		t.Fatalf("opening lease bucket: %v", err)
	}
	if _, err := kv.Put(ctx, "farm.f1", []byte("killed-process")); err != nil {
		t.Fatalf("writing lease: %v", err)
	}
	crashStop(ctx, t, a)

	a = repairOpen(ctx, t, cfg)
	defer a.Close(ctx)
	kv, err = a.JS.KeyValue(ctx, cfg.NATS.KVPrefix+"_LEASES")
	if err != nil {
		t.Fatalf("opening lease bucket: %v", err)
	}
	if e, err := kv.Get(ctx, "farm.f1"); !errors.Is(err, jetstream.ErrKeyNotFound) {
		t.Errorf("lease of the last run after the start: %v, %v; want it dropped", e, err)
	}
}
