package feeds

import (
	"container/heap"
	"sort"
	"sync"
	"time"

	"github.com/syndic-network/syndic/pipeline"
)

// View is an in-memory window of the newest items of the event stream, built
// by applying events in stream order. It keeps at most window items, one
// revision per item id. When it is full, it evicts the oldest item by
// Published of the partner with the most items. So a partner that sends
// thousands of items pushes out its own old items, not those of partners
// that send a few. A View is safe for concurrent use.
//
// Applying the same events again changes nothing: an event whose revision is
// not above the last one seen for its id is ignored, and an event older than
// an item of its partner already evicted stays out. An evicted id is
// remembered only while one of its revisions is newer than the newest
// evicted item of its partner. So under steady publishing, memory stays
// proportional to the window. Retracted ids are remembered for as long as
// the View lives.
type View struct {
	mu     sync.RWMutex
	window int
	items  map[string]*viewEntry
	// partners holds, per partner id, the heap of its entries whose root is
	// its entry evicted next, and its eviction mark.
	partners map[string]*partnerWindow
	// ranking orders the partner windows for victim.
	ranking ranking
	// tombstones stores the last revision of retracted ids, and of evicted
	// ids that a revision seen could still bring back.
	tombstones map[string]tombstone
	// pruneAt is the number of tombstones at which pruneTombstones scans
	// next, and pruneScans counts its scans.
	pruneAt    int
	pruneScans int
	seq        uint64
	version    uint64
	modified   time.Time
	now        func() time.Time
}

type viewEntry struct {
	ev pipeline.Event
	// firstSeq orders ids by the first time the View accepted them, so that
	// the copy ingested first wins URL de-duplication.
	firstSeq uint64
	index    int
	// text is searchText(ev), built once per revision because keyword
	// filters read it on every render.
	text string
	// newest is the newest key among the id's revisions seen so far. A
	// revision may move the date back, and after an eviction an older
	// revision with the newer date must stay out.
	newest sortKey
	// wasRetracted is whether the id was retracted at an earlier revision.
	wasRetracted bool
}

type tombstone struct {
	revision int
	// key is the newest key among the id's revisions seen so far. Once
	// the partner's mark passes it, the mark rejects all of them.
	key       sortKey
	partner   string
	retracted bool
	// wasRetracted keeps the tombstone from pruning. The mark never
	// rejects a retraction, so only the tombstone stops one applied again.
	wasRetracted bool
}

// partnerWindow is the part of the window that belongs to one partner.
type partnerWindow struct {
	id string
	// rank is the window's index in the View's ranking.
	rank int
	// oldest is a heap whose root is the partner's entry evicted next.
	oldest entryHeap
	// evictedUpTo is the sort key of the newest of the partner's entries
	// evicted or rejected so far, so it only moves forward. An event of
	// the partner at or beyond it is rejected, because in date order it
	// would have left the window before that entry.
	evictedUpTo *sortKey
}

// raise moves the eviction mark to k when k is newer.
func (pw *partnerWindow) raise(k sortKey) {
	if pw.evictedUpTo == nil || k.before(*pw.evictedUpTo) {
		pw.evictedUpTo = &k
	}
}

// passed reports whether k is at or beyond the eviction mark.
func (pw *partnerWindow) passed(k sortKey) bool {
	return pw != nil && pw.evictedUpTo != nil && !k.before(*pw.evictedUpTo)
}

// sortKey is the display order of entries: newest Published first, ties by
// ascending ID.
type sortKey struct {
	published time.Time
	id        string
}

func keyOf(ev pipeline.Event) sortKey {
	return sortKey{published: ev.Published, id: ev.ID}
}

// newer returns whichever of a and b is listed first.
func newer(a, b sortKey) sortKey {
	if b.before(a) {
		return b
	}
	return a
}

// before reports whether a is listed before b.
func (a sortKey) before(b sortKey) bool {
	if !a.published.Equal(b.published) {
		return a.published.After(b.published)
	}
	return a.id < b.id
}

// NewView returns an empty View that keeps at most window items. A window
// below 1 is raised to 1.
func NewView(window int) *View {
	return &View{
		window:     max(window, 1),
		items:      make(map[string]*viewEntry),
		partners:   make(map[string]*partnerWindow),
		tombstones: make(map[string]tombstone),
		now:        time.Now,
	}
}

