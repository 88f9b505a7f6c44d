package pipeline

import (
	"encoding/binary"
	"hash/maphash"
)

// Content hashes of items seen recently. A poll of a changed document
// normalises every item again, and most of them are known and unchanged.
// The content hash is the largest cost of normalising them, so it is
// looked up by a fast hash of the fields it covers instead. Only this
// process uses the memo, so maphash's random seed is fine.
const (
	// hashMemoGeneration is the number of hashes in one generation. The
	// memo keeps one to two generations, at about 100 bytes an entry
	// (an estimate) under about 13 MiB: the items of about 2,500 feeds
	// of 50 items.
	hashMemoGeneration = 65536
)

var (
	hashMemoSeeds = [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()}
	hashMemo      = newGenerations[memoKey, string](hashMemoGeneration)
)

// memoKey is 128 bits of maphash over the fields ContentHash reads.
type memoKey [2]uint64

// memoContentHash returns ContentHash(it), from the memo when an item
// with the same fields was hashed before.
func memoContentHash(it *Item) string {
	key := contentMemoKey(it)
	if h, ok := hashMemo.get(key); ok {
		return h
	}
	h := ContentHash(it)
	hashMemo.put(key, h)
	return h
}

// contentMemoKey hashes every field ContentHash reads, and a few it does
// not. The fields are encoded once, each after its length so that no two
// different items give the same bytes, and hashed with both seeds.
func contentMemoKey(it *Item) memoKey {
	buf := make([]byte, 0, 256+len(it.Title)+len(it.Summary)+len(it.Content))
	field := func(s string) {
		buf = binary.AppendUvarint(buf, uint64(len(s)))
		buf = append(buf, s...)
	}
	number := func(n int64) { buf = binary.AppendVarint(buf, n) }

	number(RulesVersion)
	field(it.Title)
	field(it.Summary)
	field(it.Content)
	field(it.URL)
	field(it.Image)
	field(it.Language)

	number(int64(len(it.Authors)))
	for _, a := range it.Authors {
		field(a.Name)
		field(a.Email)
		field(a.URL)
	}

	number(int64(len(it.Categories)))
	for _, c := range it.Categories {
		field(c)
	}

	number(int64(len(it.Enclosures)))
	for _, e := range it.Enclosures {
		field(e.URL)
		field(e.Type)
		number(e.Length)
	}

	return memoKey{maphash.Bytes(hashMemoSeeds[0], buf), maphash.Bytes(hashMemoSeeds[1], buf)}
}
