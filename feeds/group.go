package feeds

import (
	"strings"

	"github.com/syndic-network/syndic/pipeline"
)

// Story is one entry of a merged feed: the item shown and the other copies
// of the same story in the same language that it stands for.
type Story struct {
	Item pipeline.Event
	// Copies are the other items of the item's cluster and language that
	// passed the same filters, oldest ingested first. Readers see them as
	// rel="via" links.
	Copies []pipeline.Event
	// shownRank is the number of Copies ingested before Item, so Item and
	// Copies can be merged back into ingest order when another copy is
	// shown in Item's place.
	shownRank int
}

// groupKey returns the key that puts copies of one story together: the
// cluster id and the language, so translations stay separate entries. An
// item without a cluster is a group of its own.
func groupKey(ev pipeline.Event) string {
	if ev.ClusterID == "" {
		return "id\x00" + ev.ID
	}
	return "cluster\x00" + ev.ClusterID + "\x00" + strings.ToLower(ev.Language)
}

// storyKeys returns the group key of each entry of sorted: its groupKey,
// except that entries sharing a canonical URL share one key even when the
// pipeline put them in different clusters (two partners citing one page).
// A merged feed then lists each URL once, and the other partners' items
// stay visible as copies instead of being dropped.
func storyKeys(sorted []viewEntry) []string {
	alias := make(map[string]string)
	resolve := func(k string) string {
		for {
			next, ok := alias[k]
			if !ok || next == k {
				return k
			}
			k = next
		}
	}
	byURL := make(map[string]string)
	keys := make([]string, len(sorted))
	for i, e := range sorted {
		k := resolve(groupKey(e.ev))
		if u := e.ev.URL; u != "" {
			if owner, ok := byURL[u]; !ok {
				byURL[u] = k
			} else if o := resolve(owner); o != k {
				alias[k] = o
				k = o
			}
		}
		keys[i] = k
	}
	for i := range keys {
		keys[i] = resolve(keys[i])
	}
	return keys
}

// groupStories folds sorted entries into stories, keeping the display order
// of each story's shown item. The shown item is the item of the partner
// that owns the domain of its link when there is one, then the cluster's
// origin (no DuplicateOf), then the copy ingested first. The pipeline makes
// the first copy it receives the origin, so without the owner rule a partner
// that pushes another partner's link first would take over the story.
// Grouping runs on entries that already passed the filters, so a story is
// never hidden because its shown copy was filtered out.
func groupStories(sorted []viewEntry, owners PartnerDomains) []Story {
	keys := storyKeys(sorted)
	shown := make(map[string]viewEntry, len(sorted))
	owned := make(map[string]bool, len(sorted))
	for i, e := range sorted {
		own := owners.ownsLink(e.ev)
		cur, ok := shown[keys[i]]
		if !ok || prefersShown(e, own, cur, owned[keys[i]]) {
			shown[keys[i]] = e
			owned[keys[i]] = own
		}
	}
	index := make(map[string]int, len(shown))
	out := make([]Story, 0, len(shown))
	for i, e := range sorted {
		if shown[keys[i]].ev.ID == e.ev.ID {
			index[keys[i]] = len(out)
			out = append(out, Story{Item: e.ev})
		}
	}
	copies := make(map[string][]viewEntry)
	for i, e := range sorted {
		if shown[keys[i]].ev.ID != e.ev.ID {
			copies[keys[i]] = append(copies[keys[i]], e)
		}
	}
	for k, list := range copies {
		sortByIngest(list)
		s := &out[index[k]]
		for _, e := range list {
			s.Copies = append(s.Copies, e.ev)
			if e.firstSeq < shown[k].firstSeq {
				s.shownRank++
			}
		}
	}
	return out
}

// prefersShown reports whether a should be shown in place of b. aOwned
// and bOwned tell whether each item's partner owns the domain of its link.
func prefersShown(a viewEntry, aOwned bool, b viewEntry, bOwned bool) bool {
	if aOwned != bOwned {
		return aOwned
	}
	aOrigin, bOrigin := a.ev.DuplicateOf == "", b.ev.DuplicateOf == ""
	if aOrigin != bOrigin {
		return aOrigin
	}
	return a.firstSeq < b.firstSeq
}

func sortByIngest(list []viewEntry) {
	for i := 1; i < len(list); i++ {
		for j := i; j > 0 && list[j].firstSeq < list[j-1].firstSeq; j-- {
			list[j], list[j-1] = list[j-1], list[j]
		}
	}
}

// items returns the shown item of each story.
func items(stories []Story) []pipeline.Event {
	out := make([]pipeline.Event, len(stories))
	for i, s := range stories {
		out[i] = s.Item
	}
	return out
}
