// Package genmap provides a map of bounded size that keeps recently used
// entries in two generations.
package genmap

// Map is a map of bounded size that keeps recently used entries. Once the
// current generation holds size entries, the next new key makes it the
// previous generation and drops the one before. A lookup that finds an
// entry in the previous generation moves it to the current one. A Map is
// not safe for concurrent use: callers hold their own lock.
type Map[K comparable, V any] struct {
	size     int
	current  map[K]V
	previous map[K]V
}

// New returns an empty map whose generations hold size entries each.
func New[K comparable, V any](size int) *Map[K, V] {
	return &Map[K, V]{size: size, current: make(map[K]V, size)}
}

// Get returns the entry of key and true, or false when neither generation
// has it.
func (m *Map[K, V]) Get(key K) (V, bool) {
	v, ok := m.current[key]
	if !ok {
		if v, ok = m.previous[key]; ok {
			m.Put(key, v)
		}
	}
	return v, ok
}

// Put stores v under key in the current generation.
func (m *Map[K, V]) Put(key K, v V) {
	delete(m.previous, key)
	if _, ok := m.current[key]; !ok && len(m.current) >= m.size {
		m.previous, m.current = m.current, make(map[K]V, m.size)
	}
	m.current[key] = v
}

// Delete removes key from both generations.
func (m *Map[K, V]) Delete(key K) {
	delete(m.current, key)
	delete(m.previous, key)
}

// Len returns the number of entries in both generations.
func (m *Map[K, V]) Len() int {
	return len(m.current) + len(m.previous)
}

// Reset drops every entry.
func (m *Map[K, V]) Reset() {
	m.current, m.previous = make(map[K]V, m.size), nil
}
