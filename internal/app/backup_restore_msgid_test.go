package app

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/syndic-network/syndic/internal/testenv"
)

// TestRestoreRepeatedMsgID checks that a restore stores an event whose
// Nats-Msg-Id repeats that of an earlier event in the backup. The stream
// contains such a pair when a writer crashed between a publish and its
// index write and the next poll sent the same revision after the
// duplicate window (see the pipeline package comment). The restore
// publishes both within one window, where the stream would drop the
// second.
func TestRestoreRepeatedMsgID(t *testing.T) {
	farm := newFarm(t)
	source := testenv.NATS(t)
	cfg := testConfig(t, source.URL, farm.srv.URL, 1, time.Hour)
	// The shortest window that nats-server 2.15 accepts, so the test
	// waits little for the resend to be stored.
	cfg.NATS.DuplicateWindow = 100 * time.Millisecond
	a := openApp(t, cfg)
	ctx := context.Background()
	subject := cfg.NATS.SubjectPrefix + ".farm"
	publish := func(n int) bool {
		t.Helper()
		msg := &nats.Msg{
			Subject: subject,
			Header:  nats.Header{"Nats-Msg-Id": []string{"same-revision"}},
			Data:    fmt.Appendf(nil, `{"n":%d}`, n),
		}
		ack, err := a.JS.PublishMsg(ctx, msg)
		if err != nil {
			t.Fatalf("publishing copy %d: %v", n, err)
		}
		return !ack.Duplicate
	}
	if !publish(1) {
		t.Fatal("the first copy was a duplicate")
	}
	waitFor(t, 10*time.Second, "the duplicate window to pass", func() bool { return publish(2) })
	dir := filepath.Join(t.TempDir(), "backup")
	if _, err := a.Backup(ctx, dir); err != nil {
		t.Fatalf("Backup: %v", err)
	}

	target := testenv.NATS(t)
	restoredCfg := *cfg
	restoredCfg.NATS.URL = target.URL
	restoredCfg.NATS.DuplicateWindow = time.Minute
	b := openApp(t, &restoredCfg)
	if _, err := b.Restore(ctx, dir); err != nil {
		t.Fatalf("Restore: %v", err)
	}
	for seq, want := range map[uint64]string{1: `{"n":1}`, 2: `{"n":2}`} {
		got, err := b.Stream.GetMsg(ctx, seq)
		if err != nil {
			t.Fatalf("reading restored sequence %d: %v", seq, err)
		}
		if !bytes.Equal(got.Data, []byte(want)) {
			t.Errorf("restored sequence %d = %s, want %s", seq, got.Data, want)
		}
	}
	first, err := b.Stream.GetMsg(ctx, 1)
	if err != nil {
		t.Fatalf("reading restored sequence 1: %v", err)
	}
	if id := first.Header.Get("Nats-Msg-Id"); id != "same-revision" {
		t.Errorf("restored sequence 1 has Nats-Msg-Id %q, want same-revision", id)
	}
}
