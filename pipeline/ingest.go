package pipeline

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

// Result is the outcome of ingesting one item.
type Result string

// Ingest results. ResultRetry is not a rejection: the item was neither
// published nor recorded and the next poll offers it again.
const (
	ResultCreated   Result = "created"
	ResultUpdated   Result = "updated"
	ResultDuplicate Result = "duplicate"
	ResultRetry     Result = "retry"
	// ResultRejected means the item can never be published as it is (it
	// is too large for one message); retrying gives the same result.
	ResultRejected Result = "rejected"
)

// Cache key prefixes. The seen key stores the content hash last published
// for an item. The reservation key guards the window between the dedup
// check and the index write.
const (
	seenKeyPrefix    = "seen:"
	reserveKeyPrefix = "reserve:"
)

// SeenKeyPrefix and ReserveKeyPrefix are the prefixes of the seen keys and
// reservations, for a cache that keeps them apart from other keys.
const (
	SeenKeyPrefix    = seenKeyPrefix
	ReserveKeyPrefix = reserveKeyPrefix
)

// itemsTotal counts every item offered to Syndic by a poll, a push or a
// WebSub delivery. The Ingester counts the items it is given. Items that
// never reach it, because the push API or normalisation rejected them,
// are added by CountRejected.
var itemsTotal = promauto.NewCounterVec(prometheus.CounterOpts{
	Name: "syndic_items_total",
	Help: "Items offered by polls, pushes and WebSub deliveries, by result (created, updated, duplicate, retry, rejected).",
}, []string{"result"})

// CountRejected adds n items that were rejected before they reached an
// Ingester to syndic_items_total{result="rejected"}: pushed items with an
// invalid field, and items of a fetched or delivered feed document that
// normalisation rejected (ParseResult.Rejected).
func CountRejected(n int) {
	if n > 0 {
		itemsTotal.WithLabelValues(string(ResultRejected)).Add(float64(n))
	}
}

// Publisher is the part of a JetStream context the ingester needs.
type Publisher interface {
	PublishMsg(ctx context.Context, msg *nats.Msg, opts ...jetstream.PublishOpt) (*jetstream.PubAck, error)
}

// IngesterOptions configures an Ingester. SubjectPrefix is followed by
// ".<partner>" on each event.
type IngesterOptions struct {
	// MaxPayload is the largest message the NATS server accepts, in bytes;
	// longer item content is cut to fit. Zero turns the check off.
	MaxPayload    int
	Cache         Cache
	Index         *Index
	Publisher     Publisher
	SubjectPrefix string
	// SeenTTL is how long the cache remembers an item after its last
	// sighting. It must be at least the stream's max age, so the cache never
	// drops an item whose event the stream still contains.
	SeenTTL time.Duration
	// IndexMaxAge is the max age of the item index bucket. With a cache
	// that implements SeenRememberer, the seen value of an item whose
	// index entry is younger than half of it stays in memory, and its
	// seen key is written at the first sighting after that (seenDue).
	// Zero writes the seen key of every known item that the index read
	// found, and of every remembered item a day later.
	IndexMaxAge time.Duration
	// ReserveTTL bounds how long a crashed writer blocks an item. 30 s
	// covers a publish acknowledgement plus an index write with retries.
	ReserveTTL time.Duration
	Logger     *slog.Logger
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
	// Events reads stored events, to compare an item with its last
	// revision when the canonicalisation rules changed in between. Nil
	// skips that comparison.
	Events EventReader
	// Clusters groups new items with copies and translations from other
	// feeds. Nil leaves every item in a cluster of its own.
	Clusters *Clusterer
}

// Ingester deduplicates normalised items and publishes the new and changed
// ones as events. It is safe for concurrent use; the reservation keeps two
// writers of one item apart.
type Ingester struct {
	o IngesterOptions
	// unrecorded is set once an index write failed after its publish.
	unrecorded atomic.Bool
}

// Unrecorded reports whether an index write failed after the stream
// acknowledged its event, so the stream may hold an event the index does
// not know. The owner of the embedded server then has the next start
// check the index.
func (g *Ingester) Unrecorded() bool { return g.unrecorded.Load() }

