package pipeline

import (
	"bytes"
	"encoding/xml"
	"html"
	"io"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
	"unsafe"

	"golang.org/x/text/encoding/charmap"
)

// Recovery notes for repairs of the XML text, reported in
// ParseResult.Recoveries.
const (
	recoveryLeadingSpace  = "leading whitespace before xml declaration"
	recoveryBareAmpersand = "bare ampersand"
	recoveryHTMLEntity    = "undefined html entity"
	recoveryIllegalChars  = "illegal characters"
	recoveryC1Reference   = "windows-1252 character reference"
	recoveryTruncated     = "truncated document"
	recoveryInvalidURI    = "invalid url attribute"
)

// uriAttribute matches the attributes gofeed resolves against xml:base.
// gofeed v1.3.0 rejects the whole document when one of them does not
// parse as a URL.
var uriAttribute = regexp.MustCompile(`(?i)(\s(?:href|src|uri|scheme)\s*=\s*)(?:"([^"<]*)"|'([^'<]*)')`)

// xmlRepairer rewrites XML text that is broken in the ways feeds commonly
// are, so the parser sees well-formed text. It records which repairs it
// made.
type xmlRepairer struct {
	src   string
	out   strings.Builder
	notes []string
}

// repairXML removes blanks and stray byte-order marks before the XML
// declaration, escapes bare ampersands, replaces HTML entities that XML
// does not define with character references, and removes characters and
// character references that XML 1.0 forbids. CDATA sections, comments and
// processing instructions keep their text apart from forbidden characters.
// A text that needs none of these repairs is returned as a subslice of
// text, without a copy.
func repairXML(text []byte) ([]byte, []string) {
	// src shares text's memory without a copy, which is safe because
	// nothing changes text during the call and no string made from src
	// is returned.
	r := &xmlRepairer{src: unsafe.String(unsafe.SliceData(text), len(text))}
	var out []byte
	if needsRepair(r.src) {
		r.out.Grow(len(r.src) + len(r.src)/64)
		for i := 0; i < len(r.src); {
			i = r.step(i)
		}
		// Trim after the other repairs: a forbidden character inside
		// the declaration hides it until it is removed.
		out = []byte(r.trimLeading(r.out.String()))
	} else {
		out = text[len(text)-len(r.trimLeading(r.src)):]
	}
	if fixed, ok := repairURIAttributes(out); ok {
		out = fixed
		r.note(recoveryInvalidURI)
	}
	return out, r.notes
}

// repairAttention marks the bytes needsRepair must look at: "&", the
// control characters that XML forbids and the first byte of every
// multi-byte or invalid UTF-8 sequence.
var repairAttention = func() (t [256]bool) {
	for c := range 256 {
		t[c] = c == '&' || c >= utf8.RuneSelf || c < 0x20 && c != '\t' && c != '\n' && c != '\r'
	}
	return t
}()

// needsRepair reports whether the step loop of repairXML could change
// text. It returns false only when text is valid UTF-8 of characters that
// XML allows and every "&" begins a predefined entity or a character
// reference that the loop keeps as it is. Those are the only constructs
// the loop rewrites, so the loop would copy such text unchanged. It may
// return true for text the loop keeps, such as a bare "&" inside CDATA.
func needsRepair(text string) bool {
	for i := 0; i < len(text); i++ {
		c := text[i]
		if !repairAttention[c] {
			continue
		}
		switch {
		case c == '&':
			name, ok := referenceName(text[i+1:])
			if !ok || !keptReference(name) {
				return true
			}
			i += len(name) + 1 // the loop's i++ steps over ";"
		case c >= utf8.RuneSelf:
			r, size := utf8.DecodeRuneInString(text[i:])
			if r == utf8.RuneError && size == 1 || !isXMLChar(r) {
				return true
			}
			i += size - 1
		default:
			return true
		}
	}
	return false
}

// keptReference reports whether reference writes the reference named
// name back unchanged: a predefined entity, or a character reference to
// a character XML allows outside the C1 range.
func keptReference(name string) bool {
	if name[0] != '#' {
		return isPredefinedEntity(name)
	}
	c, valid := parseCharRef(name)
	return valid && !(c >= 0x80 && c <= 0x9F) && isXMLChar(c)
}

