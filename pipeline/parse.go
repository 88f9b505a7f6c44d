package pipeline

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/mmcdole/gofeed"
	"github.com/mmcdole/gofeed/atom"
	"github.com/mmcdole/gofeed/rss"
)

// Source describes where a document came from and the partner settings
// that apply to its items.
type Source struct {
	Partner string // partner id from the configuration
	Feed    string // configured feed id
	FeedURL string // URL the document was fetched from
	// Language is the partner's configured language, used when neither
	// the item nor the feed names one.
	Language string
	// Location is the partner's time zone for dates without a zone. Nil
	// means UTC.
	Location *time.Location
	// Charset is the partner's fallback character set (an IANA or WHATWG
	// label such as "windows-1250") for bodies that declare none and are
	// not valid UTF-8, or that claim UTF-8 without being it. Empty means
	// windows-1252.
	Charset string
	// LinkKeys selects link keys over GUIDs: set it once the feed has been
	// seen repeating GUIDs (ParseResult.RepeatedGUIDs).
	LinkKeys bool
}

// ItemError is one item of a document that could not be normalised.
// Index is the item's position in the document, counted from 0.
type ItemError struct {
	Index int
	GUID  string
	Link  string
	Title string
	Err   error
}

// Error returns the reason with the item's position, and its GUID when
// it has one.
func (e ItemError) Error() string {
	if e.GUID != "" {
		return fmt.Sprintf("item %d (id %s): %s", e.Index, e.GUID, e.Err.Error())
	}
	return fmt.Sprintf("item %d: %s", e.Index, e.Err.Error())
}

// Unwrap returns the reason, which wraps ErrInvalidItem.
func (e ItemError) Unwrap() error { return e.Err }

// ParseResult is a parsed and normalised feed document.
type ParseResult struct {
	Title    string // feed title, plain text
	Link     string // feed home page, canonical
	Language string // feed language, primary subtag
	// Hubs are the rel="hub" links of the feed (WebSub).
	Hubs []string
	// Items are the normalised items in document order, one per key.
	Items []Item
	// Rejected lists the items that were dropped and why.
	Rejected []ItemError
	// Recoveries names each repair that was needed to read the document,
	// such as "bare ampersand" or "byte-order mark".
	Recoveries []string
	// RepeatedGUIDs is true when one GUID names different items in this
	// document. Its items were keyed by link, and the caller should store
	// LinkKeys=true for the feed so later documents are keyed the same way.
	RepeatedGUIDs bool
	// Memo is the memo to pass to ParseFeedMemo with the feed's next
	// document, nil from ParseFeed.
	Memo *ParseMemo
}

// feedRoots are the lower-case local names of the root elements of RSS,
// RDF and Atom documents.
var feedRoots = map[string]bool{"rss": true, "rdf": true, "feed": true}

// ParseFeed decodes, repairs, parses and normalises one fetched feed
// document. contentType is the HTTP Content-Type, whose charset takes
// precedence over the XML declaration. now is the fetch time: it replaces
// missing and far-future dates. Items that cannot be normalised go to
// ParseResult.Rejected and never fail the document.
//
// The error wraps ErrNotAFeed for an empty body, an HTML page or other
// XML or JSON, and ErrUnparseable for a feed that stays broken after
// every repair.
func ParseFeed(body []byte, contentType string, src Source, now time.Time) (*ParseResult, error) {
	return parseFeed(body, contentType, src, now, nil)
}

