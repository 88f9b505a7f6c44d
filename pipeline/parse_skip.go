package pipeline

import (
	"encoding/binary"
	"errors"
	"hash/maphash"
	"net/url"
	"slices"
	"time"

	"github.com/mmcdole/gofeed"
)

// A ParseMemo also lets a known item skip gofeed. The segment key of an
// item hashes its bytes, the document's context (see itemLayout) and the
// partner settings. The memo maps the segment key to the raw key of the
// item gofeed read from those bytes, with the dates that identity and
// scheduling read before cleaning. parseKnown cuts the known items out of
// the next document, gofeed reads the rest, and the known items go back
// at their positions. An item that the seen cache does not settle is read
// again alone (rereadItem) before it is cleaned.
//
// Cleaning an item also depends on the feed URL, the document's xml:base
// and the feed language. They are the same for every item of a document,
// so the memo keeps one hash of them (feedKey). A document with another
// hash is read in full. An item's own xml:base is in its bytes, but
// whether it applies depends on the whole document (see findItemBases),
// so feedKey covers that too.

// storedSegment is a segment entry as a memo stores it.
type storedSegment struct {
	item                   memoKey // the item's raw key
	published, updated     span
	publishedAt, updatedAt storedTime
}

// storedTime is a time that gofeed parsed, as Unix seconds and
// nanoseconds. loc is 1 + an index into ParseMemo.locations, or 0 for no
// time.
type storedTime struct {
	sec  int64
	nsec int32
	loc  int32
}

// segmentEntry is the reading of a known item's bytes that the memo
// keeps.
type segmentEntry struct {
	item                   memoKey
	published, updated     string
	publishedAt, updatedAt *time.Time
}

// segmentEntryBytes is the memory of a stored segment entry without its
// strings: 80 bytes of key and value in a map slot (unsafe.Sizeof), and
// the map's load factor.
const segmentEntryBytes = 96

// locationBytes is an estimate of the memory of a fixed zone's
// time.Location with its zone and name, and of its slot in
// ParseMemo.locations.
const locationBytes = 160

func (e *segmentEntry) size() int {
	return segmentEntryBytes + len(e.published) + len(e.updated)
}

// newSegmentEntry returns the segment entry of an item gofeed read.
func newSegmentEntry(item memoKey, d *itemDraft) segmentEntry {
	return segmentEntry{
		item: item, published: d.published, updated: d.updated,
		publishedAt: d.publishedParsed, updatedAt: d.updatedParsed,
	}
}

// segment returns the entry under key.
func (m *ParseMemo) segment(key memoKey) (segmentEntry, bool) {
	s, ok := m.segments[key]
	if !ok {
		return segmentEntry{}, false
	}
	return segmentEntry{
		item: s.item, published: m.spanText(s.published), updated: m.spanText(s.updated),
		publishedAt: m.time(s.publishedAt), updatedAt: m.time(s.updatedAt),
	}, true
}

// putSegment stores e under key. It returns false, storing nothing, when
// a date would not come back as storeTime requires.
func (m *ParseMemo) putSegment(key memoKey, e segmentEntry) bool {
	pub, okPub := m.storeTime(e.publishedAt)
	upd, okUpd := m.storeTime(e.updatedAt)
	if !okPub || !okUpd {
		return false
	}
	if m.segments == nil {
		m.segments = map[memoKey]storedSegment{}
	}
	m.segments[key] = storedSegment{
		item: e.item, published: m.addText(e.published), updated: m.addText(e.updated),
		publishedAt: pub, updatedAt: upd,
	}
	return true
}

func (m *ParseMemo) time(st storedTime) *time.Time {
	if st.loc == 0 {
		return nil
	}
	t := time.Unix(st.sec, int64(st.nsec)).In(m.locations[st.loc-1])
	return &t
}

// storeTime keeps t as its instant and a location that gives the same
// dateString, because cleaning and rawItemKey read nothing else of it.
// UTC and Local stay as they are. Any other location becomes a fixed zone
// of its name and offset at t, since gofeed makes a location for each
// date with an offset and keeping those would keep one per item. It
// returns false when the rebuilt time would differ.
func (m *ParseMemo) storeTime(t *time.Time) (storedTime, bool) {
	if t == nil {
		return storedTime{}, true
	}
	loc := t.Location()
	if loc != time.UTC && loc != time.Local {
		_, offset := t.Zone()
		loc = m.fixedZone(loc.String(), offset)
	}
	rebuilt := time.Unix(t.Unix(), int64(t.Nanosecond())).In(loc)
	if !rebuilt.Equal(*t) || loc != t.Location() && dateString(&rebuilt) != dateString(t) {
		return storedTime{}, false
	}
	n := slices.Index(m.locations, loc)
	if n < 0 {
		n = len(m.locations)
		m.locations = append(m.locations, loc)
	}
	return storedTime{sec: t.Unix(), nsec: int32(t.Nanosecond()), loc: int32(n + 1)}, true
}

