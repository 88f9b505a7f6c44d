package pipeline

import (
	"fmt"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"
)

// maxFutureSkew is how far ahead of the fetch time a feed date may lie
// before it is treated as unreliable. Ten minutes covers clocks that run a
// little fast. Dates further ahead are scheduled posts, typing errors or
// wrong zones, and would pin the item to the top of every list.
const maxFutureSkew = 10 * time.Minute

// earliestDate is the first date accepted from a feed. Earlier values are
// zero dates or epoch defaults written by broken generators.
var earliestDate = time.Date(1970, 1, 2, 0, 0, 0, 0, time.UTC)

// defaultEnclosureType is the media type of an enclosure whose type is
// missing and cannot be inferred from its URL.
const defaultEnclosureType = "application/octet-stream"

// enclosureTypes maps file extensions seen in podcast and media feeds to
// their media types. The table is ours rather than mime.TypeByExtension,
// whose answer depends on the host's mime.types file.
var enclosureTypes = map[string]string{
	".mp3": "audio/mpeg", ".m4a": "audio/mp4", ".aac": "audio/aac",
	".ogg": "audio/ogg", ".oga": "audio/ogg", ".opus": "audio/opus",
	".wav": "audio/wav", ".flac": "audio/flac",
	".mp4": "video/mp4", ".m4v": "video/x-m4v", ".mov": "video/quicktime",
	".webm": "video/webm", ".ogv": "video/ogg",
	".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png",
	".gif": "image/gif", ".webp": "image/webp", ".svg": "image/svg+xml",
	".pdf": "application/pdf", ".epub": "application/epub+zip",
}

// itemDraft is an item as the feed wrote it. Its text fields are raw:
// Title may hold markup, Summary holds the description HTML, Content the
// full HTML and URL the link as written.
type itemDraft struct {
	Item
	published, updated             string     // dates as written
	publishedParsed, updatedParsed *time.Time // dates as gofeed read them
	base                           *url.URL   // xml:base in force, nil when none
	linkKey                        string     // set by cleanItem, see linkIdentity
	// titleKey and summaryKey are the plain title before StripControls
	// and cutTitle and the summary before StripControls. The hash
	// identity reads them, so that items keyed by their text before
	// those rules keep their ids.
	titleKey, summaryKey string
	warnings             FieldWarnings // set by cleanItem
	// textKey is the identity key from title, summary and date when a
	// parse memo supplied it, else "" (computed when needed).
	textKey string
	// titleSig and textSig are hashes of the clean title, and of the
	// clean title and summary, which the checks across a document's items
	// compare (see signDraft).
	titleSig, textSig uint64
}

// NormaliseItem cleans an item that arrives already structured, as pushed
// items do, with the same rules ParseFeed applies to feed items: plain
// text title and summary, sanitised content, canonical URL, UTC dates,
// field limits, identity and content hash. It returns an error wrapping
// ErrInvalidItem for an item without title, link and content.
func NormaliseItem(it *Item, src Source, now time.Time) error {
	_, err := NormaliseItemWarnings(it, src, now)
	return err
}

// NormaliseItemWarnings is NormaliseItem that also returns what the rules
// cut or dropped from the item's fields. Examples are an image that is
// not an http(s) URL and a title over the length limit. The intake API
// returns them to the partner.
func NormaliseItemWarnings(it *Item, src Source, now time.Time) (FieldWarnings, error) {
	d := itemDraft{Item: *it}
	if !it.Published.IsZero() {
		p := it.Published
		d.publishedParsed = &p
		d.published = p.Format(time.RFC3339)
	}
	d.updatedParsed = it.Updated
	clean, err := cleanItem(&d, src, feedBase(src.FeedURL), now)
	if err != nil {
		return d.warnings, err
	}
	clean.ID = ItemID(src.Partner, itemKey(draftIdentity(&d, &clean, src), src.LinkKeys))
	*it = clean
	return d.warnings, nil
}

