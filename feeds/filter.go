package feeds

import (
	"strings"

	"github.com/syndic-network/syndic/pipeline"
)

// Filter selects the entries of a channel. An empty list places no
// restriction; a non-empty list keeps an entry when any value matches, and
// an entry must pass every non-empty list.
type Filter struct {
	// Partners are partner ids, compared exactly.
	Partners []string
	// Languages are BCP 47 tags, compared without regard to case. A tag also
	// matches its subtags, so "en" keeps "en-GB"; "en-GB" keeps only "en-GB".
	Languages []string
	// Categories are compared without regard to case.
	Categories []string
	// Keywords keep an entry whose title, summary, categories or content
	// text contain at least one of them as a whole word or phrase, without
	// regard to case.
	Keywords []string
	// ExcludeKeywords drop an entry that contains any of them, matched like
	// Keywords. Exclusion wins over every other list.
	ExcludeKeywords []string
	// Terms keep an entry only when it contains every one of them, matched
	// like Keywords. Search queries use it.
	Terms []string
}

// Channel is one merged feed served by the handler.
type Channel struct {
	// ID is the path segment: /feeds/{ID}.rss.
	ID          string
	Title       string
	Description string
	// Language is the feed-level language tag. When empty and the filter
	// names exactly one language, that language is used.
	Language string
	// MaxItems caps the entries in a document; 0 or less means the whole
	// view window.
	MaxItems int
	// MaxItemsPerPartner is the max number of entries whose shown item
	// comes from one partner. 0 or less places no cap. View.ChannelStories
	// applies it.
	MaxItemsPerPartner int
	Filter             Filter
}

// language returns the feed-level language of the channel.
func (c Channel) language() string {
	if c.Language != "" {
		return c.Language
	}
	if len(c.Filter.Languages) == 1 {
		return c.Filter.Languages[0]
	}
	return ""
}

// Match reports whether ev passes every non-empty list of f.
func (f Filter) Match(ev pipeline.Event) bool {
	m := f.compile()
	return m.match(ev, m.searchTextOf(ev))
}

// matcher is a Filter with its words folded once, so that a View can test
// every entry against it without folding the words again.
type matcher struct {
	f        Filter
	keywords []string
	exclude  []string
	terms    []string
}

func (f Filter) compile() matcher {
	return matcher{
		f:        f,
		keywords: foldAll(f.Keywords),
		exclude:  foldAll(f.ExcludeKeywords),
		terms:    foldAll(f.Terms),
	}
}

// isEmpty reports whether m keeps every entry.
func (m matcher) isEmpty() bool {
	f := m.f
	return len(f.Partners)+len(f.Languages)+len(f.Categories) == 0 && !m.needsText()
}

// needsText reports whether match reads the search text, so callers can
// skip building it.
func (m matcher) needsText() bool {
	return len(m.keywords)+len(m.exclude)+len(m.terms) > 0
}

func (m matcher) searchTextOf(ev pipeline.Event) string {
	if !m.needsText() {
		return ""
	}
	return searchText(ev)
}

// match reports whether ev passes. text is searchText(ev), and may be empty
// when needsText is false.
func (m matcher) match(ev pipeline.Event, text string) bool {
	f := m.f
	if len(f.Partners) > 0 && !containsExact(f.Partners, ev.Partner) {
		return false
	}
	if len(f.Languages) > 0 && !matchesLanguage(f.Languages, ev.Language) {
		return false
	}
	if len(f.Categories) > 0 && !sharesCategory(f.Categories, ev.Categories) {
		return false
	}
	if len(m.exclude) > 0 && containsAnyWord(text, m.exclude) {
		return false
	}
	if len(m.keywords) > 0 && !containsAnyWord(text, m.keywords) {
		return false
	}
	return containsEveryWord(text, m.terms)
}

func containsExact(list []string, v string) bool {
	for _, s := range list {
		if s == v {
			return true
		}
	}
	return false
}

func matchesLanguage(tags []string, lang string) bool {
	if lang == "" {
		return false
	}
	for _, tag := range tags {
		if strings.EqualFold(tag, lang) {
			return true
		}
		prefix := tag + "-"
		if len(lang) > len(prefix) && strings.EqualFold(lang[:len(prefix)], prefix) {
			return true
		}
		// An item tagged only "en" may well be British English, so a
		// filter for "en-GB" keeps it rather than dropping every item
		// whose feed gave no region.
		if prefix := lang + "-"; len(tag) > len(prefix) && strings.EqualFold(tag[:len(prefix)], prefix) {
			return true
		}
	}
	return false
}

func sharesCategory(want, have []string) bool {
	for _, w := range want {
		for _, h := range have {
			if strings.EqualFold(strings.TrimSpace(w), strings.TrimSpace(h)) {
				return true
			}
		}
	}
	return false
}
