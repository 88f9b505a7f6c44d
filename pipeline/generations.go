package pipeline

import (
	"sync"

	"github.com/syndic-network/syndic/internal/genmap"
)

// generations is a genmap.Map that is safe for concurrent use.
type generations[K comparable, V any] struct {
	mu sync.Mutex
	m  *genmap.Map[K, V]
}

func newGenerations[K comparable, V any](size int) *generations[K, V] {
	return &generations[K, V]{m: genmap.New[K, V](size)}
}

func (g *generations[K, V]) get(key K) (V, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.m.Get(key)
}

func (g *generations[K, V]) put(key K, v V) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.m.Put(key, v)
}

// reset drops every entry.
func (g *generations[K, V]) reset() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.m.Reset()
}