// fixedZone returns the memo's fixed zone of that name and offset, or a
// new one.
func (m *ParseMemo) fixedZone(name string, offset int) *time.Location {
	for _, loc := range m.locations {
		if _, off := time.Unix(0, 0).In(loc).Zone(); loc.String() == name && off == offset && loc != time.Local {
			return loc
		}
	}
	return time.FixedZone(name, offset)
}

// maxRereadContext is the largest head plus tail of a document whose
// items may skip gofeed. A channel's own elements usually take a few
// kilobytes.
const maxRereadContext = 32 << 10

// knownItems are the segment keys of a document's items, in document
// order. For a document that parseKnown cut, hits are the items that the
// memo gave.
type knownItems struct {
	keys []memoKey
	hits []*knownItem // nil, or one per key that is nil for an item gofeed read
	// reread is set when some items skipped gofeed.
	reread *rereadSource
}

// knownItem is an item that skipped gofeed.
type knownItem struct {
	segment segmentEntry
	entry   memoEntry
	bytes   []byte
}

// segmentKeys hashes the context once per document and each item's bytes
// after it.
type segmentKeys struct{ context memoKey }

func newSegmentKeys(src Source, context []byte) segmentKeys {
	b := make(keyBuffer, 0, 128+len(context))
	b.rulesAndSource(src)
	b.field(string(context))
	return segmentKeys{context: b.key()}
}

func (s segmentKeys) key(item []byte) memoKey {
	var prefix [16]byte
	binary.LittleEndian.PutUint64(prefix[:8], s.context[0])
	binary.LittleEndian.PutUint64(prefix[8:], s.context[1])
	var k memoKey
	for n, seed := range hashMemoSeeds {
		var h maphash.Hash
		h.SetSeed(seed)
		h.Write(prefix[:])
		h.Write(item)
		k[n] = h.Sum64()
	}
	return k
}

// feedKey hashes the document-wide inputs of an item's reading: the
// feed URL, the document's xml:base, whether its items' own bases were
// ignored (see itemBases) and the feed language.
func feedKey(feedURL *url.URL, bases itemBases, language string) memoKey {
	var b keyBuffer
	b.field(urlString(feedURL))
	b.field(urlString(bases.document))
	ignored := int64(0)
	if bases.ignored {
		ignored = 1
	}
	b.number(ignored)
	b.field(language)
	return b.key()
}

// itemKeys returns the segment keys of a document gofeed read in full,
// or nil when its items cannot be cut out or gofeed did not read as many
// items as findItems found.
func itemKeys(text []byte, src Source, items int) *knownItems {
	layout, ok := findItems(text)
	if !ok || len(layout.items) != items {
		return nil
	}
	keys := newSegmentKeys(src, text[:layout.context])
	known := &knownItems{keys: make([]memoKey, items)}
	for k, it := range layout.items {
		known.keys[k] = keys.key(text[it[0]:it[1]])
	}
	return known
}

// parseKnown parses the text of doc without the items found in the memo
// and fills res as parseFeed does from the whole text. It returns false, leaving
// res unchanged, when the memo has none of the items or when the whole
// text must be read.
func parseKnown(res *ParseResult, doc document, src Source, now time.Time, memo *ParseMemo) bool {
	text, root := doc.text, doc.root
	if len(memo.segments) == 0 {
		return false
	}
	layout, ok := findItems(text)
	if !ok || len(layout.items) == 0 {
		return false
	}
	// Each item that the seen cache does not settle is read again with
	// the head and tail of its document, so a large head makes skipping
	// gofeed cost more than it saves.
	if layout.items[0][0]+len(text)-layout.items[len(layout.items)-1][1] > maxRereadContext {
		return false
	}
	known := lookUpItems(text, layout, src, memo)
	if known == nil {
		return false
	}

	feed, err := parseXMLFeed(cutItems(text, layout, known.hits), root)
	if err != nil || len(feed.Items)+countHits(known.hits) != len(layout.items) {
		return false
	}

	var fields ParseResult
	fillFeedFields(&fields, feed, text)
	feedURL := feedBase(src.FeedURL)
	bases := doc.bases(text, feedURL, len(layout.items))
	itemURL := firstURL(feedURL, parseAbsolute(feed.Link))
	if feedKey(itemURL, bases, fields.Language) != memo.feed {
		return false
	}

	res.Title, res.Link, res.Language, res.Hubs = fields.Title, fields.Link, fields.Language, fields.Hubs
	known.reread = &rereadSource{
		head: text[:layout.items[0][0]], tail: text[layout.items[len(layout.items)-1][1]:],
		language: fields.Language, root: root,
	}
	buildItems(res, feed, src, bases, now, memo, len(text), known)
	return true
}

