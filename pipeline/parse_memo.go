package pipeline

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash/maphash"
	"net/url"
	"slices"
	"strings"
	"time"
)

// A changed feed document usually contains a few new items and many
// known ones. Cleaning an item (sanitising its HTML, pulling out its text,
// canonical URLs, language, content hash) costs more than parsing it.
// A ParseMemo lets the next document of the same feed skip cleaning an
// item whose raw fields did not change. Such an item comes out with the
// identity, content hash and dates that cleaning gave it. IngestBatch
// needs no more to find it in the seen cache. An item the seen cache
// does not settle is cleaned in full before it goes further, so the
// memo never decides what is published. It only saves work.

// ParseMemo is what cleaning made of each item of one feed's last
// document, keyed by a hash of the item as gofeed read it and of every
// other input of cleaning. The zero value is an empty memo. A memo is not
// changed once its parse returns, so concurrent parses may read it, and
// each parse returns a new one in ParseResult.Memo.
type ParseMemo struct {
	// entries and segments contain no pointers, so the garbage collector
	// does not scan them. Their strings are spans of text.
	entries  map[memoKey]storedEntry
	segments map[memoKey]storedSegment
	// locations are the locations of the segments' dates, each once.
	locations []*time.Location
	// feed is the feedKey of the document that gave the memo.
	feed memoKey
	text []byte
}

// span is a string of a memo entry: its position and length in the
// memo's text.
type span struct{ off, n uint32 }

// storedEntry is a memoEntry as a memo stores it.
type storedEntry struct {
	guid, url, link      span
	linkIsURL            bool
	textKey, contentHash [sha256.Size]byte
	rules                int32
	titleSig, textSig    uint64
}

// entry returns the entry under key.
func (m *ParseMemo) entry(key memoKey) (memoEntry, bool) {
	s, ok := m.entries[key]
	if !ok {
		return memoEntry{}, false
	}
	return memoEntry{
		guid: m.spanText(s.guid), url: m.spanText(s.url), link: m.spanText(s.link),
		linkIsURL: s.linkIsURL, textKey: s.textKey, contentHash: s.contentHash,
		rules: int(s.rules), titleSig: s.titleSig, textSig: s.textSig,
	}, true
}

// put stores e under key, its strings appended to the memo's text.
func (m *ParseMemo) put(key memoKey, e memoEntry) {
	m.entries[key] = storedEntry{
		guid: m.addText(e.guid), url: m.addText(e.url), link: m.addText(e.link),
		linkIsURL: e.linkIsURL, textKey: e.textKey, contentHash: e.contentHash,
		rules: int32(e.rules), titleSig: e.titleSig, textSig: e.textSig,
	}
}

// spanText returns the string that sp marks in the memo's text.
func (m *ParseMemo) spanText(sp span) string { return string(m.text[sp.off : sp.off+sp.n]) }

// addText appends s to the memo's text and returns its span.
func (m *ParseMemo) addText(s string) span {
	sp := span{off: uint32(len(m.text)), n: uint32(len(s))}
	m.text = append(m.text, s...)
	return sp
}

// Len returns the number of items in the memo.
func (m *ParseMemo) Len() int {
	if m == nil {
		return 0
	}
	return len(m.entries)
}

// ParseFeedMemo is ParseFeed for a feed whose last document gave memo
// (an empty memo for the first). Items found in the memo are partial:
// they carry their ID, content hash and dates. IngestBatch and Ingest
// clean them in full when the seen cache does not already contain their
// hash, so their results equal ParseFeed's. Pass the items to those two
// only. ParseResult.Memo is the memo for the next document.
func ParseFeedMemo(body []byte, contentType string, src Source, now time.Time, memo *ParseMemo) (*ParseResult, error) {
	if memo == nil {
		memo = &ParseMemo{}
	}
	return parseFeed(body, contentType, src, now, memo)
}

