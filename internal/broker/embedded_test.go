package broker

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
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

// serverRecord returns the embedded server's monitoring record of the
// client connection nc.
func serverRecord(t *testing.T, e *Embedded, nc *nats.Conn) *server.ConnInfo {
	t.Helper()
	cid, err := nc.GetClientID()
	if err != nil {
		t.Fatalf("GetClientID: %v", err)
	}
	connz, err := e.srv.Connz(&server.ConnzOptions{CID: cid})
	if err != nil {
		t.Fatalf("Connz: %v", err)
	}
	if len(connz.Conns) != 1 {
		t.Fatalf("Connz for client %d returned %d connections, want 1", cid, len(connz.Conns))
	}
	return connz.Conns[0]
}

func TestEmbeddedConnectIsInProcess(t *testing.T) {
	e := startEmbedded(t, t.TempDir())
	ctx := testContext(t)
	local, localJS, err := e.Connect(ctx, "in-process", testLogger())
	if err != nil {
		t.Fatalf("Embedded.Connect: %v", err)
	}
	t.Cleanup(local.Close)
	remote, remoteJS, err := Connect(ctx, e.URL(), "tcp", testLogger())
	if err != nil {
		t.Fatalf("Connect by URL: %v", err)
	}
	t.Cleanup(remote.Close)

	// The server takes a client's address from its net.Conn: a pipe has
	// none, a TCP client has its loopback address and port.
	if got := serverRecord(t, e, local); got.IP != "" || got.Port != 0 {
		t.Errorf("server sees the in-process client at %s:%d, want no address", got.IP, got.Port)
	}
	if got := local.ConnectedAddr(); got != "pipe" {
		t.Errorf("in-process client ConnectedAddr = %q, want pipe", got)
	}
	tcp := serverRecord(t, e, remote)
	if got, want := net.JoinHostPort(tcp.IP, strconv.Itoa(tcp.Port)), remote.LocalAddr(); got != want {
		t.Errorf("server sees the TCP client at %s, want %s", got, want)
	}

	// Both clients use the one JetStream of the server.
	if _, err := EnsureStream(ctx, localJS, StreamOptions{}); err != nil {
		t.Fatalf("EnsureStream in process: %v", err)
	}
	if _, err := localJS.Publish(ctx, DefaultSubjectPrefix+".created", []byte("item")); err != nil {
		t.Fatalf("publishing in process: %v", err)
	}
	stream, err := remoteJS.Stream(ctx, DefaultStream)
	if err != nil {
		t.Fatalf("looking up stream over TCP: %v", err)
	}
	if msgs := stream.CachedInfo().State.Msgs; msgs != 1 {
		t.Errorf("stream seen over TCP holds %d messages, want 1", msgs)
	}
}

func TestEmbeddedConnectReconnectsInProcess(t *testing.T) {
	e := startEmbedded(t, t.TempDir())
	ctx := testContext(t)
	logs := &syncBuffer{}
	nc, js, err := e.Connect(ctx, t.Name(), slog.New(slog.NewTextHandler(logs, nil)))
	if err != nil {
		t.Fatalf("Embedded.Connect: %v", err)
	}
	t.Cleanup(nc.Close)
	first, err := nc.GetClientID()
	if err != nil {
		t.Fatalf("GetClientID: %v", err)
	}

	// The server closes a client it judges a slow consumer or stale; the
	// running server then accepts a new pipe.
	reconnected := nc.StatusChanged(nats.CONNECTED)
	if err := e.srv.DisconnectClientByID(first); err != nil {
		t.Fatalf("DisconnectClientByID: %v", err)
	}
	select {
	case <-reconnected:
	case <-ctx.Done():
		t.Fatalf("no reconnect after the server closed the client: %v", ctx.Err())
	}

	if second, err := nc.GetClientID(); err != nil || second == first {
		t.Errorf("client id after reconnect = %d, %v; want a new id, not %d", second, err, first)
	}
	if got := serverRecord(t, e, nc); got.IP != "" || got.Port != 0 {
		t.Errorf("server sees the reconnected client at %s:%d, want no address", got.IP, got.Port)
	}
	if _, err := EnsureStream(ctx, js, StreamOptions{}); err != nil {
		t.Errorf("EnsureStream after reconnect: %v", err)
	}
	// nats.go runs the handlers on its own goroutine, so the log is polled.
	const want = `msg="nats reconnected" server_url="in-process server"`
	for !strings.Contains(logs.String(), want) {
		if ctx.Err() != nil {
			t.Fatalf("log has no %s line:\n%s", want, logs.String())
		}
		time.Sleep(10 * time.Millisecond) // poll interval
	}
}

func TestEmbeddedRejectsInProcessAfterShutdown(t *testing.T) {
	e := startEmbedded(t, t.TempDir())
	if err := e.Shutdown(testContext(t)); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	nc, _, err := e.Connect(ctx, t.Name(), testLogger())
	if err == nil {
		nc.Close()
		t.Fatal("Embedded.Connect after Shutdown succeeded, want an error")
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Embedded.Connect after Shutdown = %v, want context.DeadlineExceeded", err)
	}
}
