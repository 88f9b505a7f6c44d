package broker

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"golang.org/x/crypto/bcrypt"
)

// File and directory names under EmbeddedOptions.DataDir.
const (
	// urlFileName is the file that holds the client URL, with credentials,
	// of the running embedded server. Other commands on the same host
	// (syndic status, syndic replay) read it to connect.
	urlFileName = "nats.url"
	// storeDirName is the JetStream store directory.
	storeDirName = "nats"
)

// embeddedUser is the only account of the embedded server. Its password is
// generated at every start.
const embeddedUser = "syndic"

// readyPollInterval is how often StartEmbedded checks whether the server
// accepts clients while it also watches the caller's context.
const readyPollInterval = 100 * time.Millisecond

// EmbeddedOptions configures StartEmbedded.
type EmbeddedOptions struct {
	// DataDir is Syndic's data directory; the JetStream store goes to
	// DataDir/nats and the client URL to DataDir/nats.url. Required.
	DataDir string
	// SyncAlways makes the server fsync every write before acknowledging
	// it, so an acknowledged item survives a power loss. Without it,
	// nats-server syncs every two minutes and a crash of the host (not of
	// the process) can lose recent writes. The zero value is false;
	// DefaultEmbeddedOptions sets it to true.
	SyncAlways bool
	// Logger receives the server's warnings and errors; its notices go to
	// Debug. Nil discards them.
	Logger *slog.Logger
	// HoldURL leaves the URL file unwritten until PublishURL, so other
	// processes cannot connect before the owner has finished its start.
	HoldURL bool
}

// DefaultEmbeddedOptions returns the options Syndic runs with: the given
// data directory and SyncAlways on.
func DefaultEmbeddedOptions(dataDir string) EmbeddedOptions {
	return EmbeddedOptions{DataDir: dataDir, SyncAlways: true}
}

// Embedded is an in-process nats-server with JetStream, listening on a
// random 127.0.0.1 port and requiring a generated user and password.
type Embedded struct {
	srv     *server.Server
	url     string
	urlFile string
}

// StartEmbedded starts the server, waits until it accepts clients and
// writes its URL with credentials to DataDir/nats.url with mode 0600. The
// caller should hold the data directory lock (LockDataDir) first, because
// two servers on one store directory corrupt it.
func StartEmbedded(ctx context.Context, o EmbeddedOptions) (*Embedded, error) {
	if o.DataDir == "" {
		return nil, errors.New("starting embedded nats-server: missing data directory")
	}
	storeDir := filepath.Join(o.DataDir, storeDirName)
	if err := os.MkdirAll(storeDir, 0o700); err != nil {
		return nil, fmt.Errorf("creating nats store directory %q: %w", storeDir, err)
	}

	password := rand.Text()
	hash, err := hashPassword(password)
	if err != nil {
		return nil, err
	}
	opts := &server.Options{
		ServerName: "syndic-embedded",
		Host:       "127.0.0.1",
		Port:       server.RANDOM_PORT,
		Username:   embeddedUser,
		Password:   hash,
		JetStream:  true,
		StoreDir:   storeDir,
		SyncAlways: o.SyncAlways,
		// Signals belong to the syndic process, not to the library.
		NoSigs: true,
	}
	srv, err := server.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("creating embedded nats-server: %w", err)
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	logger := newServerLogger(log)
	srv.SetLoggerV2(logger, false, false, false)

	srv.Start()
	if err := waitReady(ctx, srv, logger.fatal); err != nil {
		srv.Shutdown()
		return nil, err
	}

	e := &Embedded{
		srv:     srv,
		url:     clientURL(srv.Addr(), password),
		urlFile: filepath.Join(o.DataDir, urlFileName),
	}
	if o.HoldURL {
		return e, nil
	}
	if err := e.PublishURL(); err != nil {
		srv.Shutdown()
		return nil, err
	}
	return e, nil
}

// WithdrawURL removes the URL file, so no other process connects from
// now on. Shutdown removes it as well.
func (e *Embedded) WithdrawURL() error {
	return removeURLFile(e.urlFile)
}

// RemoveURLFile removes the URL file under dataDir, if there is one. The
// holder of the data directory lock calls it before it starts a server,
// because a file left by a killed process names a server that is gone.
func RemoveURLFile(dataDir string) error {
	return removeURLFile(filepath.Join(dataDir, urlFileName))
}

func removeURLFile(path string) error {
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("removing nats url file: %w", err)
	}
	return nil
}