// memoEntry is the part of one cleaned item that the identity rules and
// the checks across a document's items read, with its content hash. The
// hashes are kept as bytes and the link key only when it differs from the
// link, because a memo holds an entry for every item of every polled feed.
type memoEntry struct {
	guid, url   string
	link        string // the link key, when linkIsURL is false
	linkIsURL   bool
	textKey     [sha256.Size]byte // hash of the identity key from title, summary and date
	contentHash [sha256.Size]byte
	rules       int
	titleSig    uint64
	textSig     uint64
}

// newMemoEntry returns the memo entry of a cleaned draft, and false when
// its content hash is not the hex of a SHA-256.
func newMemoEntry(d *itemDraft, src Source) (memoEntry, bool) {
	e := memoEntry{
		guid: strings.Clone(d.GUID), url: strings.Clone(d.URL),
		linkIsURL: d.linkKey == d.URL,
		textKey:   textSum(draftIdentity(d, &d.Item, src)),
		rules:     d.RulesVersion,
		titleSig:  d.titleSig, textSig: d.textSig,
	}
	if !e.linkIsURL {
		e.link = strings.Clone(d.linkKey)
	}
	n, err := hex.Decode(e.contentHash[:], []byte(d.ContentHash))
	return e, err == nil && n == sha256.Size && len(d.ContentHash) == 2*sha256.Size
}

// memoEntryBytes is the memory of a stored memo entry without its
// strings: the struct and its map slot, an estimate from unsafe.Sizeof
// and the map's load factor.
const memoEntryBytes = 144

// maxMemoEntryBytes is the largest memo entry kept. A GUID or link key
// that makes an entry larger is rare, and its item is cleaned again.
const maxMemoEntryBytes = 1024

// size returns the estimated memory of the entry.
func (e *memoEntry) size() int {
	return memoEntryBytes + len(e.guid) + len(e.url) + len(e.link)
}

// bytes returns the estimated memory of the memo's entries.
func (m *ParseMemo) bytes() int {
	return len(m.entries)*memoEntryBytes + len(m.segments)*segmentEntryBytes +
		len(m.locations)*locationBytes + len(m.text)
}

// Bytes returns an estimate of the memory the memo takes, 0 for nil.
func (m *ParseMemo) Bytes() int {
	if m == nil {
		return 0
	}
	return m.bytes()
}

// minMemoBudget is added to a document's size to make its memo budget, so
// a short document of short items keeps an entry for each.
const minMemoBudget = 64 << 10

// memoBuilder fills the memo for the next document within a budget of
// the document's own size plus minMemoBudget, so a document of many tiny
// items or of huge GUIDs cannot make its memo much larger than itself.
type memoBuilder struct {
	memo   *ParseMemo
	budget int
}

// add keeps e under key when it fits the budget. An item listed twice
// in a document is kept once.
func (b *memoBuilder) add(key memoKey, e memoEntry) {
	if _, ok := b.memo.entries[key]; ok {
		return
	}
	if n := e.size(); n <= maxMemoEntryBytes && n <= b.budget {
		b.budget -= n
		b.memo.put(key, e)
	}
}

// addSegment keeps e under key when it fits the budget and the memo
// kept the entry of its item.
func (b *memoBuilder) addSegment(key memoKey, e segmentEntry) {
	if _, ok := b.memo.segments[key]; ok {
		return
	}
	if _, ok := b.memo.entries[e.item]; !ok {
		return
	}
	// Each of the two dates may add a location, which the budget pays
	// for as well.
	locations := len(b.memo.locations)
	if n := e.size(); n <= maxMemoEntryBytes && n+2*locationBytes <= b.budget && b.memo.putSegment(key, e) {
		b.budget -= n + (len(b.memo.locations)-locations)*locationBytes
	}
}

func (e *memoEntry) linkKey() string {
	if e.linkIsURL {
		return e.url
	}
	return e.link
}

