package pipeline

import (
	"fmt"
	"net/url"
	"strings"
	"unicode/utf8"
)

// Limits on the fields of one item, applied to polled and pushed items
// alike. Every field is written into every feed format, the HTML pages
// and the digests, so one oversized item would otherwise grow each of
// them. Content has its own limit, set by the NATS message size (see
// truncate.go).
const (
	// maxTitleRunes is the title length: several times a long headline,
	// and small enough that one title, escaped, stays far below the
	// 90,000 bytes of HTML a digest renders per item. A cut title ends at
	// a word boundary with "…".
	maxTitleRunes = 1000
	// maxCategories is the number of categories kept, in feed order.
	// Channel filters and digest subscriptions match categories one by
	// one, and news items carry a handful. More than 50 is a keyword dump.
	maxCategories = 50
	// maxCategoryRunes is the length of one category. A longer one is a
	// sentence, not a tag, so it is dropped rather than cut: a cut tag
	// would match no filter that a reader chose.
	maxCategoryRunes = 100
	// maxAuthors is the number of authors kept. A news item credits a few
	// people or one organisation.
	maxAuthors = 20
	// maxAuthorNameRunes is the length of an author name. 200 characters
	// leave room for several names written as one.
	maxAuthorNameRunes = 200
	// maxEmailBytes is the length of an author address: RFC 5321 limits a
	// path to 256 bytes, two of them the angle brackets.
	maxEmailBytes = 254
	// maxEnclosures is the number of enclosures kept. A podcast episode
	// has one file, and a news item a few pictures or documents.
	maxEnclosures = 20
	// maxAlternates is the number of alternate links kept: one per
	// translation of the item.
	maxAlternates = 20
	// MaxURLBytes is the length of any URL. The sitemaps.org protocol
	// requires page URLs of fewer than 2,048 characters, so a longer link
	// is not an address that publishers expect readers to follow. An item
	// link over the limit is treated as invalid, and the intake API
	// rejects the item. An image, enclosure, alternate or author URL over
	// it is dropped.
	MaxURLBytes = 2048
)

// Bounds on the raw markup that normalisation reads. Building an HTML
// tree costs far more heap than the markup it comes from. Without them,
// normalising an item of 9.9 MB made of 3.3 million "<a>" tags peaked at
// about 1.2 GiB of live heap and took 18 to 28 s
// (BenchmarkNormaliseItemHugeHTML on a 2-core Xeon).
// A published event carries at most the NATS max payload of content,
// 1 MiB by default (see fitEvent), so markup past these bounds is cut
// off before the costly steps, and items within them are unchanged.
const (
	// maxRawHTMLBytes bounds the content or summary HTML of an item, and
	// the HTML searched for its first image: twice the default NATS max
	// payload, which leaves room for scripts, styles and attributes that
	// sanitising removes. A server with a larger max_payload still gets
	// content cut at this bound.
	maxRawHTMLBytes = 2 << 20
	// maxRawHTMLTags bounds the number of "<" read from the same HTML,
	// because the tree and the sanitised copy grow with the number of
	// tags more than with their bytes: each "<a>" becomes a node and 31
	// bytes of sanitised output. By our estimate, articles carry one tag
	// per 50 to 100 bytes, so this bound cuts only markup far denser than
	// that before the byte bound does.
	// NOTE: that density was not measured on partner articles; a long
	// table-heavy article could reach this bound first.
	maxRawHTMLTags = 1 << 16
	// maxRawTitleBytes bounds a title, author name or category before its
	// markup is removed: more than 16 times the 4,000 bytes of a
	// 1,000-character title in UTF-8 (maxTitleRunes), which leaves room
	// for markup and character references.
	maxRawTitleBytes = 64 << 10
)

// rawLimits are the bounds that normalisation applies. Tests raise them
// to compare results with and without the cut.
var rawLimits = struct{ htmlBytes, htmlTags, titleBytes int }{
	maxRawHTMLBytes, maxRawHTMLTags, maxRawTitleBytes,
}