// Apply folds one event into the view. It keeps the highest Revision per ID,
// removes the id on KindRetracted and ignores events whose revision is not
// above the last one seen. Events without an ID are ignored.
func (v *View) Apply(ev pipeline.Event) {
	if ev.ID == "" {
		return
	}
	v.mu.Lock()
	defer v.mu.Unlock()

	if cur, ok := v.items[ev.ID]; ok {
		cur.newest = newer(cur.newest, keyOf(ev))
		if ev.Revision > cur.ev.Revision {
			v.replace(cur, ev)
		}
		return
	}
	if v.buried(ev) {
		return
	}
	if ev.Kind == pipeline.KindRetracted {
		// The item is outside the window, but archive pages may still
		// list it, so the retraction counts as a change.
		v.retract(ev, v.newestSeen(ev))
		return
	}
	if v.evictsAtOnce(ev) {
		// The mark rejects ev again on a replay, whatever the window
		// contains by then.
		v.partner(ev.Partner).raise(keyOf(ev))
		return
	}
	v.insert(ev)
}

// buried reports whether the tombstone of ev's id has a revision at least
// as high. If so, the tombstone's key becomes the newer of its key and ev's.
func (v *View) buried(ev pipeline.Event) bool {
	g, ok := v.tombstones[ev.ID]
	if !ok || ev.Revision > g.revision {
		return false
	}
	g.key = newer(g.key, keyOf(ev))
	v.tombstones[ev.ID] = g
	return true
}

func (v *View) replace(cur *viewEntry, ev pipeline.Event) {
	pw := v.partner(cur.ev.Partner)
	if ev.Kind == pipeline.KindRetracted {
		heap.Remove(&pw.oldest, cur.index)
		v.reranked(pw)
		delete(v.items, ev.ID)
		v.retract(ev, cur.newest)
		return
	}
	cur.ev = ev
	cur.text = searchText(ev)
	heap.Fix(&pw.oldest, cur.index)
	v.changed(ev)
}

// partner returns the window of partner id, creating it when needed.
func (v *View) partner(id string) *partnerWindow {
	pw, ok := v.partners[id]
	if !ok {
		pw = &partnerWindow{id: id}
		v.partners[id] = pw
		heap.Push(&v.ranking, pw)
	}
	return pw
}

// evictsAtOnce reports whether ev would be the next entry to leave the
// window, so inserting it would change nothing.
func (v *View) evictsAtOnce(ev pipeline.Event) bool {
	k := keyOf(ev)
	pw := v.partners[ev.Partner]
	if pw.passed(k) {
		return true
	}
	if len(v.items) < v.window || v.victim(ev.Partner, 1) != ev.Partner {
		return false
	}
	return pw == nil || len(pw.oldest) == 0 || !k.before(keyOf(pw.oldest[0].ev))
}

func (v *View) newestSeen(ev pipeline.Event) sortKey {
	if g, ok := v.tombstones[ev.ID]; ok {
		return newer(keyOf(ev), g.key)
	}
	return keyOf(ev)
}

func (v *View) insert(ev pipeline.Event) {
	v.seq++
	e := &viewEntry{
		ev: ev, firstSeq: v.seq, text: searchText(ev),
		newest: v.newestSeen(ev), wasRetracted: v.tombstones[ev.ID].wasRetracted,
	}
	delete(v.tombstones, ev.ID)
	v.items[ev.ID] = e
	pw := v.partner(ev.Partner)
	heap.Push(&pw.oldest, e)
	v.reranked(pw)
	for len(v.items) > v.window {
		v.evict(v.partners[v.victim("", 0)])
	}
	v.changed(ev)
}

// evict removes the oldest entry of pw and moves pw's mark to it. The id
// gets a tombstone only when the mark alone would not reject all its
// revisions seen, or when it was retracted before.
func (v *View) evict(pw *partnerWindow) {
	out := heap.Pop(&pw.oldest).(*viewEntry)
	v.reranked(pw)
	delete(v.items, out.ev.ID)
	pw.raise(keyOf(out.ev))
	if out.wasRetracted || !pw.passed(out.newest) {
		v.bury(out.ev.ID, tombstone{
			revision: out.ev.Revision, key: out.newest,
			partner: out.ev.Partner, wasRetracted: out.wasRetracted,
		})
	}
}

// retract records the retraction ev and counts it as a change. It leaves
// the mark alone, because a retraction does not show which dates still
// fit in the window.
func (v *View) retract(ev pipeline.Event, newest sortKey) {
	v.bury(ev.ID, tombstone{
		revision: ev.Revision, key: newest,
		partner: ev.Partner, retracted: true, wasRetracted: true,
	})
	v.changed(ev)
}

