package app

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/syndic-network/syndic/internal/testenv"
)

// seedDeployment publishes ten events with message ids, deletes the
// first two and the sixth, and writes entries into the index, meta and
// cache buckets.
func seedDeployment(t *testing.T, a *App) {
	t.Helper()
	ctx := context.Background()
	for i := 1; i <= 10; i++ {
		msg := &nats.Msg{
			Subject: fmt.Sprintf("%s.farm.f1", a.Config.NATS.SubjectPrefix),
			Header:  nats.Header{"Nats-Msg-Id": []string{fmt.Sprintf("item-%d", i)}},
			Data:    fmt.Appendf(nil, `{"n":%d}`, i),
		}
		if _, err := a.JS.PublishMsg(ctx, msg); err != nil {
			t.Fatalf("publishing event %d: %v", i, err)
		}
	}
	if err := a.Stream.Purge(ctx, jetstream.WithPurgeSequence(3)); err != nil {
		t.Fatalf("purging the first events: %v", err)
	}
	if err := a.Stream.DeleteMsg(ctx, 6); err != nil {
		t.Fatalf("deleting event 6: %v", err)
	}
	mustPut(t, a.Meta, "tag_authority", "farm.example,2026-12-04")
	index, err := a.JS.KeyValue(ctx, a.Config.NATS.KVPrefix+"_INDEX")
	if err != nil {
		t.Fatalf("opening index bucket: %v", err)
	}
	mustPut(t, index, "item-4", `{"h":"x","r":1,"s":4}`)
	cache, err := a.JS.KeyValue(ctx, a.Config.NATS.KVPrefix+"_CACHE")
	if err != nil {
		t.Fatalf("opening cache bucket: %v", err)
	}
	mustPut(t, cache, "seen", "1")
	for _, stored := range []time.Time{{}, memberStored} {
		if _, err := a.Members.Append(ctx, []byte("record stored "+stored.String()), "", stored); err != nil {
			t.Fatalf("appending a grouping record: %v", err)
		}
	}
}

// memberStored is the original time of the second grouping record that
// seedDeployment appends, as a record copied from a KV bucket keeps it.
var memberStored = time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC)

// memberRecords returns the grouping records of a's log with the time
// each was stored.
func memberRecords(t *testing.T, a *App) map[string]time.Time {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out := map[string]time.Time{}
	loaded := make(chan struct{})
	var mu sync.Mutex
	if _, err := a.Members.Follow(ctx, func(_ uint64, value []byte, stored time.Time) {
		mu.Lock()
		defer mu.Unlock()
		out[string(value)] = stored
	}, loaded); err != nil {
		t.Fatalf("reading grouping records: %v", err)
	}
	<-loaded
	mu.Lock()
	defer mu.Unlock()
	return maps.Clone(out)
}

func mustPut(t *testing.T, kv jetstream.KeyValue, key, value string) {
	t.Helper()
	if _, err := kv.Put(context.Background(), key, []byte(value)); err != nil {
		t.Fatalf("putting %s: %v", key, err)
	}
}

func TestBackupRestore(t *testing.T) {
	farm := newFarm(t)
	source := testenv.NATS(t)
	cfg := testConfig(t, source.URL, farm.srv.URL, 1, time.Hour)
	a := openApp(t, cfg)
	seedDeployment(t, a)
	dir := filepath.Join(t.TempDir(), "backup")
	ctx := context.Background()
	m, err := a.Backup(ctx, dir)
	if err != nil {
		t.Fatalf("Backup: %v", err)
	}
	if m.Stream.Msgs != 7 || m.Stream.FirstSeq != 3 || m.Stream.LastSeq != 10 {
		t.Errorf("manifest stream = %+v, want 7 messages from 3 to 10", m.Stream)
	}

	target := testenv.NATS(t)
	restoredCfg := *cfg
	restoredCfg.NATS.URL = target.URL
	b := openApp(t, &restoredCfg)
	restoreStart := time.Now()
	if _, err := b.Restore(ctx, dir); err != nil {
		t.Fatalf("Restore: %v", err)
	}

	info, err := b.Stream.Info(ctx)
	if err != nil {
		t.Fatalf("reading restored stream info: %v", err)
	}
	if info.State.FirstSeq != 3 || info.State.LastSeq != 10 || info.State.Msgs != 7 {
		t.Errorf("restored stream state = first %d, last %d, msgs %d; want 3, 10, 7", info.State.FirstSeq, info.State.LastSeq, info.State.Msgs)
	}
	for seq := uint64(3); seq <= 10; seq++ {
		compareMsg(t, a, b, seq)
	}
	for _, key := range []string{"tag_authority"} {
		compareEntry(t, a.Meta, b.Meta, key)
	}
	index, err := b.JS.KeyValue(ctx, cfg.NATS.KVPrefix+"_INDEX")
	if err != nil {
		t.Fatalf("opening restored index: %v", err)
	}
	if got, err := index.Get(ctx, "item-4"); err != nil || string(got.Value()) != `{"h":"x","r":1,"s":4}` {
		t.Errorf("restored index entry item-4 = %v, %v", got, err)
	}
	cache, err := b.JS.KeyValue(ctx, cfg.NATS.KVPrefix+"_CACHE")
	if err != nil {
		t.Fatalf("opening restored cache: %v", err)
	}
	if _, err := cache.Get(ctx, "seen"); !errors.Is(err, jetstream.ErrKeyNotFound) {
		t.Errorf("cache entry after restore: got error %v, want ErrKeyNotFound because the cache is not backed up", err)
	}
	if m.Members == nil || m.Members.Msgs != 2 {
		t.Errorf("manifest members = %+v, want 2 records", m.Members)
	}
	want, got := memberRecords(t, a), memberRecords(t, b)
	if len(want) != 2 || len(got) != len(want) {
		t.Fatalf("grouping records: %d restored of %d, want 2", len(got), len(want))
	}
	// The restored events take the time of the restore, so their
	// grouping records expire with them only if they take it too.
	for value := range want {
		if stored, ok := got[value]; !ok || stored.Before(restoreStart) {
			t.Errorf("restored record %q stored at %v, want the restore's time, from %v", value, stored, restoreStart)
		}
	}
	if !want["record stored "+memberStored.String()].Equal(memberStored) {
		t.Errorf("source record kept no original time: %v", want)
	}
}

