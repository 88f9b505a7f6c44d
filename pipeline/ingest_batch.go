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
// and grouped one at a time in document order, and up to batchPublishes
// of them are published and recorded at once, because each waits for the
// stream's acknowledgement and, by default, a disk sync. An item that
// shares a grouping key with one still being published waits for that
// one to be recorded first, so a copy later in the document is grouped
// exactly as with Ingest. The events of one document may reach the stream
// out of document order.
func (g *Ingester) IngestBatch(ctx context.Context, items []Item) []Outcome {
	seen := g.lookupSeen(ctx, items)
	out := make([]Outcome, len(items))
	var wg sync.WaitGroup
	defer wg.Wait()
	slots := make(chan struct{}, batchPublishes)
	inFlight := map[string]*flight{}
	// published contains the ids sent to commit, because awaitRelated
	// drops finished ones from inFlight.
	published := map[string]bool{}
	for i := range items {
		it := &items[i]
		if f, ok := inFlight[it.ID]; ok {
			<-f.done
		}
		// A copy earlier in the document may have written a seen value.
		seenFound := seen[i].found || published[it.ID]
		if published[it.ID] {
			// The same item earlier in the document: its outcome decides
			// whether this copy is a duplicate, not the seen key read
			// before it.
			seen[i] = seenEntry{}
		}
		if o, done := g.knownFromSeen(ctx, it, seen[i]); done {
			out[i] = o
			continue
		}
		if err := it.complete(); err != nil {
			CountRejected(1)
			out[i] = Outcome{Result: ResultRejected, Err: err}
			continue
		}
		fprint, keys := g.groupingKeys(it)
		awaitRelated(keys, inFlight)
		// The slot is taken before the reservation, so an item holds
		// its reservation only while it is prepared and published, never
		// while it waits behind the rest of the document.
		slots <- struct{}{}
		p, result, err := g.prepare(ctx, it, fprint, seenFound)
		if p == nil {
			<-slots
			out[i] = Outcome{Result: result, Err: err}
			continue
		}
		f := &flight{done: make(chan struct{})}
		if p.fp != nil {
			f.keys = keys
		}
		inFlight[it.ID] = f
		published[it.ID] = true
		wg.Go(func() {
			defer func() { <-slots; close(f.done) }()
			out[i].Result, out[i].Err = g.commit(ctx, it, p)
		})
	}
	return out
}

// flight is an item of a batch being published: done is closed once it
// is recorded or failed, and keys are the grouping keys it will be filed
// under, nil for none.
type flight struct {
	done chan struct{}
	keys map[string]bool
}

// groupingKeys returns the fingerprint of an item to be grouped and the
// keys it would be filed under, or nil for both without a clusterer.
func (g *Ingester) groupingKeys(it *Item) (*fingerprint, map[string]bool) {
	if g.o.Clusters == nil {
		return nil, nil
	}
	fprint := itemFingerprint(it)
	return &fprint, keySet(it, fprint)
}

// awaitRelated waits until every item in flight that shares one of keys
// is recorded or failed. Only those can be candidates of the item, and a
// failed one must not be. Finished items are dropped from inFlight.
func awaitRelated(keys map[string]bool, inFlight map[string]*flight) {
	for id, f := range inFlight {
		if closed(f.done) {
			delete(inFlight, id)
			continue
		}
		for key := range keys {
			if f.keys[key] {
				<-f.done
				break
			}
		}
	}
}

// knownFromSeen returns the outcome of an item that the seen-cache read
// settles, a read error or an unchanged item, and true. It returns false
// when the item must go through prepare.
func (g *Ingester) knownFromSeen(ctx context.Context, it *Item, s seenEntry) (Outcome, bool) {
	if s.err != nil {
		err := fmt.Errorf("checking seen cache for item %s: %w", it.ID, s.err)
		return Outcome{Result: ResultRetry, Err: err}, true
	}
	hash, written := parseSeen(s.value)
	if s.found && hash == it.ContentHash {
		result, err := g.duplicate(ctx, seenKeyPrefix+it.ID, it, written, false)
		return Outcome{Result: result, Err: err}, true
	}
	return Outcome{}, false
}

// ingestAfterLookup is Ingest after the seen-cache read.
func (g *Ingester) ingestAfterLookup(ctx context.Context, it *Item, s seenEntry) (Result, error) {
	if o, done := g.knownFromSeen(ctx, it, s); done {
		return o.Result, o.Err
	}
	if err := it.complete(); err != nil {
		CountRejected(1)
		return ResultRejected, err
	}
	return g.publish(ctx, it, s.found)
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