// cutRawHTML returns s cut to at most maxBytes bytes and maxTags "<"
// characters, and whether it cut anything. The cut falls before a "<" or
// an ASCII whitespace byte, so it never splits a character reference or
// a multi-byte character. A tag it splits is incomplete at the end of
// input, which the HTML tokenizer drops. Only text of more than maxBytes
// without a "<" or whitespace is cut at a rune boundary, before a
// character reference that the cut would split.
func cutRawHTML(s string, maxBytes, maxTags int) (string, bool) {
	if len(s) <= min(maxBytes, maxTags) {
		// Nearly every item: too short for either bound.
		return s, false
	}
	end := min(len(s), maxBytes)
	for i, tags := 0, 0; ; i++ {
		n := strings.IndexByte(s[i:end], '<')
		if n < 0 {
			break
		}
		i += n
		if tags++; tags > maxTags {
			return s[:i], true
		}
	}
	if end == len(s) {
		return s, false
	}
	// s[end] is the first byte left out, so cutting before it is safe too.
	if i := strings.LastIndexAny(s[:end+1], "< \t\n\f\r"); i >= 0 {
		return s[:i], true
	}
	for end > 0 && !utf8.RuneStart(s[end]) {
		end--
	}
	if amp := strings.LastIndexByte(s[:end], '&'); amp >= 0 && !strings.Contains(s[amp:end], ";") {
		end = amp
	}
	return s[:end], true
}

// FieldWarnings maps a field of Item, by its JSON name, to what
// normalisation cut or dropped from it. A nil map means nothing was lost.
type FieldWarnings map[string]string

func (w *FieldWarnings) add(field, msg string) {
	if *w == nil {
		*w = FieldWarnings{}
	}
	(*w)[field] = msg
}

// cutTitle shortens a title to maxTitleRunes, ellipsis included, so that
// cutting a cut title changes nothing.
func cutTitle(title string) string {
	if utf8.RuneCountInString(title) <= maxTitleRunes {
		return title
	}
	return truncateText(title, maxTitleRunes-1)
}

// limitFields applies the limits above to a cleaned item and returns
// what it cut or dropped. It is idempotent, and the content hash applies
// it too, so an item stored before the limits hashes as it does now.
func limitFields(it *Item) FieldWarnings {
	var w FieldWarnings
	if cut := cutTitle(it.Title); cut != it.Title {
		it.Title = cut
		w.add("title", fmt.Sprintf("longer than %d characters; cut", maxTitleRunes))
	}
	if len(it.URL) > MaxURLBytes {
		it.URL = ""
		w.add("url", fmt.Sprintf("longer than %d bytes; dropped", MaxURLBytes))
	}
	if len(it.Image) > MaxURLBytes {
		it.Image = ""
		w.add("image", fmt.Sprintf("longer than %d bytes; dropped", MaxURLBytes))
	}
	it.Categories = limitCategories(it.Categories, &w)
	it.Authors = limitAuthors(it.Authors, &w)
	it.Enclosures = limitEnclosures(it.Enclosures, &w)
	it.Alternates = limitAlternates(it.Alternates)
	return w
}

func limitCategories(in []string, w *FieldWarnings) []string {
	return limitList(in, maxCategories, "categories",
		func(c string) bool { return utf8.RuneCountInString(c) > maxCategoryRunes },
		func(n int) string { return fmt.Sprintf("%d longer than %d characters dropped", n, maxCategoryRunes) }, w)
}

// limitList drops the values of in that tooLong reports, keeps the first
// limit of the rest, and records under field what it dropped (worded by
// dropped) and cut. It returns in itself when nothing changed.
func limitList[T any](in []T, limit int, field string, tooLong func(T) bool, dropped func(int) string, w *FieldWarnings) []T {
	var out []T
	long := 0
	for _, v := range in {
		if tooLong(v) {
			long++
			continue
		}
		out = append(out, v)
	}
	var msgs []string
	if long > 0 {
		msgs = append(msgs, dropped(long))
	}
	if len(out) > limit {
		msgs = append(msgs, fmt.Sprintf("kept the first %d of %d", limit, len(out)))
		out = out[:limit]
	}
	if len(msgs) > 0 {
		w.add(field, joinMessages(msgs))
	}
	if len(out) == len(in) {
		return in
	}
	return out
}

