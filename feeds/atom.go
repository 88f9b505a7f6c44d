package feeds

import (
	"encoding/xml"
	"strconv"
	"time"

	gorilla "github.com/gorilla/feeds"

	"github.com/syndic-network/syndic/pipeline"
)

// atomFeed replaces gorilla.AtomFeed, which takes the feed <id> from the
// site link instead of Feed.Id, has room for a single link (not both self and
// alternate) and has no xml:lang. It keeps the library's link type.
type atomFeed struct {
	XMLName   xml.Name           `xml:"feed"`
	Xmlns     string             `xml:"xmlns,attr"`
	HistoryNS string             `xml:"xmlns:fh,attr,omitempty"`
	Lang      string             `xml:"xml:lang,attr,omitempty"`
	ID        string             `xml:"id"`
	Title     string             `xml:"title"`
	Subtitle  string             `xml:"subtitle,omitempty"`
	Updated   string             `xml:"updated"`
	Generator string             `xml:"generator"`
	Links     []gorilla.AtomLink `xml:"link"`
	Archive   *fhArchive         `xml:"fh:archive"`
	Entries   []atomEntry        `xml:"entry"`
}

// atomEntry replaces gorilla.AtomEntry, which writes an empty <updated> for
// an undated entry, invents a random urn:uuid id on every render when the
// id is empty, writes <category> and <source> as bare text (Atom needs a
// term attribute and child elements) and allows one author. It keeps the
// library's person, link, summary and content types.
type atomEntry struct {
	Lang       string               `xml:"xml:lang,attr,omitempty"`
	ID         string               `xml:"id"`
	Title      string               `xml:"title"`
	Updated    string               `xml:"updated"`
	Published  string               `xml:"published,omitempty"`
	Authors    []gorilla.AtomAuthor `xml:"author"`
	Categories []atomCategory       `xml:"category"`
	Links      []gorilla.AtomLink   `xml:"link"`
	Summary    *gorilla.AtomSummary `xml:"summary"`
	Content    *gorilla.AtomContent `xml:"content"`
	Source     *atomSource          `xml:"source"`
}

type atomCategory struct {
	Term string `xml:"term,attr"`
}

// atomSource names the partner feed an entry was copied from (RFC 4287
// section 4.2.11). Its <id> is left out because the origin feed's own id is
// not carried in events.
type atomSource struct {
	Title string             `xml:"title,omitempty"`
	Links []gorilla.AtomLink `xml:"link"`
}

// RenderAtom writes entries as an Atom 1.0 feed document in the given order.
func RenderAtom(m Meta, entries []pipeline.Event) ([]byte, error) {
	updated := feedUpdated(m, entries)
	feed := atomFeed{
		Xmlns:     nsAtom,
		Lang:      languageTag(m.Language),
		ID:        cleanText(feedTagURI(m)),
		Title:     cleanText(m.Title),
		Subtitle:  cleanText(m.Description),
		Updated:   rfc3339Date(updated),
		Generator: generator,
		Links:     atomFeedLinks(m),
		HistoryNS: m.History.namespace(),
		Archive:   m.History.marker(),
		Entries:   make([]atomEntry, 0, len(entries)),
	}
	for _, ev := range entries {
		feed.Entries = append(feed.Entries, newAtomEntry(m, ev, updated))
	}
	return marshalXML(feed, "atom")
}

func atomFeedLinks(m Meta) []gorilla.AtomLink {
	var links []gorilla.AtomLink
	if m.SelfURL != "" {
		links = append(links, gorilla.AtomLink{Href: cleanURL(m.SelfURL), Rel: "self", Type: "application/atom+xml"})
	}
	if m.SiteURL != "" {
		links = append(links, gorilla.AtomLink{Href: cleanURL(m.SiteURL), Rel: "alternate", Type: "text/html"})
	}
	if m.HubURL != "" {
		links = append(links, gorilla.AtomLink{Href: cleanURL(m.HubURL), Rel: "hub"})
	}
	for _, l := range m.History.links() {
		links = append(links, gorilla.AtomLink{Href: cleanURL(l[1]), Rel: l[0], Type: "application/atom+xml"})
	}
	return links
}

