package pipeline

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// PushedItemID returns the stable id of an item that partner pushed with
// its own id key. It is the id a feed item of the same partner with GUID key
// gets, so an item both pushed and polled is one item.
func PushedItemID(partner, key string) string {
	return ItemID(partner, guidKey(key))
}

// StreamReader reads one stored item event by its stream sequence.
// jetstream.Stream implements it. GetMsg returns an error wrapping
// jetstream.ErrMsgNotFound when the stream no longer holds the message.
type StreamReader interface {
	GetMsg(ctx context.Context, seq uint64, opts ...jetstream.GetMsgOpt) (*jetstream.RawStreamMsg, error)
}

// ItemState is the latest event of one item with the time the pipeline
// first accepted the item.
type ItemState struct {
	Event     Event
	FirstSeen time.Time
}

// Retracted reports whether the latest event removed the item.
func (s ItemState) Retracted() bool { return s.Event.Kind == KindRetracted }

// Retractor looks up items and retracts them. It shares the cache, the
// index and the publisher of an Ingester, and takes the same reservation,
// so a retraction never interleaves with a publish of the same item. It is
// safe for concurrent use.
type Retractor struct {
	g      *Ingester
	events StreamReader
}

// NewRetractor returns a retractor that publishes through g and reads the
// latest event of an item from events.
func NewRetractor(g *Ingester, events StreamReader) *Retractor {
	return &Retractor{g: g, events: events}
}

// State returns the latest event of item id. An empty partner matches
// every partner. The error wraps ErrItemNotFound when the index has no
// entry for id, the stream no longer holds its event, or the item belongs
// to a partner other than partner.
func (r *Retractor) State(ctx context.Context, partner, id string) (ItemState, error) {
	entry, found, err := r.g.o.Index.Get(ctx, id)
	if err != nil {
		return ItemState{}, err
	}
	if !found {
		return ItemState{}, fmt.Errorf("item %s: %w", id, ErrItemNotFound)
	}
	msg, err := r.events.GetMsg(ctx, entry.Seq)
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return ItemState{}, fmt.Errorf("item %s: event %d aged out of the stream: %w", id, entry.Seq, ErrItemNotFound)
	}
	if err != nil {
		return ItemState{}, fmt.Errorf("reading event %d of item %s: %w", entry.Seq, id, err)
	}
	var ev Event
	if err := json.Unmarshal(msg.Data, &ev); err != nil {
		return ItemState{}, fmt.Errorf("decoding event %d of item %s: %w", entry.Seq, id, err)
	}
	if ev.ID != id || (partner != "" && ev.Partner != partner) {
		return ItemState{}, fmt.Errorf("item %s of partner %q: %w", id, partner, ErrItemNotFound)
	}
	// The index numbers revisions. The stored event can lag behind it only
	// after a crash between the publish and the index write.
	ev.Revision = max(ev.Revision, entry.Revision)
	return ItemState{Event: ev, FirstSeen: entry.FirstSeen}, nil
}

// Retract publishes a retracted event for item id, one revision above the
// latest, and records it in the index and the cache. The event repeats the
// item's last content, so consumers can tell what was removed. An empty
// partner matches every partner. Retracting a retracted item publishes
// nothing and returns its state with false.
//
// The index keeps the content hash of the retracted revision, so the same
// content offered again is a duplicate and stays retracted, and changed
// content is published as an update that brings the item back.
//
// The error wraps ErrItemNotFound as State does, or ErrReserved while
// another writer holds the item.
func (r *Retractor) Retract(ctx context.Context, partner, id string) (ItemState, bool, error) {
	reserveKey := reserveKeyPrefix + id
	won, err := r.g.o.Cache.Reserve(ctx, reserveKey, "retract", r.g.o.ReserveTTL)
	if err != nil {
		return ItemState{}, false, fmt.Errorf("reserving item %s: %w", id, err)
	}
	if !won {
		return ItemState{}, false, fmt.Errorf("item %s: %w", id, ErrReserved)
	}
	defer r.g.release(ctx, reserveKey)
	state, err := r.State(ctx, partner, id)
	if err != nil || state.Retracted() {
		return state, false, err
	}
	ev := state.Event
	ev.Kind = KindRetracted
	ev.Revision++
	ev.IngestedAt = r.g.o.Now().UTC()
	seq, err := r.g.send(ctx, &ev)
	if err != nil {
		return state, false, err
	}
	entry := entryOf(&ev, seq, state.FirstSeen)
	if err := r.g.o.Index.Put(ctx, id, entry); err != nil {
		r.g.unrecorded.Store(true)
		return state, false, err
	}
	if err := r.g.o.Cache.Set(ctx, seenKeyPrefix+id, ev.ContentHash, r.g.o.SeenTTL); err != nil {
		r.g.o.Logger.Debug("seen cache write failed", "item_id", id, "error", err)
	}
	return ItemState{Event: ev, FirstSeen: state.FirstSeen}, true, nil
}

// eventMsgID returns the Nats-Msg-Id of ev. It names the item id, the
// revision and the content hash, so JetStream drops a resend of one
// revision and keeps a later revision that returns to an earlier text. A
// retraction repeats the content hash of the revision it removes, so its
// name has the retraction and its revision instead. The id is the first
// 16 bytes of SHA-256 over that name, in unpadded base64url. nats-server
// keeps every id of its duplicate window in memory and reads them back
// when it starts, so the id is short: 22 characters take a 24-byte
// allocation where the name itself took 112.
func eventMsgID(ev *Event) string {
	var name string
	if ev.Kind == KindRetracted {
		name = ev.ID + ".retracted." + strconv.Itoa(ev.Revision)
	} else {
		name = ev.ID + "." + strconv.Itoa(ev.Revision) + "." + ev.ContentHash
	}
	sum := sha256.Sum256([]byte(name))
	return base64.RawURLEncoding.EncodeToString(sum[:16])
}
