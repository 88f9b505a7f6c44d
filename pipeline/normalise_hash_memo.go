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
// not, with both seeds.
func contentMemoKey(it *Item) memoKey {
	b := make(keyBuffer, 0, 256+len(it.Title)+len(it.Summary)+len(it.Content))
	b.number(RulesVersion)
	b.field(it.Title)
	b.field(it.Summary)
	b.field(it.Content)
	b.field(it.URL)
	b.field(it.Image)
	b.field(it.Language)
	b.authors(it.Authors)
	b.list(it.Categories)
	b.enclosures(it.Enclosures)
	return b.key()
}

// keyBuffer is the encoding of the fields of a memo key. Each field is
// written after its length, and each list after its count, so no two
// different field lists give the same bytes.
type keyBuffer []byte

func (b *keyBuffer) field(s string) {
	*b = binary.AppendUvarint(*b, uint64(len(s)))
	*b = append(*b, s...)
}

func (b *keyBuffer) number(n int64) { *b = binary.AppendVarint(*b, n) }

// rulesAndSource writes the rules version and the partner settings, which
// both parse memo keys start with.
func (b *keyBuffer) rulesAndSource(src Source) {
	b.number(RulesVersion)
	b.field(src.Partner)
	b.field(src.Feed)
	b.field(src.FeedURL)
	b.field(src.Language)
	b.field(src.Charset)
	b.field(locationName(src.Location))
}

func (b *keyBuffer) list(items []string) {
	b.number(int64(len(items)))
	for _, s := range items {
		b.field(s)
	}
}

func (b *keyBuffer) authors(authors []Author) {
	b.number(int64(len(authors)))
	for _, a := range authors {
		b.field(a.Name)
		b.field(a.Email)
		b.field(a.URL)
	}
}

func (b *keyBuffer) enclosures(enclosures []Enclosure) {
	b.number(int64(len(enclosures)))
	for _, e := range enclosures {
		b.field(e.URL)
		b.field(e.Type)
		b.number(e.Length)
	}
}

// key hashes the encoded fields with both seeds.
func (b keyBuffer) key() memoKey {
	return memoKey{maphash.Bytes(hashMemoSeeds[0], b), maphash.Bytes(hashMemoSeeds[1], b)}
}
