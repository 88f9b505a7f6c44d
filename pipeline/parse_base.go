package pipeline

import (
	"bytes"
	"encoding/xml"
	"net/url"
	"strings"
)

// An xml:base on an item's own start tag (<entry xml:base="…"> in Atom,
// <item xml:base="…"> in RSS) sets the base URI of the relative URLs
// inside that item (XML Base, RFC 4287 section 2). gofeed v1.3.0 does not
// apply it reliably. goxpp pops its base stack at every end tag it reads
// (see parse_layout.go), so only the elements before the first one inside
// the item see the base. gofeed resolves the href, src, uri and scheme
// attributes of those elements, and in Atom their HTML too, and it does
// so wrongly in two cases. Against a relative base it resolves as if the
// base were below the root ("a/" makes "x" into "/a/x"). To a base path
// without a final slash it adds one ("/a/b" makes "x" into "/a/b/x",
// where RFC 3986 gives "/a/x").
//
// So readDocument renames the attribute on item start tags to xml:BASE
// (hideItemBases), which goxpp does not read as a base because XML names
// are case-sensitive. gofeed then leaves the item's relative URLs as
// written, and Syndic resolves them against the item's base, which
// findItemBases reads from the start tags. The start tags are matched to
// gofeed's items by order, which needs as many start tags as gofeed
// returned items. When the counts differ, every item takes the document's
// base.
//
// NOTE: an xml:base on an element inside an item, such as <content>, is
// not read here. gofeed applies one on an Atom content or summary element
// to that element's own HTML, against the top of goxpp's stack then.
//
// NOTE: goxpp keeps the root element's xml:base until the first end tag
// that it reads itself, and gofeed reads title, id, updated and the like
// with DecodeElement, which reads none. So in an Atom head without a
// link, author, category or unknown element, gofeed resolves the first
// elements of the first entry against the root's base, with the slash
// added, even when the entry has a base of its own. Syndic keeps what
// gofeed made of them.

var (
	// xmlBaseName is the attribute that hideItemBases renames. XML names
	// are case-sensitive, so no other spelling is an xml:base.
	xmlBaseName = []byte("xml:base")
	// hiddenBaseName is its new name, of the same length, so that every
	// offset in the text stays where it was.
	hiddenBaseName = []byte("xml:BASE")
)

// itemBases are the base URIs of a document's items.
type itemBases struct {
	// document is the document's xml:base (see documentBase), or nil.
	document *url.URL
	// items are the bases of the items in document order, or nil when
	// every item takes document.
	items []*url.URL
	// ignored is true when an item start tag has an xml:base but the
	// start tags did not match the items, so every item took document.
	// It is the only input of an item's base that the item's bytes,
	// document and the feed URL leave open, so feedKey hashes it.
	ignored bool
}

// of returns the base of item k.
func (b itemBases) of(k int) *url.URL {
	if b.items == nil {
		return b.document
	}
	return b.items[k]
}

// itemElement returns the local name of the item elements of a document
// whose root element is root.
func itemElement(root string) string {
	if root == "feed" {
		return "entry"
	}
	return "item"
}

// hideItemBases returns text with the xml:base attribute of each item
// start tag renamed to xml:BASE, and whether an item start tag may have
// one. It returns text itself, without a copy, when it renames nothing.
// A tag that layoutScanner cannot read keeps its name, and findItemBases
// reads either name.
func hideItemBases(text []byte, root string) ([]byte, bool) {
	name := itemElement(root)
	if !hasItemBase(text, name) {
		return text, false
	}
	var out []byte
	for _, at := range itemStarts(text, name, len(text)) {
		n, ok := xmlBaseOffset(text, at)
		if !ok {
			continue
		}
		if out == nil {
			out = bytes.Clone(text)
		}
		copy(out[n:], hiddenBaseName)
	}
	if out == nil {
		return text, true
	}
	return out, true
}

// xmlBaseOffset returns the offset of the name of the xml:base attribute
// of the start tag at offset at. It returns false when the tag has none,
// or when layoutScanner cannot read the tag.
func xmlBaseOffset(text []byte, at int) (int, bool) {
	s := layoutScanner{text: text, pos: at}
	if kind := s.startTag(); kind != tagStart && kind != tagEmpty {
		return 0, false
	}
	for _, a := range s.attrs {
		if bytes.Equal(a.name, xmlBaseName) {
			// a.name is a slice of text, so its capacity gives its
			// offset.
			return cap(text) - cap(a.name), true
		}
	}
	return 0, false
}

