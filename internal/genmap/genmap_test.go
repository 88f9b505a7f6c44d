package genmap

import "testing"

func TestMapIsBounded(t *testing.T) {
	m := New[int, string](3)
	for i := range 10 {
		m.Put(i, "v")
	}
	if n := m.Len(); n > 6 {
		t.Errorf("map holds %d entries, want at most 6", n)
	}
	if _, ok := m.Get(9); !ok {
		t.Error("latest entry missing")
	}
	if _, ok := m.Get(0); ok {
		t.Error("oldest entry still present")
	}
}

func TestMapGetMovesEntryForward(t *testing.T) {
	m := New[int, string](2)
	m.Put(0, "a")
	m.Put(1, "b")
	m.Put(2, "c") // 0 and 1 become the previous generation
	if v, ok := m.Get(0); !ok || v != "a" {
		t.Fatalf("Get(0) = %q, %t; want a, true", v, ok)
	}
	m.Put(3, "d") // the current generation (2, 0) is full: it moves back
	m.Put(4, "e")
	if _, ok := m.Get(0); !ok {
		t.Error("entry moved forward was dropped with its old generation")
	}
	if _, ok := m.Get(1); ok {
		t.Error("entry left in the dropped generation is still present")
	}
}

func TestMapUpdateDoesNotRotate(t *testing.T) {
	m := New[int, string](2)
	m.Put(0, "a")
	m.Put(1, "b")
	m.Put(2, "c") // 0 and 1 become the previous generation
	m.Put(3, "d") // the current generation (2, 3) is full
	m.Put(3, "e") // an update, not a new key: nothing moves back
	if v, ok := m.Get(3); !ok || v != "e" {
		t.Errorf("Get(3) = %q, %t; want e, true", v, ok)
	}
	if _, ok := m.Get(0); !ok {
		t.Error("an update of a full generation dropped the previous one")
	}
}

func TestMapDeleteAndReset(t *testing.T) {
	m := New[int, string](2)
	m.Put(0, "a")
	m.Put(1, "b")
	m.Put(2, "c")
	m.Delete(0)
	if _, ok := m.Get(0); ok {
		t.Error("deleted entry of the previous generation still present")
	}
	m.Reset()
	if n := m.Len(); n != 0 {
		t.Errorf("map holds %d entries after Reset, want 0", n)
	}
}
