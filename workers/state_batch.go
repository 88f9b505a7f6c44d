package workers

import (
	"context"
	"sync"
	"time"

	"github.com/syndic-network/syndic/pipeline"
)

// Reading fetch states ahead of their polls. A poll needs its feed's
// state first. Reading the states of many feeds in one request (MGET in
// Redis, a batched direct get in NATS KV) saves a round trip per poll,
// which is most of the cost of a poll that ends in 304.
const (
	// stateChunk is the number of states one request reads.
	stateChunk = 64
	// stateMaxAge is how long a state read ahead is used. A feed reset
	// by an operator meanwhile is seen on the poll after, as it would be
	// if the reset came just after an ordinary read.
	stateMaxAge = 2 * time.Second
)

// loadStates returns the state of every feed, read chunk by chunk. A
// chunk that cannot be read is read again feed by feed.
func (p *Poller) loadStates(ctx context.Context, feeds []Feed) []fetchState {
	out := make([]fetchState, len(feeds))
	for start := 0; start < len(feeds); start += stateChunk {
		chunk := feeds[start:min(start+stateChunk, len(feeds))]
		copy(out[start:], p.loadChunk(ctx, chunk))
	}
	return out
}

func (p *Poller) loadChunk(ctx context.Context, feeds []Feed) []fetchState {
	out := make([]fetchState, len(feeds))
	many, ok := p.o.State.(pipeline.MultiGetter)
	if ok {
		keys := make([]string, len(feeds))
		for i, f := range feeds {
			keys[i] = stateKey(f)
		}
		values, found, err := many.GetMany(ctx, keys)
		if err == nil {
			for i, f := range feeds {
				out[i] = p.decodeState(f, values[i], found[i])
			}
			return out
		}
		p.o.Logger.Warn("reading fetch states together failed, reading them one by one", "feeds", len(feeds), "error", err)
	}
	for i, f := range feeds {
		out[i] = p.loadState(ctx, f)
	}
	return out
}

// stateAhead hands PollAll's workers the state of each feed, read a chunk
// at a time in the order the feeds are polled. It is safe for concurrent
// use.
type stateAhead struct {
	p      *Poller
	feeds  []Feed
	order  []int
	pos    map[int]int
	mu     sync.Mutex
	chunks map[int]*readChunk
}

// readChunk is one chunk of states and when it was read.
type readChunk struct {
	once   sync.Once
	read   time.Time
	states []fetchState
}

func newStateAhead(p *Poller, feeds []Feed, order []int) *stateAhead {
	pos := make(map[int]int, len(order))
	for k, i := range order {
		pos[i] = k
	}
	return &stateAhead{p: p, feeds: feeds, order: order, pos: pos, chunks: map[int]*readChunk{}}
}

// state returns the state of feeds[i], from its chunk when that was read
// less than stateMaxAge ago, and read alone otherwise.
func (s *stateAhead) state(ctx context.Context, i int) fetchState {
	k := s.pos[i]
	n := k / stateChunk
	s.mu.Lock()
	c := s.chunks[n]
	if c == nil {
		c = &readChunk{}
		s.chunks[n] = c
	}
	s.mu.Unlock()
	c.once.Do(func() {
		start := n * stateChunk
		idx := s.order[start:min(start+stateChunk, len(s.order))]
		feeds := make([]Feed, len(idx))
		for j, fi := range idx {
			feeds[j] = s.feeds[fi]
		}
		c.states = s.p.loadChunk(ctx, feeds)
		c.read = s.p.o.Now()
	})
	if s.p.o.Now().Sub(c.read) > stateMaxAge {
		return s.p.loadState(ctx, s.feeds[i])
	}
	return c.states[k-n*stateChunk]
}
