package pipeline

import (
	"bytes"
	"encoding/xml"
	"strings"
)

// A known item can skip gofeed only when cutting it out of its document
// leaves gofeed's reading of every other item unchanged, and when gofeed
// reads it alone exactly as it read it in place. findItems checks both by
// looking at every tag of the document, and gives up on anything it does
// not follow exactly. In gofeed v1.3.0 (with goxpp), an item's reading
// depends on its own bytes and on:
//
//   - the prolog and the start tags of the root and, for RSS 2.0, of the
//     channel: the item's namespaces, the feed type and the charset. These
//     bytes are the layout's context, and every item key covers them.
//   - goxpp's xml:base stack. Every end tag that goxpp reads pops it,
//     whether or not its element pushed, but end tags that gofeed reads
//     with DecodeElement do not. So an xml:base on the root or channel
//     start tag may or may not be in force at an item, depending on the
//     items before it, and findItems rejects it. Any other push is popped
//     at the end of its own element, so the stack is empty at every item.
//   - goxpp's map from namespace to prefix, which leaks a level past every
//     element read with DecodeElement, so a declaration in one item or in
//     the channel's children can reach later items. gofeed reads the map
//     only for namespaces without a canonical prefix. So a declaration
//     after the context must meet one of three conditions. It names a
//     namespace with a canonical prefix (see knownNamespaces), or it
//     repeats the prefix that the context gives the namespace, or it is
//     on a child of the container that gofeed reads as an extension.
//     goxpp reads extensions to their end tag, so nothing leaks from them.
//
// Text between items is whitespace, so the gaps left by cut items join
// into whitespace, which gofeed skips.

// itemLayout is the position of the items of a feed document.
type itemLayout struct {
	// context is the end of the start tag of the element that contains
	// the items: the channel for RSS 2.0, the root otherwise.
	context int
	// items are the start and end offsets of each item element, in
	// document order, which is gofeed's order.
	items [][2]int
}

// knownNamespaces are namespaces that gofeed v1.3.0 maps to a fixed
// prefix whatever the document declares (its canonicalNamespaces), so a
// declaration of one can leak in goxpp without changing a reading.
var knownNamespaces = map[string]bool{
	"http://www.w3.org/1999/xhtml":               true,
	"http://search.yahoo.com/mrss/":              true,
	"http://search.yahoo.com/mrss":               true,
	"http://purl.org/rss/1.0/modules/content/":   true,
	"http://purl.org/dc/elements/1.1/":           true,
	"http://purl.org/dc/terms/":                  true,
	"http://www.itunes.com/DTDs/PodCast-1.0.dtd": true,
	"http://wellformedweb.org/commentAPI/":       true,
	"http://purl.org/rss/1.0/modules/slash/":     true,
	"http://www.georss.org/georss":               true,
}

// findItems returns the layout of a repaired XML feed document. It
// returns false when the items cannot be cut out safely. That is the case
// for JSON, truncated documents, items outside the one container, nested
// or empty items, and item names in another case or with a prefix. It is
// also the case for text beside items and for markup it does not read
// exactly as encoding/xml does.
func findItems(text []byte) (itemLayout, bool) {
	c, ok := findContext(text)
	if !ok || c.bases > 0 {
		return itemLayout{}, false
	}
	s := layoutScanner{text: text, pos: c.end, container: c.root, item: "item", spaces: c.spaces}
	switch strings.ToLower(c.local) {
	case "rss":
		s.container = "channel"
	case "rdf":
	case "feed":
		s.item = "entry"
	default:
		return itemLayout{}, false
	}
	if !s.scanBody() || !s.scanTail(c.root, s.container == c.root) {
		return itemLayout{}, false
	}
	return itemLayout{context: c.end, items: s.items}, true
}

// layoutContext is the result of findContext.
type layoutContext struct {
	root  string // the root element's name as written
	local string // the root element's local name
	end   int    // the end of the start tag of the container
	bases int    // the number of start tags read that may push an xml:base
	// spaces maps each namespace that the context declares to its prefix,
	// as goxpp records it at the container.
	spaces map[string]string
}

