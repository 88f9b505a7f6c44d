// Package app wires Syndic's parts into the processes the CLI starts: it
// opens NATS (embedded or remote), the stream and KV buckets, the cache, the
// pipeline, the pollers and the feed views, and closes them in order.
package app

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/redis/go-redis/v9"

	"github.com/syndic-network/syndic/internal/broker"
	"github.com/syndic-network/syndic/internal/config"
	"github.com/syndic-network/syndic/internal/store"
	"github.com/syndic-network/syndic/pipeline"
	"github.com/syndic-network/syndic/workers"
)

// Version is the Syndic release, set at build time with
// -ldflags "-X github.com/syndic-network/syndic/internal/app.Version=…".
var Version = "0.1.0-dev"

// OpenOptions are the settings of how a process shares the data directory.
type OpenOptions struct {
	// Owner is true for the long-running `syndic run`: it must hold the
	// data directory lock. Other commands connect to the running owner's
	// embedded server when the lock is taken, and start their own under the
	// lock when it is free.
	Owner bool
}

// App is an opened Syndic: connections, stores and pipeline parts.
type App struct {
	Config *config.Config
	Log    *slog.Logger
	Conn   *nats.Conn
	JS     jetstream.JetStream
	Stream jetstream.Stream
	Cache  pipeline.Cache
	// IngestCache is the ingester's cache: Cache, or the owner's memory
	// in front of it for reservations and seen keys (openIngestCache).
	IngestCache pipeline.Cache
	Index       *pipeline.Index
	Meta        jetstream.KeyValue
	Policies    *pipeline.Policies
	Clusters    *pipeline.Clusterer
	// Members is the log of grouping records that Clusters reads.
	Members  *broker.RecordLog
	Ingester *pipeline.Ingester
	Fetcher  *workers.Fetcher
	Poller   *workers.Poller
	// Leases decides which ingest process polls which feed.
	Leases *Leases

	probe    *probe
	lock     *broker.Lock
	embedded *broker.Embedded
	redis    *redis.Client
	// cleanStart is true when the embedded server that this process
	// started had stopped cleanly before. indexSettled is true once the
	// item index agrees with the stream, which a clean stop requires.
	cleanStart   bool
	indexSettled bool
	// repairRecord removes the record of this start's index check once
	// the entries it wrote are synced.
	repairRecord *time.Timer
	// inEffect returns the configuration that the latest reload applied.
	// NewReloader sets it before the process starts its workers, and it
	// is nil without a Reloader (see configInEffect).
	inEffect func() *config.Config
}

// Open connects to NATS and the cache named by cfg and builds the pipeline.
// With an empty nats.url it uses the embedded server under data_dir.
func Open(ctx context.Context, cfg *config.Config, log *slog.Logger, o OpenOptions) (*App, error) {
	a := &App{Config: cfg, Log: log, probe: &probe{}}
	if err := a.openNATS(ctx, o); err != nil {
		a.closeAfterFailedOpen(ctx)
		return nil, err
	}
	if err := a.openStoresRetrying(ctx); err != nil {
		a.closeAfterFailedOpen(ctx)
		return nil, err
	}
	if err := a.openIngestCache(ctx); err != nil {
		a.closeAfterFailedOpen(ctx)
		return nil, err
	}
	if a.embedded != nil {
		// Other processes connect only once the item index is repaired
		// and this process serves reservations.
		if err := a.embedded.PublishURL(); err != nil {
			a.closeAfterFailedOpen(ctx)
			return nil, err
		}
	}
	a.buildPipeline()
	if err := a.useSubscriptions(ctx); err != nil {
		a.closeAfterFailedOpen(ctx)
		return nil, err
	}
	return a, nil
}

// openCloseTimeout bounds the clean-up of an Open that failed.
const openCloseTimeout = 10 * time.Second

// closeAfterFailedOpen closes what Open started. The usual reason for the
// failure is a stop signal that cancelled ctx, so the clean-up gets a
// context of its own: the drain and the server shutdown then finish
// instead of failing with ctx's error.
func (a *App) closeAfterFailedOpen(ctx context.Context) {
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), openCloseTimeout)
	defer cancel()
	a.Close(cctx)
}

