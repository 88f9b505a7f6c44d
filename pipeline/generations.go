package pipeline

import "sync"

// generations is a map of bounded size that keeps recently used entries.
// A full current generation becomes the previous one, dropping the one
// before, and a lookup moves an entry from the previous generation to the
// current one. It is safe for concurrent use.
type generations[K comparable, V any] struct {
	mu       sync.Mutex
	size     int
	current  map[K]V
	previous map[K]V
}

func newGenerations[K comparable, V any](size int) *generations[K, V] {
	return &generations[K, V]{size: size, current: make(map[K]V, size)}
}

func (g *generations[K, V]) get(key K) (V, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	v, ok := g.current[key]
	if !ok {
		v, ok = g.previous[key]
		if ok {
			g.putLocked(key, v)
		}
	}
	return v, ok
}

func (g *generations[K, V]) put(key K, v V) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.putLocked(key, v)
}

func (g *generations[K, V]) putLocked(key K, v V) {
	if len(g.current) >= g.size {
		g.previous, g.current = g.current, make(map[K]V, g.size)
	}
	g.current[key] = v
}

// reset drops every entry.
func (g *generations[K, V]) reset() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.current, g.previous = make(map[K]V, g.size), nil
}
