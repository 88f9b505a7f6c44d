package feeds

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"html"
	"strconv"
	"strings"
	"time"

	gorilla "github.com/gorilla/feeds"

	"github.com/syndic-network/syndic/pipeline"
)

// defaultEnclosureType is the media type written when a feed gave none. RSS
// 2.0 requires the type attribute, and octet-stream claims nothing false.
const defaultEnclosureType = "application/octet-stream"

const (
	nsContent = "http://purl.org/rss/1.0/modules/content/"
	nsDC      = "http://purl.org/dc/elements/1.1/"
	nsAtom    = "http://www.w3.org/2005/Atom"
)

// rssDocument replaces gorilla.RssFeedXml because that type declares only
// the content namespace, and Syndic also needs atom: (self link) and dc:
// (authors by name, where RSS <author> wants an e-mail address).
type rssDocument struct {
	XMLName   xml.Name   `xml:"rss"`
	Version   string     `xml:"version,attr"`
	ContentNS string     `xml:"xmlns:content,attr"`
	DCNS      string     `xml:"xmlns:dc,attr"`
	AtomNS    string     `xml:"xmlns:atom,attr"`
	HistoryNS string     `xml:"xmlns:fh,attr,omitempty"`
	Channel   rssChannel `xml:"channel"`
}

// rssChannel replaces gorilla.RssFeed, which has no atom:link elements
// (the self link and the RFC 5005 archive links) and no way to carry the
// typed items below.
type rssChannel struct {
	Title         string        `xml:"title"`
	Link          string        `xml:"link"`
	Description   string        `xml:"description"`
	Language      string        `xml:"language,omitempty"`
	LastBuildDate string        `xml:"lastBuildDate,omitempty"`
	Generator     string        `xml:"generator"`
	AtomLinks     []rssAtomLink `xml:"atom:link"`
	Archive       *fhArchive    `xml:"fh:archive"`
	Items         []rssItem     `xml:"item"`
}

// rssItem replaces gorilla.RssItem, which allows a single category, writes
// <source> without its required url attribute and drops an enclosure that
// lacks a type or length. It keeps the library's guid, enclosure and
// content:encoded types.
type rssItem struct {
	Title       string              `xml:"title"`
	Link        string              `xml:"link,omitempty"`
	Description string              `xml:"description"`
	Content     *gorilla.RssContent `xml:"content:encoded"`
	Creators    []string            `xml:"dc:creator"`
	// Language is the item's language as Dublin Core, because RSS 2.0 has
	// a language only for the whole channel. It is left out when it
	// equals the channel's.
	Language   string                `xml:"dc:language,omitempty"`
	Categories []string              `xml:"category"`
	Enclosure  *gorilla.RssEnclosure `xml:"enclosure"`
	GUID       *gorilla.RssGuid      `xml:"guid"`
	PubDate    string                `xml:"pubDate,omitempty"`
	Source     *rssSource            `xml:"source"`
	// Via links the other copies of the story, as Atom does, because RSS
	// 2.0 has no element for them.
	Via []rssAtomLink `xml:"atom:link"`
}

// rssAtomLink is an Atom link of an RSS channel. gorilla.AtomLink
// cannot serve because its XMLName fixes the element name to "link".
type rssAtomLink struct {
	Href string `xml:"href,attr"`
	Rel  string `xml:"rel,attr"`
	Type string `xml:"type,attr,omitempty"`
}

type rssSource struct {
	URL  string `xml:"url,attr"`
	Name string `xml:",chardata"`
}

// RenderRSS writes entries as an RSS 2.0 document in the given order.
func RenderRSS(m Meta, entries []pipeline.Event) ([]byte, error) {
	doc := rssDocument{
		Version:   "2.0",
		ContentNS: nsContent,
		DCNS:      nsDC,
		AtomNS:    nsAtom,
		HistoryNS: m.History.namespace(),
		Channel:   newRSSChannel(m, entries),
	}
	return marshalXML(doc, "rss")
}