func limitAuthors(in []Author, w *FieldWarnings) []Author {
	if len(in) == 0 {
		return in
	}
	out := make([]Author, 0, min(len(in), maxAuthors))
	var msgs []string
	if len(in) > maxAuthors {
		msgs = append(msgs, fmt.Sprintf("kept the first %d of %d", maxAuthors, len(in)))
		in = in[:maxAuthors]
	}
	cut, dropped := 0, 0
	for _, a := range in {
		if utf8.RuneCountInString(a.Name) > maxAuthorNameRunes {
			a.Name = truncateText(a.Name, maxAuthorNameRunes-1)
			cut++
		}
		if len(a.URL) > MaxURLBytes {
			a.URL = ""
			dropped++
		}
		if len(a.Email) > maxEmailBytes {
			a.Email = ""
			dropped++
		}
		if a.Name != "" || a.Email != "" {
			out = append(out, a)
		}
	}
	if cut > 0 {
		msgs = append(msgs, fmt.Sprintf("%d names longer than %d characters cut", cut, maxAuthorNameRunes))
	}
	if dropped > 0 {
		msgs = append(msgs, fmt.Sprintf("%d URLs over %d bytes or addresses over %d bytes dropped", dropped, MaxURLBytes, maxEmailBytes))
	}
	if len(msgs) > 0 {
		w.add("authors", joinMessages(msgs))
	}
	return out
}

func limitEnclosures(in []Enclosure, w *FieldWarnings) []Enclosure {
	return limitList(in, maxEnclosures, "enclosures",
		func(e Enclosure) bool { return len(e.URL) > MaxURLBytes },
		func(n int) string { return fmt.Sprintf("%d with a URL over %d bytes dropped", n, MaxURLBytes) }, w)
}

// limitAlternates drops long alternate links and keeps the first
// maxAlternates. Alternates only group translations, so losing one is
// not worth a warning.
func limitAlternates(in []string) []string {
	var out []string
	for _, u := range in {
		if len(u) <= MaxURLBytes && len(out) < maxAlternates {
			out = append(out, u)
		}
	}
	if len(out) == len(in) {
		return in
	}
	return out
}

func joinMessages(msgs []string) string {
	out := msgs[0]
	for _, m := range msgs[1:] {
		out += "; " + m
	}
	return out
}

// droppedFields returns a warning for each field that the cleaning rules
// dropped although the draft set it: an image or enclosure URL that is
// not http(s), a language that is not a language tag, and content that
// sanitising left empty.
func droppedFields(d *itemDraft, it *Item, base *url.URL) FieldWarnings {
	var w FieldWarnings
	if strings.TrimSpace(d.Image) != "" && cleanURL(d.Image, base) == "" {
		w.add("image", "not an absolute http or https URL; dropped")
	}
	invalid := 0
	for _, e := range d.Enclosures {
		if cleanURL(e.URL, base) == "" {
			invalid++
		}
	}
	if invalid > 0 {
		w.add("enclosures", fmt.Sprintf("%d without an absolute http or https URL dropped", invalid))
	}
	if strings.TrimSpace(d.Language) != "" && canonicalLanguage(d.Language) == "" {
		w.add("language", "not a language tag such as en or pl-PL; ignored")
	}
	if it.Title == "" && strings.TrimSpace(d.Title) != "" {
		w.add("title", "nothing was left after removing markup; send the title as plain text")
	}
	if it.Content == "" && strings.TrimSpace(firstNonEmpty(d.Content, d.Summary)) != "" {
		w.add("content", "nothing was left after removing markup that is not allowed; dropped")
	}
	return w
}
