package broker

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/syndic-network/syndic/internal/testenv"
)

// debianServer is the nats-server that Debian 12 packages (2.9.10), which
// lacks per-key TTLs.
const debianServer = "/usr/sbin/nats-server"

func TestConnectRejectsOldServer(t *testing.T) {
	if _, err := os.Stat(debianServer); err != nil {
		t.Skipf("no old nats-server at %s: %v", debianServer, err)
	}
	serverURL := startExternalServer(t, debianServer)

	nc, _, err := Connect(testContext(t), serverURL, t.Name(), testLogger())
	if err == nil {
		nc.Close()
		t.Fatal("Connect to nats-server 2.9 succeeded, want ErrServerTooOld")
	}
	if !errors.Is(err, ErrServerTooOld) {
		t.Errorf("Connect error = %v, want ErrServerTooOld", err)
	}
}

// startExternalServer runs the nats-server binary with JetStream on a
// random 127.0.0.1 port and returns its client URL. The server writes its
// port to a ports file, which avoids the race of picking a free port first.
func startExternalServer(t *testing.T, binary string) string {
	t.Helper()
	dir := t.TempDir()
	cmd := exec.Command(binary,
		"-a", "127.0.0.1", "-p", "-1",
		"-js", "-sd", filepath.Join(dir, "store"),
		"--ports_file_dir", dir,
	)
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", binary, err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})

	portsFile := filepath.Join(dir, fmt.Sprintf("nats-server_%d.ports", cmd.Process.Pid))
	deadline := time.Now().Add(testTimeout)
	for time.Now().Before(deadline) {
		if serverURL, ok := readPortsFile(t, portsFile); ok {
			return serverURL
		}
		time.Sleep(20 * time.Millisecond) // poll interval
	}
	t.Fatalf("%s wrote no ports file within %s", binary, testTimeout)
	return ""
}

func readPortsFile(t *testing.T, path string) (string, bool) {
	t.Helper()
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return "", false
	}
	if err != nil {
		t.Fatalf("reading ports file: %v", err)
	}
	var ports struct {
		Nats []string `json:"nats"`
	}
	// The server may be midway through writing, so a parse error means
	// "not yet", not a failure.
	if err := json.Unmarshal(data, &ports); err != nil || len(ports.Nats) == 0 {
		return "", false
	}
	return ports.Nats[0], true
}

func TestConnectGivesUpWhenContextEnds(t *testing.T) {
	// Listen and close to get a port that nothing listens on.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listening: %v", err)
	}
	addr := l.Addr().String()
	if err := l.Close(); err != nil {
		t.Fatalf("closing listener: %v", err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	nc, _, err := Connect(ctx, "nats://"+addr, t.Name(), testLogger())
	if err == nil {
		nc.Close()
		t.Fatal("Connect to a closed port succeeded, want an error")
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Connect error = %v, want context.DeadlineExceeded", err)
	}
}

func TestConnectRetriesUntilServerStarts(t *testing.T) {
	ns := testenv.NATS(t)
	ns.Server.Shutdown()
	ns.Server.WaitForShutdown()

	type result struct {
		nc  *nats.Conn
		err error
	}
	done := make(chan result, 1)
	go func() {
		nc, _, err := Connect(testContext(t), ns.URL, t.Name(), testLogger())
		done <- result{nc, err}
	}()

	ns.Restart(t)
	res := <-done
	if res.err != nil {
		t.Fatalf("Connect while the server came up: %v", res.err)
	}
	res.nc.Close()
}

func TestConnectReconnectsAfterRestart(t *testing.T) {
	ns := testenv.NATS(t)
	logs := &syncBuffer{}
	log := slog.New(slog.NewTextHandler(logs, nil))
	nc, js, err := Connect(testContext(t), ns.URL, t.Name(), log)
	if err != nil {
		t.Fatalf("Connect: %v", err)
	}
	t.Cleanup(nc.Close)
	ctx := testContext(t)
	if _, err := EnsureStream(ctx, js, StreamOptions{}); err != nil {
		t.Fatalf("EnsureStream: %v", err)
	}

	reconnected := nc.StatusChanged(nats.CONNECTED)
	ns.Restart(t)
	select {
	case <-reconnected:
	case <-ctx.Done():
		t.Fatalf("no reconnect after restart: %v", ctx.Err())
	}

	if _, err := js.Publish(ctx, DefaultSubjectPrefix+".created", []byte("after restart")); err != nil {
		t.Errorf("publishing after reconnect: %v", err)
	}

	// nats.go runs the handlers on its own goroutine, possibly after the
	// status change above, so the log is polled.
	for _, msg := range []string{`msg="nats disconnected"`, `msg="nats reconnected"`} {
		for !strings.Contains(logs.String(), msg) {
			if ctx.Err() != nil {
				t.Fatalf("log has no %s line:\n%s", msg, logs.String())
			}
			time.Sleep(10 * time.Millisecond) // poll interval
		}
	}
}

// syncBuffer is a bytes.Buffer safe for the concurrent writes of nats.go
// callbacks.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestDrainWaitsUntilClosed(t *testing.T) {
	e := startEmbedded(t, t.TempDir())
	ctx := testContext(t)
	nc, _, err := e.Connect(ctx, t.Name(), testLogger())
	if err != nil {
		t.Fatalf("Embedded.Connect: %v", err)
	}
	t.Cleanup(nc.Close)
	reader, _, err := Connect(ctx, e.URL(), t.Name()+"-reader", testLogger())
	if err != nil {
		t.Fatalf("Connect by URL: %v", err)
	}
	t.Cleanup(reader.Close)
	sub, err := reader.SubscribeSync("drain.test")
	if err != nil {
		t.Fatalf("SubscribeSync: %v", err)
	}
	if err := reader.Flush(); err != nil {
		t.Fatalf("Flush: %v", err)
	}
	// A subscription of nc's own makes the drain wait for its handler.
	handled := make(chan struct{})
	if _, err := nc.Subscribe("drain.self", func(*nats.Msg) {
		time.Sleep(50 * time.Millisecond) // a handler still at work
		close(handled)
	}); err != nil {
		t.Fatalf("Subscribe: %v", err)
	}

	// Publish buffers in the client; only Drain sends the rest.
	const published = 1000
	if err := nc.Publish("drain.self", nil); err != nil {
		t.Fatalf("Publish: %v", err)
	}
	for i := range published {
		if err := nc.Publish("drain.test", []byte(strconv.Itoa(i))); err != nil {
			t.Fatalf("Publish %d: %v", i, err)
		}
	}
	if err := Drain(ctx, nc); err != nil {
		t.Fatalf("Drain: %v", err)
	}
	if !nc.IsClosed() {
		t.Errorf("connection status after Drain = %v, want CLOSED", nc.Status())
	}
	select {
	case <-handled:
	default:
		t.Error("Drain returned before the subscription handler finished")
	}
	for i := range published {
		if _, err := sub.NextMsg(testTimeout); err != nil {
			t.Fatalf("reader got %d of %d messages: %v", i, published, err)
		}
	}
}