// PublishURL writes the URL file that other processes on the host read to
// connect (ReadURLFile). StartEmbedded calls it unless HoldURL is set.
func (e *Embedded) PublishURL() error {
	return writeURLFile(e.urlFile, e.url)
}

// hashPassword returns the bcrypt hash that the server compares client
// passwords against. The server then keeps no plaintext password and does
// not warn about one. The minimum cost is enough because the password is
// 130 random bits (rand.Text), which no brute force reaches, and a higher
// cost would slow every client connect.
func hashPassword(password string) (string, error) {
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
	if err != nil {
		return "", fmt.Errorf("hashing embedded nats-server password: %w", err)
	}
	return string(hash), nil
}

func waitReady(ctx context.Context, srv *server.Server, fatal <-chan string) error {
	for !srv.ReadyForConnections(readyPollInterval) {
		select {
		case msg := <-fatal:
			return fmt.Errorf("starting embedded nats-server: %s", msg)
		case <-ctx.Done():
			return fmt.Errorf("waiting for embedded nats-server: %w", ctx.Err())
		default:
		}
	}
	return nil
}

func clientURL(addr net.Addr, password string) string {
	u := url.URL{
		Scheme: "nats",
		User:   url.UserPassword(embeddedUser, password),
		Host:   addr.String(),
	}
	return u.String()
}

// writeURLFile writes the URL to a temporary file and renames it into
// place, so a reader never sees a half-written URL. os.CreateTemp creates
// the file with mode 0600, which keeps the password from other users.
func writeURLFile(path, serverURL string) error {
	f, err := os.CreateTemp(filepath.Dir(path), urlFileName+".tmp*")
	if err != nil {
		return fmt.Errorf("creating nats url file: %w", err)
	}
	tmp := f.Name()
	_, err = f.WriteString(serverURL + "\n")
	if err == nil {
		err = f.Sync()
	}
	if closeErr := f.Close(); err == nil {
		err = closeErr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("writing nats url file %q: %w", path, err)
	}
	return nil
}

// URL returns the client URL, nats://syndic:<password>@127.0.0.1:<port>.
// It contains the password, so it must not be logged.
func (e *Embedded) URL() string { return e.url }

// Connect connects to the server through an in-memory pipe
// (nats.InProcessServer) instead of its TCP listener, which saves the
// loopback socket reads and writes of every message. Only the process that
// started the server can do this, so other processes connect to URL. The
// client still authenticates with the generated password and gets the
// checks, logging and reconnects of the package-level Connect. A reconnect
// opens a new pipe, which works while the server runs and fails after
// Shutdown, so callers drain the connection (Drain) before Shutdown.
func (e *Embedded) Connect(ctx context.Context, name string, log *slog.Logger) (*nats.Conn, jetstream.JetStream, error) {
	return connect(ctx, e.url, name, log, nats.InProcessServer(e.srv))
}

// Shutdown removes the URL file and stops the server, waiting for it until
// ctx ends. When ctx ends first the server keeps stopping in the background
// and Shutdown returns the context's error.
func (e *Embedded) Shutdown(ctx context.Context) error {
	var errs []error
	if err := e.WithdrawURL(); err != nil {
		errs = append(errs, err)
	}

	done := make(chan struct{})
	go func() {
		e.srv.Shutdown()
		e.srv.WaitForShutdown()
		close(done)
	}()
	select {
	case <-done:
	case <-ctx.Done():
		errs = append(errs, fmt.Errorf("stopping embedded nats-server: %w", ctx.Err()))
	}
	return errors.Join(errs...)
}

// ReadURLFile returns the client URL that a running embedded server wrote
// to dataDir/nats.url. An error wrapping os.ErrNotExist means no embedded
// server runs on that data directory.
func ReadURLFile(dataDir string) (string, error) {
	path := filepath.Join(dataDir, urlFileName)
	data, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("reading nats url file (is `syndic run` running?): %w", err)
	}
	serverURL := strings.TrimSpace(string(data))
	if serverURL == "" {
		return "", fmt.Errorf("reading nats url file %q: file is empty", path)
	}
	return serverURL, nil
}

// clientsGoneWait bounds how long Alone waits for the server to
// drop connections that their clients already closed.
const clientsGoneWait = time.Second

// Alone reports whether no client is connected to the server, waiting up
// to a second for connections that were just closed to go. The owner
// calls it after draining its own connection, to learn whether another
// process (a `syndic poll --once`, say) still writes through the server.
func (e *Embedded) Alone() bool {
	deadline := time.Now().Add(clientsGoneWait)
	for e.srv.NumClients() > 0 {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(10 * time.Millisecond)
	}
	return true
}
