package pipeline

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/mmcdole/gofeed"
	ext "github.com/mmcdole/gofeed/extensions"
)

// buildItems normalises every item into res, assigns identities and
// drops items whose key repeats an earlier one. With a memo, an item
// found in the memo is not cleaned again (see ParseMemo), and res.Memo
// receives the entries of this document. known, when not nil, gives the
// segment keys of the document's items, and the items that skipped
// gofeed: feed.Items then holds the others, in order. bases gives the
// xml:base of each item.
func buildItems(res *ParseResult, feed *gofeed.Feed, src Source, bases itemBases, now time.Time, memo *ParseMemo, docSize int, known *knownItems) {
	feedURL := firstURL(feedBase(src.FeedURL), parseAbsolute(feed.Link))
	language := res.Language
	count := len(feed.Items)
	if known != nil {
		count = len(known.keys)
	}
	var next memoBuilder
	if memo != nil {
		// The budget keeps at most this many entries, so a document of
		// many tiny items does not size the map for entries it drops.
		hint := min(count, (docSize+minMemoBudget)/memoEntryBytes)
		res.Memo = &ParseMemo{entries: make(map[memoKey]storedEntry, hint), feed: feedKey(feedURL, bases, language)}
		next = memoBuilder{memo: res.Memo, budget: docSize + minMemoBudget}
	}
	var drafts []*itemDraft
	var indexes []int
	read := 0
	for k := range count {
		if known != nil && known.hits != nil && known.hits[k] != nil {
			h := known.hits[k]
			next.add(h.segment.item, h.entry)
			next.addSegment(known.keys[k], h.segment)
			drafts = append(drafts, h.draft(src, feedURL, known.reread, bases.of(k), now))
			indexes = append(indexes, k)
			continue
		}
		fi := feed.Items[read]
		read++
		if fi == nil {
			continue
		}
		d := draftFromGofeed(fi, bases.of(k))
		if d.Language == "" {
			d.Language = language
		}
		var key memoKey
		if memo != nil {
			key = rawItemKey(d, src, feedURL)
			if e, ok := memo.entry(key); ok {
				next.add(key, e)
				next.addKnown(known, k, key, d)
				drafts = append(drafts, e.draft(d, src, feedURL, now))
				indexes = append(indexes, k)
				continue
			}
		}
		it, err := cleanItem(d, src, feedURL, now)
		if err != nil {
			res.Rejected = append(res.Rejected, itemError(k, d, err))
			continue
		}
		d.Item = it
		signDraft(d)
		if memo != nil {
			if e, ok := newMemoEntry(d, src); ok {
				next.add(key, e)
				next.addKnown(known, k, key, d)
			}
		}
		drafts = append(drafts, d)
		indexes = append(indexes, k)
	}
	res.RepeatedGUIDs = repeatsGUID(drafts)
	flagSharedLinks(drafts, homeURLs(feed.Link, src.FeedURL))
	assignIdentity(res, drafts, indexes, src, homeURLs(feed.Link, src.FeedURL))
}

// addKnown keeps the segment entry of item k, which gofeed read, when
// the document's segment keys are known.
func (b *memoBuilder) addKnown(known *knownItems, k int, key memoKey, d *itemDraft) {
	if known != nil {
		b.addSegment(known.keys[k], newSegmentEntry(key, d))
	}
}

// assignIdentity sets the ID of every draft and keeps the first item of
// each key.
func assignIdentity(res *ParseResult, drafts []*itemDraft, indexes []int, src Source, home []string) {
	linkKeys := src.LinkKeys || res.RepeatedGUIDs
	dropUnreliableLinks(drafts, linkKeys, home)
	first := make(map[string]int, len(drafts))
	res.Items = slices.Grow(res.Items, len(drafts))
	for n, d := range drafts {
		key := draftKey(d, src, linkKeys)
		if k, seen := first[key]; seen {
			// The error names the item by its clean fields, which an item
			// from the memo does not carry yet.
			_ = d.Item.complete()
			err := fmt.Errorf("%w: same identity as item %d", ErrInvalidItem, k)
			res.Rejected = append(res.Rejected, itemError(indexes[n], d, err))
			continue
		}
		first[key] = indexes[n]
		d.ID = ItemID(src.Partner, key)
		res.Items = append(res.Items, d.Item)
	}
}

// draftKey returns the identity key of a cleaned draft, using the text
// key a parse memo supplied when the item has neither GUID nor link key.
func draftKey(d *itemDraft, src Source, linkKeys bool) string {
	in := draftIdentity(d, &d.Item, src)
	if key, ok := directKey(in, linkKeys); ok {
		return key
	}
	if d.textKey != "" {
		return d.textKey
	}
	return textKey(in)
}

