package app

import (
	"context"
	"errors"
	"log/slog"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/syndic-network/syndic/internal/broker"
	"github.com/syndic-network/syndic/internal/config"
)

// embeddedConfig returns a config without nats.url, so the App uses the
// embedded server under its data directory.
func embeddedConfig(t *testing.T) *config.Config {
	return testConfig(t, "", "http://127.0.0.1:1", 1, time.Minute)
}

// openOwner opens an App on cfg as `syndic run` does.
func openOwner(t *testing.T, cfg *config.Config) *App {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	a, err := Open(ctx, cfg, slog.New(slog.DiscardHandler), OpenOptions{Owner: true})
	if err != nil {
		t.Fatalf("opening owner app: %v", err)
	}
	return a
}

func TestOwnerConnectsInProcess(t *testing.T) {
	owner := openOwner(t, embeddedConfig(t))
	t.Cleanup(func() { owner.Close(context.Background()) })
	if owner.embedded == nil {
		t.Fatal("owner app started no embedded server")
	}
	// net.Pipe, which nats.InProcessServer uses, has the address "pipe".
	if got := owner.Conn.ConnectedAddr(); got != "pipe" {
		t.Errorf("owner connected to %q, want the in-process pipe", got)
	}

	// Another process on the data directory finds it locked and connects
	// to the listener named in the URL file.
	other := openApp(t, owner.Config)
	if other.embedded != nil {
		t.Fatal("second app started its own embedded server, want the owner's")
	}
	raw, err := broker.ReadURLFile(owner.Config.DataDir)
	if err != nil {
		t.Fatalf("ReadURLFile: %v", err)
	}
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatalf("parsing the URL file: %v", err)
	}
	if got := other.Conn.ConnectedAddr(); got != u.Host {
		t.Errorf("second app connected to %q, want the TCP listener %s", got, u.Host)
	}

	// Both see the one stream: an event published by the second app is
	// in the owner's view of it.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	subject := owner.Config.NATS.SubjectPrefix + ".test"
	if _, err := other.JS.Publish(ctx, subject, []byte("event")); err != nil {
		t.Fatalf("publishing over TCP: %v", err)
	}
	info, err := owner.Stream.Info(ctx)
	if err != nil {
		t.Fatalf("reading stream info in process: %v", err)
	}
	if info.State.Msgs != 1 {
		t.Errorf("owner sees %d messages in the stream, want 1", info.State.Msgs)
	}
}

func TestOwnerCloseStopsServer(t *testing.T) {
	cfg := embeddedConfig(t)
	owner := openOwner(t, cfg)

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	start := time.Now()
	owner.Close(ctx)
	if ctx.Err() != nil {
		t.Fatalf("Close took %s, past its deadline", time.Since(start))
	}
	if !owner.Conn.IsClosed() {
		t.Errorf("connection status after Close = %v, want CLOSED", owner.Conn.Status())
	}
	if _, err := broker.ReadURLFile(cfg.DataDir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("ReadURLFile after Close = %v, want os.ErrNotExist", err)
	}

	// The lock is free again, so the next owner starts a server.
	next := openOwner(t, cfg)
	if next.embedded == nil {
		t.Error("next owner started no embedded server")
	}
	next.Close(ctx)
}

// TestParseMemoBytesZeroKeepsNone checks that fetch.parse_memo_bytes: 0
// reaches the poller as "keep none", not as "use the default".
func TestParseMemoBytesZeroKeepsNone(t *testing.T) {
	if got := parseMemoBytes(0); got >= 0 {
		t.Errorf("parseMemoBytes(0) = %d, want below zero", got)
	}
	if got := parseMemoBytes(64 * config.MiB); got != 64<<20 {
		t.Errorf("parseMemoBytes(64MiB) = %d, want %d", got, 64<<20)
	}
}
