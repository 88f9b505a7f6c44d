package feeds

import (
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/syndic-network/syndic/pipeline"
)

// PartnerInfo describes a partner organisation for <source> elements and
// author fallbacks.
type PartnerInfo struct {
	Name string
	URL  string
}

// Meta is the feed-level data of one rendered document.
type Meta struct {
	// ID is the channel id. With TagAuthority it forms the feed's tag URI,
	// which is the Atom feed <id>.
	ID          string
	Title       string
	Description string
	// SiteURL is the HTML page the feed describes.
	SiteURL string
	// SelfURL is the URL the document is served from (rel="self").
	SelfURL string
	// HubURL is the WebSub hub of the feed (rel="hub"), empty for none.
	HubURL string
	// Language is a BCP 47 tag such as "en" or "de-CH", empty when the
	// channel mixes languages.
	Language string
	// TagAuthority is the authority part of tag URIs (RFC 4151): a domain
	// the operator controls and a date, such as "example.org,2026-12-04".
	TagAuthority string
	// Updated is when the channel content last changed. When it is zero the
	// renderers use the newest entry date.
	Updated time.Time
	// Partners maps partner ids to display names and home pages.
	Partners map[string]PartnerInfo
	// FeedURLs maps "partner/feed" to the feed's configured URL, for
	// <source>. Feed ids are unique only within one partner.
	FeedURLs map[string]string
	// History holds the RFC 5005 archive links, empty for a document
	// without archives.
	History History
	// Copies maps an entry's item id to the other copies of its story
	// (see Story), which the renderers list as rel="via" links.
	Copies map[string][]pipeline.Event
}

// viaURLs returns the web URLs of the other copies of ev's story, without
// repeats and without ev's own URL.
func (m Meta) viaURLs(ev pipeline.Event) []string {
	var out []string
	seen := map[string]bool{cleanURL(ev.URL): true}
	for _, c := range m.Copies[ev.ID] {
		if u := cleanURL(c.URL); isWebURL(u) && !seen[u] {
			seen[u] = true
			out = append(out, u)
		}
	}
	return out
}

// copiesMap returns the Copies of Meta for stories, nil when no story has
// copies.
func copiesMap(stories []Story) map[string][]pipeline.Event {
	var out map[string][]pipeline.Event
	for _, s := range stories {
		if len(s.Copies) == 0 {
			continue
		}
		if out == nil {
			out = make(map[string][]pipeline.Event)
		}
		out[s.Item.ID] = s.Copies
	}
	return out
}

// History is the place of a document among the archived feeds of RFC 5005
// (Feed Paging and Archiving, section 4). Empty URLs are left out.
type History struct {
	// Archive marks the document as an archive page (fh:archive), whose
	// entries never change.
	Archive bool
	// Current is the subscription document an archive page belongs to.
	Current string
	// Prev is the next older archive page.
	Prev string
	// Next is the next newer archive page, empty on the newest one.
	Next string
}

// nsHistory is the XML namespace of RFC 5005.
const nsHistory = "http://purl.org/syndication/history/1.0"

// fhArchive is the empty <fh:archive/> element.
type fhArchive struct{}

// links returns the history links as rel and href pairs, in a fixed order.
func (h History) links() [][2]string {
	var out [][2]string
	for _, l := range [][2]string{{"current", h.Current}, {"prev-archive", h.Prev}, {"next-archive", h.Next}} {
		if l[1] != "" {
			out = append(out, l)
		}
	}
	return out
}

// namespace returns nsHistory when the document needs the fh: prefix.
func (h History) namespace() string {
	if h.Archive {
		return nsHistory
	}
	return ""
}

// marker returns the fh:archive element of an archive page, else nil.
func (h History) marker() *fhArchive {
	if h.Archive {
		return &fhArchive{}
	}
	return nil
}

// EntryID returns the tag URI "tag:" + authority + ":" + itemID. Characters
// that RFC 4151 does not allow in the specific part are percent-encoded, so
// an unusual item id still gives a valid URI; the usual ids pass unchanged.
func EntryID(authority, itemID string) string {
	return "tag:" + authority + ":" + escapeTagSpecific(itemID)
}

// escapeTagSpecific percent-encodes every byte that is not a pchar, "/" or
// "?" (RFC 4151 section 2.1, RFC 3986 section 3.3).
func escapeTagSpecific(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if isTagChar(c) {
			b.WriteByte(c)
			continue
		}
		fmt.Fprintf(&b, "%%%02X", c)
	}
	return b.String()
}

func isTagChar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("-._~!$&'()*+,;=:@/?", c) >= 0
}

// feedTagURI returns the tag URI that identifies a channel.
func feedTagURI(m Meta) string {
	return EntryID(m.TagAuthority, "feeds/"+m.ID)
}

// partnerName returns the display name of a partner, or its id.
func (m Meta) partnerName(id string) string {
	if p, ok := m.Partners[id]; ok && strings.TrimSpace(p.Name) != "" {
		return p.Name
	}
	return id
}

// feedURL returns the URL of the feed an entry came from: the configured
// feed URL, else the fetched URL when it is an absolute web URL (pushed items
// carry "push"), else "". Events stored before feed_url lost its
// credentials are cleaned here.
func (m Meta) feedURL(ev pipeline.Event) string {
	if u := m.FeedURLs[ev.Partner+"/"+ev.Feed]; u != "" {
		return u
	}
	if isWebURL(ev.FeedURL) {
		return pipeline.PublicFeedURL(ev.FeedURL)
	}
	return ""
}

// sourceURL returns feedURL, else the partner home page, for the RSS
// <source url>, which must not be empty.
func (m Meta) sourceURL(ev pipeline.Event) string {
	if u := m.feedURL(ev); u != "" {
		return u
	}
	return m.Partners[ev.Partner].URL
}

func isWebURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// entryDate returns the date an entry was last changed: Updated when set,
// else Published.
func entryDate(ev pipeline.Event) time.Time {
	if ev.Updated != nil && !ev.Updated.IsZero() {
		return *ev.Updated
	}
	return ev.Published
}

// feedUpdated returns m.Updated, else the newest entry date, else the Unix
// epoch. Atom requires a feed <updated> even for an empty feed, and a fixed
// fallback keeps the bytes, and so the ETag, stable across renders.
func feedUpdated(m Meta, entries []pipeline.Event) time.Time {
	if !m.Updated.IsZero() {
		return m.Updated
	}
	var newest time.Time
	for _, ev := range entries {
		if d := entryDate(ev); d.After(newest) {
			newest = d
		}
	}
	if newest.IsZero() {
		return time.Unix(0, 0)
	}
	return newest
}