func (a *App) openNATS(ctx context.Context, o OpenOptions) error {
	natsURL := a.Config.NATS.URL
	if natsURL == "" {
		u, err := a.embeddedURL(ctx, o)
		if err != nil {
			return err
		}
		natsURL = u
	}
	var nc *nats.Conn
	var js jetstream.JetStream
	var err error
	switch {
	case a.embedded != nil:
		// This process started the server, so its client skips the TCP
		// listener, which stays for the other processes.
		nc, js, err = a.embedded.Connect(ctx, "syndic", a.Log)
	case a.Config.NATS.URL == "":
		nc, js, err = a.connectToOwner(ctx, natsURL)
	default:
		nc, js, err = broker.Connect(ctx, natsURL, "syndic", a.Log)
	}
	if err != nil {
		return fmt.Errorf("connecting to NATS: %w", err)
	}
	a.Conn, a.JS = nc, js
	return nil
}

// embeddedURL starts the embedded server under the data directory lock, or
// returns the URL of the one a running `syndic run` owns.
func (a *App) embeddedURL(ctx context.Context, o OpenOptions) (string, error) {
	dir := a.Config.DataDir
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return "", fmt.Errorf("creating data_dir %s: %w", dir, err)
	}
	lock, err := broker.LockDataDir(dir)
	if errors.Is(err, broker.ErrLocked) {
		if o.Owner {
			return "", dataDirInUse(dir, err)
		}
		u, rerr := waitURLFile(ctx, dir)
		if rerr != nil {
			return "", fmt.Errorf("reaching the running syndic in %s: %w", dir, rerr)
		}
		return u, nil
	}
	if err != nil {
		return "", fmt.Errorf("locking data_dir %s: %w", dir, err)
	}
	a.lock = lock
	// A URL file left by a process that was killed names a dead server.
	// Without it, other processes wait for this server's URL instead.
	if err := broker.RemoveURLFile(dir); err != nil {
		return "", err
	}
	a.cleanStart = broker.TakeCleanStop(dir)
	emb, err := broker.StartEmbedded(ctx, broker.EmbeddedOptions{
		DataDir:    dir,
		SyncAlways: a.Config.NATS.SyncAlways,
		Logger:     a.Log,
		HoldURL:    true,
	})
	if err != nil {
		return "", fmt.Errorf("starting embedded NATS in %s: %w", filepath.Join(dir, "nats"), err)
	}
	a.embedded = emb
	return emb.URL(), nil
}

func dataDirInUse(dir string, err error) error {
	return fmt.Errorf("data_dir %s is in use by another syndic run; stop it or set a different data_dir: %w", dir, err)
}

// CheckDataDirFree returns the error Open would give a long-running
// command when another process holds the lock of data_dir, so a second
// `syndic run` names the lock rather than the port the first one holds.
// A data_dir that does not exist yet is free.
func CheckDataDirFree(dir string) error {
	if _, err := os.Stat(dir); err != nil {
		return nil
	}
	lock, err := broker.LockDataDir(dir)
	if errors.Is(err, broker.ErrLocked) {
		return dataDirInUse(dir, err)
	}
	if err != nil {
		return nil // Open reports it with its context.
	}
	return lock.Unlock()
}

func (a *App) openStores(ctx context.Context) error {
	n := a.Config.NATS
	a.warnOtherMaxAge(ctx)
	stream, err := broker.EnsureStream(ctx, a.JS, broker.StreamOptions{
		Stream:          n.Stream,
		SubjectPrefix:   n.SubjectPrefix,
		Replicas:        n.Replicas,
		MaxAge:          n.MaxAge,
		DuplicateWindow: n.DuplicateWindow,
	})
	if err != nil {
		return err
	}
	a.Stream = stream
	index, err := a.openIndexBucket(ctx)
	if err != nil {
		return err
	}
	a.Index = pipeline.NewIndex(index)
	if err := a.repairIndex(ctx); err != nil {
		return err
	}
	meta, err := broker.EnsureKV(ctx, a.JS, n.KVPrefix+"_META", n.Replicas, 0, false)
	if err != nil {
		return err
	}
	a.Meta = meta
	a.Policies = pipeline.NewPolicies(meta)
	if err := a.openClusterer(ctx); err != nil {
		return err
	}
	if err := a.openLeases(ctx); err != nil {
		return err
	}
	return a.openCache(ctx)
}

