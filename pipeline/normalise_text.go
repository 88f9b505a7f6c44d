package pipeline

import (
	"html"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	nethtml "golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// maxSummaryRunes is the summary length limit: long enough for a digest
// teaser of three or four sentences, short enough for a mail preview.
const maxSummaryRunes = 500

// maxTitlePasses bounds how often plainTitle reduces markup that decoding
// entities formed again. Each pass peels one layer of escaping, and a
// title escaped more than three times is not text a publisher meant.
const maxTitlePasses = 4

// plainTitle turns a title into plain text: markup reduced to its text
// (script and style content dropped), entities decoded, whitespace
// collapsed, forbidden characters removed. A title escaped twice
// ("&lt;script&gt;") becomes markup once decoded, so it is reduced again,
// because RSS readers that treat titles as HTML would run it. Only the
// first maxRawTitleBytes of s are read (see cutRawHTML).
func plainTitle(s string) string {
	s, _ = cutRawHTML(s, rawLimits.titleBytes, rawLimits.titleBytes)
	if !hasTitleMarkup(s) {
		s = collapseSpace(html.UnescapeString(s))
		if !hasTitleMarkup(s) {
			return s
		}
	}
	for range maxTitlePasses {
		s = htmlToText(s)
		if !hasTitleMarkup(s) {
			return s
		}
	}
	// Still markup after every pass: drop the angle brackets, so no
	// reader can see a tag.
	return collapseSpace(strings.NewReplacer("<", " ", ">", " ").Replace(s))
}

// hasTitleMarkup reports whether s contains markup. Markup is a comment,
// an element that runs code or hides its content (script, style,
// iframe...), a line break, or an HTML element with well-formed attributes
// or with both its start and end tags. Text that only looks like a tag is
// not: "Vector<int>", "if (a<b && c>d)", "The <title> element".
func hasTitleMarkup(s string) bool {
	if !strings.Contains(s, "<") {
		return false
	}
	starts, ends := map[atom.Atom]bool{}, map[atom.Atom]bool{}
	z := nethtml.NewTokenizer(strings.NewReader(s))
	for {
		tt := z.Next()
		switch tt {
		case nethtml.ErrorToken:
			for tag := range starts {
				if ends[tag] {
					return true
				}
			}
			return false
		case nethtml.CommentToken, nethtml.DoctypeToken:
			return true
		case nethtml.StartTagToken, nethtml.EndTagToken, nethtml.SelfClosingTagToken:
			name, hasAttr := z.TagName()
			tag := atom.Lookup(name)
			if !htmlElements[tag] {
				continue
			}
			if activeElements[tag] || tag == atom.Br || tag == atom.Wbr {
				return true
			}
			if hasAttr && wellFormedAttributes(z) {
				return true
			}
			if tt == nethtml.EndTagToken {
				ends[tag] = true
			} else {
				starts[tag] = true
			}
		}
	}
}

// activeElements are the elements that are markup wherever they appear
// in a title, because a reader that renders titles as HTML would run or
// hide their content.
var activeElements = map[atom.Atom]bool{
	atom.Script: true, atom.Style: true, atom.Iframe: true, atom.Object: true,
	atom.Embed: true, atom.Svg: true, atom.Math: true, atom.Noscript: true,
	atom.Template: true, atom.Frame: true, atom.Frameset: true, atom.Applet: true,
	atom.Base: true, atom.Link: true, atom.Meta: true, atom.Form: true,
}

// attributeName is the form of an attribute name in markup a publisher
// wrote; the tokenizer also reads "&&" in "a<b && c>d" as one.
var attributeName = regexp.MustCompile(`^[a-z_:][-a-z0-9_:.]*$`)

// wellFormedAttributes reports whether every attribute of the current tag
// token has a name of the usual form.
func wellFormedAttributes(z *nethtml.Tokenizer) bool {
	for {
		key, _, more := z.TagAttr()
		if !attributeName.Match(key) {
			return false
		}
		if !more {
			return true
		}
	}
}

// htmlToText returns the visible text of an HTML fragment with
// whitespace collapsed. Block elements and line breaks separate words.
func htmlToText(s string) string {
	var b strings.Builder
	z := nethtml.NewTokenizer(strings.NewReader(s))
	skip := 0
	for {
		switch z.Next() {
		case nethtml.ErrorToken:
			// The tokenizer stops at the end of input (io.EOF) and
			// never fails otherwise on a strings.Reader.
			return collapseSpace(b.String())
		case nethtml.TextToken:
			if skip == 0 {
				b.Write(z.Text())
			}
		case nethtml.StartTagToken:
			tag := tagAtom(z)
			skip += hiddenDelta(tag, 1)
			writeBreak(&b, tag)
		case nethtml.EndTagToken:
			tag := tagAtom(z)
			skip = max(0, skip+hiddenDelta(tag, -1))
			writeBreak(&b, tag)
		case nethtml.SelfClosingTagToken:
			writeBreak(&b, tagAtom(z))
		}
	}
}

// writeBreak writes a space for a tag that separates words on screen. An
// inline tag such as <b> does not: "Stocks <b>up</b>." reads "Stocks up.",
// not "Stocks up .".
func writeBreak(b *strings.Builder, tag atom.Atom) {
	switch tag {
	case atom.A, atom.Abbr, atom.B, atom.Bdi, atom.Bdo, atom.Cite, atom.Code, atom.Data,
		atom.Dfn, atom.Em, atom.I, atom.Kbd, atom.Mark, atom.Q, atom.S, atom.Samp,
		atom.Small, atom.Span, atom.Strong, atom.Sub, atom.Sup, atom.Time, atom.U,
		atom.Var, atom.Font, atom.Ins, atom.Del, atom.Strike, atom.Tt, atom.Big:
		return
	}
	b.WriteByte(' ')
}

// hiddenDelta returns d for tags whose content readers never see.
func hiddenDelta(tag atom.Atom, d int) int {
	switch tag {
	case atom.Script, atom.Style, atom.Noscript, atom.Template:
		return d
	}
	return 0
}

// tagAtom returns the atom of the current tag token. The tokenizer hands
// out a tag's name once, so each token is looked up exactly once.
func tagAtom(z *nethtml.Tokenizer) atom.Atom {
	name, _ := z.TagName()
	return atom.Lookup(name)
}

// collapseSpace removes forbidden characters, joins runs of whitespace
// into one space and trims the ends. Whitespace is what unicode.IsSpace
// reports, as for strings.Fields, and text that is already collapsed is
// returned without a copy.
func collapseSpace(s string) string {
	if isCollapsedPrintableASCII(s) {
		return s
	}
	if isASCII(s) {
		return collapseASCII(s)
	}
	s = stripIllegal(s)
	if isCollapsed(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	fieldStart := -1
	for i, r := range s {
		switch {
		case !unicode.IsSpace(r):
			if fieldStart < 0 {
				fieldStart = i
			}
		case fieldStart >= 0:
			appendField(&b, s[fieldStart:i])
			fieldStart = -1
		}
	}
	if fieldStart >= 0 {
		appendField(&b, s[fieldStart:])
	}
	return b.String()
}

// collapseASCII is collapseSpace for ASCII text, in one pass over bytes.
// Tab, newline and carriage return are whitespace. stripIllegal drops the
// other control characters, so they are skipped without splitting a word.
func collapseASCII(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	start, space := 0, false // s[start:i] is not written yet
	write := func(end int) {
		if start == end {
			return
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteString(s[start:end])
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c > ' ' {
			continue
		}
		write(i)
		start = i + 1
		if c == ' ' || c == '\t' || c == '\n' || c == '\r' {
			space = b.Len() > 0
		}
	}
	write(len(s))
	return b.String()
}

// appendField appends a field to b, after a space unless b is empty.
func appendField(b *strings.Builder, field string) {
	if b.Len() > 0 {
		b.WriteByte(' ')
	}
	b.WriteString(field)
}

// isCollapsedPrintableASCII reports whether s contains only the ASCII
// characters from space to DEL, which XML allows and of which only the
// space is whitespace, with no space at its ends or next to another.
// stripIllegal and collapseSpace return such text unchanged.
func isCollapsedPrintableASCII(s string) bool {
	previousSpace := true // so a space at the start fails too
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < ' ' || c >= utf8.RuneSelf || c == ' ' && previousSpace {
			return false
		}
		previousSpace = c == ' '
	}
	return !previousSpace || s == ""
}

// isCollapsed reports whether s has no whitespace at its ends and no
// whitespace other than single spaces between fields.
func isCollapsed(s string) bool {
	previousSpace := true // so whitespace at the start fails too
	for _, r := range s {
		space := unicode.IsSpace(r)
		if space && (r != ' ' || previousSpace) {
			return false
		}
		previousSpace = space
	}
	return !previousSpace || s == ""
}

// truncateText shortens s to at most limit runes plus an ellipsis, cutting
// at the last word boundary before the limit when there is one in the
// second half.
func truncateText(s string, limit int) string {
	end := 0
	for n := 0; n < limit && end < len(s); n++ {
		_, size := utf8.DecodeRuneInString(s[end:])
		end += size
	}
	if end == len(s) {
		return s
	}
	if !utf8.ValidString(s[:end]) {
		return truncateRunes(s, limit)
	}
	// Walk back from the limit over the runes of the second half.
	cut := end
	for i, k := end, limit; k > limit/2+1; {
		r, size := utf8.DecodeLastRuneInString(s[:i])
		i, k = i-size, k-1
		if unicode.IsSpace(r) {
			cut = i
			break
		}
	}
	trimmed := strings.TrimRightFunc(s[:cut], func(r rune) bool {
		return unicode.IsSpace(r) || unicode.IsPunct(r)
	})
	return trimmed + "…"
}

// truncateRunes is truncateText for text with invalid UTF-8, which it
// returns with each invalid byte replaced by U+FFFD.
func truncateRunes(s string, limit int) string {
	runes := []rune(s)[:limit]
	cut := len(runes)
	for k := len(runes) - 1; k > limit/2; k-- {
		if unicode.IsSpace(runes[k]) {
			cut = k
			break
		}
	}
	trimmed := strings.TrimRightFunc(string(runes[:cut]), func(r rune) bool {
		return unicode.IsSpace(r) || unicode.IsPunct(r)
	})
	return trimmed + "…"
}

// normaliseLanguage reduces a language tag to its lower-case primary
// subtag ("pl-PL" to "pl"). It returns "" for text that is not a tag.
func normaliseLanguage(tag string) string {
	tag = strings.TrimSpace(tag)
	primary, _, _ := strings.Cut(strings.ReplaceAll(tag, "_", "-"), "-")
	primary = strings.ToLower(primary)
	if len(primary) < 2 || len(primary) > 3 {
		return ""
	}
	for _, c := range primary {
		if c < 'a' || c > 'z' {
			return ""
		}
	}
	return primary
}
