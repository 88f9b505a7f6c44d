package feeds

// storyWindow is the part of a channel's stories that its documents list.
type storyWindow struct {
	// size is the max number of stories. 0 or less keeps all of them.
	size int
	// perPartner is the max number of stories whose shown item comes from
	// one partner. 0 or less places no cap.
	perPartner int
}

// apply returns the stories of w, taken in order from stories, whose
// elements it may overwrite. It skips a story once the partner of its
// shown item has perPartner stories in w, so one partner that publishes
// many items cannot push the other partners out of a channel. The cap
// costs a map of partner counts and one lookup per story read. Without a
// cap, apply allocates nothing.
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
			continue
		}
		countByPartner[s.Item.Partner]++
		selected = append(selected, s)
	}
	return selected
}