// repairURIAttributes removes whitespace from URI attribute values that
// do not parse as URLs, and empties those that still do not. It reports
// whether it changed anything.
func repairURIAttributes(text []byte) ([]byte, bool) {
	if !hasInvalidURIAttribute(text) {
		return text, false
	}
	changed := false
	out := uriAttribute.ReplaceAllFunc(text, func(m []byte) []byte {
		sub := uriAttribute.FindSubmatch(m)
		value := string(sub[2]) + string(sub[3])
		if _, err := url.Parse(value); err == nil {
			return m
		}
		changed = true
		value = strings.Join(strings.Fields(value), "")
		if _, err := url.Parse(value); err != nil {
			value = ""
		}
		return []byte(string(sub[1]) + `"` + strings.ReplaceAll(value, `"`, "%22") + `"`)
	})
	return out, changed
}

// hasInvalidURIAttribute reports whether a match of uriAttribute in text
// has a value that url.Parse rejects. It checks the value at every
// position where uriAttribute matches when anchored there, a superset of
// the matches ReplaceAllFunc finds, so a false result means
// repairURIAttributes would change nothing. Every such position is a
// blank, a name and blanks before an "=", so the scan jumps from one "="
// to the next and looks back for the name.
func hasInvalidURIAttribute(text []byte) bool {
	for from := 0; ; {
		j := bytes.IndexByte(text[from:], '=')
		if j < 0 {
			return false
		}
		end := from + j
		from = end + 1
		for end > 0 && isASCIISpace(text[end-1]) {
			end--
		}
		for n := minURIAttributeName; n <= maxURIAttributeName && n < end; n++ {
			start := end - n
			if !isASCIISpace(text[start-1]) || !uriAttributeStart(text[start]) {
				continue
			}
			if m, ok := uriAttributeName(text[start:]); !ok || m != n {
				continue
			}
			value, ok := uriAttributeValueAt(text, start)
			if ok && !parsesAsURL(value) {
				return true
			}
		}
	}
}

// minURIAttributeName and maxURIAttributeName bound the length in bytes
// of a name that uriAttributeName accepts: "src" and "uri", and "ſcheme"
// with the two-byte long s.
const (
	minURIAttributeName = 3
	maxURIAttributeName = 7
)

// uriAttributeValueAt matches uriAttribute without its leading \s at
// text[i:], returning the quoted value. The pattern is deterministic
// there: the name decides the branch, the whitespace runs are greedy and
// the value ends at the first closing quote, with no "<" before it.
func uriAttributeValueAt(text []byte, i int) ([]byte, bool) {
	n, ok := uriAttributeName(text[i:])
	if !ok {
		return nil, false
	}
	i += n
	for i < len(text) && isASCIISpace(text[i]) {
		i++
	}
	if i == len(text) || text[i] != '=' {
		return nil, false
	}
	i++
	for i < len(text) && isASCIISpace(text[i]) {
		i++
	}
	if i == len(text) || text[i] != '"' && text[i] != '\'' {
		return nil, false
	}
	quote := text[i]
	value := text[i+1:]
	end := bytes.IndexAny(value, string(quote)+"<")
	if end < 0 || value[end] != quote {
		return nil, false
	}
	return value[:end], true
}

// uriAttributeStart reports whether c can be the first byte of a name
// that uriAttributeName accepts: h, s or u in either case, or 0xC5, which
// begins "ſ" (U+017F), the one other letter that (?i) folds to one of
// them. Most blanks in a feed are followed by none of these, so the
// check skips the full name comparison for them.
func uriAttributeStart(c byte) bool {
	switch c | 0x20 {
	case 'h', 's', 'u':
		return true
	}
	return c == 0xC5
}

// uriAttributeNames are the attribute names of uriAttribute.
var uriAttributeNames = []string{"href", "src", "uri", "scheme"}