// warnOtherMaxAge logs a warning when the event stream exists with a max
// age other than nats.max_age, which this process is about to set on it,
// the item index and the member log. The embedded server's owner keeps
// seen values in memory for half of its own value, so a shorter value set
// by another process can let an index entry expire first.
func (a *App) warnOtherMaxAge(ctx context.Context) {
	n := a.Config.NATS
	name := cmp.Or(n.Stream, broker.DefaultStream)
	stream, err := a.JS.Stream(ctx, name)
	if err != nil {
		return // A new stream, or EnsureStream reports the failure.
	}
	if current := stream.CachedInfo().Config.MaxAge; current != n.MaxAge {
		a.Log.Warn("nats.max_age differs from the event stream's max age; setting it to nats.max_age. "+
			"Give every syndic process on this NATS server the same nats.max_age",
			"stream", name, "configured", n.MaxAge, "stream_max_age", current)
	}
}

// openClusterer opens the log of member records and, once, copies in
// the records of the KV bucket that held them before.
func (a *App) openClusterer(ctx context.Context) error {
	n := a.Config.NATS
	// Fingerprints expire with the events they group.
	log, err := broker.EnsureRecordLog(ctx, a.JS, broker.RecordLogOptions{
		Stream:   n.KVPrefix + "_MEMBERS",
		Subject:  "$SYNDIC.MEMBERS." + n.KVPrefix,
		Replicas: n.Replicas,
		MaxAge:   n.MaxAge,
	})
	if err != nil {
		return err
	}
	if err := a.migrateFingerprints(ctx, log); err != nil {
		return err
	}
	a.Members = log
	a.Clusters = pipeline.NewClusterer(log)
	return nil
}

// migrateFingerprints copies the records of the <kv_prefix>_FINGERPRINTS
// bucket, where releases before the record log kept them, into log and
// deletes the bucket. A failed copy leaves the bucket for the next start.
func (a *App) migrateFingerprints(ctx context.Context, log *broker.RecordLog) error {
	bucket := a.Config.NATS.KVPrefix + "_FINGERPRINTS"
	kv, err := a.JS.KeyValue(ctx, bucket)
	if errors.Is(err, jetstream.ErrBucketNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("opening bucket %s to copy its fingerprints: %w", bucket, err)
	}
	start := time.Now()
	copied, err := pipeline.MigrateFingerprints(ctx, kv, log)
	if err != nil {
		return fmt.Errorf("copying fingerprints from bucket %s to stream %s after %d records: %w "+
			"(the next start copies them again)", bucket, log.Stream(), copied, err)
	}
	if err := a.JS.DeleteKeyValue(ctx, bucket); err != nil && !errors.Is(err, jetstream.ErrBucketNotFound) {
		return fmt.Errorf("deleting bucket %s after copying its %d fingerprints: %w", bucket, copied, err)
	}
	a.Log.Info("copied grouping fingerprints to the record log",
		"bucket", bucket, "stream", log.Stream(), "records", copied, "duration", time.Since(start).Round(time.Millisecond))
	return nil
}

func (a *App) openCache(ctx context.Context) error {
	r := a.Config.Redis
	if r.URL == "" {
		kv, err := broker.EnsureRebuildableKV(ctx, a.JS, a.Config.NATS.KVPrefix+"_CACHE", a.Config.NATS.Replicas, 0, true)
		if err != nil {
			return err
		}
		a.Cache = store.NewKV(kv, store.WithJetStream(a.JS))
		return nil
	}
	opts, err := redis.ParseURL(r.URL)
	if err != nil {
		return fmt.Errorf("parsing redis.url: %w", err)
	}
	a.redis = redis.NewClient(opts)
	pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := a.redis.Ping(pctx).Err(); err != nil {
		return fmt.Errorf("connecting to Redis at %s: %w", redactURL(r.URL), err)
	}
	a.Cache = store.NewRedis(a.redis, r.Prefix)
	return nil
}

