package pipeline

import (
	"crypto/sha256"
	"encoding/hex"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	nethtml "golang.org/x/net/html"
	"golang.org/x/net/html/atom"
	"golang.org/x/text/unicode/norm"
)

// RulesVersion is the version of the canonicalisation rules that decide
// an item's identity and content hash. Raise it whenever a change to
// CanonicalURL, the identity keys or the hashed text could change the
// hash of an unchanged item, and keep the old version's hash function in
// hashRules: docs/dedup.md explains how the ingester compares items across
// versions.
//
// Version 1 hashed the cleaned fields as they are. Version 2 hashes
// normalised text (see contentHashV2) and strips tracking parameters from
// URL-shaped GUIDs. Version 3 also ignores whitespace before closing
// punctuation and after opening brackets, because summaries extracted
// from HTML once read "about ." where they now read "about.". Version 4
// removes the user name and password from canonical URLs (identity keys
// keep them, see identityURL) and hashes fields within the limits of
// limitFields. Version 5 removes DEL, the C1 controls and the
// bidirectional embedding, override and isolate controls from the text
// fields and the content before hashing, as normalisation now does (see
// StripControls). So an event stored with them hashes as the same item
// cleaned today, and items without them hash as under version 4.
const RulesVersion = 5

// hashRules maps each rules version to the content hash it computes. An
// index entry written under an older version is compared by hashing the
// new item under that version as well.
var hashRules = map[int]func(*Item) string{
	1: contentHashV1,
	2: contentHashV2,
	3: contentHashV3,
	4: contentHashV4,
	5: contentHashV5,
}

// ContentHash returns the content hash of it under the current rules.
func ContentHash(it *Item) string {
	return contentHashV5(it)
}

// contentHashV5 is contentHashV4 over the item without the characters
// StripControls removes, which normalisation removes before the field
// limits as well. It keeps version 4's label, so an item without those
// characters, nearly every item, keeps the hash that version 4 gave it:
// the seen cache still finds it, and the upgrade costs no index reads.
func contentHashV5(it *Item) string {
	clean := *it
	stripItemControls(&clean)
	return contentHashV4(&clean)
}

// contentHashV4 is contentHashV3 over the item cut to the field limits,
// so an event stored before the limits hashes as the same item cut today.
// URLs lose their user info through hashURL.
func contentHashV4(it *Item) string {
	limited := *it
	limitFields(&limited)
	return contentHashOfText(&limited, "4", hashTextTight)
}

// contentHashV3 is contentHashV2 with punctuation spacing ignored.
func contentHashV3(it *Item) string {
	return contentHashOfText(it, "3", hashTextTight)
}

// contentHashV2 is the content hash of rules version 2, kept so index
// entries written under it can still be compared.
func contentHashV2(it *Item) string {
	return contentHashOfText(it, "2", hashText)
}

// contentHashOfText returns the hex SHA-256 over the normalised text a reader
// sees: the title without a comment counter, the summary, the visible
// text and the link and image targets of the content, the URL, authors,
// categories, enclosures, image and language. Text is NFC-normalised with
// whitespace and invisible characters collapsed, URLs are canonical and
// categories sorted, so whitespace, tracking parameters, comment counters
// and reordered tags do not change it. Dates are left out, so a bumped
// <updated> alone is not an update. It is idempotent over its own output:
// hashing an item stored under older rules applies today's rules to it.
func contentHashOfText(it *Item, rules string, hashText func(string) string) string {
	h := sha256.New()
	writeField(h, "rules", rules)
	writeField(h, "title", hashText(stripCommentCounter(it.Title)))
	writeField(h, "summary", hashText(it.Summary))
	text, targets := contentTextAndTargets(it.Content)
	writeField(h, "content", hashText(text))
	for _, u := range targets {
		writeField(h, "target", u)
	}
	writeField(h, "url", hashURL(it.URL))
	for _, a := range it.Authors {
		writeField(h, "author", hashText(a.Name)+"\x00"+strings.ToLower(a.Email))
	}
	for _, c := range sortedFolded(it.Categories) {
		writeField(h, "category", c)
	}
	for _, e := range it.Enclosures {
		writeField(h, "enclosure", hashURL(e.URL)+"\x00"+e.Type+"\x00"+strconv.FormatInt(e.Length, 10))
	}
	writeField(h, "image", hashURL(it.Image))
	writeField(h, "language", strings.ToLower(it.Language))
	return hex.EncodeToString(h.Sum(nil))
}