// dropUnreliableLinks clears the link key of items that would be keyed by
// link when the link cannot tell them apart: it is the feed's own URL or
// home page, or it is shared with an item of another title in this
// document (many feeds link every item to one news page). Those items fall
// back to the hash key.
//
// NOTE: the decision is per document, so an item whose shared link later
// becomes unique in a shorter document changes its key once.
func dropUnreliableLinks(drafts []*itemDraft, linkKeys bool, home []string) {
	titles := map[string]map[uint64]bool{}
	for _, d := range drafts {
		if d.GUID != "" && !linkKeys || d.linkKey == "" {
			continue
		}
		if titles[d.linkKey] == nil {
			titles[d.linkKey] = map[uint64]bool{}
		}
		titles[d.linkKey][d.textSig] = true
	}
	for _, d := range drafts {
		if len(titles[d.linkKey]) > 1 || slices.Contains(home, d.URL) {
			d.linkKey = ""
		}
	}
}

// flagSharedLinks sets FlagLinkShared on every item whose link is a home
// page or names items of different titles in this document.
func flagSharedLinks(drafts []*itemDraft, home []string) {
	titles := map[string]map[uint64]bool{}
	for _, d := range drafts {
		if d.URL == "" {
			continue
		}
		if titles[d.URL] == nil {
			titles[d.URL] = map[uint64]bool{}
		}
		titles[d.URL][d.titleSig] = true
	}
	for _, d := range drafts {
		if d.URL != "" && (len(titles[d.URL]) > 1 || slices.Contains(home, d.URL)) {
			d.Flags = addFlag(d.Flags, FlagLinkShared)
		}
	}
}

// repeatsGUID reports whether one GUID names two different items, told
// apart by link or title. An item listed twice
// verbatim does not count: it is a duplicate, not a broken GUID scheme.
func repeatsGUID(drafts []*itemDraft) bool {
	seen := map[string]*itemDraft{}
	for _, d := range drafts {
		if d.GUID == "" {
			continue
		}
		key := guidKey(d.GUID)
		prev, ok := seen[key]
		if !ok {
			seen[key] = d
			continue
		}
		if prev.linkKey != d.linkKey || prev.titleSig != d.titleSig {
			return true
		}
	}
	return false
}

// homeURLs returns the canonical feed URL and home page, which never
// identify a single item.
func homeURLs(links ...string) []string {
	var out []string
	for _, l := range links {
		if c, err := CanonicalURL(l, nil); err == nil {
			out = append(out, c)
		}
	}
	return out
}

func itemError(index int, d *itemDraft, err error) ItemError {
	return ItemError{
		Index: index,
		GUID:  stripIllegal(strings.TrimSpace(d.GUID)),
		Link:  stripIllegal(strings.TrimSpace(d.URL)),
		Title: stripTextControls(plainTitle(d.Title)),
		Err:   err,
	}
}

// draftFromGofeed copies a gofeed item into a draft without cleaning it.
func draftFromGofeed(fi *gofeed.Item, xmlBase *url.URL) *itemDraft {
	d := &itemDraft{
		published: fi.Published, publishedParsed: fi.PublishedParsed,
		updated: fi.Updated, updatedParsed: fi.UpdatedParsed,
		base: xmlBase,
	}
	d.GUID = fi.GUID
	d.Title = fi.Title
	d.URL = fi.Link
	if d.URL == "" && len(fi.Links) > 0 {
		d.URL = fi.Links[0]
	}
	d.Alternates = fi.Links
	d.Summary = fi.Description
	d.Content = fi.Content
	d.Categories = fi.Categories
	if fi.DublinCoreExt != nil && len(fi.DublinCoreExt.Language) > 0 {
		d.Language = fi.DublinCoreExt.Language[0]
	}
	for _, p := range fi.Authors {
		if p != nil {
			d.Authors = append(d.Authors, Author{Name: p.Name, Email: p.Email})
		}
	}
	for _, e := range fi.Enclosures {
		if e != nil {
			d.Enclosures = append(d.Enclosures, Enclosure{URL: e.URL, Type: e.Type, Length: parseLength(e.Length)})
		}
	}
	d.Image = itemImage(fi)
	return d
}

// itemImage returns the raw URL of the item image: the item's own image,
// else a Media RSS thumbnail or image, else the iTunes episode image.
func itemImage(fi *gofeed.Item) string {
	if fi.Image != nil && strings.TrimSpace(fi.Image.URL) != "" {
		return fi.Image.URL
	}
	if img := mediaImage(fi.Extensions["media"]); img != "" {
		return img
	}
	if fi.ITunesExt != nil {
		return fi.ITunesExt.Image
	}
	return ""
}

// mediaImage looks for media:thumbnail, then media:content of an image
// type, at the top level and inside media:group.
func mediaImage(media map[string][]ext.Extension) string {
	if media == nil {
		return ""
	}
	for _, t := range media["thumbnail"] {
		if u := t.Attrs["url"]; u != "" {
			return u
		}
	}
	for _, c := range media["content"] {
		isImage := c.Attrs["medium"] == "image" || strings.HasPrefix(c.Attrs["type"], "image/")
		if u := c.Attrs["url"]; u != "" && isImage {
			return u
		}
	}
	for _, g := range media["group"] {
		if img := mediaImage(g.Children); img != "" {
			return img
		}
	}
	return ""
}