func parseFeed(body []byte, contentType string, src Source, now time.Time, memo *ParseMemo) (*ParseResult, error) {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, fmt.Errorf("parsing feed %q: %w", PublicFeedURL(src.FeedURL), ErrEmptyBody)
	}
	dec, err := decodeToUTF8(body, contentType, src.Charset)
	if err != nil {
		return nil, fmt.Errorf("parsing feed %q: %w: %w", PublicFeedURL(src.FeedURL), ErrUnparseable, err)
	}
	doc, err := readDocument(dec.text)
	if err != nil {
		return nil, fmt.Errorf("parsing feed %q: %w", PublicFeedURL(src.FeedURL), err)
	}
	res := &ParseResult{Recoveries: append(dec.recoveries, doc.notes...)}
	if memo != nil && !doc.json && parseKnown(res, doc, src, now, memo) {
		return res, nil
	}
	parsed, err := doc.parse()
	if err != nil {
		return nil, fmt.Errorf("parsing feed %q: %w", PublicFeedURL(src.FeedURL), err)
	}
	feed, text := parsed.feed, parsed.text
	res.Recoveries = append(res.Recoveries, parsed.recoveries...)
	res.Rejected = parsed.rejected
	fillFeedFields(res, feed, text)
	feedURL := feedBase(src.FeedURL)
	var known *knownItems
	if memo != nil && !doc.json {
		known = itemKeys(text, src, len(feed.Items))
	}
	buildItems(res, feed, src, doc.bases(text, feedURL, len(feed.Items)), now, memo, len(text), known)
	return res, nil
}

// document is a decoded body ready for gofeed: JSON, or XML after
// repair whose root names a feed.
type document struct {
	text  []byte
	notes []string // the repairs made
	json  bool
	root  string // the XML root element, one of feedRoots
	// itemBases is true when an item start tag may have an xml:base,
	// which text has as xml:BASE (see hideItemBases).
	itemBases bool
}

// readDocument detects JSON and XML, and repairs XML. It hides the
// xml:base of items from gofeed (see parse_base.go).
func readDocument(text []byte) (document, error) {
	trimmed := bytes.TrimLeft(text, " \t\r\n\uFEFF")
	switch {
	case len(trimmed) > 0 && trimmed[0] == '{':
		return document{text: trimmed, json: true}, nil
	case len(trimmed) == 0 || trimmed[0] != '<':
		return document{}, fmt.Errorf("%w: body is neither xml nor json", ErrNotAFeed)
	}
	text, notes := repairXML(text)
	root := rootElement(text)
	if !feedRoots[root] {
		return document{}, fmt.Errorf("%w: root element is %q", ErrNotAFeed, root)
	}
	text, itemBases := hideItemBases(text, root)
	return document{text: text, notes: notes, root: root, itemBases: itemBases}, nil
}

// bases returns the xml:base of each of the count items that gofeed read
// from text, which is doc.text or the text that parse made of it.
func (doc document) bases(text []byte, feedURL *url.URL, count int) itemBases {
	docBase := documentBase(text, feedURL)
	if !doc.itemBases || count == 0 {
		return itemBases{document: docBase}
	}
	return findItemBases(text, doc.root, docBase, feedURL, count)
}

// parsedDocument is the feed that gofeed read from a document.
type parsedDocument struct {
	feed *gofeed.Feed
	text []byte // the text that parsed, after any repair
	// recoveries names the repairs that parsing needed.
	recoveries []string
	// rejected lists the items gofeed could not read. feed.Items has a
	// nil item at each of their indexes.
	rejected []ItemError
}

// parse runs gofeed on the document. It closes a truncated XML document
// after its last complete item when the first attempt fails, and reads a
// JSON Feed item by item when gofeed cannot read it whole.
func (doc document) parse() (parsedDocument, error) {
	if doc.json {
		return parseJSONFeed(doc.text)
	}
	feed, err := parseXMLFeed(doc.text, doc.root)
	if err == nil {
		return parsedDocument{feed: feed, text: doc.text}, nil
	}
	closed, ok := closeTruncated(doc.text)
	if !ok {
		return parsedDocument{}, fmt.Errorf("%w: no complete item before the error: %w", ErrUnparseable, err)
	}
	feed, retryErr := parseXMLFeed(closed, doc.root)
	if retryErr != nil {
		return parsedDocument{}, fmt.Errorf("%w: %w", ErrUnparseable, err)
	}
	return parsedDocument{feed: feed, text: closed, recoveries: []string{recoveryTruncated}}, nil
}

// parseXMLFeed parses an RSS, RDF or Atom document whose root element
// is root, as newFeedParser().Parse does. Parse reads the whole body into
// two growing buffers to find the type (about 535 KB more per 67 KB document
// in BenchmarkParseFeed), and readDocument has already read the root.
func parseXMLFeed(text []byte, root string) (*gofeed.Feed, error) {
	if root == "feed" {
		feed, err := (&atom.Parser{}).Parse(bytes.NewReader(text))
		if err != nil {
			return nil, err
		}
		return (&gofeed.DefaultAtomTranslator{}).Translate(feed)
	}
	feed, err := (&rss.Parser{}).Parse(bytes.NewReader(text))
	if err != nil {
		return nil, err
	}
	return (&rssTranslator{}).Translate(feed)
}