// cleanItem applies every field rule to a draft and returns the item
// without ID. Language must already hold the item's or the feed's declared
// language, if any; the partner's comes from src.
func cleanItem(d *itemDraft, src Source, feedURL *url.URL, now time.Time) (Item, error) {
	it := Item{
		Partner: src.Partner, Feed: src.Feed, FeedURL: PublicFeedURL(src.FeedURL),
		// The GUID keeps the characters StripControls removes, because it
		// is the identity key of most items and no renderer shows it.
		GUID: stripIllegal(strings.TrimSpace(d.GUID)),
	}
	d.titleKey = plainTitle(d.Title)
	it.Title = stripTextControls(d.titleKey)
	linkBase := firstURL(d.base, feedURL)
	// An empty link would resolve to the feed URL itself.
	if raw := stripIllegal(d.URL); strings.TrimSpace(raw) != "" {
		if link, err := CanonicalURL(raw, linkBase); err == nil && len(link) <= MaxURLBytes {
			it.URL = link
			d.linkKey = linkIdentity(identityURL(raw, linkBase, link), d.URL)
		}
	}
	it.Alternates = cleanAlternates(d.Alternates, it.URL, linkBase)
	contentBase := firstURL(d.base, parseAbsolute(it.URL), feedURL)
	contentCut := cleanText(&it, d, contentBase)
	it.Language = resolveLanguage(d.Language, it.Title+". "+it.Summary, src.Language)
	it.Authors = cleanAuthors(d.Authors)
	it.Categories = cleanCategories(d.Categories)
	it.Enclosures = cleanEnclosures(d.Enclosures, contentBase)
	it.Image = cleanImage(d.Image, it.Enclosures, contentBase)
	d.warnings = droppedFields(d, &it, contentBase)
	if contentCut {
		d.warnings.add("content", fmt.Sprintf("HTML over %d bytes or %d tags; cut", rawLimits.htmlBytes, rawLimits.htmlTags))
	}
	for field, msg := range limitFields(&it) {
		d.warnings.add(field, msg)
	}
	dateWarnings(&d.warnings, applyDates(&it, d, src.Location, now))
	if enclosureTypeInferred(d.Enclosures, it.Enclosures) {
		it.Flags = addFlag(it.Flags, FlagEnclosureTypeInferred)
	}

	if it.Title == "" && it.URL == "" && it.Content == "" && it.Summary == "" {
		return Item{}, fmt.Errorf("%w: no title, link or content", ErrInvalidItem)
	}
	it.RulesVersion = RulesVersion
	it.ContentHash = memoContentHash(&it)
	return it, nil
}

// cleanText sets the content and summary of it from the draft and
// reports whether the content HTML was cut to rawLimits. Cut content
// ends with truncationNote, as content cut to fit a message does.
func cleanText(it *Item, d *itemDraft, base *url.URL) bool {
	raw, cut := cutRawHTML(firstNonEmpty(d.Content, d.Summary), rawLimits.htmlBytes, rawLimits.htmlTags)
	it.Content = sanitizeHTML(raw, base)
	if cut && it.Content != "" {
		it.Content += truncationNote
	}
	raw, _ = cutRawHTML(firstNonEmpty(d.Summary, d.Content), rawLimits.htmlBytes, rawLimits.htmlTags)
	text := htmlToText(raw)
	d.summaryKey = truncateText(text, maxSummaryRunes)
	it.Summary = d.summaryKey
	if clean := stripTextControls(text); clean != text {
		it.Summary = truncateText(clean, maxSummaryRunes)
	}
	return cut && it.Content != ""
}

// applyDates sets the dates of it and their flags from the draft.
func applyDates(it *Item, d *itemDraft, loc *time.Location, now time.Time) resolvedDates {
	dates := resolveDates(d, loc, now)
	it.Published, it.DateSource, it.Updated = dates.published, dates.source, dates.updated
	it.PublishedOriginal = dates.original
	it.Flags = dates.flags
	return dates
}

// dateWarnings adds a warning when the published date an item gave was
// replaced, as the push API reports for other fields.
func dateWarnings(w *FieldWarnings, dates resolvedDates) {
	switch {
	case dates.original != nil:
		w.add("published", fmt.Sprintf("more than %s after the time of receipt, which is used instead", maxFutureSkew))
	case dates.unreadable && dates.source == DateFirstSeen:
		w.add("published", "not a date from 1970 on in a known format; the time of receipt is used instead")
	case dates.unreadable:
		w.add("published", "not a date from 1970 on in a known format; the updated date is used instead")
	}
}