// contentHashV1 is the content hash of rules version 1, kept so index
// entries written under it can still be compared.
func contentHashV1(it *Item) string {
	h := sha256.New()
	writeField(h, "title", it.Title)
	writeField(h, "summary", it.Summary)
	writeField(h, "content", it.Content)
	writeField(h, "url", it.URL)
	for _, a := range it.Authors {
		writeField(h, "author", a.Name+"\x00"+a.Email+"\x00"+a.URL)
	}
	for _, c := range it.Categories {
		writeField(h, "category", c)
	}
	for _, e := range it.Enclosures {
		writeField(h, "enclosure", e.URL+"\x00"+e.Type+"\x00"+strconv.FormatInt(e.Length, 10))
	}
	writeField(h, "image", it.Image)
	writeField(h, "language", it.Language)
	return hex.EncodeToString(h.Sum(nil))
}

// invisibleRunes are characters that change the bytes of a text but not
// what a reader sees: zero-width spaces and joiners, the word joiner,
// the byte-order mark and the soft hyphen.
var invisibleRunes = strings.NewReplacer(
	"\u200b", "", "\u200c", "", "\u200d", "", "\u2060", "", "\ufeff", "", "\u00ad", "",
)

// hashText returns s in NFC with invisible characters removed and
// whitespace collapsed.
func hashText(s string) string {
	if isASCII(s) {
		// ASCII text is in NFC and contains none of invisibleRunes.
		return collapseSpace(s)
	}
	return collapseSpace(invisibleRunes.Replace(norm.NFC.String(s)))
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// hashTextTight is hashText without the whitespace before closing
// punctuation or after an opening bracket, which depends on how text was
// extracted from markup rather than on what the author wrote.
func hashTextTight(s string) string {
	return tightenPunctuation(hashText(s))
}

// tightenPunctuation removes every run of ASCII whitespace (\t \n \f \r
// and space) that is followed by one of . , ; : ! ? ) ] or that follows
// ( or [. Rules versions 3 and 4 hash its output, so it must stay byte for
// byte equal to replacing `\s+([.,;:!?)\]])` and then `([(\[])\s+` with
// "$1", which is what earlier releases did. Every byte it compares is
// ASCII, so multi-byte and invalid UTF-8 sequences pass through unchanged.
func tightenPunctuation(s string) string {
	var b []byte
	copyFrom := 0 // s[copyFrom:] is not in b yet
	for i := 0; i < len(s); {
		if !isASCIISpace(s[i]) {
			i++
			continue
		}
		end := i + 1
		for end < len(s) && isASCIISpace(s[end]) {
			end++
		}
		afterOpening := i > 0 && (s[i-1] == '(' || s[i-1] == '[')
		beforeClosing := end < len(s) && strings.IndexByte(".,;:!?)]", s[end]) >= 0
		if afterOpening || beforeClosing {
			if b == nil {
				b = make([]byte, 0, len(s))
			}
			b = append(b, s[copyFrom:i]...)
			copyFrom = end
		}
		i = end
	}
	if b == nil {
		return s
	}
	return string(append(b, s[copyFrom:]...))
}

// isASCIISpace reports whether c is in the \s class of Go regular
// expressions, which is ASCII only and leaves out \v.
func isASCIISpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r'
}

// commentCounter matches a trailing comment count that some feeds put
// into titles, in English, Polish, French, German, Lithuanian and Dutch:
// "(3 comments)", "[12 Kommentare]", "– 5 komentarzy", "Comments (3)".
var commentCounter = regexp.MustCompile(`(?i)\s*[(\[|–—-]?\s*(?:` +
	`\d+\s+(?:comments?|replies|reply|responses?|komentarz(?:e|y)?|odpowied(?:ź|zi)|commentaires?|réponses?|` +
	`kommentare?|antworten|komentar(?:ai|as|ų)|atsakym(?:ai|as|ų)|reacties?|opmerkingen)` +
	`|(?:comments|kommentare|komentarze|commentaires|komentarai|reacties)\s*[(\[]\s*\d+\s*[)\]]` +
	`)\s*[)\]]?\s*$`)

// stripCommentCounter removes a trailing comment counter from a title.
func stripCommentCounter(title string) string {
	start, ok := commentCounterSearchStart(title)
	if !ok {
		return title
	}
	loc := commentCounter.FindStringIndex(title[start:])
	if loc == nil {
		return title
	}
	if stripped := title[:start+loc[0]]; stripped != "" {
		return stripped
	}
	return title
}

