package pipeline

import (
	"encoding/hex"
	"math/bits"
)

// refSlab stores values under uint32 handles, each with a count of the
// references to it. A handle whose count drops to zero is freed and
// handed out again by a later put. It is not safe for concurrent use.
type refSlab[T comparable] struct {
	vals []T
	refs []uint32
	free []uint32
}

// put stores v under a handle with one reference, held by the caller.
func (s *refSlab[T]) put(v T) uint32 {
	if n := len(s.free); n > 0 {
		h := s.free[n-1]
		s.free = s.free[:n-1]
		s.vals[h], s.refs[h] = v, 1
		return h
	}
	s.vals = append(s.vals, v)
	s.refs = append(s.refs, 1)
	return uint32(len(s.vals) - 1)
}

func (s *refSlab[T]) retain(h uint32) { s.refs[h]++ }

// release drops one reference to h and frees h when none is left. The
// value is zeroed, so a freed string is not kept alive.
func (s *refSlab[T]) release(h uint32) {
	s.refs[h]--
	if s.refs[h] == 0 {
		var zero T
		s.vals[h] = zero
		s.free = append(s.free, h)
	}
}

// live returns the number of handles in use.
func (s *refSlab[T]) live() int { return len(s.vals) - len(s.free) }

// textHandle marks the handles of ids kept as text. An id of 32 lower
// hex digits, the form ItemID gives, is kept as 16 bytes instead, and
// any other string as it is. Either handle stays below listFlag.
const textHandle = 1 << 30

// binaryID is an id of 32 lower hex digits as 16 bytes, with the stored
// time, the SimHash, the sketch digest and the log sequence of the record
// it was filed from. The 64-bit values are kept as two halves, so the
// struct keeps an alignment of 4 and takes 72 bytes.
type binaryID struct {
	id      [16]byte
	stored  uint32
	simhash [2]uint32
	seq     [2]uint32
	digest  sketchDigest
}

// textID is any other id, with the stored time, the SimHash, the sketch
// digest and the log sequence of its record.
type textID struct {
	id      string
	stored  uint32
	simhash uint64
	seq     uint64
	digest  sketchDigest
}

// split64 and join64 convert a 64-bit SimHash or sequence to and from
// binaryID's two halves, low half first.
func split64(v uint64) [2]uint32 { return [2]uint32{uint32(v), uint32(v >> 32)} }

func join64(h [2]uint32) uint64 { return uint64(h[0]) | uint64(h[1])<<32 }

// idTable stores the ids a key index holds, each under a handle counted
// by the lists holding it. Each filing of an id takes a new handle, which
// carries the record's stored time and SimHash, so a list entry is the
// handle alone. An id filed again while some lists still hold it then
// sits under two handles, so ids are compared by value. It is not safe for concurrent
// use.
type idTable struct {
	binary refSlab[binaryID]
	text   refSlab[textID]
}

// put stores id, filed from the record at log sequence seq, stored at
// the given Unix second with the given SimHash and sketch digest, under a
// new handle with one reference, held by the caller, who releases it once
// the id is filed.
func (t *idTable) put(id string, stored uint32, simhash, seq uint64, digest sketchDigest) uint32 {
	if b, ok := packID(id); ok {
		return checkHandle(t.binary.put(binaryID{id: b, stored: stored, simhash: split64(simhash), seq: split64(seq), digest: digest}))
	}
	return textHandle | checkHandle(t.text.put(textID{id: id, stored: stored, simhash: simhash, seq: seq, digest: digest}))
}

// checkHandle returns h, and panics when h would collide with the
// textHandle flag: the index then holds over a billion ids of one form.
func checkHandle(h uint32) uint32 {
	if h >= textHandle {
		panic("key index: id handles used up")
	}
	return h
}

func (t *idTable) retain(h uint32) {
	if h&textHandle != 0 {
		t.text.retain(h &^ textHandle)
		return
	}
	t.binary.retain(h)
}

func (t *idTable) release(h uint32) {
	if h&textHandle != 0 {
		t.text.release(h &^ textHandle)
		return
	}
	t.binary.release(h)
}

// stored returns the stored time, in Unix seconds, of the record that
// the id under h was filed from.
func (t *idTable) stored(h uint32) uint32 {
	if h&textHandle != 0 {
		return t.text.vals[h&^textHandle].stored
	}
	return t.binary.vals[h].stored
}

// simhash returns the SimHash kept with the id under h: that of the
// record it was filed from, or of a newer record of the id that was
// filed under a key whose list holds h.
func (t *idTable) simhash(h uint32) uint64 {
	if h&textHandle != 0 {
		return t.text.vals[h&^textHandle].simhash
	}
	return join64(t.binary.vals[h].simhash)
}

// seq returns the log sequence kept with the id under h, as simhash
// returns its SimHash.
func (t *idTable) seq(h uint32) uint64 {
	if h&textHandle != 0 {
		return t.text.vals[h&^textHandle].seq
	}
	return join64(t.binary.vals[h].seq)
}