// uriAttributeName returns the length of the attribute name that text
// starts with, compared as (?i) does: by Unicode simple case folding, so
// "ſrc" (long s) is "src" too.
func uriAttributeName(text []byte) (int, bool) {
	for _, name := range uriAttributeNames {
		if n, ok := hasPrefixFold(text, name); ok {
			return n, true
		}
	}
	return 0, false
}

// hasPrefixFold reports whether text starts with the lower-case ASCII
// word under Unicode simple case folding, and the length of that prefix
// in bytes.
func hasPrefixFold(text []byte, word string) (int, bool) {
	n := 0
	for k := 0; k < len(word); k++ {
		if n == len(text) {
			return 0, false
		}
		r, size := rune(text[n]), 1
		if r >= utf8.RuneSelf {
			r, size = utf8.DecodeRune(text[n:])
		}
		if !equalFold(r, rune(word[k])) {
			return 0, false
		}
		n += size
	}
	return n, true
}

// equalFold reports whether r is in the Unicode simple case folding orbit
// of the lower-case ASCII letter lower, as regexp compares runes under (?i).
func equalFold(r, lower rune) bool {
	if r < utf8.RuneSelf {
		if 'A' <= r && r <= 'Z' {
			r += 'a' - 'A'
		}
		return r == lower
	}
	for f := unicode.SimpleFold(lower); f != lower; f = unicode.SimpleFold(f) {
		if f == r {
			return true
		}
	}
	return false
}

// parsesAsURL reports whether url.Parse accepts value. Values made of the
// characters that url.Parse checks nothing about are accepted without
// calling it: unreserved and sub-delimiter characters, "/", "?" and "#",
// a leading scheme, and, after "//", a host of letters, digits and "-._~".
// Anything else, such as "%", "@", brackets, a port or non-ASCII text,
// goes to url.Parse.
func parsesAsURL(value []byte) bool {
	if simpleURL(value) {
		return true
	}
	_, err := url.Parse(string(value))
	return err == nil
}

func simpleURL(value []byte) bool {
	rest := value
	if n := bytes.IndexByte(value, ':'); n >= 0 {
		if !isURLScheme(value[:n]) {
			return false
		}
		rest = value[n+1:]
	}
	host := false
	if len(rest) >= 2 && rest[0] == '/' && rest[1] == '/' {
		rest = rest[2:]
		host = true
	}
	for _, c := range rest {
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case c == '-', c == '.', c == '_', c == '~':
		case c == '/', c == '?', c == '#':
			host = false
		case host:
			return false
		case strings.IndexByte("!$&'()*+,;=", c) < 0:
			return false
		}
	}
	return true
}

// isURLScheme reports whether s matches [a-zA-Z][a-zA-Z0-9+.-]*, the
// scheme syntax of RFC 3986 that url.Parse splits off.
func isURLScheme(s []byte) bool {
	if len(s) == 0 {
		return false
	}
	for k, c := range s {
		letter := 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
		if !letter && (k == 0 || !('0' <= c && c <= '9' || c == '+' || c == '-' || c == '.')) {
			return false
		}
	}
	return true
}

func (r *xmlRepairer) note(s string) {
	if !slices.Contains(r.notes, s) {
		r.notes = append(r.notes, s)
	}
}

// trimLeading drops whitespace and U+FEFF before the first "<" when the
// document has an XML declaration, which must be its first bytes.
func (r *xmlRepairer) trimLeading(text string) string {
	trimmed := strings.TrimLeft(text, " \t\r\n\uFEFF")
	if len(trimmed) != len(text) && strings.HasPrefix(trimmed, "<?xml") {
		r.note(recoveryLeadingSpace)
		return trimmed
	}
	return text
}

// step copies one construct starting at i and returns the index after it.
func (r *xmlRepairer) step(i int) int {
	rest := r.src[i:]
	switch {
	case strings.HasPrefix(rest, "<![CDATA["):
		return r.copyUntil(i, len("<![CDATA["), "]]>")
	case strings.HasPrefix(rest, "<!--"):
		return r.copyUntil(i, len("<!--"), "-->")
	case strings.HasPrefix(rest, "<?"):
		return r.copyUntil(i, len("<?"), "?>")
	case rest[0] == '&':
		return r.reference(i)
	}
	if n := plainASCII(rest); n > 0 {
		r.out.WriteString(rest[:n])
		return i + n
	}
	c, size := utf8.DecodeRuneInString(rest)
	r.writeChar(c)
	return i + size
}