// resolvedDates are an item's dates after the date rules.
type resolvedDates struct {
	published time.Time
	source    string
	updated   *time.Time
	original  *time.Time // the feed's published date when it lay in the future
	flags     []string
	// unreadable is true when the item gave a published date that is
	// not a date from earliestDate on.
	unreadable bool
}

// resolveDates returns the published date, its source and the updated
// date, all in UTC, with the flags that explain them. A missing or
// unparseable published date becomes now with DateFirstSeen. A date more
// than maxFutureSkew after now also becomes now, and the feed's value is
// kept as the original. Updated is set only when it is later than
// published and not in the future.
func resolveDates(d *itemDraft, loc *time.Location, now time.Time) resolvedDates {
	now = now.UTC()
	limit := now.Add(maxFutureSkew)
	var r resolvedDates
	pub, pubZone, ok := pickDate(d.published, d.publishedParsed, loc)
	r.unreadable = !ok && (strings.TrimSpace(d.published) != "" || d.publishedParsed != nil)
	upd, updZone, updOK := pickDate(d.updated, d.updatedParsed, loc)
	if !ok && updOK {
		pub, pubZone, ok = upd, updZone, true
	}
	r.published, r.source = pub, DateFromFeed
	switch {
	case !ok:
		r.published, r.source = now, DateFirstSeen
		r.flags = addFlag(r.flags, FlagDateMissing)
	case pub.After(limit):
		original := pub
		r.published, r.source, r.original = now, DateFirstSeen, &original
		r.flags = addFlag(r.flags, FlagDateInFuture)
	}
	if ok {
		r.flags = zoneFlags(r.flags, pubZone)
	}
	if updOK && upd.After(r.published) && !upd.After(limit) {
		r.updated = &upd
	}
	return r
}

func zoneFlags(flags []string, zone zoneState) []string {
	switch zone {
	case zoneAssumed:
		return addFlag(flags, FlagDateZoneAssumed)
	case zoneUnknown:
		return addFlag(flags, FlagDateZoneUnknown)
	}
	return flags
}

// pickDate prefers our reading of the raw date, which applies the
// partner's zone to dates without one and flags unknown zones, over
// gofeed's, which reads both as UTC.
func pickDate(raw string, parsed *time.Time, loc *time.Location) (time.Time, zoneState, bool) {
	t, zone, ok := parseDateZone(raw, loc)
	if !ok && parsed != nil {
		t, zone, ok = parsed.UTC(), zoneGiven, true
	}
	if !ok || t.Before(earliestDate) {
		return time.Time{}, zoneGiven, false
	}
	return t, zone, true
}

// cleanAlternates returns the canonical form of every alternate link that
// is an http(s) URL other than the item's own link, without repeats.
func cleanAlternates(in []string, own string, base *url.URL) []string {
	var out []string
	for _, raw := range in {
		u, err := CanonicalURL(stripIllegal(raw), base)
		if err != nil || u == own || slices.Contains(out, u) {
			continue
		}
		out = append(out, u)
	}
	return out
}

func cleanAuthors(in []Author) []Author {
	var out []Author
	seen := map[string]bool{}
	for _, a := range in {
		a.Name = stripTextControls(plainTitle(a.Name))
		a.Email = stripTextControls(collapseSpace(a.Email))
		a.URL = cleanURL(a.URL, nil)
		key := strings.ToLower(a.Name + "\x00" + a.Email)
		if key == "\x00" || seen[key] {
			continue
		}
		seen[key] = true
		out = append(out, a)
	}
	return out
}

func cleanCategories(in []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, c := range in {
		c = stripTextControls(plainTitle(c))
		key := strings.ToLower(c)
		if c == "" || seen[key] {
			continue
		}
		seen[key] = true
		out = append(out, c)
	}
	return out
}

