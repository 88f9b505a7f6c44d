package broker

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
)

// testTimeout bounds each network step of a test, so a hung server fails
// the test instead of the whole run.
const testTimeout = 15 * time.Second

func testContext(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	t.Cleanup(cancel)
	return ctx
}

func testLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

func startEmbedded(t *testing.T, dataDir string) *Embedded {
	t.Helper()
	opts := DefaultEmbeddedOptions(dataDir)
	opts.Logger = testLogger()
	e, err := StartEmbedded(testContext(t), opts)
	if err != nil {
		t.Fatalf("StartEmbedded: %v", err)
	}
	t.Cleanup(func() {
		if err := e.Shutdown(context.Background()); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
	})
	return e
}

func TestEmbeddedWritesURLFile(t *testing.T) {
	dataDir := t.TempDir()
	e := startEmbedded(t, dataDir)

	got, err := ReadURLFile(dataDir)
	if err != nil {
		t.Fatalf("ReadURLFile: %v", err)
	}
	if got != e.URL() {
		t.Errorf("url file = %q, want %q", got, e.URL())
	}
	info, err := os.Stat(filepath.Join(dataDir, urlFileName))
	if err != nil {
		t.Fatalf("stat url file: %v", err)
	}
	if mode := info.Mode().Perm(); mode != 0o600 {
		t.Errorf("url file mode = %o, want 600", mode)
	}

	u, err := url.Parse(got)
	if err != nil {
		t.Fatalf("parsing url %q: %v", got, err)
	}
	if u.Hostname() != "127.0.0.1" {
		t.Errorf("url host = %q, want 127.0.0.1", u.Hostname())
	}
	if password, ok := u.User.Password(); !ok || len(password) < 20 {
		t.Errorf("url password = %q, want a generated password of 20 or more characters", password)
	}
}

func TestEmbeddedAcceptsURLFromFile(t *testing.T) {
	dataDir := t.TempDir()
	startEmbedded(t, dataDir)

	serverURL, err := ReadURLFile(dataDir)
	if err != nil {
		t.Fatalf("ReadURLFile: %v", err)
	}
	nc, js, err := Connect(testContext(t), serverURL, "embedded-test", testLogger())
	if err != nil {
		t.Fatalf("Connect: %v", err)
	}
	t.Cleanup(nc.Close)

	if _, err := EnsureStream(testContext(t), js, StreamOptions{}); err != nil {
		t.Fatalf("EnsureStream on embedded server: %v", err)
	}
}

func TestEmbeddedRejectsMissingPassword(t *testing.T) {
	e := startEmbedded(t, t.TempDir())
	u, err := url.Parse(e.URL())
	if err != nil {
		t.Fatalf("parsing url: %v", err)
	}

	tests := []struct {
		name string
		user *url.Userinfo
	}{
		{name: "no credentials", user: nil},
		{name: "user without password", user: url.User(embeddedUser)},
		{name: "wrong password", user: url.UserPassword(embeddedUser, "not-the-password")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bad := *u
			bad.User = tt.user
			nc, err := nats.Connect(bad.String(), nats.NoReconnect())
			if err == nil {
				nc.Close()
				t.Fatal("connect succeeded, want an authorization error")
			}
			if !errors.Is(err, nats.ErrAuthorization) {
				t.Errorf("connect error = %v, want nats.ErrAuthorization", err)
			}
		})
	}
}

func TestEmbeddedShutdownRemovesURLFile(t *testing.T) {
	dataDir := t.TempDir()
	opts := DefaultEmbeddedOptions(dataDir)
	e, err := StartEmbedded(testContext(t), opts)
	if err != nil {
		t.Fatalf("StartEmbedded: %v", err)
	}
	if err := e.Shutdown(testContext(t)); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}

	_, err = ReadURLFile(dataDir)
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("ReadURLFile after shutdown = %v, want os.ErrNotExist", err)
	}
}

