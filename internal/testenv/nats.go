// Package testenv starts the servers that integration tests run against: an
// in-process nats-server with JetStream and a connection to a real Redis. Each
// helper registers its own cleanup, so a test only calls it and uses the
// result.
package testenv

import (
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
)

// readyTimeout bounds how long a test waits for nats-server to accept
// clients. Ten seconds leaves room for a slow CI runner without hanging a
// broken run for long.
const readyTimeout = 10 * time.Second

// NATSServer is an in-process nats-server with JetStream enabled, listening
// on 127.0.0.1 without authentication.
type NATSServer struct {
	// URL is the client URL, nats://127.0.0.1:<port>. It stays the same
	// across Restart.
	URL string
	// Server is the running server. Restart replaces it.
	Server *server.Server

	opts *server.Options
}

// NATS starts a nats-server with JetStream on a random 127.0.0.1 port and a
// store directory under t.TempDir. The server shuts down when the test ends.
func NATS(t testing.TB) *NATSServer {
	t.Helper()

	opts := &server.Options{
		Host:      "127.0.0.1",
		Port:      server.RANDOM_PORT,
		JetStream: true,
		StoreDir:  t.TempDir(),
		NoLog:     true,
		NoSigs:    true,
	}
	ns := &NATSServer{opts: opts}
	ns.start(t)

	// Pin the port that the first start picked, so Restart comes back on
	// the same URL and reconnecting clients find it.
	_, port, err := net.SplitHostPort(ns.Server.Addr().String())
	if err != nil {
		t.Fatalf("parsing nats-server address %q: %v", ns.Server.Addr(), err)
	}
	ns.opts.Port, err = strconv.Atoi(port)
	if err != nil {
		t.Fatalf("parsing nats-server port %q: %v", port, err)
	}
	ns.URL = "nats://" + net.JoinHostPort("127.0.0.1", port)

	t.Cleanup(func() { ns.stop() })
	return ns
}

// Restart stops the server and starts a new one on the same port and store
// directory, as a process restart would. Streams and KV buckets written
// before survive it.
func (ns *NATSServer) Restart(t testing.TB) {
	t.Helper()
	ns.stop()
	ns.start(t)
}

func (ns *NATSServer) start(t testing.TB) {
	t.Helper()

	// NewServer keeps a pointer to its options, so every start gets a
	// copy instead of sharing one struct between server generations.
	opts := ns.opts.Clone()
	s, err := server.NewServer(opts)
	if err != nil {
		t.Fatalf("creating nats-server: %v", err)
	}
	s.Start()
	if !s.ReadyForConnections(readyTimeout) {
		s.Shutdown()
		t.Fatalf("nats-server not ready for connections after %s", readyTimeout)
	}
	ns.Server = s
}

func (ns *NATSServer) stop() {
	if ns.Server == nil {
		return
	}
	ns.Server.Shutdown()
	ns.Server.WaitForShutdown()
}

// Conn connects to the NATS server at url and closes the connection when
// the test ends. The client reconnects without limit, so a test can restart
// the server under an open connection.
func Conn(t testing.TB, url string) *nats.Conn {
	t.Helper()

	nc, err := nats.Connect(url,
		nats.Name(t.Name()),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(50*time.Millisecond),
	)
	if err != nil {
		t.Fatalf("connecting to %s: %v", url, err)
	}
	t.Cleanup(nc.Close)
	return nc
}