// cleanEnclosures makes enclosure URLs absolute and drops those that are
// not http(s). It merges repeats of one canonical URL, so host case and
// tracking parameters do not matter, keeping the first type and length
// given. A type still missing is inferred from the file extension.
func cleanEnclosures(in []Enclosure, base *url.URL) []Enclosure {
	var out []Enclosure
	index := map[string]int{}
	for _, e := range in {
		e.URL = cleanURL(e.URL, base)
		if e.URL == "" {
			continue
		}
		e.Type = strings.ToLower(stripTextControls(collapseSpace(e.Type)))
		e.Length = max(e.Length, 0)
		key := hashURL(e.URL)
		if k, seen := index[key]; seen {
			out[k].Type = firstNonEmpty(out[k].Type, e.Type)
			if out[k].Length == 0 {
				out[k].Length = e.Length
			}
			continue
		}
		index[key] = len(out)
		out = append(out, e)
	}
	for k := range out {
		if out[k].Type == "" {
			out[k].Type = inferMediaType(out[k].URL)
		}
	}
	return out
}

// enclosureTypeInferred reports whether some cleaned enclosure got its
// type from inferMediaType because no raw copy of it had one.
func enclosureTypeInferred(raw, cleaned []Enclosure) bool {
	given := map[string]bool{}
	for _, e := range raw {
		if strings.TrimSpace(e.Type) != "" {
			given[hashURL(strings.TrimSpace(e.URL))] = true
		}
	}
	for _, e := range cleaned {
		if !given[hashURL(e.URL)] {
			return true
		}
	}
	return false
}

func inferMediaType(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return defaultEnclosureType
	}
	if t, ok := enclosureTypes[strings.ToLower(path.Ext(u.Path))]; ok {
		return t
	}
	return defaultEnclosureType
}

// cleanImage returns the item image as an absolute URL, falling back to
// the first enclosure with an image type.
func cleanImage(raw string, enclosures []Enclosure, base *url.URL) string {
	if img := cleanURL(raw, base); img != "" {
		return img
	}
	for _, e := range enclosures {
		if strings.HasPrefix(e.Type, "image/") {
			return e.URL
		}
	}
	return ""
}

// cleanURL resolves raw against base and returns it when it is an http(s)
// URL, or "". Unlike CanonicalURL it keeps the query and fragment, which
// media hosts may need.
func cleanURL(raw string, base *url.URL) string {
	raw = stripIllegal(raw)
	if strings.TrimSpace(raw) == "" {
		// An empty reference resolves to the base itself, which would make
		// the item link pose as its image.
		return ""
	}
	v := resolveReference(base, raw)
	if !isHTTPURL(v) {
		return ""
	}
	return v
}

func parseLength(s string) int64 {
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil || n < 0 {
		return 0
	}
	return n
}

// draftIdentity collects what itemKey needs from a draft and its cleaned
// item.
func draftIdentity(d *itemDraft, it *Item, src Source) identityInput {
	return identityInput{
		guid: it.GUID, link: d.linkKey, feed: src.Feed,
		title: d.titleKey, summary: d.summaryKey, published: strings.TrimSpace(d.published),
	}
}

// linkIdentity returns the link key of an item: its canonical link with
// the fragment of the raw link put back. Some feeds tell their items apart
// only by fragment ("entries.php#98"), so the key keeps it even though
// Item.URL drops it.
func linkIdentity(canonical, raw string) string {
	_, fragment, ok := strings.Cut(raw, "#")
	if !ok || fragment == "" {
		return canonical
	}
	return canonical + "#" + fragment
}

func feedBase(feedURL string) *url.URL {
	return parseAbsolute(feedURL)
}

// parseAbsolute parses an absolute http(s) URL, or returns nil.
func parseAbsolute(raw string) *url.URL {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || !u.IsAbs() || u.Host == "" {
		return nil
	}
	return u
}

func firstURL(urls ...*url.URL) *url.URL {
	for _, u := range urls {
		if u != nil {
			return u
		}
	}
	return nil
}

func firstNonEmpty(values ...string) string {
	for _, v := range values {
		if strings.TrimSpace(v) != "" {
			return v
		}
	}
	return ""
}
