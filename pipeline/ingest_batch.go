package pipeline

import (
	"context"
	"fmt"
	"sync"
)

// seenLookups bounds the seen-cache reads IngestBatch runs at once on a
// cache without MultiGetter. Eight keep a document of 50 known items to
// about seven round-trip times without flooding a cache shared by
// fetch.concurrency pollers.
const seenLookups = 8

// batchPublishes bounds the items of one document that IngestBatch
// publishes and records at once.
const batchPublishes = 8

// Outcome is the result of ingesting one item of a batch, with the error
// Ingest would have returned for it.
type Outcome struct {
	Result Result
	Err    error
}

// seenEntry is one item's seen-cache read.
type seenEntry struct {
	value string
	found bool
	err   error
}

// IngestBatch runs the items of one feed document through dedup and
// publish and returns one outcome per item, with the results and errors
// Ingest gives. It reads every item's seen key first, in one request
// where the cache supports it (Redis MGET, a batch read of the KV bucket)
// and otherwise several at a time. The remaining items are then reserved
// and grouped one at a time in document order, so a copy later in the
// document is grouped with an earlier one exactly as with Ingest. Up to
// batchPublishes of them are published and recorded at once, because each
// waits for the stream's acknowledgement and, by default, a disk sync.
// The events of one document may therefore reach the stream out of
// document order.
func (g *Ingester) IngestBatch(ctx context.Context, items []Item) []Outcome {
	seen := g.lookupSeen(ctx, items)
	out := make([]Outcome, len(items))
	var wg sync.WaitGroup
	defer wg.Wait()
	slots := make(chan struct{}, batchPublishes)
	inFlight := map[string]chan struct{}{}
	for i := range items {
		it := &items[i]
		if done, ok := inFlight[it.ID]; ok {
			// The same item earlier in the document: its outcome decides
			// whether this copy is a duplicate.
			<-done
			seen[i] = seenEntry{}
		}
		// The slot is taken before the reservation, so an item holds
		// its reservation only while it is prepared and published, never
		// while it waits behind the rest of the document.
		slots <- struct{}{}
		p, result, err := g.prepareAfterLookup(ctx, it, seen[i])
		if p == nil {
			<-slots
			out[i] = Outcome{Result: result, Err: err}
			continue
		}
		done := make(chan struct{})
		inFlight[it.ID] = done
		wg.Go(func() {
			defer func() { <-slots; close(done) }()
			out[i].Result, out[i].Err = g.commit(ctx, it, p)
		})
	}
	return out
}

// prepareAfterLookup is prepare after the seen-cache read, which may show
// the item is a duplicate already. A nil result means the item is done.
func (g *Ingester) prepareAfterLookup(ctx context.Context, it *Item, s seenEntry) (*prepared, Result, error) {
	if s.err != nil {
		return nil, ResultRetry, fmt.Errorf("checking seen cache for item %s: %w", it.ID, s.err)
	}
	hash, written := parseSeen(s.value)
	if s.found && hash == it.ContentHash {
		result, err := g.duplicate(ctx, seenKeyPrefix+it.ID, it, written)
		return nil, result, err
	}
	return g.prepare(ctx, it)
}

// ingestAfterLookup is Ingest after the seen-cache read.
func (g *Ingester) ingestAfterLookup(ctx context.Context, it *Item, s seenEntry) (Result, error) {
	if s.err != nil {
		return ResultRetry, fmt.Errorf("checking seen cache for item %s: %w", it.ID, s.err)
	}
	hash, written := parseSeen(s.value)
	if s.found && hash == it.ContentHash {
		return g.duplicate(ctx, seenKeyPrefix+it.ID, it, written)
	}
	return g.publish(ctx, it)
}

func (g *Ingester) lookupSeen(ctx context.Context, items []Item) []seenEntry {
	out := make([]seenEntry, len(items))
	if mg, ok := g.o.Cache.(MultiGetter); ok {
		keys := make([]string, len(items))
		for i := range items {
			keys[i] = seenKeyPrefix + items[i].ID
		}
		values, found, err := mg.GetMany(ctx, keys)
		for i := range out {
			if err != nil {
				out[i].err = err
				continue
			}
			out[i] = seenEntry{value: values[i], found: found[i]}
		}
		return out
	}
	var wg sync.WaitGroup
	slots := make(chan struct{}, seenLookups)
	for i := range items {
		slots <- struct{}{}
		wg.Go(func() {
			defer func() { <-slots }()
			e := &out[i]
			e.value, e.found, e.err = g.o.Cache.Get(ctx, seenKeyPrefix+items[i].ID)
		})
	}
	wg.Wait()
	return out
}
