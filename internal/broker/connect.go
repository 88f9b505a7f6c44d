// Package broker connects Syndic to NATS JetStream, its durable log and
// state store. It runs an embedded nats-server for single-node installs,
// connects to a remote one otherwise, and creates the item stream and the
// KV buckets idempotently at start-up. LockDataDir keeps two processes from
// sharing one data directory.
package broker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Reconnect backoff: the first retry comes after minReconnectDelay, each
// later one doubles up to maxReconnectDelay. Five seconds keeps a restarting
// server from being hammered while clients still return within seconds of
// it coming back.
const (
	minReconnectDelay = 100 * time.Millisecond
	maxReconnectDelay = 5 * time.Second
)

// Connect connects to the NATS server at url and returns the connection
// with a JetStream handle. The client reconnects forever with backoff and
// logs each disconnect and reconnect. When the server cannot be reached at
// first, Connect keeps retrying until ctx ends.
//
// After connecting, Connect checks the server version and that JetStream is
// enabled. An old server yields an error wrapping ErrServerTooOld. On any
// error the connection is closed. A nil log discards the messages.
func Connect(ctx context.Context, url, name string, log *slog.Logger) (*nats.Conn, jetstream.JetStream, error) {
	return connect(ctx, url, name, log)
}

// connect is Connect with extra client options, which come after the
// common ones and so override them.
func connect(ctx context.Context, url, name string, log *slog.Logger, extra ...nats.Option) (*nats.Conn, jetstream.JetStream, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	nc, err := nats.Connect(url, append(connectOptions(name, log), extra...)...)
	if err != nil {
		return nil, nil, fmt.Errorf("connecting to nats: %w", err)
	}
	if err := waitConnected(ctx, nc); err != nil {
		nc.Close()
		return nil, nil, err
	}
	if err := checkServerVersion(nc.ConnectedServerVersion()); err != nil {
		nc.Close()
		return nil, nil, fmt.Errorf("checking server at %s: %w", serverAddress(nc), err)
	}

	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return nil, nil, fmt.Errorf("creating jetstream context: %w", err)
	}
	if _, err := js.AccountInfo(ctx); err != nil {
		nc.Close()
		return nil, nil, fmt.Errorf("checking jetstream on %s: %w", serverAddress(nc), err)
	}
	return nc, js, nil
}

// serverAddress returns the server nc is connected to, for messages: the
// URL without its password, or "in-process server" for a connection
// through InProcessServer, whose URL only carries the credentials.
func serverAddress(nc *nats.Conn) string {
	if nc.Opts.InProcessServer != nil {
		return "in-process server"
	}
	return nc.ConnectedUrlRedacted()
}

// Drain drains nc and waits until it is closed, so the messages it
// published reach the server before the caller stops the server. nats.go
// (v1.56) closes nc after its DrainTimeout, 30 seconds by default, even
// when a subscription has not drained, and reports ErrDrainTimeout to the
// ErrorHandler, which logs it for connections made by Connect. When ctx
// ends first, Drain closes nc and returns the context's error. An already
// closed nc returns nil.
func Drain(ctx context.Context, nc *nats.Conn) error {
	// Listening before Drain means the close cannot be missed.
	closed := nc.StatusChanged(nats.CLOSED)
	defer nc.RemoveStatusListener(closed)

	err := nc.Drain()
	switch {
	case errors.Is(err, nats.ErrConnectionClosed):
		return nil
	case err != nil:
		// nats.go does not drain a connection that is reconnecting. It
		// closes it without flushing and returns an error.
		nc.Close()
		return fmt.Errorf("draining nats connection: %w", err)
	}
	select {
	case <-closed:
		return nil
	case <-ctx.Done():
		nc.Close()
		return fmt.Errorf("draining nats connection: %w", ctx.Err())
	}
}

func connectOptions(name string, log *slog.Logger) []nats.Option {
	return []nats.Option{
		nats.Name(name),
		nats.MaxReconnects(-1),
		nats.RetryOnFailedConnect(true),
		nats.CustomReconnectDelay(reconnectDelay),
		nats.DisconnectErrHandler(func(nc *nats.Conn, err error) {
			if err == nil {
				// A nil error is a disconnect this process asked for
				// (Close or Drain), not a problem to report.
				return
			}
			log.Warn("nats disconnected", "error", err)
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) {
			log.Info("nats reconnected", "server_url", serverAddress(nc))
			// A reconnect may land on another server of a cluster, so the
			// version is checked again. The connection stays up because
			// the log and KV work; only per-key TTLs would fail.
			if err := checkServerVersion(nc.ConnectedServerVersion()); err != nil {
				log.Error("nats server too old after reconnect", "error", err)
			}
		}),
		nats.ClosedHandler(func(nc *nats.Conn) {
			log.Debug("nats connection closed")
		}),
		nats.ErrorHandler(func(nc *nats.Conn, sub *nats.Subscription, err error) {
			subject := ""
			if sub != nil {
				subject = sub.Subject
			}
			if errors.Is(err, nats.ErrConsumerNotFound) && (nc.IsDraining() || nc.IsClosed()) {
				// nats.go deletes the consumer of a drained subscription,
				// and the server may have removed it already. The consumer
				// is gone either way, so this is not a warning.
				log.Debug("nats consumer already deleted while draining", "subject", subject, "error", err)
				return
			}
			log.Warn("nats asynchronous error", "subject", subject, "error", err)
		}),
	}
}

// reconnectDelay returns the wait before reconnect attempt number attempts
// (counted from 1): exponential backoff with up to 20% random jitter, so
// many clients of one restarted server do not reconnect in lock step.
func reconnectDelay(attempts int) time.Duration {
	d := maxReconnectDelay
	if attempts < 16 {
		d = min(minReconnectDelay<<max(attempts-1, 0), maxReconnectDelay)
	}
	return d + rand.N(d/5+1)
}

// waitConnected waits until nc is connected. With RetryOnFailedConnect,
// nats.Connect returns while the client is still trying, so the first
// connection can come later, or never when the credentials are wrong.
func waitConnected(ctx context.Context, nc *nats.Conn) error {
	// Subscribing to status changes before reading the status means a
	// change between the two cannot be missed.
	changes := nc.StatusChanged(nats.CONNECTED, nats.CLOSED)
	defer nc.RemoveStatusListener(changes)

	for {
		switch nc.Status() {
		case nats.CONNECTED:
			return nil
		case nats.CLOSED:
			return withLastError(nc, nats.ErrConnectionClosed)
		}
		select {
		case <-changes:
		case <-ctx.Done():
			return withLastError(nc, ctx.Err())
		}
	}
}

// withLastError wraps err, and the client's last connection error when
// there is one, so a timeout error still shows why the connection failed.
func withLastError(nc *nats.Conn, err error) error {
	if last := nc.LastError(); last != nil {
		return fmt.Errorf("connecting to nats: %w: %w", err, last)
	}
	return fmt.Errorf("connecting to nats: %w", err)
}