func TestEmbeddedKeepsDataAcrossRestart(t *testing.T) {
	dataDir := t.TempDir()
	ctx := testContext(t)

	first, err := StartEmbedded(ctx, DefaultEmbeddedOptions(dataDir))
	if err != nil {
		t.Fatalf("StartEmbedded: %v", err)
	}
	nc, js, err := Connect(ctx, first.URL(), "restart-test", testLogger())
	if err != nil {
		t.Fatalf("Connect: %v", err)
	}
	if _, err := EnsureStream(ctx, js, StreamOptions{}); err != nil {
		t.Fatalf("EnsureStream: %v", err)
	}
	if _, err := js.Publish(ctx, DefaultSubjectPrefix+".created", []byte("item")); err != nil {
		t.Fatalf("publishing: %v", err)
	}
	nc.Close()
	if err := first.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}

	second := startEmbedded(t, dataDir)
	if second.URL() == first.URL() {
		t.Error("restarted server reused the password, want a new one")
	}
	nc, js, err = Connect(ctx, second.URL(), "restart-test", testLogger())
	if err != nil {
		t.Fatalf("Connect after restart: %v", err)
	}
	t.Cleanup(nc.Close)
	stream, err := js.Stream(ctx, DefaultStream)
	if err != nil {
		t.Fatalf("looking up stream after restart: %v", err)
	}
	if msgs := stream.CachedInfo().State.Msgs; msgs != 1 {
		t.Errorf("stream holds %d messages after restart, want 1", msgs)
	}
}

func TestStartEmbeddedRequiresDataDir(t *testing.T) {
	_, err := StartEmbedded(testContext(t), EmbeddedOptions{})
	if err == nil {
		t.Fatal("StartEmbedded without data directory succeeded, want an error")
	}
}

func TestEmbeddedAppliesSyncAlways(t *testing.T) {
	tests := []struct {
		name string
		sync bool
	}{
		{name: "default options sync every write", sync: DefaultEmbeddedOptions("").SyncAlways},
		{name: "sync can be turned off", sync: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dataDir := t.TempDir()
			e, err := StartEmbedded(testContext(t), EmbeddedOptions{DataDir: dataDir, SyncAlways: tt.sync})
			if err != nil {
				t.Fatalf("StartEmbedded: %v", err)
			}
			t.Cleanup(func() { _ = e.Shutdown(context.Background()) })

			cfg := e.srv.JetStreamConfig()
			if cfg == nil {
				t.Fatal("JetStream is not enabled")
			}
			if cfg.SyncAlways != tt.sync {
				t.Errorf("SyncAlways = %v, want %v", cfg.SyncAlways, tt.sync)
			}
			if want := filepath.Join(dataDir, storeDirName); !strings.HasPrefix(cfg.StoreDir, want) {
				t.Errorf("store directory = %q, want under %q", cfg.StoreDir, want)
			}
		})
	}
}

func TestDefaultOptionsSyncAlways(t *testing.T) {
	if !DefaultEmbeddedOptions("/data").SyncAlways {
		t.Error("DefaultEmbeddedOptions().SyncAlways = false, want true")
	}
}

func TestEmbeddedShutdownHonoursContext(t *testing.T) {
	dataDir := t.TempDir()
	e, err := StartEmbedded(testContext(t), DefaultEmbeddedOptions(dataDir))
	if err != nil {
		t.Fatalf("StartEmbedded: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()

	// With the context already cancelled, Shutdown may still finish first
	// on a fast machine, so both outcomes are valid. Only the removal of
	// the url file is certain.
	if err := e.Shutdown(ctx); err != nil && !errors.Is(err, context.Canceled) {
		t.Errorf("Shutdown = %v, want nil or context.Canceled", err)
	}
	if _, err := ReadURLFile(dataDir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("ReadURLFile after shutdown = %v, want os.ErrNotExist", err)
	}
	e.srv.WaitForShutdown()
}

func TestEmbeddedStartsWithoutWarnings(t *testing.T) {
	logs := &syncBuffer{}
	opts := DefaultEmbeddedOptions(t.TempDir())
	opts.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelWarn}))
	e, err := StartEmbedded(testContext(t), opts)
	if err != nil {
		t.Fatalf("StartEmbedded: %v", err)
	}
	if err := e.Shutdown(testContext(t)); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}

	// A plaintext password in the server options makes nats-server warn
	// at every start, which is why StartEmbedded passes a bcrypt hash.
	if got := logs.String(); got != "" {
		t.Errorf("server logged warnings:\n%s", got)
	}
}
