package app

import (
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/syndic-network/syndic/internal/broker"
	"github.com/syndic-network/syndic/pipeline"
)

// TestIndexCheckedAfterUncleanStop runs three embedded-server lifetimes
// on one data directory and loses an index entry, as a crash of the async
// index bucket would. A clean stop is trusted; a start without the
// clean-stop mark restores the entry from the stream.
func TestIndexCheckedAfterUncleanStop(t *testing.T) {
	cfg := testConfig(t, "", "http://127.0.0.1:9", 0, time.Minute)
	mark := filepath.Join(cfg.DataDir, "nats.clean")
	ctx := testContext(t, 60*time.Second)
	open := func() *App {
		t.Helper()
		a, err := Open(ctx, cfg, slog.New(slog.DiscardHandler), OpenOptions{Owner: true})
		if err != nil {
			t.Fatalf("opening app: %v", err)
		}
		if _, err := os.Stat(mark); !os.IsNotExist(err) {
			t.Errorf("clean-stop mark present while the server runs (stat: %v)", err)
		}
		return a
	}
	entry := func(a *App) bool {
		t.Helper()
		_, found, err := a.Index.Get(ctx, "i1")
		if err != nil {
			t.Fatalf("reading index entry: %v", err)
		}
		return found
	}

	a := open()
	// A new data directory has nothing to check, so nothing to record.
	if _, err := os.Stat(filepath.Join(cfg.DataDir, "nats.repair")); !os.IsNotExist(err) {
		t.Errorf("index check recorded on a new data directory (stat: %v)", err)
	}
	s, err := a.JS.Stream(ctx, "KV_"+cfg.NATS.KVPrefix+"_INDEX")
	if err != nil {
		t.Fatalf("opening index stream: %v", err)
	}
	if mode := s.CachedInfo().Config.PersistMode; mode != jetstream.AsyncPersistMode {
		t.Errorf("index bucket persist mode = %v, want async on the embedded server", mode)
	}
	it := &pipeline.Item{
		ID: "i1", Partner: "farm", Feed: "f1", FeedURL: "https://farm.example/f1",
		Title: "Trade fair", URL: "https://farm.example/1",
		Published: time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC), DateSource: pipeline.DateFromFeed,
		ContentHash: "h1",
	}
	if res, err := a.Ingester.Ingest(ctx, it); err != nil || res != pipeline.ResultCreated {
		t.Fatalf("ingesting: %v, %v; want created", res, err)
	}
	kv, err := a.JS.KeyValue(ctx, cfg.NATS.KVPrefix+"_INDEX")
	if err != nil {
		t.Fatalf("opening index bucket: %v", err)
	}
	if err := kv.Purge(ctx, "i1"); err != nil {
		t.Fatalf("purging index entry: %v", err)
	}
	a.Close(ctx)
	if _, err := os.Stat(mark); err != nil {
		t.Fatalf("no clean-stop mark after a clean stop: %v", err)
	}

	// A clean stop is trusted: nothing is checked.
	a = open()
	if entry(a) {
		t.Error("index entry restored after a clean stop, which should skip the check")
	}
	a.Close(ctx)

	// No mark: the next start checks the index and restores the entry.
	if err := os.Remove(mark); err != nil {
		t.Fatalf("removing clean-stop mark: %v", err)
	}
	a = open()
	if !entry(a) {
		t.Error("index entry not restored after an unclean stop")
	}
	a.Close(ctx)

	// Another process still connected at the stop may lose index
	// writes, so that stop is not marked clean.
	a = open()
	url, err := broker.ReadURLFile(cfg.DataDir)
	if err != nil {
		t.Fatalf("reading the embedded server's URL: %v", err)
	}
	other, err := nats.Connect(url, nats.MaxReconnects(0))
	if err != nil {
		t.Fatalf("connecting a second client: %v", err)
	}
	defer other.Close()
	a.Close(ctx)
	if _, err := os.Stat(mark); !os.IsNotExist(err) {
		t.Errorf("clean-stop mark written while another client was connected (stat: %v)", err)
	}
}