// bury stores the tombstone g of an id that left the window, so that an
// older revision applied later cannot bring the id back.
//
// NOTE: g.key covers only the revisions seen so far. After g is pruned,
// an older revision applied for the first time enters if its date is
// newer than the mark.
func (v *View) bury(id string, g tombstone) {
	v.tombstones[id] = g
	v.pruneTombstones()
}

// pruneTombstones drops tombstones that their partner's eviction mark has
// passed, once there are more than twice the window of them. The mark
// rejects those ids anyway. Tombstones of ids ever retracted stay, so that
// archive pages keep leaving them out and a replayed retraction changes
// nothing. A scan may drop few tombstones, so the next one waits until
// they have doubled again. Each scan then follows at least as many new
// tombstones as it reads, which keeps the cost per event constant on
// average.
//
// NOTE: memory grows by one tombstone per retracted id while the process
// runs.
func (v *View) pruneTombstones() {
	if len(v.tombstones) <= max(2*v.window, v.pruneAt) {
		return
	}
	v.pruneScans++
	for id, g := range v.tombstones {
		if !g.wasRetracted && v.partners[g.partner].passed(g.key) {
			delete(v.tombstones, id)
		}
	}
	v.pruneAt = 2 * len(v.tombstones)
}

// changed records a change caused by ev. The modification time is taken
// from the event's ingestion time when it has one, so a process that
// rebuilds the view after a restart reports the same Last-Modified as
// before and conditional requests keep getting 304.
func (v *View) changed(ev pipeline.Event) {
	v.version++
	t := ev.IngestedAt
	if t.IsZero() {
		t = v.now()
	}
	if t.After(v.modified) {
		v.modified = t
	}
}

// Entries returns up to limit entries that pass f, newest first by
// Published with ties broken by ascending ID; a limit of 0 or less returns
// all. Of entries that share a non-empty canonical URL, only the one
// ingested first is listed, and of the copies of one story only the one
// that Stories shows. The events share slices with the View, so
// callers must not modify them.
func (v *View) Entries(f Filter, limit int) []pipeline.Event {
	return v.Narrow(f, limit, Filter{}, 0)
}

// Narrow returns the entries of a channel that also pass query, at most
// limit of them (all when limit is 0 or less), one per story as Stories
// groups them. The channel's entries are the first window stories of
// Entries(channel, window), so a query only selects among the items the
// channel's own feed shows and never reaches older ones.
func (v *View) Narrow(channel Filter, window int, query Filter, limit int) []pipeline.Event {
	return items(v.Stories(channel, window, query, limit))
}

// Stories is Narrow with the copies of each story. Copies of one story in
// one language (the same ClusterID and Language) form one entry, shown by
// the cluster's origin. Grouping follows the filters: the channel's window
// counts stories, and a query selects among every copy in that window
// before grouping again, so a story stays when only a copy matches.
func (v *View) Stories(channel Filter, window int, query Filter, limit int) []Story {
	return v.OwnedStories(nil, channel, window, query, limit)
}

// OwnedStories is Stories where, within each story, the item of the partner
// that owns the domain of its link per owners is shown in place of the
// other copies. A nil owners gives Stories.
func (v *View) OwnedStories(owners PartnerDomains, channel Filter, window int, query Filter, limit int) []Story {
	return v.selectStories(owners, channel, storyWindow{size: window}, query, limit)
}

// ChannelStories is OwnedStories for the channel ch, whose window is its
// first ch.MaxItems stories, where at most ch.MaxItemsPerPartner stories
// show an item of one partner. A story counts for the partner of the item
// it shows. When that partner is at the cap, the story is shown by a copy
// of a partner under the cap, and it is skipped only when every copy's
// partner is at the cap. The query then selects among the window's
// stories. It may show another copy of a story, so a narrowed document can
// list more than the cap for one partner, but never a story outside the
// window.
func (v *View) ChannelStories(owners PartnerDomains, ch Channel, query Filter, limit int) []Story {
	w := storyWindow{size: ch.MaxItems, perPartner: ch.MaxItemsPerPartner}
	return v.selectStories(owners, ch.Filter, w, query, limit)
}