// draft returns the cleaned draft of raw from the memo entry. Dates are
// resolved again, since a missing date becomes the time of this fetch.
func (e *memoEntry) draft(raw *itemDraft, src Source, feedURL *url.URL, now time.Time) *itemDraft {
	d := &itemDraft{
		published: raw.published, updated: raw.updated,
		publishedParsed: raw.publishedParsed, updatedParsed: raw.updatedParsed,
		base:    raw.base,
		linkKey: e.linkKey(), textKey: textKeyOf(e.textKey),
		titleSig: e.titleSig, textSig: e.textSig,
	}
	d.Item = Item{
		Partner: src.Partner, Feed: src.Feed, FeedURL: src.FeedURL,
		GUID: e.guid, URL: e.url,
		ContentHash: hex.EncodeToString(e.contentHash[:]), RulesVersion: e.rules,
		partial: &rawItem{draft: *raw, src: src, feedURL: feedURL, now: now},
	}
	applyDates(&d.Item, raw, src.Location, now)
	return d
}

// rawItem is an item as gofeed read it, with what cleaning it needs.
type rawItem struct {
	draft   itemDraft
	src     Source
	feedURL *url.URL
	now     time.Time
	// reread is set for an item that skipped gofeed: draft then holds
	// only its dates, and the item is read again before cleaning.
	reread *rereadItem
}

// complete cleans an item a ParseMemo supplied, keeping the ID, the
// shared-link flag and the backfill mark set after the parse. It does
// nothing for an item that is already complete.
func (it *Item) complete() error {
	raw := it.partial
	if raw == nil {
		return nil
	}
	d := raw.draft
	if raw.reread != nil {
		read, err := raw.reread.draft()
		if err != nil {
			return fmt.Errorf("reading item %s again: %w", it.ID, err)
		}
		d = *read
	}
	full, err := cleanItem(&d, raw.src, raw.feedURL, raw.now)
	if err != nil {
		return fmt.Errorf("cleaning item %s again: %w", it.ID, err)
	}
	full.ID = it.ID
	if slices.Contains(it.Flags, FlagLinkShared) {
		full.Flags = addFlag(full.Flags, FlagLinkShared)
	}
	full.Backfill = it.Backfill
	*it = full
	return nil
}

var signSeed = maphash.MakeSeed()

// signDraft sets the title and text hashes of a cleaned draft. Two items
// of one document with different titles get equal hashes with a chance
// of about 2^-64, and the seed is chosen per process.
func signDraft(d *itemDraft) {
	var h maphash.Hash
	h.SetSeed(signSeed)
	h.WriteString(d.Title)
	d.titleSig = h.Sum64()
	h.WriteByte(0)
	h.WriteString(d.Summary)
	d.textSig = h.Sum64()
}

// rawItemKey hashes every input of cleanItem and of the item's identity:
// the raw fields, the partner settings, the feed URL, the xml:base and
// the rules version. Fields are written after their lengths, so no two
// different items give the same bytes.
func rawItemKey(d *itemDraft, src Source, feedURL *url.URL) memoKey {
	b := make(keyBuffer, 0, 512+len(d.Title)+len(d.Summary)+len(d.Content))
	b.rulesAndSource(src)
	b.field(urlString(feedURL))
	b.field(urlString(d.base))

	b.field(d.GUID)
	b.field(d.Title)
	b.field(d.URL)
	b.list(d.Alternates)
	b.field(d.Summary)
	b.field(d.Content)
	b.list(d.Categories)
	b.field(d.Language)
	b.authors(d.Authors)
	b.enclosures(d.Enclosures)
	b.field(d.Image)
	b.field(d.published)
	b.field(d.updated)
	b.field(dateString(d.publishedParsed))
	b.field(dateString(d.updatedParsed))
	return b.key()
}

func locationName(loc *time.Location) string {
	if loc == nil {
		return ""
	}
	return loc.String()
}

func urlString(u *url.URL) string {
	if u == nil {
		return ""
	}
	return u.String()
}

// dateString returns t with its zone name, or "" for nil.
func dateString(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.Format(time.RFC3339Nano) + " " + t.Location().String()
}