// rootElement returns the lower-case local name of the first element, or
// "" when the text has none.
func rootElement(text []byte) string {
	dec := xml.NewDecoder(bytes.NewReader(text))
	dec.Strict = false
	for {
		tok, err := dec.RawToken()
		if err != nil {
			return ""
		}
		if start, ok := tok.(xml.StartElement); ok {
			return strings.ToLower(start.Name.Local)
		}
	}
}

func fillFeedFields(res *ParseResult, feed *gofeed.Feed, text []byte) {
	res.Title = stripTextControls(plainTitle(feed.Title))
	if link, err := CanonicalURL(feed.Link, nil); err == nil {
		res.Link = link
	}
	res.Language = normaliseLanguage(feed.Language)
	if res.Language == "" && feed.DublinCoreExt != nil && len(feed.DublinCoreExt.Language) > 0 {
		res.Language = normaliseLanguage(feed.DublinCoreExt.Language[0])
	}
	res.Hubs = findHubs(text)
}

var (
	linkTag      = regexp.MustCompile(`(?is)<(?:[a-z0-9]+:)?link\s[^>]*>`)
	relHub       = regexp.MustCompile(`(?i)\srel\s*=\s*["']hub["']`)
	hrefValue    = regexp.MustCompile(`(?i)\shref\s*=\s*(?:"([^"]*)"|'([^']*)')`)
	xmlBaseValue = regexp.MustCompile(`(?i)\sxml:base\s*=\s*(?:"([^"]*)"|'([^']*)')`)
)

// findHubs returns the href of every link element with rel="hub", which
// gofeed does not expose.
func findHubs(text []byte) []string {
	if !hasQuotedHub(text) {
		return nil
	}
	var hubs []string
	for _, tag := range linkTag.FindAll(text, -1) {
		if !relHub.Match(tag) {
			continue
		}
		if m := hrefValue.FindSubmatch(tag); m != nil {
			if hub := cleanURL(string(m[1])+string(m[2]), nil); hub != "" {
				hubs = append(hubs, hub)
			}
		}
	}
	return hubs
}

// hasQuotedHub reports whether text contains "hub" in any case between
// two quotes of either kind, as every match of relHub does. Most feeds
// name no hub, so this scan saves running linkTag over the whole
// document. (?i) folds h, u and b only to their ASCII capitals, so
// comparing ASCII letters is enough.
func hasQuotedHub(text []byte) bool {
	for _, quote := range []byte{'"', '\''} {
		rest := text
		for {
			n := bytes.IndexByte(rest, quote)
			if n < 0 || len(rest)-n < 5 {
				break
			}
			word, closing := rest[n+1:n+4], rest[n+4]
			if closing == '"' || closing == '\'' {
				if word[0]|0x20 == 'h' && word[1]|0x20 == 'u' && word[2]|0x20 == 'b' {
					return true
				}
			}
			rest = rest[n+1:]
		}
	}
	return false
}

// documentBase returns the xml:base that applies to every item without
// one of its own (see itemBases): one given before the first item or
// entry, resolved against the feed URL. It returns nil when there is
// none. gofeed v1.3.0 applies an xml:base on the root element only up to
// the first end tag that goxpp reads (see parse_base.go), so this covers
// Atom as well as RSS.
func documentBase(text []byte, feedURL *url.URL) *url.URL {
	head := text
	for _, start := range []string{"<item", "<entry"} {
		if n := bytes.Index(head, []byte(start)); n >= 0 {
			head = head[:n]
		}
	}
	m := xmlBaseValue.FindSubmatch(head)
	if m == nil {
		return nil
	}
	base, err := url.Parse(strings.TrimSpace(string(m[1]) + string(m[2])))
	if err != nil {
		return nil
	}
	if feedURL != nil {
		base = feedURL.ResolveReference(base)
	}
	if !base.IsAbs() {
		return nil
	}
	return base
}