func newRSSChannel(m Meta, entries []pipeline.Event) rssChannel {
	ch := rssChannel{
		Title:         cleanText(m.Title),
		Link:          cleanURL(m.SiteURL),
		Description:   cleanText(m.Description),
		Language:      languageTag(m.Language),
		LastBuildDate: rssDate(feedUpdated(m, entries)),
		Generator:     generator,
		Items:         make([]rssItem, 0, len(entries)),
	}
	if m.SelfURL != "" {
		ch.AtomLinks = append(ch.AtomLinks, rssAtomLink{Href: cleanURL(m.SelfURL), Rel: "self", Type: "application/rss+xml"})
	}
	if m.HubURL != "" {
		ch.AtomLinks = append(ch.AtomLinks, rssAtomLink{Href: cleanURL(m.HubURL), Rel: "hub"})
	}
	for _, l := range m.History.links() {
		ch.AtomLinks = append(ch.AtomLinks, rssAtomLink{Href: cleanURL(l[1]), Rel: l[0], Type: "application/rss+xml"})
	}
	ch.Archive = m.History.marker()
	for _, ev := range entries {
		ch.Items = append(ch.Items, newRSSItem(m, ev))
	}
	return ch
}

func newRSSItem(m Meta, ev pipeline.Event) rssItem {
	it := rssItem{
		Title:       cleanText(ev.Title),
		Link:        cleanURL(ev.URL),
		Description: rssDescription(ev),
		Categories:  cleanAll(ev.Categories),
		// gorilla.RssGuid leaves isPermaLink out when it is empty, and RSS
		// readers then take the guid for a URL. A tag URI is not one.
		GUID:    &gorilla.RssGuid{Id: EntryID(m.TagAuthority, ev.ID), IsPermaLink: "false"},
		PubDate: rssDate(ev.Published),
	}
	if content := cleanText(ev.Content); content != "" {
		it.Content = &gorilla.RssContent{Content: content}
	}
	for _, a := range ev.Authors {
		if name := cleanText(authorName(a)); name != "" {
			it.Creators = append(it.Creators, name)
		}
	}
	if lang := cleanText(ev.Language); lang != "" && lang != "und" && !strings.EqualFold(lang, m.Language) {
		it.Language = lang
	}
	it.Enclosure = rssEnclosure(ev.Enclosures)
	if u := m.sourceURL(ev); u != "" {
		it.Source = &rssSource{URL: cleanURL(u), Name: cleanText(m.partnerName(ev.Partner))}
	}
	for _, u := range m.viaURLs(ev) {
		it.Via = append(it.Via, rssAtomLink{Href: u, Rel: "via", Type: "text/html"})
	}
	return it
}

// rssDescription returns the summary as escaped HTML, because readers
// render <description> as HTML and a plain-text "a < b" would otherwise
// turn into a tag. Without a summary it falls back to the content HTML.
func rssDescription(ev pipeline.Event) string {
	if s := cleanText(ev.Summary); s != "" {
		return html.EscapeString(s)
	}
	return cleanText(ev.Content)
}

// rssEnclosure returns the first enclosure. RSS 2.0 readers support one
// per item, so the others appear only in the Atom and JSON Feed outputs.
// gorilla/feeds drops an enclosure without type or length; RSS 2.0 only
// needs the attributes present, so a missing length is written as 0.
func rssEnclosure(encs []pipeline.Enclosure) *gorilla.RssEnclosure {
	for _, e := range encs {
		u := cleanURL(e.URL)
		if u == "" {
			continue
		}
		return &gorilla.RssEnclosure{
			Url:    u,
			Type:   enclosureType(e),
			Length: strconv.FormatInt(max(e.Length, 0), 10),
		}
	}
	return nil
}

// enclosureType returns the enclosure's media type, or the default when it
// is missing or lacks the type/subtype shape that Atom's schema requires.
func enclosureType(e pipeline.Enclosure) string {
	if t := mediaType(e.Type); t != "" {
		return t
	}
	return defaultEnclosureType
}

func authorName(a pipeline.Author) string {
	if a.Name != "" {
		return a.Name
	}
	return a.Email
}

// rssDate formats t as RFC 1123 with a numeric zone in UTC, the RFC 822 form
// with a 4-digit year that validators accept ("Sun, 22 Nov 2015 06:27:00
// +0000"). A zero time gives "", so the element is left out.
func rssDate(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC1123Z)
}

// generator names the software in <generator> and Atom <generator>.
const generator = "Syndic"

// marshalXML writes v as an indented XML document with a UTF-8 declaration.
func marshalXML(v any, format string) ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteString(xml.Header)
	enc := xml.NewEncoder(&buf)
	enc.Indent("", "  ")
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("encoding %s document: %w", format, err)
	}
	buf.WriteByte('\n')
	return buf.Bytes(), nil
}