// findContext reads the prolog and the start tag of the root with
// encoding/xml, and for RSS 2.0 also the start tag of the channel.
func findContext(text []byte) (layoutContext, bool) {
	c := layoutContext{spaces: map[string]string{}}
	if enc := declaredCharset(text); enc != "" && !strings.EqualFold(enc, "utf-8") {
		return c, false
	}
	dec := xml.NewDecoder(bytes.NewReader(text))
	dec.Strict = false
	for {
		tok, err := dec.RawToken()
		if err != nil {
			return c, false
		}
		start, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		c.end = int(dec.InputOffset())
		if c.end < 2 || text[c.end-1] != '>' || text[c.end-2] == '/' {
			return c, false
		}
		if mayPushBase(start.Attr) {
			c.bases++
		}
		c.declare(start.Attr)
		if c.root != "" {
			return c, start.Name == xml.Name{Local: "channel"}
		}
		c.root, c.local = start.Name.Local, start.Name.Local
		if start.Name.Space != "" {
			c.root = start.Name.Space + ":" + c.root
		}
		if !strings.EqualFold(c.local, "rss") {
			return c, true
		}
	}
}

// declare records the namespace declarations of a start tag of the
// context as goxpp does: an attribute in the xmlns space declares its
// local name, and any other attribute named xmlns declares "".
func (c *layoutContext) declare(attrs []xml.Attr) {
	for _, a := range attrs {
		switch {
		case a.Name.Space == "xmlns":
			c.spaces[strings.TrimSpace(a.Value)] = strings.TrimSpace(strings.ToLower(a.Name.Local))
		case a.Name.Local == "xmlns":
			c.spaces[strings.TrimSpace(a.Value)] = ""
		}
	}
}

// mayPushBase reports whether a start tag may push an xml:base in goxpp.
func mayPushBase(attrs []xml.Attr) bool {
	for _, a := range attrs {
		if strings.EqualFold(a.Name.Local, "base") {
			return true
		}
	}
	return false
}

// layoutScanner walks the tags after the context.
type layoutScanner struct {
	text      []byte
	pos       int
	container string   // the name of the element that contains the items
	item      string   // the item element's name
	stack     [][]byte // open elements inside the container
	items     [][2]int
	spaces    map[string]string // see layoutContext

	// lastName, lastStart and attrs describe the tag read last.
	lastName  []byte
	lastStart int
	attrs     []attrSpan
}

// attrSpan is an attribute of the tag read last.
type attrSpan struct{ name, value []byte }

// scanBody reads up to the end tag of the container and leaves pos after
// it.
func (s *layoutScanner) scanBody() bool {
	start := 0
	for {
		n := bytes.IndexByte(s.text[s.pos:], '<')
		if n < 0 {
			return false
		}
		if len(s.stack) == 0 && !isXMLSpace(s.text[s.pos:s.pos+n]) {
			return false
		}
		s.pos += n
		switch t := s.next(); t {
		case tagBad:
			return false
		case tagStart, tagEmpty:
			if !s.checkAttributes() {
				return false
			}
			if !s.open(t == tagEmpty, &start) {
				return false
			}
		case tagEnd:
			if len(s.stack) == 0 {
				return string(s.lastName) == s.container
			}
			if !s.close(start) {
				return false
			}
		}
	}
}

// open records the start tag just read. For an item, it stores the
// offset of the tag in start.
func (s *layoutScanner) open(empty bool, start *int) bool {
	name := s.lastName
	local := name[bytes.LastIndexByte(name, ':')+1:]
	isItem := string(name) == s.item && len(s.stack) == 0
	switch {
	case isItem && empty:
		return false
	case !isItem && equalFoldString(local, s.item):
		return false
	case s.container == "channel" && equalFoldString(local, "channel"):
		return false
	case isItem:
		*start = s.lastStart
	}
	if empty {
		return true
	}
	s.stack = append(s.stack, name)
	return true
}

// close records the end tag just read.
func (s *layoutScanner) close(start int) bool {
	top := s.stack[len(s.stack)-1]
	if !bytes.Equal(top, s.lastName) {
		return false
	}
	s.stack = s.stack[:len(s.stack)-1]
	if len(s.stack) == 0 && string(top) == s.item {
		s.items = append(s.items, [2]int{start, s.pos})
	}
	return true
}