// NewIngester returns an ingester with o, filling zero TTLs with defaults.
func NewIngester(o IngesterOptions) *Ingester {
	if o.ReserveTTL <= 0 {
		o.ReserveTTL = 30 * time.Second
	}
	if o.SeenTTL <= 0 {
		o.SeenTTL = 91 * 24 * time.Hour
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Ingester{o: o}
}

// Ingest runs one item through dedup and publish and returns what happened.
// An error means the item was not recorded: ResultRetry with ErrReserved
// when another writer holds it, or a store or publish failure. In both
// cases the caller must not store the feed's HTTP validators, so the next
// poll fetches the item again.
func (g *Ingester) Ingest(ctx context.Context, it *Item) (Result, error) {
	var s seenEntry
	s.value, s.found, s.err = g.o.Cache.Get(ctx, seenKeyPrefix+it.ID)
	return g.ingestAfterLookup(ctx, it, s)
}

// duplicate refreshes the seen key when it was written more than
// seenRefreshAfter ago (always for a zero time), so an item the feed keeps
// listing stays remembered. reserved reports whether the caller holds the
// item's reservation.
func (g *Ingester) duplicate(ctx context.Context, seenKey string, it *Item, written time.Time, reserved bool) (Result, error) {
	itemsTotal.WithLabelValues(string(ResultDuplicate)).Inc()
	now := g.o.Now()
	if now.Sub(written) < seenRefreshAfter {
		return ResultDuplicate, nil
	}
	if err := g.refreshSeen(ctx, seenKey, it, now, reserved); err != nil {
		// The item is a duplicate whatever the cache contains. A failed
		// refresh costs an index look-up next time.
		g.o.Logger.Debug("seen cache refresh failed", "item_id", it.ID, "error", err)
	}
	return ResultDuplicate, nil
}

// refreshSeen rewrites a seen value that a lookup returned, under the
// item's reservation and only while the value still contains the item's
// hash, so it never lands over a concurrent update's value. When reserved
// is true, the caller holds the reservation and has read the index.
func (g *Ingester) refreshSeen(ctx context.Context, seenKey string, it *Item, now time.Time, reserved bool) error {
	if !reserved {
		reserveKey := reserveKeyPrefix + it.ID
		won, err := g.o.Cache.Reserve(ctx, reserveKey, it.ContentHash, g.o.ReserveTTL)
		if err != nil || !won {
			return err
		}
		defer g.release(ctx, reserveKey)

		v, found, err := g.o.Cache.Get(ctx, seenKey)
		if err != nil {
			return err
		}
		if hash, _ := parseSeen(v); !found || hash != it.ContentHash {
			return nil
		}
	}
	return g.o.Cache.Set(ctx, seenKey, seenValue(it.ContentHash, now), g.o.SeenTTL)
}

// publish reserves the item, publishes its event and records it.
// seenFound reports whether the seen lookup found a value for the item.
func (g *Ingester) publish(ctx context.Context, it *Item, seenFound bool) (Result, error) {
	p, result, err := g.prepare(ctx, it, nil, seenFound)
	if p == nil {
		return result, err
	}
	return g.commit(ctx, it, p)
}

// prepared is an item that prepare reserved and grouped: its index entry
// as read, and the grouping to record after the publish.
type prepared struct {
	prev  IndexEntry
	found bool
	fp    *assignment
	// seenFound is true when the seen lookup found an older value, which
	// the cache may keep until a write replaces it.
	seenFound bool
}

// prepare reserves the item, reads its index entry and groups it. The
// index is read once, under the reservation, so no writer can record the
// item between the read and the publish. A nil result means the item is
// done: a duplicate, or an error with ResultRetry. The reservation is
// released on every error, so a failed item is retried by the next poll
// instead of blocking the item for ReserveTTL. seenFound reports whether
// the seen lookup found a value for the item.
func (g *Ingester) prepare(ctx context.Context, it *Item, fprint *fingerprint, seenFound bool) (*prepared, Result, error) {
	reserveKey := reserveKeyPrefix + it.ID
	won, err := g.o.Cache.Reserve(ctx, reserveKey, it.ContentHash, g.o.ReserveTTL)
	if err != nil {
		return nil, ResultRetry, fmt.Errorf("reserving item %s: %w", it.ID, err)
	}
	if !won {
		itemsTotal.WithLabelValues(string(ResultRetry)).Inc()
		return nil, ResultRetry, fmt.Errorf("item %s: %w", it.ID, ErrReserved)
	}
	crashPoint(afterReserve)
	prev, found, err := g.o.Index.Get(ctx, it.ID)
	if err != nil {
		g.release(ctx, reserveKey)
		return nil, ResultRetry, err
	}
	if found && g.unchanged(ctx, prev, it) {
		result, err := g.knownFromIndex(ctx, it, prev, seenFound)
		g.release(ctx, reserveKey)
		return nil, result, err
	}
	fp, err := g.cluster(ctx, it, prev, found, fprint)
	if err != nil {
		g.release(ctx, reserveKey)
		return nil, ResultRetry, err
	}
	return &prepared{prev: prev, found: found, fp: fp, seenFound: seenFound}, "", nil
}

// knownFromIndex counts an item that its index entry found unchanged as a
// duplicate. A cache that implements SeenRememberer keeps the seen value
// in memory only while the entry is younger than half of IndexMaxAge and
// the seen lookup found no value. Until then the entry keeps the item
// known, and a lost memory costs one more index read. Otherwise the seen
// key is written, so the item stays known after its entry expires, and a
// value the lookup found, which contains another hash, is replaced.
func (g *Ingester) knownFromIndex(ctx context.Context, it *Item, entry IndexEntry, seenFound bool) (Result, error) {
	key := seenKeyPrefix + it.ID
	r, ok := g.o.Cache.(SeenRememberer)
	due, young := g.seenDue(entry.Written)
	if !ok || !young || seenFound {
		return g.duplicate(ctx, key, it, time.Time{}, true)
	}
	itemsTotal.WithLabelValues(string(ResultDuplicate)).Inc()
	if err := r.RememberSeen(ctx, key, rememberedSeen(it.ContentHash, due), g.o.SeenTTL); err != nil {
		g.o.Logger.Debug("seen cache memo failed", "item_id", it.ID, "error", err)
	}
	return ResultDuplicate, nil
}

// seenDue returns when the seen key of an item whose index entry was
// written at written falls due, half of IndexMaxAge later, and whether
// that is still to come. It returns false without an IndexMaxAge.
func (g *Ingester) seenDue(written time.Time) (time.Time, bool) {
	if g.o.IndexMaxAge <= 0 || written.IsZero() {
		return time.Time{}, false
	}
	due := written.Add(g.o.IndexMaxAge / 2)
	return due, g.o.Now().Before(due)
}

// commit publishes a prepared item's event and records it.
func (g *Ingester) commit(ctx context.Context, it *Item, p *prepared) (Result, error) {
	reserveKey := reserveKeyPrefix + it.ID
	ev := g.event(it, p.prev, p.found)
	seq, err := g.send(ctx, &ev)
	if err != nil {
		g.release(ctx, reserveKey)
		result := ResultRetry
		if errors.Is(err, ErrItemTooLarge) {
			result = ResultRejected
		}
		itemsTotal.WithLabelValues(string(result)).Inc()
		return result, err
	}
	crashPoint(afterPublish)
	if err := g.record(ctx, it, &ev, seq, p); err != nil {
		g.unrecorded.Store(true)
		return ResultRetry, err
	}
	result := Result(ev.Kind)
	itemsTotal.WithLabelValues(string(result)).Inc()
	return result, nil
}

// record writes what follows a publish: the index entry, the seen key,
// then the release of the reservation, so this seen value cannot land
// after a later update's. The fingerprints are written alongside the
// index entry, since the event they group is already in the stream. When
// the index write fails, the reservation is kept until it expires, so a
// concurrent writer cannot publish the same revision again meanwhile.
func (g *Ingester) record(ctx context.Context, it *Item, ev *Event, seq uint64, p *prepared) error {
	firstSeen := p.prev.FirstSeen
	if !p.found {
		firstSeen = ev.IngestedAt
	}
	entry := entryOf(ev, seq, firstSeen)
	var wg sync.WaitGroup
	defer wg.Wait()
	wg.Go(func() { g.recordCluster(ctx, it, p.fp) })
	if err := g.o.Index.Put(ctx, it.ID, entry); err != nil {
		return err
	}
	if err := g.recordSeen(ctx, it, !p.found && !p.seenFound); err != nil {
		g.o.Logger.Debug("seen cache write failed", "item_id", it.ID, "error", err)
	}
	return nil
}

// recordSeen writes the seen value of an item that was just recorded,
// then releases its reservation, in one round trip on a SetDeleter.
// When remember is true and the cache can (SeenRememberer), it only
// remembers the value, until its key falls due (seenDue) or, without an
// IndexMaxAge, for a day. Callers pass true only for an item that neither
// the index nor the seen lookup contained. Otherwise the cache may still
// contain an older hash of the item, which the next lookup returns once
// the remembered value is lost, so a revert to that text would count as
// a duplicate.
//
// NOTE: a remembered value is lost with a restart of the owner or when
// its memo is full, and then the index keeps the item known. A new item
// that the feed stops listing before its key falls due is then only in
// the index, whose entry expires with the stream's max age, one day
// before the SeenTTL a written value would have had.
func (g *Ingester) recordSeen(ctx context.Context, it *Item, remember bool) error {
	now := g.o.Now()
	key, value := seenKeyPrefix+it.ID, seenValue(it.ContentHash, now)
	reserveKey := reserveKeyPrefix + it.ID
	if r, ok := g.o.Cache.(SeenRememberer); ok && remember {
		if due, young := g.seenDue(now); young {
			value = rememberedSeen(it.ContentHash, due)
		}
		err := r.RememberSeen(ctx, key, value, g.o.SeenTTL)
		g.release(ctx, reserveKey)
		return err
	}
	if deleter, ok := g.o.Cache.(SetDeleter); ok {
		// One round trip instead of two. A failed delete is retried
		// alone, with the detached context of release.
		setErr, delErr := deleter.SetThenDelete(ctx, key, value, g.o.SeenTTL, reserveKey)
		if delErr != nil {
			g.release(ctx, reserveKey)
		}
		return setErr
	}
	err := g.o.Cache.Set(ctx, key, value, g.o.SeenTTL)
	g.release(ctx, reserveKey)
	return err
}

func (g *Ingester) event(it *Item, prev IndexEntry, found bool) Event {
	ev := Event{
		Version:    EventVersion,
		Kind:       KindCreated,
		Revision:   1,
		Item:       *it,
		IngestedAt: g.o.Now().UTC(),
	}
	if found {
		ev.Kind = KindUpdated
		ev.Revision = prev.Revision + 1
	}
	return ev
}

// send publishes ev and waits for the stream's acknowledgement. The message
// id (eventMsgID) is derived from the item id, the revision and the
// content hash, so JetStream drops a resend of the same revision inside
// the stream's duplicate window and still returns the sequence of the
// stored copy.
func (g *Ingester) send(ctx context.Context, ev *Event) (uint64, error) {
	data, err := fitEvent(ev, g.o.MaxPayload)
	if err != nil {
		return 0, err
	}
	msg := nats.NewMsg(g.o.SubjectPrefix + "." + ev.Partner)
	msg.Data = data
	msgID := eventMsgID(ev)
	ack, err := g.o.Publisher.PublishMsg(ctx, msg, jetstream.WithMsgID(msgID))
	if err != nil {
		return 0, fmt.Errorf("publishing item %s: %w", ev.ID, err)
	}
	return ack.Sequence, nil
}

func (g *Ingester) release(ctx context.Context, key string) {
	// A detached context lets the release finish when ctx was cancelled,
	// which is the common reason for the failure being handled.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := g.o.Cache.Delete(rctx, key); err != nil {
		g.o.Logger.Warn("releasing item reservation failed", "key", key, "error", err)
	}
}