// lookUpItems returns the segment keys of the items and the items found
// in the memo, or nil when the memo has none of them.
func lookUpItems(text []byte, layout itemLayout, src Source, memo *ParseMemo) *knownItems {
	keys := newSegmentKeys(src, text[:layout.context])
	known := &knownItems{keys: make([]memoKey, len(layout.items)), hits: make([]*knownItem, len(layout.items))}
	found := false
	listed := make(map[memoKey]bool, len(layout.items))
	for k, it := range layout.items {
		item := text[it[0]:it[1]]
		known.keys[k] = keys.key(item)
		if listed[known.keys[k]] {
			// Every repeat of an item is completed to name it in
			// Rejected, and each completion reads the head and tail
			// again, so such a document is read in full.
			return nil
		}
		listed[known.keys[k]] = true
		seg, ok := memo.segment(known.keys[k])
		if !ok {
			continue
		}
		e, ok := memo.entry(seg.item)
		if !ok {
			continue
		}
		known.hits[k] = &knownItem{segment: seg, entry: e, bytes: item}
		found = true
	}
	if !found {
		return nil
	}
	return known
}

// cutItems returns text without the items that hits marks.
func cutItems(text []byte, layout itemLayout, hits []*knownItem) []byte {
	size := len(text)
	for k, it := range layout.items {
		if hits[k] != nil {
			size -= it[1] - it[0]
		}
	}
	out := make([]byte, 0, size)
	last := 0
	for k, it := range layout.items {
		if hits[k] != nil {
			out = append(out, text[last:it[0]]...)
			last = it[1]
		}
	}
	return append(out, text[last:]...)
}

func countHits(hits []*knownItem) int {
	n := 0
	for _, h := range hits {
		if h != nil {
			n++
		}
	}
	return n
}

// draft returns the partial draft of a known item whose xml:base is
// base, as memoEntry.draft does for an item gofeed read, and the source
// for reading it again.
func (h *knownItem) draft(src Source, feedURL *url.URL, from *rereadSource, base *url.URL, now time.Time) *itemDraft {
	raw := &itemDraft{
		published: h.segment.published, updated: h.segment.updated,
		publishedParsed: h.segment.publishedAt, updatedParsed: h.segment.updatedAt,
		base: base,
	}
	d := h.entry.draft(raw, src, feedURL, now)
	d.partial.reread = &rereadItem{from: from, item: h.bytes, base: base}
	return d
}

// rereadSource is the part of a document needed to read one of its known
// items again: the text before its first item and after its last item,
// the language of its items, and its root element.
type rereadSource struct {
	head, tail []byte
	language   string
	root       string
}

// rereadItem is a known item that skipped gofeed, as bytes of the
// document it came from.
//
// NOTE: a partial item keeps the text of its whole document in memory
// until it is completed or dropped.
type rereadItem struct {
	from *rereadSource
	item []byte
	base *url.URL // the item's xml:base, see itemBases
}

// errReread is returned when a known item does not read as exactly one
// item on its own. findItems rules that out.
var errReread = errors.New("known item does not read as one item")

// draft reads the item with gofeed in a document of its own. That
// document has the same text before and after the items as the original,
// so gofeed reads the item in the same context.
func (r *rereadItem) draft() (*itemDraft, error) {
	doc := make([]byte, 0, len(r.from.head)+len(r.item)+len(r.from.tail))
	doc = append(append(append(doc, r.from.head...), r.item...), r.from.tail...)
	feed, err := parseXMLFeed(doc, r.from.root)
	if err != nil {
		return nil, err
	}
	if len(feed.Items) != 1 || feed.Items[0] == nil {
		return nil, errReread
	}
	return rereadDraft(feed.Items[0], r.from, r.base), nil
}

func rereadDraft(fi *gofeed.Item, from *rereadSource, base *url.URL) *itemDraft {
	d := draftFromGofeed(fi, base)
	if d.Language == "" {
		d.Language = from.language
	}
	return d
}