// plainASCII returns the length of the run at the start of s of ASCII
// characters that XML allows and that start no markup or reference, which
// step copies as they are.
func plainASCII(s string) int {
	for n := 0; n < len(s); n++ {
		b := s[n]
		if b == '<' || b == '&' || b >= utf8.RuneSelf || b < 0x20 && b != '\t' && b != '\n' && b != '\r' {
			return n
		}
	}
	return len(s)
}

// sectionEnd returns the index after the first end in src from from on,
// or len(src) without one. It reads src as copyUntil writes it, without
// forbidden characters, so a character dropped from "-\x01->" cannot make
// the next pass find an end that this one did not.
func sectionEnd(src string, from int, end string) int {
	region := src[from:]
	if n := strings.Index(region, end); n >= 0 {
		// Dropping characters can only bring an end forward.
		region = region[:n+len(end)]
	}
	if !strings.ContainsFunc(region, notXMLChar) {
		if strings.HasSuffix(region, end) {
			return from + len(region)
		}
		return len(src)
	}
	var kept []byte
	for j, c := range region {
		if !isXMLChar(c) {
			continue
		}
		kept = utf8.AppendRune(kept, c)
		if bytes.HasSuffix(kept, []byte(end)) {
			return from + j + utf8.RuneLen(c)
		}
	}
	return len(src)
}

// copyUntil copies text from i up to and including end, or to the end of
// the document when end never comes, dropping forbidden characters. The
// search for end starts after the opening markup of open bytes, so "<!-->"
// does not close its own comment.
func (r *xmlRepairer) copyUntil(i, open int, end string) int {
	stop := sectionEnd(r.src, i+open, end)
	section := r.src[i:stop]
	if utf8.ValidString(section) && !strings.ContainsFunc(section, notXMLChar) {
		r.out.WriteString(section)
		return stop
	}
	for _, c := range section {
		r.writeChar(c)
	}
	return stop
}

func (r *xmlRepairer) writeChar(c rune) {
	if !isXMLChar(c) {
		r.note(recoveryIllegalChars)
		return
	}
	r.out.WriteRune(c)
}

// reference handles an ampersand at i: a valid entity or character
// reference is kept, a reference to a forbidden character is dropped, an
// HTML entity becomes a character reference and anything else is a bare
// ampersand that gets escaped.
func (r *xmlRepairer) reference(i int) int {
	name, ok := referenceName(r.src[i+1:])
	if !ok {
		r.out.WriteString("&amp;")
		r.note(recoveryBareAmpersand)
		return i + 1
	}
	next := i + len(name) + 2
	if name[0] == '#' {
		if _, valid := parseCharRef(name); !valid {
			// Escape only this ampersand and scan the rest again: the
			// text up to ";" may hold another ampersand, as in "&#&;".
			r.out.WriteString("&amp;")
			r.note(recoveryBareAmpersand)
			return i + 1
		}
		r.numericReference(name)
		return next
	}
	switch {
	case isPredefinedEntity(name), r.declaresEntity(name):
		r.out.WriteString("&" + name + ";")
	default:
		r.htmlEntity(name)
	}
	return next
}

// numericReference writes a valid character reference, mapping C1 code
// points to windows-1252 and dropping forbidden characters.
func (r *xmlRepairer) numericReference(name string) {
	c, _ := parseCharRef(name)
	switch {
	case c >= 0x80 && c <= 0x9F:
		// Publishers who copy from windows-1252 text write its code points
		// as references; browsers read them as windows-1252 as well.
		r.writeCharRef(charmap.Windows1252.DecodeByte(byte(c)))
		r.note(recoveryC1Reference)
	case !isXMLChar(c):
		r.note(recoveryIllegalChars)
	default:
		r.out.WriteString("&" + name + ";")
	}
}

