package app

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/syndic-network/syndic/internal/broker"
)

// repairMargin is added to redis.reserve_ttl in repairSince.
const repairMargin = 30 * time.Second

// openIndexBucket opens the item index bucket. On the embedded server a
// new bucket gets async persist mode, with no fsync per write, because
// repairIndex rewrites from the stream the entries a crash lost. On an
// external server a new bucket keeps the server's fsync setting: no Syndic
// process can tell when that server crashed. An existing bucket keeps its
// mode either way, so a process that reaches the embedded server through
// nats.url opens it too.
func (a *App) openIndexBucket(ctx context.Context) (jetstream.KeyValue, error) {
	n := a.Config.NATS
	bucket := n.KVPrefix + "_INDEX"
	if n.URL != "" {
		return broker.EnsureKVKeepingMode(ctx, a.JS, bucket, n.Replicas, n.MaxAge, false)
	}
	return broker.EnsureRebuildableKV(ctx, a.JS, bucket, n.Replicas, n.MaxAge, false)
}

// repairIndex checks the item index against the end of the stream after
// an unclean stop (a crash, a kill, a power loss) of the embedded server
// that this process started. It rewrites each entry that is older than
// its item's last event. Such an entry comes from a write lost from the
// async bucket, or from a crash of this server's process between a
// publish and its index write. A stop counts as clean only when no other
// process was connected to the server and no index write failed (Close).
//
// The check's start time is recorded until the next clean stop, because
// the entries it writes are async writes too. So a crash during the check
// or after it cannot move the next check's start past events that it had
// not read, or whose restored entries the crash lost.
func (a *App) repairIndex(ctx context.Context) error {
	if a.embedded == nil || a.indexSettled {
		return nil
	}
	if a.cleanStart {
		a.indexSettled = true
		return nil
	}
	info, err := a.Stream.Info(ctx)
	if err != nil {
		return fmt.Errorf("checking the item index: reading the stream: %w", err)
	}
	if info.State.Msgs == 0 {
		// A new data directory: no event, so no entry to check.
		a.indexSettled = true
		return nil
	}
	since, err := a.repairSince(ctx)
	if err != nil {
		return err
	}
	dir := a.Config.DataDir
	earlier, found, err := broker.RepairStart(dir)
	if err != nil {
		return err
	}
	if found && earlier.Before(since) {
		since = earlier
	}
	if err := broker.SetRepairStart(dir, since); err != nil {
		return err
	}

	start := time.Now()
	stats, err := a.Index.Repair(ctx, a.Stream, since)
	if err != nil {
		return fmt.Errorf("checking the item index against the stream after an unclean stop: %w", err)
	}
	level := slog.LevelInfo
	if stats.Events == 0 {
		// Every event is older than the window, so nothing was checked.
		level = slog.LevelDebug
	}
	from := "the first event"
	if !since.IsZero() {
		from = since.UTC().Format(time.RFC3339)
	}
	a.Log.Log(ctx, level, "item index checked against the stream after an unclean stop",
		"events", stats.Events, "restored", stats.Restored, "not_item_events", stats.Undecodable,
		"from", from, "duration", time.Since(start).Round(time.Millisecond))
	a.indexSettled = true
	a.repairRecord = time.AfterFunc(repairRecordHold, func() {
		if err := broker.ClearRepairStart(dir); err != nil {
			a.Log.Warn("removing the record of the index check failed; the next check after a crash reads from its start", "error", err)
		}
	})
	return nil
}

// repairRecordHold is how long the start of a completed index check stays
// recorded. nats-server syncs the writes of an async bucket every two
// minutes (its default sync_interval, which the embedded server keeps),
// so after this the entries the check wrote survive a crash of the host.
// Without the limit, a run that never stops cleanly would make every
// check after a crash read from the first one's start.
const repairRecordHold = 5 * time.Minute

// serverDuplicateWindow is nats-server's duplicate window for a stream
// created without one.
const serverDuplicateWindow = 2 * time.Minute

// repairSince returns the time from which repairIndex reads events: the
// index's last write less the duplicate window, redis.reserve_ttl and
// repairMargin, or the zero time for an empty index.
//
// A crash loses only the last writes of the bucket, which stores them in
// order. An index write follows its item's publish within reserve_ttl, or
// the item stays reserved until a later poll publishes it again. Inside
// the duplicate window JetStream drops that second publish and returns
// the first event, so the write then records an event up to the window
// older. So each event whose index write was lost is stored after the
// returned time.
//
// NOTE: the times are the server's clock. A step of the clock between a
// publish and its index write larger than repairMargin breaks this. So
// does a power loss that keeps a later block file of the bucket but not
// the end of an earlier one: the reasoning assumes the surviving writes
// are the first ones.
func (a *App) repairSince(ctx context.Context) (time.Time, error) {
	name := "KV_" + a.Config.NATS.KVPrefix + "_INDEX"
	s, err := a.JS.Stream(ctx, name)
	if err != nil {
		return time.Time{}, fmt.Errorf("reading stream %s: %w", name, err)
	}
	state := s.CachedInfo().State
	if state.Msgs == 0 {
		return time.Time{}, nil
	}
	n := a.Config.NATS
	dup := n.DuplicateWindow
	if dup <= 0 {
		dup = serverDuplicateWindow
		if n.MaxAge > 0 {
			dup = min(dup, n.MaxAge)
		}
	}
	return state.LastTime.Add(-dup - a.Config.Redis.ReserveTTL - repairMargin), nil
}

// urlWait bounds how long a process waits for the URL file of an owner
// that holds the data directory lock but is still starting.
const urlWait = time.Minute

// waitURLFile returns the URL of the embedded server that the owner of
// dir runs. The owner writes it only after the index check of its start,
// so a process started meanwhile waits for it.
func waitURLFile(ctx context.Context, dir string) (string, error) {
	deadline := time.Now().Add(urlWait)
	for {
		u, err := broker.ReadURLFile(dir)
		if err == nil {
			return u, nil
		}
		if time.Now().After(deadline) {
			return "", fmt.Errorf("timed out after %s waiting for the NATS address of the process that holds %s. "+
				"It may still be checking the item index after an unclean stop, so try again later: %w", urlWait, dir, err)
		}
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// ownerConnectTry bounds one attempt to connect to the owner's server
// before the URL file is read again.
const ownerConnectTry = 10 * time.Second

// connectToOwner connects to the embedded server of the process that
// holds the data directory, at url from its URL file. When the connection
// fails, it reads the file again, because a new owner may have replaced a
// killed one. It gives up after urlWait.
func (a *App) connectToOwner(ctx context.Context, url string) (*nats.Conn, jetstream.JetStream, error) {
	dir := a.Config.DataDir
	deadline := time.Now().Add(urlWait)
	for {
		cctx, cancel := context.WithTimeout(ctx, ownerConnectTry)
		nc, js, err := broker.Connect(cctx, url, "syndic", a.Log)
		cancel()
		if err == nil {
			return nc, js, nil
		}
		if ctx.Err() != nil {
			return nil, nil, err
		}
		if time.Now().After(deadline) {
			return nil, nil, fmt.Errorf("connecting to the embedded NATS server of the process that holds %s timed out after %s. "+
				"Check that its syndic run is running, or stop it and start it again: %w", dir, urlWait, err)
		}
		if u, rerr := waitURLFile(ctx, dir); rerr == nil {
			url = u
		}
	}
}