// digest returns the sketch digest kept with the id under h, as simhash
// returns its SimHash.
func (t *idTable) digest(h uint32) sketchDigest {
	if h&textHandle != 0 {
		return t.text.vals[h&^textHandle].digest
	}
	return t.binary.vals[h].digest
}

// setRecord makes the id under h name the record that the id under from
// was filed from: its SimHash, its sketch digest and its log sequence.
func (t *idTable) setRecord(h, from uint32) {
	simhash, seq, digest := t.simhash(from), t.seq(from), t.digest(from)
	if h&textHandle != 0 {
		v := &t.text.vals[h&^textHandle]
		v.simhash, v.seq, v.digest = simhash, seq, digest
		return
	}
	v := &t.binary.vals[h]
	v.simhash, v.seq, v.digest = split64(simhash), split64(seq), digest
}

// same reports whether handles a and b name equal ids. The form of an id
// depends only on its text, so ids of two forms always differ.
func (t *idTable) same(a, b uint32) bool {
	switch {
	case a == b:
		return true
	case a&textHandle != b&textHandle:
		return false
	case a&textHandle != 0:
		return t.text.vals[a&^textHandle].id == t.text.vals[b&^textHandle].id
	default:
		return t.binary.vals[a].id == t.binary.vals[b].id
	}
}

// appendID appends the id under h to dst.
func (t *idTable) appendID(dst []byte, h uint32) []byte {
	if h&textHandle != 0 {
		return append(dst, t.text.vals[h&^textHandle].id...)
	}
	b := t.binary.vals[h].id
	return hex.AppendEncode(dst, b[:])
}

// idLen returns the length of the id under h.
func (t *idTable) idLen(h uint32) int {
	if h&textHandle != 0 {
		return len(t.text.vals[h&^textHandle].id)
	}
	return 2 * len(binaryID{}.id)
}

// live returns the number of handles in use.
func (t *idTable) live() int { return t.binary.live() + t.text.live() }

// packID returns the 16 bytes that id spells in lower hex, and false for
// any other id, which then keeps its text: upper-case digits would not
// read back as the same string.
func packID(id string) ([16]byte, bool) {
	var b [16]byte
	if len(id) != 2*len(b) {
		return b, false
	}
	for k := range len(id) {
		c := id[k]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return b, false
		}
	}
	_, err := hex.Decode(b[:], []byte(id))
	return b, err == nil
}

// listClasses is the number of list capacities in a listSlab: 2, 4, 8
// and so on up to the longest list kept, maxListLen.
var listClasses = bits.Len(maxListLen - 1)

// listSlab stores the lists of keys that hold more than one id, as id
// handles. Lists of one capacity class share one flat slice, so the slab
// holds no pointers for the collector to follow and costs no allocation
// per list. A slot is the list's length and then room for its handles.
// A list is named by a reference: its class above listClassShift and
// its slot in that class below. It is not safe for concurrent use.
type listSlab struct {
	classes []listClass
}

// listClassShift leaves 2^26 slots, 67 million lists, to each class.
const listClassShift = 26

type listClass struct {
	words []uint32
	free  []uint32
}

func newListSlab() listSlab {
	return listSlab{classes: make([]listClass, listClasses)}
}

// classFor returns the class of the smallest capacity that holds n
// handles, n at least 2.
func classFor(n int) int { return bits.Len(uint(n-1)) - 1 }

// slotSize returns the words in a slot of class: the length and then
// the handles.
func slotSize(class int) int { return 1 + 2<<class }

// alloc returns the reference of a free list with room for n handles.
// It panics for n above maxListLen or when the class has no slot left.
func (s *listSlab) alloc(n int) uint32 {
	class := classFor(n)
	c := &s.classes[class]
	if k := len(c.free); k > 0 {
		slot := c.free[k-1]
		c.free = c.free[:k-1]
		return uint32(class)<<listClassShift | slot
	}
	slot := uint32(len(c.words) / slotSize(class))
	if slot >= 1<<listClassShift {
		panic("key index: list slab full")
	}
	c.words = append(c.words, make([]uint32, slotSize(class))...)
	return uint32(class)<<listClassShift | slot
}

// fits reports whether the list at ref has room for n handles without
// wasting half of it or more.
func (s *listSlab) fits(ref uint32, n int) bool {
	return int(ref>>listClassShift) == classFor(n)
}

// slot returns the words of the slot at ref.
func (s *listSlab) slot(ref uint32) []uint32 {
	class := int(ref >> listClassShift)
	size := slotSize(class)
	start := int(ref&(1<<listClassShift-1)) * size
	return s.classes[class].words[start : start+size : start+size]
}

// list returns the handles of the list at ref, a view into the slab that
// is valid until the next alloc.
func (s *listSlab) list(ref uint32) []uint32 {
	w := s.slot(ref)
	return w[1 : 1+w[0]]
}

// set makes p the list at ref, which has room for it.
func (s *listSlab) set(ref uint32, p []uint32) {
	w := s.slot(ref)
	w[0] = uint32(len(p))
	copy(w[1:], p)
}

// release frees the list at ref for a later alloc.
func (s *listSlab) release(ref uint32) {
	c := &s.classes[ref>>listClassShift]
	c.free = append(c.free, ref&(1<<listClassShift-1))
}