func (v *View) selectStories(owners PartnerDomains, channel Filter, window storyWindow, query Filter, limit int) []Story {
	picked := v.matching(channel.compile())
	sort.Slice(picked, func(i, j int) bool {
		return keyOf(picked[i].ev).before(keyOf(picked[j].ev))
	})
	picked = firstPerURL(picked)
	stories := groupStories(picked, owners)
	selected := window.apply(stories)
	if len(selected) < len(stories) {
		picked = withinStories(picked, selected)
	}
	stories = selected
	q := query.compile()
	if q.isEmpty() {
		return capStories(stories, limit)
	}
	matched := picked[:0:0]
	for _, e := range picked {
		if q.match(e.ev, e.text) {
			matched = append(matched, e)
		}
	}
	return capStories(groupStories(matched, owners), limit)
}

// withinStories keeps the entries that belong to one of stories.
func withinStories(entries []viewEntry, stories []Story) []viewEntry {
	shownIDs := make(map[string]bool, len(stories))
	for _, s := range stories {
		shownIDs[s.Item.ID] = true
	}
	keys := storyKeys(entries)
	keep := make(map[string]bool, len(stories))
	for i, e := range entries {
		if shownIDs[e.ev.ID] {
			keep[keys[i]] = true
		}
	}
	out := make([]viewEntry, 0, len(entries))
	for i, e := range entries {
		if keep[keys[i]] {
			out = append(out, e)
		}
	}
	return out
}

func capStories(stories []Story, limit int) []Story {
	if limit > 0 && len(stories) > limit {
		return stories[:limit]
	}
	return stories
}

// firstPerURL keeps, of one partner's entries that share a non-empty
// canonical URL, the one ingested first, and keeps the order of sorted.
// Copies from different partners are never dropped here: the pipeline
// groups them into clusters at ingest and groupStories shows them as one
// story with its copies, so no partner can hide another's item by
// publishing its URL first.
func firstPerURL(sorted []viewEntry) []viewEntry {
	urlKey := func(ev pipeline.Event) string { return ev.Partner + "\x00" + ev.URL }
	firstByURL := make(map[string]uint64)
	for _, e := range sorted {
		k := urlKey(e.ev)
		if s, ok := firstByURL[k]; e.ev.URL != "" && (!ok || e.firstSeq < s) {
			firstByURL[k] = e.firstSeq
		}
	}
	out := sorted[:0]
	for _, e := range sorted {
		if e.ev.URL == "" || firstByURL[urlKey(e.ev)] == e.firstSeq {
			out = append(out, e)
		}
	}
	return out
}

// matching copies the entries that pass m, so sorting runs without the lock.
func (v *View) matching(m matcher) []viewEntry {
	v.mu.RLock()
	defer v.mu.RUnlock()
	out := make([]viewEntry, 0, len(v.items))
	for _, e := range v.items {
		if m.match(e.ev, e.text) {
			out = append(out, *e)
		}
	}
	return out
}

// Retracted reports whether the view saw id retracted. Archive pages use
// it to leave out items retracted after their page's range.
func (v *View) Retracted(id string) bool {
	v.mu.RLock()
	defer v.mu.RUnlock()
	return v.tombstones[id].retracted
}

// PartnerLen returns the number of items of partner in the window.
func (v *View) PartnerLen(partner string) int {
	v.mu.RLock()
	defer v.mu.RUnlock()
	if pw := v.partners[partner]; pw != nil {
		return len(pw.oldest)
	}
	return 0
}

// Len returns the number of items in the window.
func (v *View) Len() int {
	v.mu.RLock()
	defer v.mu.RUnlock()
	return len(v.items)
}

// Version returns a counter that increases on every change to the window.
// Render caches compare it to decide whether a document is stale.
func (v *View) Version() uint64 {
	v.mu.RLock()
	defer v.mu.RUnlock()
	return v.version
}

// LastModified returns the ingestion time of the newest change, or the
// zero time when nothing was applied yet.
func (v *View) LastModified() time.Time {
	v.mu.RLock()
	defer v.mu.RUnlock()
	return v.modified
}

// entryHeap orders entries so that the root is the last one in display
// order, which is the one to evict.
type entryHeap []*viewEntry

func (h entryHeap) Len() int { return len(h) }

func (h entryHeap) Less(i, j int) bool {
	return keyOf(h[j].ev).before(keyOf(h[i].ev))
}

func (h entryHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index = i
	h[j].index = j
}

func (h *entryHeap) Push(x any) {
	e := x.(*viewEntry)
	e.index = len(*h)
	*h = append(*h, e)
}

func (h *entryHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	e.index = -1
	return e
}
