package app

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/syndic-network/syndic/internal/broker"
)

// repairMargin is added to redis.reserve_ttl in repairSince.
const repairMargin = 30 * time.Second

// openIndexBucket opens the item index bucket. On the embedded server a
// new bucket gets async persist mode, with no fsync per write, because
// repairIndex rewrites from the stream the entries a crash lost. On an
// external server the bucket keeps the server's fsync setting: no Syndic
// process can tell when that server crashed.
func (a *App) openIndexBucket(ctx context.Context) (jetstream.KeyValue, error) {
	n := a.Config.NATS
	bucket := n.KVPrefix + "_INDEX"
	if n.URL != "" {
		return broker.EnsureKV(ctx, a.JS, bucket, n.Replicas, n.MaxAge, false)
	}
	return broker.EnsureRebuildableKV(ctx, a.JS, bucket, n.Replicas, n.MaxAge, false)
}

// repairIndex checks the item index against the end of the stream after
// an unclean stop (a crash, a kill, a power loss) of the embedded server
// that this process started. It rewrites each entry that is older than
// its item's last event. Such an entry comes from a write lost from the
// async bucket, or from a crash between a publish and its index write.
// A stop counts as clean only when no other process was connected to the
// server (Close).
func (a *App) repairIndex(ctx context.Context) error {
	if a.embedded == nil || a.indexSettled {
		return nil
	}
	if a.cleanStart {
		a.indexSettled = true
		return nil
	}
	since, err := a.repairSince(ctx)
	if err != nil {
		return err
	}
	start := time.Now()
	stats, err := a.Index.Repair(ctx, a.Stream, since)
	if err != nil {
		return fmt.Errorf("checking the item index against the stream after an unclean stop: %w", err)
	}
	level := slog.LevelInfo
	if stats.Events == 0 {
		// A new data directory has no clean-stop mark either.
		level = slog.LevelDebug
	}
	a.Log.Log(ctx, level, "item index checked against the stream after an unclean stop",
		"events", stats.Events, "restored", stats.Restored, "not_item_events", stats.Undecodable,
		"since", since.UTC().Format(time.RFC3339), "duration", time.Since(start).Round(time.Millisecond))
	a.indexSettled = true
	return nil
}

// repairSince returns the time from which repairIndex reads events: the
// index's last write less redis.reserve_ttl and repairMargin, or the zero
// time for an empty index. A crash loses only the last writes of the
// bucket, which stores them in order. An item's index write follows its
// publish within reserve_ttl, or the item stays reserved until a later
// poll records it. So each event whose index write was lost is stored
// after the returned time.
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
	return state.LastTime.Add(-a.Config.Redis.ReserveTTL - repairMargin), nil
}