// scanTail checks the text after the container's end tag. It may contain
// only comments, processing instructions and whitespace, and for RSS 2.0
// the root's end tag.
func (s *layoutScanner) scanTail(root string, rootClosed bool) bool {
	for {
		n := bytes.IndexByte(s.text[s.pos:], '<')
		if n < 0 {
			return rootClosed && isXMLSpace(s.text[s.pos:])
		}
		if !isXMLSpace(s.text[s.pos : s.pos+n]) {
			return false
		}
		s.pos += n
		switch s.next() {
		case tagOther:
		case tagEnd:
			if rootClosed || string(s.lastName) != root {
				return false
			}
			rootClosed = true
		default:
			return false
		}
	}
}

type tagKind int

const (
	tagBad   tagKind = iota
	tagStart         // <name ...>
	tagEmpty         // <name .../>
	tagEnd           // </name>
	tagOther         // comment or processing instruction
)

// next reads the markup at s.pos, which is '<', and moves past it. For a
// start or end tag, it sets lastName, and for a start tag also lastStart
// and attrs.
func (s *layoutScanner) next() tagKind {
	t, i := s.text, s.pos
	switch {
	case bytes.HasPrefix(t[i:], []byte("<!--")):
		// encoding/xml ends a comment at the first "--", which must be
		// followed by '>'.
		n := bytes.Index(t[i+4:], []byte("--"))
		if n < 0 || i+4+n+2 >= len(t) || t[i+4+n+2] != '>' {
			return tagBad
		}
		s.pos = i + 4 + n + 3
		return tagOther
	case bytes.HasPrefix(t[i:], []byte("<![CDATA[")):
		n := bytes.Index(t[i+9:], []byte("]]>"))
		if n < 0 || len(s.stack) == 0 {
			return tagBad
		}
		s.pos = i + 9 + n + 3
		return tagOther
	case bytes.HasPrefix(t[i:], []byte("<?")):
		n := bytes.Index(t[i+2:], []byte("?>"))
		if n < 0 {
			return tagBad
		}
		if i > 0 && isXMLDeclaration(t[i+2:i+2+n]) {
			// encoding/xml switches the charset at every XML declaration,
			// so the bytes after this one decode differently, and cutting
			// items out can move text to either side of it.
			return tagBad
		}
		s.pos = i + 2 + n + 2
		return tagOther
	case bytes.HasPrefix(t[i:], []byte("</")):
		return s.endTag()
	}
	return s.startTag()
}

func (s *layoutScanner) endTag() tagKind {
	i := s.pos + 2
	n := nameLength(s.text[i:])
	if n == 0 {
		return tagBad
	}
	s.lastName = s.text[i : i+n]
	i = skipXMLSpace(s.text, i+n)
	if i >= len(s.text) || s.text[i] != '>' {
		return tagBad
	}
	s.pos = i + 1
	return tagEnd
}

func (s *layoutScanner) startTag() tagKind {
	s.lastStart = s.pos
	i := s.pos + 1
	n := nameLength(s.text[i:])
	if n == 0 {
		return tagBad
	}
	s.lastName = s.text[i : i+n]
	s.attrs = s.attrs[:0]
	for i += n; ; {
		i = skipXMLSpace(s.text, i)
		if i >= len(s.text) {
			return tagBad
		}
		switch s.text[i] {
		case '>':
			s.pos = i + 1
			return tagStart
		case '/':
			if i+1 >= len(s.text) || s.text[i+1] != '>' {
				return tagBad
			}
			s.pos = i + 2
			return tagEmpty
		}
		var ok bool
		if i, ok = s.attribute(i); !ok {
			return tagBad
		}
	}
}

// attribute reads one name="value" pair at i and returns the offset
// after it. It returns false for an attribute without a value or quotes,
// so such a document goes to gofeed whole.
func (s *layoutScanner) attribute(i int) (int, bool) {
	t := s.text
	n := nameLength(t[i:])
	if n == 0 {
		return 0, false
	}
	name := t[i : i+n]
	i = skipXMLSpace(t, i+n)
	if i >= len(t) || t[i] != '=' {
		return 0, false
	}
	i = skipXMLSpace(t, i+1)
	if i >= len(t) || t[i] != '"' && t[i] != '\'' {
		return 0, false
	}
	end := bytes.IndexByte(t[i+1:], t[i])
	if end < 0 {
		return 0, false
	}
	s.attrs = append(s.attrs, attrSpan{name: name, value: t[i+1 : i+1+end]})
	return i + 1 + end + 1, true
}

