package pipeline

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Partners control the text of their items, and some characters let that
// text act on what readers see around it. StripControls removes them from
// every plain-text field of an item and from its content HTML, and the
// feed and digest renderers apply it again, for events stored before the
// rule existed.
//
// Some bidirectional controls open a scope that reorders the text after
// them. They are the embeddings U+202A (LRE) and U+202B (RLE), the
// overrides U+202D (LRO) and U+202E (RLO) and the isolates U+2066 (LRI),
// U+2067 (RLI) and U+2068 (FSI), and U+202C (PDF) and U+2069 (PDI) end
// the scopes. An override shows letters in reverse order, and one left
// open runs to the end of the paragraph, which in a merged feed, a
// channel page or a digest line may be text that the partner did not
// write. Balanced pairs still let a title show other text than it
// contains (the "Trojan Source" attacks), so every one is removed instead
// of being balanced. Right-to-left letters still show right to left
// without them, because that direction is a property of the letters. What
// can change is the order of runs and punctuation in text that mixes both
// directions, which the reader's own bidirectional algorithm then decides.
// In content HTML, the dir attribute and the bdi and bdo elements, which
// the content policy keeps, set direction with a scope that ends with
// their element.
//
// The marks U+200E (LRM), U+200F (RLM) and U+061C (ALM) stay. Each is a
// zero-width character with a direction but no scope. It moves the
// punctuation and digits next to it, but it cannot reverse a run of
// letters or reach past its field. Right-to-left publishers use the marks
// for exactly that placement.
//
// XML 1.0 allows DEL (U+007F) and the C1 controls (U+0080 to U+009F), so
// stripIllegal keeps them, but no text meant for readers contains them. A
// raw C1 character in decoded text comes from an encoding error unless a
// partner put it there on purpose, and U+009B starts an escape sequence in
// terminals that read 8-bit controls. They are removed. They are not read
// as windows-1252, as character references to them are (see
// xmlRepairer.numericReference), because which character the publisher
// meant would be a guess. NEL (U+0085) ends a line and becomes a space.

// StripControls returns s without DEL, the C1 controls and the
// bidirectional embedding, override and isolate controls. NEL becomes a
// space, and invalid UTF-8 is removed when s contains one of these
// characters. Text without them is returned unchanged, without a copy.
// The bidirectional marks (LRM, RLM, ALM) stay.
func StripControls(s string) string {
	if !hasControls(s) {
		return s
	}
	// Removing only valid sequences from valid text cannot join the bytes
	// around a removed character into a new one.
	s = strings.ToValidUTF8(s, "")
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\u0085':
			return ' '
		case isStrippedControl(r):
			return -1
		}
		return r
	}, s)
}