func TestDrainClosesWhenContextEnds(t *testing.T) {
	e := startEmbedded(t, t.TempDir())
	nc, _, err := e.Connect(testContext(t), t.Name(), testLogger())
	if err != nil {
		t.Fatalf("Embedded.Connect: %v", err)
	}
	t.Cleanup(nc.Close)
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	started := make(chan struct{})
	if _, err := nc.Subscribe("drain.stuck", func(*nats.Msg) {
		close(started)
		<-release
	}); err != nil {
		t.Fatalf("Subscribe: %v", err)
	}
	if err := nc.Publish("drain.stuck", nil); err != nil {
		t.Fatalf("Publish: %v", err)
	}
	<-started

	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	err = Drain(ctx, nc)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Drain with a stuck handler = %v, want context.DeadlineExceeded", err)
	}
	if !nc.IsClosed() {
		t.Errorf("connection status after Drain timed out = %v, want CLOSED", nc.Status())
	}
}

func TestDrainClosedConnection(t *testing.T) {
	e := startEmbedded(t, t.TempDir())
	nc, _, err := e.Connect(testContext(t), t.Name(), testLogger())
	if err != nil {
		t.Fatalf("Embedded.Connect: %v", err)
	}
	nc.Close()
	if err := Drain(testContext(t), nc); err != nil {
		t.Errorf("Drain of a closed connection = %v, want nil", err)
	}
}

// TestDrainDeletedConsumerNotWarned drains a connection whose JetStream
// subscription lost its consumer on the server. nats.go then reports
// "consumer not found" while deleting it, which must not be a warning.
func TestDrainDeletedConsumerNotWarned(t *testing.T) {
	ns := testenv.NATS(t)
	ctx := testContext(t)
	logs := &syncBuffer{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	nc, js, err := Connect(ctx, ns.URL, t.Name(), log)
	if err != nil {
		t.Fatalf("Connect: %v", err)
	}
	t.Cleanup(nc.Close)
	stream := testenv.Name(t)
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: stream, Subjects: []string{stream + ".>"}}); err != nil {
		t.Fatalf("CreateStream: %v", err)
	}
	legacy, err := nc.JetStream()
	if err != nil {
		t.Fatalf("JetStream: %v", err)
	}
	sub, err := legacy.SubscribeSync(stream + ".a")
	if err != nil {
		t.Fatalf("SubscribeSync: %v", err)
	}
	info, err := sub.ConsumerInfo()
	if err != nil {
		t.Fatalf("ConsumerInfo: %v", err)
	}
	if err := js.DeleteConsumer(ctx, stream, info.Name); err != nil {
		t.Fatalf("DeleteConsumer: %v", err)
	}

	if err := Drain(ctx, nc); err != nil {
		t.Fatalf("Drain: %v", err)
	}
	// nats.go reports the failed delete on its own goroutine, after the
	// drain, so the log is polled.
	for !strings.Contains(logs.String(), "consumer already deleted while draining") {
		if ctx.Err() != nil {
			t.Fatalf("log has no debug line for the deleted consumer:\n%s", logs.String())
		}
		time.Sleep(10 * time.Millisecond) // poll interval
	}
	if strings.Contains(logs.String(), "level=WARN") {
		t.Errorf("drain logged a warning:\n%s", logs.String())
	}
}