// checkAttributes rejects a namespace declaration whose leak could change
// goxpp's map.
func (s *layoutScanner) checkAttributes() bool {
	extension := len(s.stack) == 0 && s.isExtension()
	for _, a := range s.attrs {
		if !bytes.Contains(bytes.ToLower(a.name), []byte("xmlns")) {
			continue
		}
		prefix, ok := declaredPrefix(string(a.name))
		// encoding/xml replaces entities and line ends in values, which
		// this scanner does not.
		if !ok || bytes.ContainsAny(a.value, "&\r") {
			return false
		}
		space := strings.TrimSpace(string(a.value))
		if known, ok := s.spaces[space]; !extension && !knownNamespaces[space] && (!ok || known != prefix) {
			return false
		}
	}
	return true
}

// corePrefixes are the prefixes that gofeed's IsExtension does not count
// as extensions.
var corePrefixes = map[string]bool{"": true, "rss": true, "rdf": true, "content": true}

// coreNamespaces are the namespaces that gofeed v1.3.0 maps to a core
// prefix whatever the document declares.
var coreNamespaces = map[string]bool{
	"http://purl.org/rss/1.0/modules/content/":    true,
	"http://www.w3.org/1999/02/22-rdf-syntax-ns#": true,
}

// isExtension reports whether gofeed reads the start tag just read, a
// child of the container, as an extension element. gofeed checks that
// first for each child of the channel and of the RSS 1.0 and Atom roots.
// The tag's prefix must be declared on the tag itself, for a namespace
// without a canonical prefix. Every declaration on the tag must name a
// prefix that is not a core one.
func (s *layoutScanner) isExtension() bool {
	name := string(s.lastName)
	colon := strings.IndexByte(name, ':')
	if colon <= 0 || name[:colon] == "xmlns" || name[:colon] == "xml" {
		return false
	}
	space, found := "", false
	for _, a := range s.attrs {
		attr := string(a.name)
		if !strings.Contains(strings.ToLower(attr), "xmlns") {
			continue
		}
		declared, ok := strings.CutPrefix(attr, "xmlns:")
		if !ok || corePrefixes[strings.TrimSpace(strings.ToLower(declared))] {
			return false
		}
		if declared == name[:colon] {
			space, found = strings.TrimSpace(string(a.value)), true
		}
	}
	return found && !knownNamespaces[space] && !coreNamespaces[space]
}

// declaredPrefix returns the prefix that an attribute named name declares
// in goxpp, and false for a name containing xmlns that it does not read
// as a declaration.
func declaredPrefix(name string) (string, bool) {
	switch {
	case name == "xmlns" || strings.HasSuffix(name, ":xmlns"):
		return "", true
	case strings.HasPrefix(name, "xmlns:"):
		return strings.TrimSpace(strings.ToLower(name[len("xmlns:"):])), true
	}
	return "", false
}

// nameLength returns the length of the XML name at the start of b, or 0
// when there is none. It also returns 0 for names with non-ASCII bytes.
func nameLength(b []byte) int {
	n := 0
	for n < len(b) && isNameByte(b[n]) {
		n++
	}
	if n < len(b) && b[n] >= 0x80 {
		return 0
	}
	return n
}

func isNameByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' ||
		'0' <= c && c <= '9' || c == '_' || c == ':' || c == '.' || c == '-'
}

func skipXMLSpace(b []byte, i int) int {
	for i < len(b) && isSpaceByte(b[i]) {
		i++
	}
	return i
}

func isSpaceByte(c byte) bool {
	return c == ' ' || c == '\t' || c == '\r' || c == '\n'
}

func isXMLSpace(b []byte) bool {
	for _, c := range b {
		if !isSpaceByte(c) {
			return false
		}
	}
	return true
}

func equalFoldString(b []byte, s string) bool {
	return len(b) == len(s) && strings.EqualFold(string(b), s)
}

// isXMLDeclaration reports whether the body of a processing instruction
// (the text between "<?" and "?>") has the target xml in any case, as an
// XML declaration does.
func isXMLDeclaration(body []byte) bool {
	target := body[:nameLength(body)]
	return len(target) == 3 && bytes.EqualFold(target, []byte("xml"))
}