func (r *xmlRepairer) htmlEntity(name string) {
	ref := "&" + name + ";"
	decoded := html.UnescapeString(ref)
	if decoded == ref {
		r.out.WriteString("&amp;" + name + ";")
		r.note(recoveryBareAmpersand)
		return
	}
	for _, c := range decoded {
		r.writeCharRef(c)
	}
	r.note(recoveryHTMLEntity)
}

func (r *xmlRepairer) writeCharRef(c rune) {
	if isXMLChar(c) {
		r.out.WriteString("&#x" + strconv.FormatInt(int64(c), 16) + ";")
	}
}

// declaresEntity reports whether the internal DTD subset declares name.
func (r *xmlRepairer) declaresEntity(name string) bool {
	return strings.Contains(r.src, "<!ENTITY "+name+" ")
}

// referenceName returns the text between "&" and ";" when it has the
// shape of an entity or character reference.
func referenceName(s string) (string, bool) {
	end := strings.IndexByte(s[:min(len(s), 40)], ';')
	if end <= 0 {
		return "", false
	}
	name := s[:end]
	if name[0] == '#' {
		return name, len(name) > 1
	}
	for k, c := range name {
		letter := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_'
		if !letter && (k == 0 || !(c >= '0' && c <= '9' || c == '-' || c == '.')) {
			return "", false
		}
	}
	return name, true
}

func parseCharRef(name string) (rune, bool) {
	digits, base := name[1:], 10
	if strings.HasPrefix(digits, "x") || strings.HasPrefix(digits, "X") {
		digits, base = digits[1:], 16
	}
	n, err := strconv.ParseUint(digits, base, 32)
	if err != nil || n > utf8.MaxRune {
		return 0, false
	}
	return rune(n), true
}

func isPredefinedEntity(name string) bool {
	switch name {
	case "amp", "lt", "gt", "quot", "apos":
		return true
	}
	return false
}

// isXMLChar reports whether c matches the Char production of XML 1.0.
func isXMLChar(c rune) bool {
	switch {
	case c == '\t', c == '\n', c == '\r':
		return true
	case c < 0x20:
		return false
	case c <= 0xD7FF:
		return true
	case c < 0xE000:
		return false
	case c <= 0xFFFD:
		return true
	}
	return c >= 0x10000 && c <= utf8.MaxRune
}

// stripIllegal removes characters that XML 1.0 forbids and invalid UTF-8.
func stripIllegal(s string) string {
	if utf8.ValidString(s) && !strings.ContainsFunc(s, notXMLChar) {
		return s
	}
	return strings.Map(func(c rune) rune {
		if notXMLChar(c) {
			return -1
		}
		return c
	}, strings.ToValidUTF8(s, ""))
}

func notXMLChar(c rune) bool { return !isXMLChar(c) }

// closeTruncated cuts text after the last complete item or entry and
// closes the elements still open there. It returns false when the text
// holds no complete item.
func closeTruncated(text []byte) ([]byte, bool) {
	cut := -1
	for _, end := range []string{"</item>", "</entry>", "</channel>"} {
		if n := bytes.LastIndex(text, []byte(end)); n >= 0 {
			cut = max(cut, n+len(end))
		}
	}
	if cut < 0 {
		return nil, false
	}
	open := openElements(text[:cut])
	out := append([]byte(nil), text[:cut]...)
	for k := len(open) - 1; k >= 0; k-- {
		out = append(out, "</"+open[k]+">"...)
	}
	return out, true
}

// openElements returns the qualified names of the elements still open at
// the end of text, outermost first.
func openElements(text []byte) []string {
	dec := xml.NewDecoder(bytes.NewReader(text))
	dec.Strict = false
	var stack []string
	for {
		tok, err := dec.RawToken()
		if err == io.EOF || err != nil {
			return stack
		}
		switch t := tok.(type) {
		case xml.StartElement:
			stack = append(stack, qualifiedName(t.Name))
		case xml.EndElement:
			if len(stack) > 0 {
				stack = stack[:len(stack)-1]
			}
		}
	}
}

func qualifiedName(n xml.Name) string {
	if n.Space == "" {
		return n.Local
	}
	return n.Space + ":" + n.Local
}