// EscapeControls returns the URL u with each character that StripControls
// removes from text written as percent-encoded UTF-8, NEL included, so
// the URL still names the same resource. A browser percent-encodes such
// a character in the same way, so the request it sends does not change.
//
// NOTE: CanonicalURL percent-encodes these characters in the path but
// keeps them in the query, so item URL fields may contain them. Escaping
// them there would change the content hash and cluster keys of items
// stored with them, so only content URLs and the renderers escape them.
func EscapeControls(u string) string {
	if !hasControls(u) {
		return u
	}
	var b strings.Builder
	b.Grow(len(u) + 8)
	for _, r := range strings.ToValidUTF8(u, "") {
		if !isStrippedControl(r) {
			b.WriteRune(r)
			continue
		}
		var buf [utf8.UTFMax]byte
		for _, c := range buf[:utf8.EncodeRune(buf[:], r)] {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// isStrippedControl reports whether StripControls removes r.
func isStrippedControl(r rune) bool {
	switch {
	case r >= 0x7F && r <= 0x9F:
		return true
	case r >= 0x202A && r <= 0x202E:
		return true
	case r >= 0x2066 && r <= 0x2069:
		return true
	}
	return false
}

// hasControls reports whether s contains a character StripControls
// changes. It compares bytes with the UTF-8 forms of those characters:
// DEL is 0x7F, the C1 controls are 0xC2 0x80 to 0xC2 0x9F, and the
// bidirectional controls are 0xE2 0x80 0xAA to 0xAE and 0xE2 0x81 0xA6 to
// 0xA9. 0xC2 and 0xE2 only ever start a sequence, so a match is always
// the character itself, even in invalid UTF-8.
func hasControls(s string) bool {
	// Three searches for a lead byte each, which strings.IndexByte does
	// many bytes at a time, cost less than one loop over every byte.
	if strings.IndexByte(s, 0x7F) >= 0 {
		return true
	}
	for rest := s; ; {
		i := strings.IndexByte(rest, 0xC2)
		if i < 0 || i+1 >= len(rest) {
			break
		}
		if rest[i+1] >= 0x80 && rest[i+1] <= 0x9F {
			return true
		}
		rest = rest[i+1:]
	}
	for rest := s; ; {
		i := strings.IndexByte(rest, 0xE2)
		if i < 0 || i+2 >= len(rest) {
			break
		}
		if isBidiControlTail(rest[i+1], rest[i+2]) {
			return true
		}
		rest = rest[i+1:]
	}
	return false
}

func isBidiControlTail(b1, b2 byte) bool {
	return b1 == 0x80 && b2 >= 0xAA && b2 <= 0xAE || b1 == 0x81 && b2 >= 0xA6 && b2 <= 0xA9
}

// stripTextControls is StripControls for plain text whose whitespace is
// collapsed, which it keeps collapsed: "a \u202e b" becomes "a b". It
// also removes character references to the bidirectional controls, such
// as "&#x202E;", which a title escaped twice still contains. Readers that
// take RSS titles for HTML decode such a reference into the control, and
// plainTitle reduces markup escaped twice for the same reason.
func stripTextControls(s string) string {
	if hasControls(s) {
		s = collapseSpace(StripControls(s))
	}
	if strings.Contains(s, "&#") {
		if t := charReference.ReplaceAllStringFunc(s, dropBidiReference); t != s {
			s = collapseSpace(t)
		}
	}
	return s
}

// hasTextControls reports whether stripTextControls may change s.
func hasTextControls(s string) bool {
	return hasControls(s) || strings.Contains(s, "&#")
}

// charReference matches a numeric character reference as HTML reads it:
// the digits may have leading zeros and the semicolon may be missing.
var charReference = regexp.MustCompile(`&#(?:[xX][0-9a-fA-F]+|[0-9]+);?`)

// dropBidiReference returns a space for a reference to a bidirectional
// control that StripControls removes, and the reference itself for any
// other. A space, unlike "", cannot join the text around the reference
// into a new one, as in "&&#x202E;#x202E;". References to DEL and the C1
// controls stay: HTML reads the C1 ones as windows-1252 characters, and
// DEL shows nothing.
func dropBidiReference(ref string) string {
	digits, base := strings.TrimSuffix(ref[2:], ";"), 10
	if digits[0] == 'x' || digits[0] == 'X' {
		digits, base = digits[1:], 16
	}
	n, err := strconv.ParseUint(digits, base, 32)
	if err != nil || n > utf8.MaxRune || n < 0x202A || !isStrippedControl(rune(n)) {
		return ref
	}
	return " "
}

// stripItemControls applies the rule to every plain-text field of it
// and to its content. It copies the author and category lists before it
// changes them, so an item sharing them with it is left as it was.
func stripItemControls(it *Item) {
	it.Title = stripTextControls(it.Title)
	it.Summary = stripTextControls(it.Summary)
	it.Content = StripControls(it.Content)
	if authorsHaveControls(it.Authors) {
		authors := make([]Author, len(it.Authors))
		for k, a := range it.Authors {
			a.Name, a.Email = stripTextControls(a.Name), stripTextControls(a.Email)
			authors[k] = a
		}
		it.Authors = authors
	}
	if listHasControls(it.Categories) {
		// cleanCategories drops a category that ends up empty.
		categories := make([]string, 0, len(it.Categories))
		for _, c := range it.Categories {
			if c = stripTextControls(c); c != "" {
				categories = append(categories, c)
			}
		}
		it.Categories = categories
	}
	if enclosuresHaveControls(it.Enclosures) {
		enclosures := make([]Enclosure, len(it.Enclosures))
		for k, e := range it.Enclosures {
			e.Type = stripTextControls(e.Type)
			enclosures[k] = e
		}
		it.Enclosures = enclosures
	}
}

func authorsHaveControls(authors []Author) bool {
	for _, a := range authors {
		if hasTextControls(a.Name) || hasTextControls(a.Email) {
			return true
		}
	}
	return false
}

func listHasControls(values []string) bool {
	for _, v := range values {
		if hasTextControls(v) {
			return true
		}
	}
	return false
}

func enclosuresHaveControls(enclosures []Enclosure) bool {
	for _, e := range enclosures {
		if hasTextControls(e.Type) {
			return true
		}
	}
	return false
}