func (a *App) buildPipeline() {
	c := a.Config
	a.Ingester = pipeline.NewIngester(pipeline.IngesterOptions{
		Cache:         a.IngestCache,
		Index:         a.Index,
		Publisher:     a.JS,
		SubjectPrefix: c.NATS.SubjectPrefix,
		MaxPayload:    int(a.Conn.MaxPayload()),
		// A day beyond the stream's max age, so the cache outlives every
		// event it vouches for.
		SeenTTL: c.NATS.MaxAge + 24*time.Hour,
		// The index bucket keeps each entry this long after its write.
		IndexMaxAge: c.NATS.MaxAge,
		ReserveTTL:  c.Redis.ReserveTTL,
		Logger:      a.Log,
		Events:      a.Stream,
		Clusters:    a.Clusters,
	})
	a.Fetcher = workers.NewFetcher(workers.FetcherOptions{
		Timeout:              c.Fetch.Timeout,
		MaxBody:              int64(c.Fetch.MaxBody),
		AllowPrivateNetworks: c.Fetch.AllowPrivateNetworks,
		AllowFileURLs:        c.Fetch.AllowFileURLs,
		UserAgent:            userAgent(c.Fetch.ContactURL),
		MaxRedirects:         c.Fetch.MaxRedirects,
		Logger:               a.Log,
	})
	a.Poller = workers.NewPoller(workers.PollerOptions{
		Fetcher:     a.Fetcher,
		Ingester:    a.Ingester,
		State:       a.Cache,
		Policies:    a.Policies,
		MinInterval: c.Fetch.MinInterval,
		MaxInterval: c.Fetch.MaxInterval,
		Concurrency: c.Fetch.Concurrency,
		Claim:       a.Leases.Claim,
		Logger:      a.Log,

		PerHost: c.Fetch.PerHost,
		// The owner of the embedded server with the embedded cache is
		// the only process that polls, so it keeps host slots in memory.
		// NOTE: a `syndic poll --once` beside a running `syndic run`
		// then takes its own per_host slots, so one host may see up to
		// twice per_host fetches while both poll.
		LocalHostSlots:     a.embedded != nil && c.Redis.URL == "",
		AdoptRedirectAfter: c.Fetch.AdoptRedirectAfter,
		BackfillMaxAge:     c.Fetch.BackfillMaxAge,
		MaxItems:           c.Fetch.MaxItems,
		ParseMemoBytes:     parseMemoBytes(c.Fetch.ParseMemoBytes),
		IncidentAfter:      c.Fetch.IncidentAfter,
		OnIncident:         a.incidentHook(),
	})
}

// parseMemoBytes returns the PollerOptions.ParseMemoBytes for the
// configured size, where 0 keeps no memo.
func parseMemoBytes(size config.ByteSize) int64 {
	if size == 0 {
		return -1
	}
	return int64(size)
}

func userAgent(contact string) string {
	ua := "Syndic/" + Version
	if contact != "" {
		ua += " (+" + contact + ")"
	}
	return ua
}

// configInEffect returns the configuration that the latest reload
// applied, or Config when no Reloader exists. Handlers and workers that
// outlive a reload read it instead of Config, which stays the start-up
// configuration.
func (a *App) configInEffect() *config.Config {
	if a.inEffect != nil {
		return a.inEffect()
	}
	return a.Config
}

// Feeds returns every configured feed in the form the poller uses.
func (a *App) Feeds() []workers.Feed {
	var out []workers.Feed
	for _, p := range a.Config.Partners {
		loc := p.Location()
		for _, f := range p.Feeds {
			out = append(out, workers.Feed{
				Partner:             p.ID,
				ID:                  f.ID,
				URL:                 f.URL,
				Interval:            f.Interval,
				AllowPrivateNetwork: f.AllowPrivateNetwork,
				Language:            p.Language,
				Charset:             p.Charset,
				Location:            loc,
			})
		}
	}
	return out
}

// Close drains the NATS connection, stops the embedded server and releases
// the data directory lock, each bounded by ctx. The drain finishes before
// the server stops, so messages still buffered in the client reach it.
func (a *App) Close(ctx context.Context) {
	if a.repairRecord != nil {
		// A clean stop removes the record; an unclean one must keep it.
		a.repairRecord.Stop()
	}
	if a.Clusters != nil {
		a.Clusters.Close()
	}
	if a.Conn != nil {
		if err := broker.Drain(ctx, a.Conn); err != nil {
			a.Log.Warn("NATS drain failed", "error", err)
		}
	}
	if a.redis != nil {
		_ = a.redis.Close()
	}
	if a.embedded != nil {
		// No other process connects from here on.
		if err := a.embedded.WithdrawURL(); err != nil {
			a.Log.Warn("removing the embedded NATS URL file failed", "error", err)
		}
		// After a failed index write, or with another process that still
		// writes through the server and may lose index writes in the
		// stop, the next start checks the index.
		clean := a.indexSettled && (a.Ingester == nil || !a.Ingester.Unrecorded()) && a.embedded.Alone()
		if err := a.embedded.Shutdown(ctx); err != nil {
			a.Log.Warn("embedded NATS shutdown failed", "error", err)
		} else if clean {
			if err := broker.MarkCleanStop(a.Config.DataDir); err != nil {
				a.Log.Warn("marking the clean stop failed; the next start checks the item index", "error", err)
			}
		}
	}
	if a.lock != nil {
		a.lock.Unlock()
	}
}

func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(invalid URL)"
	}
	return u.Redacted()
}
