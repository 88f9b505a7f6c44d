package feeds

import (
	"bytes"
	"encoding/json"
	"fmt"

	gorilla "github.com/gorilla/feeds"

	"github.com/syndic-network/syndic/pipeline"
)

const jsonFeedVersion = "https://jsonfeed.org/version/1.1"

// jsonFeed replaces gorilla.JSONFeed, which drops "items" from an empty
// feed although JSON Feed 1.1 requires the key. It keeps the library's
// author type.
type jsonFeed struct {
	Version     string     `json:"version"`
	Title       string     `json:"title"`
	HomePageURL string     `json:"home_page_url,omitempty"`
	FeedURL     string     `json:"feed_url,omitempty"`
	NextURL     string     `json:"next_url,omitempty"`
	Description string     `json:"description,omitempty"`
	Language    string     `json:"language,omitempty"`
	Items       []jsonItem `json:"items"`
}

// jsonItem replaces gorilla.JSONItem, which has no language and no
// extension field, keeps only image enclosures (as "image") and cannot
// fall back to content_text when an item has no HTML.
type jsonItem struct {
	ID            string               `json:"id"`
	URL           string               `json:"url,omitempty"`
	Title         string               `json:"title,omitempty"`
	ContentHTML   string               `json:"content_html,omitempty"`
	ContentText   *string              `json:"content_text,omitempty"`
	Summary       string               `json:"summary,omitempty"`
	Image         string               `json:"image,omitempty"`
	DatePublished string               `json:"date_published,omitempty"`
	DateModified  string               `json:"date_modified,omitempty"`
	Authors       []gorilla.JSONAuthor `json:"authors,omitempty"`
	Tags          []string             `json:"tags,omitempty"`
	Language      string               `json:"language,omitempty"`
	Attachments   []jsonAttachment     `json:"attachments,omitempty"`
	Syndic        jsonExtension        `json:"_syndic"`
}

// jsonAttachment replaces gorilla.JSONAttachment, which writes the size as
// "size" (JSON Feed 1.1 names it "size_in_bytes" and forbids other keys)
// and stores it in an int32.
type jsonAttachment struct {
	URL         string `json:"url"`
	MIMEType    string `json:"mime_type"`
	SizeInBytes int64  `json:"size_in_bytes,omitempty"`
}

// jsonExtension is the "_syndic" object: where the item came from, by the
// configured partner and feed ids.
type jsonExtension struct {
	Partner string `json:"partner"`
	Feed    string `json:"feed"`
	// Copies are the other copies of the story, the JSON counterpart of
	// Atom's rel="via" links.
	Copies []jsonCopy `json:"copies,omitempty"`
}

// jsonCopy is one other copy of an item's story.
type jsonCopy struct {
	ID      string `json:"id"`
	Partner string `json:"partner"`
	Feed    string `json:"feed"`
	URL     string `json:"url,omitempty"`
}

// RenderJSON writes entries as a JSON Feed 1.1 document in the given order.
// Text fields are cleaned like the XML outputs, so no string contains a
// control character other than TAB, LF or CR.
func RenderJSON(m Meta, entries []pipeline.Event) ([]byte, error) {
	feed := jsonFeed{
		Version:     jsonFeedVersion,
		Title:       cleanText(m.Title),
		HomePageURL: cleanURL(m.SiteURL),
		FeedURL:     cleanURL(m.SelfURL),
		// JSON Feed 1.1 pages towards older items with next_url, which is
		// where the previous archive page is.
		NextURL:     cleanURL(m.History.Prev),
		Description: cleanText(m.Description),
		Language:    languageTag(m.Language),
		Items:       make([]jsonItem, 0, len(entries)),
	}
	for _, ev := range entries {
		feed.Items = append(feed.Items, newJSONItem(m, ev))
	}

	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	// HTML escaping would only make content_html harder to read: the
	// document is served as application/feed+json, never inlined in HTML.
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(feed); err != nil {
		return nil, fmt.Errorf("encoding json feed document: %w", err)
	}
	return buf.Bytes(), nil
}

func newJSONItem(m Meta, ev pipeline.Event) jsonItem {
	it := jsonItem{
		ID:          EntryID(m.TagAuthority, ev.ID),
		URL:         cleanURL(ev.URL),
		Title:       cleanText(ev.Title),
		ContentHTML: cleanText(ev.Content),
		Summary:     cleanText(ev.Summary),
		Image:       cleanURL(ev.Image),
		Tags:        cleanAll(ev.Categories),
		Language:    languageTag(ev.Language),
		Attachments: jsonAttachments(ev.Enclosures),
		Syndic:      jsonExtension{Partner: cleanText(ev.Partner), Feed: cleanText(ev.Feed)},
	}
	if it.ContentHTML == "" {
		// JSON Feed 1.1 requires content_html or content_text on every item.
		text := it.Summary
		it.ContentText = &text
	}
	if !ev.Published.IsZero() {
		it.DatePublished = rfc3339Date(ev.Published)
	}
	if ev.Updated != nil && !ev.Updated.IsZero() {
		it.DateModified = rfc3339Date(*ev.Updated)
	}
	it.Authors = jsonAuthors(ev.Authors)
	for _, c := range m.Copies[ev.ID] {
		it.Syndic.Copies = append(it.Syndic.Copies, jsonCopy{
			ID:      EntryID(m.TagAuthority, c.ID),
			Partner: cleanText(c.Partner),
			Feed:    cleanText(c.Feed),
			URL:     pageURL(c.URL),
		})
	}
	return it
}

// jsonAuthors drops authors with neither name nor URL: the JSON Feed schema
// requires at least one property, and an e-mail address has no key there.
func jsonAuthors(authors []pipeline.Author) []gorilla.JSONAuthor {
	var out []gorilla.JSONAuthor
	for _, a := range authors {
		ja := gorilla.JSONAuthor{Name: cleanText(a.Name), Url: cleanURL(a.URL)}
		if ja.Name != "" || ja.Url != "" {
			out = append(out, ja)
		}
	}
	return out
}

// jsonAttachments keeps every enclosure whatever its media type;
// gorilla/feeds keeps only images, and only as the item image.
func jsonAttachments(encs []pipeline.Enclosure) []jsonAttachment {
	var out []jsonAttachment
	for _, e := range encs {
		u := cleanURL(e.URL)
		if u == "" {
			continue
		}
		out = append(out, jsonAttachment{URL: u, MIMEType: enclosureType(e), SizeInBytes: max(e.Length, 0)})
	}
	return out
}
