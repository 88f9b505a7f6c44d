package feeds

import (
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/syndic-network/syndic/pipeline"
)

// cleanText returns s as valid UTF-8 with every character outside the XML 1.0
// Char production removed: C0 controls other than TAB, LF and CR, surrogates,
// U+FFFE and U+FFFF. It also removes DEL, the C1 controls and the
// bidirectional embedding, override and isolate controls, as
// pipeline.StripControls does. The pipeline already normalises items this
// way, and the renderers repeat the steps for two reasons. An invalid
// character in one title makes the whole document unparseable for every
// subscriber, and events stored before the pipeline removed the controls
// still contain them. In such an event's content HTML this removes them
// from link URLs as well.
func cleanText(s string) string {
	return pipeline.StripControls(xmlText(s))
}

// cleanURL is cleanText for a URL. It percent-encodes the controls that
// cleanText removes (see pipeline.EscapeControls), so the link still
// names the same resource.
func cleanURL(s string) string {
	return pipeline.EscapeControls(xmlText(s))
}

// xmlText returns s as valid UTF-8 without the characters that XML 1.0
// forbids.
func xmlText(s string) string {
	if isCleanText(s) {
		return s
	}
	s = strings.ToValidUTF8(s, "")
	return strings.Map(func(r rune) rune {
		if isXMLChar(r) {
			return r
		}
		return -1
	}, s)
}

func isCleanText(s string) bool {
	for _, r := range s {
		if r == utf8.RuneError || !isXMLChar(r) {
			return false
		}
	}
	return true
}

// isXMLChar reports whether r matches the Char production of XML 1.0
// (fifth edition, section 2.2).
func isXMLChar(r rune) bool {
	switch {
	case r == '\t' || r == '\n' || r == '\r':
		return true
	case r >= 0x20 && r <= 0xD7FF:
		return true
	case r >= 0xE000 && r <= 0xFFFD:
		return true
	case r >= 0x10000 && r <= utf8.MaxRune:
		return true
	}
	return false
}

// cleanAll applies cleanText to each element and drops elements that end up
// empty.
func cleanAll(values []string) []string {
	out := make([]string, 0, len(values))
	for _, v := range values {
		if v = strings.TrimSpace(cleanText(v)); v != "" {
			out = append(out, v)
		}
	}
	return out
}

// languageTagPattern is the xml:lang form that the RFC 4287 schema accepts
// (letters, then hyphen-separated alphanumeric subtags of up to 8 characters).
var languageTagPattern = regexp.MustCompile(`^[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*$`)

// languageTag returns s as a BCP 47 tag, with underscores (as in the POSIX
// locale "en_US") turned into hyphens, or "" when s is not a valid tag.
func languageTag(s string) string {
	s = strings.ReplaceAll(strings.TrimSpace(s), "_", "-")
	if !languageTagPattern.MatchString(s) {
		return ""
	}
	return s
}

// mediaType returns s when it has the type/subtype shape, else "".
func mediaType(s string) string {
	s = strings.TrimSpace(cleanText(s))
	slash := strings.IndexByte(s, '/')
	if slash <= 0 || slash == len(s)-1 || strings.ContainsAny(s, " \t\r\n") {
		return ""
	}
	return s
}

// emailAddress returns s when it has a local part and a domain around "@",
// the shape Atom's schema requires, else "".
func emailAddress(s string) string {
	s = strings.TrimSpace(cleanText(s))
	at := strings.IndexByte(s, '@')
	if at <= 0 || at == len(s)-1 {
		return ""
	}
	return s
}