func newAtomEntry(m Meta, ev pipeline.Event, feedUpdated time.Time) atomEntry {
	e := atomEntry{
		Lang:    languageTag(ev.Language),
		ID:      EntryID(m.TagAuthority, ev.ID),
		Title:   cleanText(ev.Title),
		Updated: rfc3339Date(atomEntryUpdated(ev, feedUpdated)),
		Authors: atomAuthors(m, ev),
		Links:   atomEntryLinks(ev),
		Source:  newAtomSource(m, ev),
	}
	if !ev.Published.IsZero() {
		e.Published = rfc3339Date(ev.Published)
	}
	for _, c := range cleanAll(ev.Categories) {
		e.Categories = append(e.Categories, atomCategory{Term: c})
	}
	if s := cleanText(ev.Summary); s != "" {
		e.Summary = &gorilla.AtomSummary{Content: s, Type: "text"}
	}
	e.Content = atomContent(ev, e.Title)
	for _, u := range m.viaURLs(ev) {
		e.Links = append(e.Links, gorilla.AtomLink{Href: u, Rel: "via", Type: "text/html"})
	}
	return e
}

// atomEntryUpdated returns the entry date, falling back to the ingest time
// and then to the feed date. gorilla/feeds writes an empty <updated> for an
// undated entry, which RFC 4287 forbids.
func atomEntryUpdated(ev pipeline.Event, feedUpdated time.Time) time.Time {
	if d := entryDate(ev); !d.IsZero() {
		return d
	}
	if !ev.IngestedAt.IsZero() {
		return ev.IngestedAt
	}
	return feedUpdated
}

// atomContent returns the HTML content. An entry with neither content nor
// an alternate link breaks RFC 4287 section 4.1.2, so such an entry gets
// its summary, or failing that its title, as text content.
func atomContent(ev pipeline.Event, title string) *gorilla.AtomContent {
	if c := cleanText(ev.Content); c != "" {
		return &gorilla.AtomContent{Content: c, Type: "html"}
	}
	if cleanURL(ev.URL) != "" {
		return nil
	}
	text := cleanText(ev.Summary)
	if text == "" {
		text = title
	}
	return &gorilla.AtomContent{Content: text, Type: "text"}
}

// atomAuthors lists the item's authors, or the partner when it has none, so
// that every entry carries the author that RFC 4287 requires of an entry in
// a feed without one.
func atomAuthors(m Meta, ev pipeline.Event) []gorilla.AtomAuthor {
	var out []gorilla.AtomAuthor
	for _, a := range ev.Authors {
		name := cleanText(authorName(a))
		if name == "" {
			continue
		}
		out = append(out, gorilla.AtomAuthor{AtomPerson: gorilla.AtomPerson{
			Name:  name,
			Uri:   cleanURL(a.URL),
			Email: emailAddress(a.Email),
		}})
	}
	if len(out) > 0 {
		return out
	}
	name := cleanText(m.partnerName(ev.Partner))
	if name == "" {
		name = cleanText(m.Title)
	}
	return []gorilla.AtomAuthor{{AtomPerson: gorilla.AtomPerson{Name: name, Uri: cleanURL(m.Partners[ev.Partner].URL)}}}
}

func atomEntryLinks(ev pipeline.Event) []gorilla.AtomLink {
	var links []gorilla.AtomLink
	if u := cleanURL(ev.URL); u != "" {
		links = append(links, gorilla.AtomLink{Href: u, Rel: "alternate"})
	}
	for _, enc := range ev.Enclosures {
		u := cleanURL(enc.URL)
		if u == "" {
			continue
		}
		link := gorilla.AtomLink{Href: u, Rel: "enclosure", Type: enclosureType(enc)}
		if enc.Length > 0 {
			link.Length = strconv.FormatInt(enc.Length, 10)
		}
		links = append(links, link)
	}
	return links
}

func newAtomSource(m Meta, ev pipeline.Event) *atomSource {
	src := &atomSource{Title: cleanText(m.partnerName(ev.Partner))}
	if u := m.feedURL(ev); u != "" {
		src.Links = append(src.Links, gorilla.AtomLink{Href: cleanURL(u), Rel: "self"})
	}
	if u := m.Partners[ev.Partner].URL; u != "" {
		src.Links = append(src.Links, gorilla.AtomLink{Href: cleanURL(u), Rel: "alternate", Type: "text/html"})
	}
	if src.Title == "" && len(src.Links) == 0 {
		return nil
	}
	return src
}

// rfc3339Date formats t as an RFC 3339 date-time in UTC to the second.
func rfc3339Date(t time.Time) string {
	return t.UTC().Format(time.RFC3339)
}
