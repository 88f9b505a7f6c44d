package feeds

import (
	"strings"

	"github.com/syndic-network/syndic/pipeline"
)

// Filter selects the entries of a channel. An empty list places no
// restriction; a non-empty list keeps an entry when any value matches.
type Filter struct {
	// Partners are partner ids, compared exactly.
	Partners []string
	// Languages are BCP 47 tags, compared without regard to case. A tag also
	// matches its subtags, so "en" keeps "en-GB"; "en-GB" keeps only "en-GB".
	Languages []string
	// Categories are compared without regard to case.
	Categories []string
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
	Filter   Filter
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
	if len(f.Partners) > 0 && !containsExact(f.Partners, ev.Partner) {
		return false
	}
	if len(f.Languages) > 0 && !matchesLanguage(f.Languages, ev.Language) {
		return false
	}
	if len(f.Categories) > 0 && !sharesCategory(f.Categories, ev.Categories) {
		return false
	}
	return true
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