// compareMsg checks that seq holds the same message in both deployments,
// or is missing from both.
func compareMsg(t *testing.T, a, b *App, seq uint64) {
	t.Helper()
	ctx := context.Background()
	want, werr := a.Stream.GetMsg(ctx, seq)
	got, gerr := b.Stream.GetMsg(ctx, seq)
	if werr != nil {
		if !errors.Is(gerr, jetstream.ErrMsgNotFound) {
			t.Errorf("sequence %d: missing in the source (%v) but restored with error %v", seq, werr, gerr)
		}
		return
	}
	if gerr != nil {
		t.Errorf("sequence %d: not restored: %v", seq, gerr)
		return
	}
	if got.Subject != want.Subject {
		t.Errorf("sequence %d: subject %q, want %q", seq, got.Subject, want.Subject)
	}
	if !bytes.Equal(got.Data, want.Data) {
		t.Errorf("sequence %d: data %q, want %q", seq, got.Data, want.Data)
	}
	if g, w := got.Header.Get("Nats-Msg-Id"), want.Header.Get("Nats-Msg-Id"); g != w {
		t.Errorf("sequence %d: Nats-Msg-Id %q, want %q", seq, g, w)
	}
}

func compareEntry(t *testing.T, source, target jetstream.KeyValue, key string) {
	t.Helper()
	ctx := context.Background()
	want, err := source.Get(ctx, key)
	if err != nil {
		t.Fatalf("reading source %s: %v", key, err)
	}
	got, err := target.Get(ctx, key)
	if err != nil {
		t.Fatalf("reading restored %s: %v", key, err)
	}
	if !bytes.Equal(got.Value(), want.Value()) {
		t.Errorf("restored %s = %q, want %q", key, got.Value(), want.Value())
	}
}

func TestRestoreRejectsNonEmptyStream(t *testing.T) {
	farm := newFarm(t)
	ns := testenv.NATS(t)
	a := openApp(t, testConfig(t, ns.URL, farm.srv.URL, 1, time.Hour))
	seedDeployment(t, a)
	dir := filepath.Join(t.TempDir(), "backup")
	if _, err := a.Backup(context.Background(), dir); err != nil {
		t.Fatalf("Backup: %v", err)
	}
	_, err := a.Restore(context.Background(), dir)
	if err == nil {
		t.Fatal("Restore into a stream with messages succeeded")
	}
	if !bytes.Contains([]byte(err.Error()), []byte("already holds messages")) {
		t.Errorf("Restore error = %v, want one saying the stream already holds messages", err)
	}
}

func TestBackupRejectsNonEmptyDir(t *testing.T) {
	farm := newFarm(t)
	ns := testenv.NATS(t)
	a := openApp(t, testConfig(t, ns.URL, farm.srv.URL, 1, time.Hour))
	dir := t.TempDir()
	if _, err := a.Backup(context.Background(), dir); err != nil {
		t.Fatalf("first Backup into an empty directory: %v", err)
	}
	if _, err := a.Backup(context.Background(), dir); err == nil {
		t.Fatal("second Backup into the same directory succeeded")
	}
}