// commentCounterSearchStart returns where a match of commentCounter can
// start at the earliest, or false when the title cannot match at all.
// Go's regexp has no fast path for a pattern anchored at the end, so it
// would otherwise try every start position of the title.
//
// A match ends at the end of the title and its only ASCII digits are the
// counter's digits, so the title's last digit d ends those digits. After
// the digits the match contains at most two pieces of text between
// whitespace (the word or closing bracket, and an optional bracket).
// Before them it contains at most one piece (a separator) when the word
// follows the number. When the number is in brackets after the word, it
// contains at most three (separator, counter word, opening bracket), and
// the first character after the digits and whitespace is ")" or "]".
// Each piece lies inside one whitespace-separated field of
// the title, so a match cannot start before the whitespace that precedes
// the first or third field beginning before the digits. Searching from
// there finds the same leftmost match, because the pattern looks at no
// text before the match.
func commentCounterSearchStart(title string) (int, bool) {
	d := strings.LastIndexAny(title, "0123456789")
	if d < 0 {
		return 0, false
	}
	if countFields(title[d+1:]) > 2 {
		return 0, false
	}

	digitsStart := d
	for digitsStart > 0 && title[digitsStart-1] >= '0' && title[digitsStart-1] <= '9' {
		digitsStart--
	}

	fieldsBefore := 1
	if after := strings.TrimLeft(title[d+1:], " \t\n\f\r"); after != "" && (after[0] == ')' || after[0] == ']') {
		fieldsBefore = 3
	}
	// Walk back over the fields that begin before the digits, and then
	// over the whitespace before them, which the pattern's leading \s*
	// takes into the match.
	start := digitsStart
	for range fieldsBefore {
		for start > 0 && isASCIISpace(title[start-1]) {
			start--
		}
		for start > 0 && !isASCIISpace(title[start-1]) {
			start--
		}
	}
	for start > 0 && isASCIISpace(title[start-1]) {
		start--
	}
	return start, true
}

// countFields returns the number of runs of bytes between ASCII
// whitespace in s, the separators of the regexp class \s.
func countFields(s string) int {
	n := 0
	inField := false
	for i := 0; i < len(s); i++ {
		space := isASCIISpace(s[i])
		if !space && !inField {
			n++
		}
		inField = !space
	}
	return n
}

// hashURL returns raw canonicalised under the current rules, or raw
// itself when it is not an http(s) URL.
func hashURL(raw string) string {
	if raw == "" {
		return ""
	}
	if u, err := CanonicalURL(raw, nil); err == nil {
		return u
	}
	return raw
}

func sortedFolded(values []string) []string {
	out := make([]string, 0, len(values))
	for _, v := range values {
		out = append(out, strings.ToLower(hashText(v)))
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// contentTextAndTargets returns the visible text of sanitised content,
// normalised as hashText does, and the canonical URLs of its links and
// images in document order.
func contentTextAndTargets(content string) (string, []string) {
	if content == "" {
		return "", nil
	}
	text, targets := scanContent(content, true)
	contentScans.put(content, text)
	return hashText(text), targets
}

// scanContent returns the text of content's text tokens with a space for
// each tag, not normalised, and with withTargets the canonical URLs of
// its links and images.
func scanContent(content string, withTargets bool) (string, []string) {
	var b strings.Builder
	var targets []string
	z := nethtml.NewTokenizer(strings.NewReader(content))
	for {
		switch z.Next() {
		case nethtml.ErrorToken:
			return b.String(), targets
		case nethtml.TextToken:
			b.Write(z.Text())
		case nethtml.StartTagToken, nethtml.SelfClosingTagToken:
			if withTargets {
				targets = appendTargets(z, targets)
			}
			b.WriteByte(' ')
		case nethtml.EndTagToken:
			b.WriteByte(' ')
		}
	}
}

func appendTargets(z *nethtml.Tokenizer, targets []string) []string {
	name, hasAttr := z.TagName()
	a := atom.Lookup(name)
	if !hasAttr || a != atom.A && a != atom.Img {
		return targets
	}
	for {
		key, val, more := z.TagAttr()
		if k := string(key); k == "href" || k == "src" {
			targets = append(targets, hashURL(string(val)))
		}
		if !more {
			return targets
		}
	}
}
