package pipeline

import (
	"hash/maphash"
	"strconv"
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
// not, with each field's length written before it so that no two
// different items give the same input.
func contentMemoKey(it *Item) memoKey {
	var key memoKey
	for k, seed := range hashMemoSeeds {
		var h maphash.Hash
		h.SetSeed(seed)
		field := func(s string) {
			h.WriteString(strconv.Itoa(len(s)))
			h.WriteByte(':')
			h.WriteString(s)
		}
		field(strconv.Itoa(RulesVersion))
		field(it.Title)
		field(it.Summary)
		field(it.Content)
		field(it.URL)
		field(it.Image)
		field(it.Language)
		field(strconv.Itoa(len(it.Authors)))
		for _, a := range it.Authors {
			field(a.Name)
			field(a.Email)
			field(a.URL)
		}
		field(strconv.Itoa(len(it.Categories)))
		for _, c := range it.Categories {
			field(c)
		}
		field(strconv.Itoa(len(it.Enclosures)))
		for _, e := range it.Enclosures {
			field(e.URL)
			field(e.Type)
			field(strconv.FormatInt(e.Length, 10))
		}
		key[k] = h.Sum64()
	}
	return key
}
