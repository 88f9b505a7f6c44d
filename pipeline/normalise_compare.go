package pipeline

import (
	"context"
	"encoding/json"

	"github.com/nats-io/nats.go/jetstream"
)

// EventReader reads a stored event by its stream sequence. jetstream.Stream
// implements it. An error means the event is gone (pruned by max age) or
// the stream could not be reached, and the caller then treats the item as
// changed.
type EventReader interface {
	GetMsg(ctx context.Context, seq uint64, opts ...jetstream.GetMsgOpt) (*jetstream.RawStreamMsg, error)
}

// unchanged reports whether it has the content recorded in entry. Hashes
// computed under the same rules version are compared as they are. For an
// entry from older rules it tries, in order: the new item hashed under the
// entry's rules, then the stored event of the entry hashed under today's
// rules. The first catches changes to the hashed text, the second changes
// to URL canonicalisation, whose old input the new item no longer has.
// docs/dedup.md explains the design.
func (g *Ingester) unchanged(ctx context.Context, entry IndexEntry, it *Item) bool {
	if entry.Hash == it.ContentHash {
		return true
	}
	version := max(entry.Rules, 1)
	if version == it.RulesVersion || entry.Rules == it.RulesVersion {
		return false
	}
	if old, ok := hashRules[version]; ok && old(it) == entry.Hash {
		return true
	}
	return g.storedHash(ctx, entry) == it.ContentHash
}

// storedHash returns the content hash under today's rules of the event
// recorded at entry.Seq, or "" when it cannot be read.
func (g *Ingester) storedHash(ctx context.Context, entry IndexEntry) string {
	if g.o.Events == nil || entry.Seq == 0 {
		return ""
	}
	msg, err := g.o.Events.GetMsg(ctx, entry.Seq)
	if err != nil {
		g.o.Logger.Debug("stored event unreadable", "seq", entry.Seq, "error", err)
		return ""
	}
	var ev Event
	if err := json.Unmarshal(msg.Data, &ev); err != nil {
		g.o.Logger.Debug("stored event undecodable", "seq", entry.Seq, "error", err)
		return ""
	}
	return ContentHash(&ev.Item)
}