// findItemBases returns the bases of the count items that gofeed read
// from text, a document that hideItemBases returned for root. An item
// whose start tag has an xml:base gets that value resolved against the
// document's base, else against feedURL. Every other item takes the
// document's base. So does every item when the start tags do not match
// the items one to one. Call it only for a document where hideItemBases
// found a base: it scans the whole text.
func findItemBases(text []byte, root string, docBase, feedURL *url.URL, count int) itemBases {
	bases := itemBases{document: docBase}
	starts := itemStarts(text, itemElement(root), count+1)
	if len(starts) != count {
		bases.ignored = true
		return bases
	}
	parent := firstURL(docBase, feedURL)
	for k, at := range starts {
		base, ok := startTagBase(text[at:], parent)
		if !ok {
			continue
		}
		if bases.items == nil {
			bases.items = make([]*url.URL, count)
			for i := range bases.items {
				bases.items[i] = docBase
			}
		}
		bases.items[k] = base
	}
	return bases
}

// hasItemBase reports whether "xml:base" occurs in text after the first
// start tag of an item. A document without the name takes one fast
// search, and one whose bases all come before its items (such as a base
// on the root) takes a scan of that head only.
func hasItemBase(text []byte, name string) bool {
	last := -1
	for from := 0; ; {
		n := bytes.Index(text[from:], xmlBaseName)
		if n < 0 {
			break
		}
		last = from + n
		from = last + len(xmlBaseName)
	}
	return last >= 0 && len(itemStarts(text[:last], name, 1)) > 0
}

// itemStarts returns the offsets of the first limit start tags whose local
// name equals name in any case, as gofeed compares item names, so
// prefixed names such as <rss:item> count too. Tags inside comments,
// CDATA sections, processing instructions and declarations such as
// DOCTYPE do not count. Names with bytes outside ASCII are skipped.
func itemStarts(text []byte, name string, limit int) []int {
	var starts []int
	for i := 0; len(starts) < limit; {
		n := bytes.IndexByte(text[i:], '<')
		if n < 0 {
			break
		}
		i += n
		rest := text[i:]
		switch {
		case bytes.HasPrefix(rest, []byte("<!--")):
			i = skipPast(text, i+4, "-->")
		case bytes.HasPrefix(rest, []byte("<![CDATA[")):
			i = skipPast(text, i+9, "]]>")
		case bytes.HasPrefix(rest, []byte("<?")):
			i = skipPast(text, i+2, "?>")
		case bytes.HasPrefix(rest, []byte("<!")):
			i = skipDeclaration(text, i+2)
		default:
			tag := rest[1:]
			tag = tag[:nameLength(tag)]
			if equalFoldString(tag[bytes.LastIndexByte(tag, ':')+1:], name) {
				starts = append(starts, i)
			}
			i++
		}
	}
	return starts
}

// skipPast returns the offset after the first end at or after i, or
// len(text) when there is none.
func skipPast(text []byte, i int, end string) int {
	n := bytes.Index(text[i:], []byte(end))
	if n < 0 {
		return len(text)
	}
	return i + n + len(end)
}

// skipDeclaration returns the offset after the '>' that closes the
// declaration whose body starts at i, such as a DOCTYPE. The '>' must lie
// outside quotes and outside the brackets of an internal subset, so a
// declaration of an entity whose value contains a tag is skipped whole.
// It returns len(text) when the declaration does not close.
func skipDeclaration(text []byte, i int) int {
	var quote byte
	depth := 0
	for ; i < len(text); i++ {
		c := text[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote = c
		case c == '[':
			depth++
		case c == ']' && depth > 0:
			depth--
		case c == '>' && depth == 0:
			return i + 1
		}
	}
	return len(text)
}

// startTagBase returns the xml:base or xml:BASE of the start tag at the
// start of tag, resolved against parent. It returns false when the tag
// has neither, or when the value is empty or does not resolve to an
// absolute URL with a host. The tag is read as goxpp reads it: by
// encoding/xml in non-strict mode, which replaces entities in the value.
func startTagBase(tag []byte, parent *url.URL) (*url.URL, bool) {
	dec := xml.NewDecoder(bytes.NewReader(tag))
	dec.Strict = false
	tok, err := dec.RawToken()
	if err != nil {
		return nil, false
	}
	start, ok := tok.(xml.StartElement)
	if !ok {
		return nil, false
	}
	for _, a := range start.Attr {
		if a.Name.Space == "xml" && (a.Name.Local == "base" || a.Name.Local == "BASE") {
			return resolveBase(a.Value, parent)
		}
	}
	return nil, false
}

// resolveBase resolves an xml:base value against parent, which may be
// nil. It returns false for an empty value, which keeps the parent's
// base, and for a value that gives no absolute URL with a host.
func resolveBase(value string, parent *url.URL) (*url.URL, bool) {
	value = strings.TrimSpace(value)
	if value == "" {
		return nil, false
	}
	base, err := url.Parse(value)
	if err != nil {
		return nil, false
	}
	if parent != nil {
		base = parent.ResolveReference(base)
	}
	if !base.IsAbs() || base.Host == "" {
		return nil, false
	}
	return base, true
}
