package feeds

import (
	"slices"

	"github.com/syndic-network/syndic/pipeline"
)

// storyWindow is the part of a channel's stories that its documents list.
type storyWindow struct {
	// size is the max number of stories. 0 or less keeps all of them.
	size int
	// perPartner is the max number of stories whose shown item comes from
	// one partner. 0 or less places no cap.
	perPartner int
}

// apply returns the stories of w, taken in order from stories, whose
// elements it may overwrite. Each story counts for the partner of its
// shown item. When that partner already has perPartner stories in w, the
// story is shown by a copy whose partner is under the cap instead (see
// underCapCopy) and counts for that partner, and it keeps its place. A
// story is skipped only when every copy's partner is at the cap. So one
// partner that publishes many items cannot push the other partners out of
// a channel, nor hide another partner's item by publishing a copy of it.
// The cap costs a map of partner counts and one lookup per story read.
// Without a cap, apply allocates nothing.
func (w storyWindow) apply(stories []Story) []Story {
	if w.perPartner <= 0 || (w.size > 0 && w.perPartner >= w.size) {
		return capStories(stories, w.size)
	}
	countByPartner := make(map[string]int)
	selected := stories[:0]
	for _, s := range stories {
		if w.size > 0 && len(selected) == w.size {
			break
		}
		if countByPartner[s.Item.Partner] >= w.perPartner {
			i := underCapCopy(s, countByPartner, w.perPartner)
			if i < 0 {
				continue
			}
			s = s.shownByCopy(i)
		}
		countByPartner[s.Item.Partner]++
		selected = append(selected, s)
	}
	return selected
}

// underCapCopy returns the index in s.Copies of the copy to show in place
// of s.Item. It picks among the copies whose partner has fewer than limit
// stories in countByPartner, and prefers an origin (no DuplicateOf), then
// the copy ingested first, which is groupStories' order after its link
// owner rule. It returns -1 when every copy's partner is at the limit.
func underCapCopy(s Story, countByPartner map[string]int, limit int) int {
	first := -1
	for i, c := range s.Copies {
		if countByPartner[c.Partner] >= limit {
			continue
		}
		if c.DuplicateOf == "" {
			return i
		}
		if first < 0 {
			first = i
		}
	}
	return first
}

// shownByCopy returns s shown by its copy i. The old shown item becomes a
// copy, and Copies stay in ingest order. It leaves s.Copies unchanged.
func (s Story) shownByCopy(i int) Story {
	copies := make([]pipeline.Event, 0, len(s.Copies))
	copies = append(copies, s.Copies[:i]...)
	copies = append(copies, s.Copies[i+1:]...)
	itemAt, rank := s.shownRank, i+1
	if i < s.shownRank {
		itemAt, rank = s.shownRank-1, i
	}
	return Story{
		Item:      s.Copies[i],
		Copies:    slices.Insert(copies, itemAt, s.Item),
		shownRank: rank,
	}
}
