package workers

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/syndic-network/syndic/pipeline"
)

// maxJSONDepth bounds the nesting of an intake JSON body. The schema needs
// four levels (envelope, items, item, author or attachment); 32 leaves room
// for clients that wrap it and still stops a body of a million brackets
// before a decoder walks it.
const maxJSONDepth = 32

// maxXMLDepth bounds the element nesting of a pushed XML feed. An RSS item
// with XHTML content rarely nests past 20 levels. The sanitiser's time
// grows with depth (about 1.2 s for 300,000 levels on one core), so a deep
// body is rejected before it is parsed.
const maxXMLDepth = 256

// maxKeyBytes bounds a partner-scoped item id. Longer ids are not ids.
const maxKeyBytes = 1024

// PushItem is one item of an intake request: a JSON Feed 1.1 item with a
// required id. docs/api.md documents each field.
type PushItem struct {
	ID            string           `json:"id"`
	URL           string           `json:"url"`
	Title         string           `json:"title"`
	Summary       string           `json:"summary"`
	ContentHTML   string           `json:"content_html"`
	ContentText   string           `json:"content_text"`
	Image         string           `json:"image"`
	DatePublished string           `json:"date_published"`
	DateModified  string           `json:"date_modified"`
	Authors       []PushAuthor     `json:"authors"`
	Tags          []string         `json:"tags"`
	Language      string           `json:"language"`
	Attachments   []PushAttachment `json:"attachments"`
}

// PushAuthor is one author of a pushed item.
type PushAuthor struct {
	Name  string `json:"name"`
	URL   string `json:"url"`
	Email string `json:"email"`
}

// PushAttachment is one enclosure of a pushed item; SizeInBytes is 0 when
// unknown.
type PushAttachment struct {
	URL         string `json:"url"`
	MimeType    string `json:"mime_type"`
	SizeInBytes int64  `json:"size_in_bytes"`
}

// pushItemFields are the keys PushItem accepts, for the unknown-field check.
var pushItemFields = map[string]bool{
	"id": true, "url": true, "title": true, "summary": true,
	"content_html": true, "content_text": true, "image": true,
	"date_published": true, "date_modified": true, "authors": true,
	"tags": true, "language": true, "attachments": true,
}

// intakeEntry is the outcome of decoding one item: a normalised item, or
// field errors that reject it. Key is the partner-scoped id as sent.
// Warnings name what normalisation cut or dropped from an accepted item,
// keyed by intake field.
type intakeEntry struct {
	Key      string
	Item     *pipeline.Item
	Fields   map[string]string
	Warnings map[string]string
}

// requestError rejects a whole request with an HTTP status and an error
// code for apierror.Write.
type requestError struct {
	Status  int
	Code    string
	Message string
	Fields  map[string]string
}

func (e *requestError) Error() string { return e.Code + ": " + e.Message }

func badRequest(code, format string, args ...any) *requestError {
	return &requestError{Status: http.StatusBadRequest, Code: code, Message: fmt.Sprintf(format, args...)}
}

// Body kinds by media type.
const (
	bodyItems = "items"
	bodyFeed  = "feed"
)

var intakeTypes = map[string]string{
	"application/json":      bodyItems,
	"application/feed+json": bodyFeed,
	"application/rss+xml":   bodyFeed,
	"application/atom+xml":  bodyFeed,
	"application/rdf+xml":   bodyFeed,
	"application/xml":       bodyFeed,
	"text/xml":              bodyFeed,
}

// decodeIntake decodes an intake body into one entry per item, in request
// order. src names the partner from the token and the push feed. The error
// is always a *requestError: 400 for a body that cannot be decoded, 413
// for more than maxItems items, 415 for an unknown Content-Type.
func decodeIntake(body []byte, contentType string, src pipeline.Source, maxItems int, now time.Time) ([]intakeEntry, error) {
	media, _, err := mime.ParseMediaType(contentType)
	kind := intakeTypes[strings.ToLower(media)]
	if err != nil || kind == "" {
		return nil, &requestError{
			Status: http.StatusUnsupportedMediaType, Code: "unsupported_media_type",
			Message: fmt.Sprintf("Content-Type %q is not supported; send application/json items or an RSS, Atom or JSON Feed document", contentType),
		}
	}
	if kind == bodyItems || media == "application/feed+json" {
		// RFC 8259 lets a parser ignore a byte-order mark, and Windows
		// tools write one, so it is dropped rather than rejected.
		body = bytes.TrimPrefix(body, []byte("\xEF\xBB\xBF"))
		if err := checkJSON(body); err != nil {
			return nil, err
		}
		if kind == bodyItems && isJSONFeed(body) {
			kind = bodyFeed
		}
	}
	if kind == bodyFeed && !strings.HasSuffix(media, "json") && xmlDepth(body) > maxXMLDepth {
		return nil, badRequest("too_deep", "the XML body nests deeper than %d elements", maxXMLDepth)
	}
	var entries []intakeEntry
	if kind == bodyFeed {
		entries, err = decodeFeed(body, contentType, src, now)
	} else {
		entries, err = decodeItems(body, src, now)
	}
	if err != nil {
		return nil, err
	}
	if len(entries) > maxItems {
		return nil, &requestError{
			Status: http.StatusRequestEntityTooLarge, Code: "too_many_items",
			Message: fmt.Sprintf("the request contains %d items, more than the limit of %d; split it", len(entries), maxItems),
		}
	}
	markRepeatedKeys(entries)
	return entries, nil
}

// checkJSON rejects invalid UTF-8, nesting deeper than maxJSONDepth and
// keys repeated within one object.
func checkJSON(body []byte) error {
	if !utf8.Valid(body) {
		return badRequest("invalid_utf8", "the body is not valid UTF-8; send JSON as UTF-8 text")
	}
	if jsonDepth(body) > maxJSONDepth {
		return badRequest("too_deep", "the JSON body nests deeper than %d levels", maxJSONDepth)
	}
	if key := duplicateKey(body); key != "" {
		return badRequest("duplicate_key", "the JSON body repeats the key %q in one object; send each key once", key)
	}
	return nil
}

// jsonDepth returns the deepest nesting of arrays and objects in body,
// skipping brackets inside strings. It does not validate the JSON.
func jsonDepth(body []byte) int {
	depth, deepest := 0, 0
	inString, escaped := false, false
	for _, c := range body {
		switch {
		case escaped:
			escaped = false
		case inString && c == '\\':
			escaped = true
		case c == '"':
			inString = !inString
		case inString:
		case c == '[' || c == '{':
			depth++
			deepest = max(deepest, depth)
		case c == ']' || c == '}':
			depth--
		}
	}
	return deepest
}

// xmlDepth returns an upper bound of the element nesting in body. It counts
// start and end tags without parsing, so markup inside comments and CDATA
// sections counts as well. It does not validate the XML.
func xmlDepth(body []byte) int {
	depth, deepest := 0, 0
	for i := 0; i < len(body); i++ {
		if body[i] != '<' || i+1 == len(body) {
			continue
		}
		switch body[i+1] {
		case '/':
			depth--
		case '!', '?':
		default:
			end := bytes.IndexByte(body[i:], '>')
			if end < 0 {
				return max(deepest, depth+1)
			}
			if body[i+end-1] != '/' {
				depth++
				deepest = max(deepest, depth)
			}
			i += end
		}
	}
	return deepest
}

// isJSONFeed reports whether body is a JSON Feed document rather than
// pushed items: an object whose version names jsonfeed.org.
func isJSONFeed(body []byte) bool {
	var head struct {
		Version string `json:"version"`
	}
	if json.Unmarshal(body, &head) != nil {
		return false
	}
	return strings.HasPrefix(head.Version, "https://jsonfeed.org/version/")
}

func decodeFeed(body []byte, contentType string, src pipeline.Source, now time.Time) ([]intakeEntry, error) {
	res, err := pipeline.ParseFeed(body, contentType, src, now)
	if err != nil {
		return nil, badRequest("invalid_feed", "the body is not a readable RSS, Atom or JSON Feed document: %v", err)
	}
	entries := make([]intakeEntry, 0, len(res.Items)+len(res.Rejected))
	for i := range res.Items {
		it := &res.Items[i]
		entries = append(entries, intakeEntry{Key: firstNonEmpty(it.GUID, it.URL, it.ID), Item: it})
	}
	for _, rj := range res.Rejected {
		entries = append(entries, intakeEntry{
			Key:    firstNonEmpty(rj.GUID, rj.Link, "item "+strconv.Itoa(rj.Index)),
			Fields: map[string]string{"item": rj.Err.Error()},
		})
	}
	return entries, nil
}

// decodeItems decodes a single item object, an array of items or an
// object {"items": [...]}.
func decodeItems(body []byte, src pipeline.Source, now time.Time) ([]intakeEntry, error) {
	raws, err := splitItems(body)
	if err != nil {
		return nil, err
	}
	entries := make([]intakeEntry, len(raws))
	for i, raw := range raws {
		entries[i] = decodeItem(raw, src, now)
	}
	return entries, nil
}

func splitItems(body []byte) ([]json.RawMessage, error) {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		return nil, badRequest("invalid_json", "the body is empty")
	}
	var raws []json.RawMessage
	if trimmed[0] == '[' {
		if err := json.Unmarshal(trimmed, &raws); err != nil {
			return nil, badRequest("invalid_json", "decoding the item array: %v", err)
		}
		return raws, nil
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(trimmed, &obj); err != nil {
		return nil, badRequest("invalid_json", "decoding the body: %v", err)
	}
	batch, ok := obj["items"]
	if !ok {
		return []json.RawMessage{trimmed}, nil
	}
	if len(obj) != 1 {
		return nil, &requestError{
			Status: http.StatusBadRequest, Code: "invalid_json",
			Message: `a batch is an object with the single key "items"`,
			Fields:  unknownFields(obj, map[string]bool{"items": true}),
		}
	}
	if err := json.Unmarshal(batch, &raws); err != nil {
		return nil, badRequest("invalid_json", "decoding items: %v", err)
	}
	return raws, nil
}

// unknownFields returns one field error per key of obj that known lacks.
// A "partner" key gets its own message: the token alone names the partner.
func unknownFields(obj map[string]json.RawMessage, known map[string]bool) map[string]string {
	fields := map[string]string{}
	for k := range obj {
		switch {
		case known[k]:
		case k == "partner":
			fields[k] = "not allowed: the partner is the owner of the token"
		default:
			fields[k] = "unknown field"
		}
	}
	return fields
}

// decodeItem decodes and normalises one item. Every problem becomes a
// field error, so one bad item never fails the request.
func decodeItem(raw json.RawMessage, src pipeline.Source, now time.Time) intakeEntry {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil {
		return intakeEntry{Fields: map[string]string{"item": "not a JSON object"}}
	}
	var p PushItem
	if err := json.Unmarshal(raw, &p); err != nil {
		return intakeEntry{Key: keyOf(obj), Fields: typeError(err)}
	}
	entry := intakeEntry{Key: p.ID, Fields: unknownFields(obj, pushItemFields)}
	it, fieldErrs := buildPushItem(&p)
	for k, v := range fieldErrs {
		entry.Fields[k] = v
	}
	if len(entry.Fields) > 0 {
		return entry
	}
	warnings, err := pipeline.NormaliseItemWarnings(it, src, now)
	if err != nil {
		entry.Fields["title"] = "set a title, url, summary or content: " + err.Error()
		return entry
	}
	entry.Item, entry.Fields = it, nil
	entry.Warnings = intakeWarnings(warnings, &p)
	return entry
}

// intakeWarnings renames the item fields of pipeline warnings to the
// intake fields the partner sent.
//
// A dropped image or attachment, an ignored language tag, content that
// sanitising emptied and a cut title or tag list become warnings in the
// 200 response, not rejections. The item is still right without them.
// A partner whose publishing system adds a bad image to every item would
// otherwise get no news through at all. Only a link that cannot
// be used rejects the item (see buildPushItem), because the link is
// what readers follow and what dedup keys on.
func intakeWarnings(w pipeline.FieldWarnings, p *PushItem) map[string]string {
	if len(w) == 0 {
		return nil
	}
	out := make(map[string]string, len(w))
	for field, msg := range w {
		out[intakeField(field, p)] = msg
	}
	return out
}

func intakeField(field string, p *PushItem) string {
	switch field {
	case "categories":
		return "tags"
	case "enclosures":
		return "attachments"
	case "published":
		return "date_published"
	case "content":
		switch {
		case p.ContentHTML != "":
			return "content_html"
		case p.ContentText != "":
			return "content_text"
		}
		return "summary"
	}
	return field
}

// keyOf returns the id of an item that failed to decode, when it is a
// string.
func keyOf(obj map[string]json.RawMessage) string {
	var id string
	_ = json.Unmarshal(obj["id"], &id)
	return id
}

func typeError(err error) map[string]string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) && te.Field != "" {
		return map[string]string{te.Field: "must be a JSON " + jsonTypeName(te.Type.Kind().String())}
	}
	return map[string]string{"item": "invalid item: " + err.Error()}
}

func jsonTypeName(goKind string) string {
	switch goKind {
	case "string":
		return "string"
	case "slice":
		return "array"
	case "struct":
		return "object"
	default:
		return "number"
	}
}

// buildPushItem checks the fields NormaliseItem would silently drop and
// converts p to a pipeline item.
func buildPushItem(p *PushItem) (*pipeline.Item, map[string]string) {
	fields := map[string]string{}
	// U+FEFF is invisible but not white space, and tools that write a
	// byte-order mark leave it at the start of a value.
	id := strings.TrimFunc(p.ID, func(r rune) bool { return unicode.IsSpace(r) || r == '\uFEFF' })
	switch {
	case id == "":
		fields["id"] = "required: the item's own id, unique within the partner"
	case id != p.ID:
		// GET and DELETE name the item by this id, so a padded id could
		// never be read back as sent.
		fields["id"] = "starts or ends with white space or a byte-order mark; send the id without it"
	case len(id) > maxKeyBytes:
		fields["id"] = fmt.Sprintf("longer than %d bytes", maxKeyBytes)
	case strings.ContainsFunc(id, isControl):
		fields["id"] = "contains control characters"
	}
	it := &pipeline.Item{
		GUID: id, URL: p.URL, Title: p.Title, Summary: p.Summary,
		Content: p.ContentHTML, Image: p.Image, Language: p.Language,
		Categories: p.Tags,
	}
	if it.Content == "" && p.ContentText != "" {
		it.Content = "<p>" + html.EscapeString(p.ContentText) + "</p>"
	}
	if p.URL != "" {
		if link, err := pipeline.CanonicalURL(p.URL, nil); err != nil {
			fields["url"] = "must be an absolute http or https URL"
		} else if len(link) > pipeline.MaxURLBytes {
			fields["url"] = fmt.Sprintf("longer than %d bytes; send a shorter link", pipeline.MaxURLBytes)
		}
	}
	it.Published = parsePushDate(p.DatePublished, "date_published", fields)
	if upd := parsePushDate(p.DateModified, "date_modified", fields); !upd.IsZero() {
		it.Updated = &upd
	}
	for _, a := range p.Authors {
		it.Authors = append(it.Authors, pipeline.Author{Name: a.Name, URL: a.URL, Email: a.Email})
	}
	for i, a := range p.Attachments {
		if a.URL == "" {
			fields["attachments["+strconv.Itoa(i)+"].url"] = "required"
		}
		it.Enclosures = append(it.Enclosures, pipeline.Enclosure{URL: a.URL, Type: a.MimeType, Length: max(a.SizeInBytes, 0)})
	}
	return it, fields
}

func parsePushDate(raw, name string, fields map[string]string) time.Time {
	if raw == "" {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339, raw)
	if err != nil {
		fields[name] = "must be an RFC 3339 date such as 2026-11-30T09:00:00Z"
	}
	return t
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f }

// markRepeatedKeys rejects every item whose id repeats an earlier item of
// the request, since one request cannot create two versions of one item.
func markRepeatedKeys(entries []intakeEntry) {
	first := map[string]int{}
	for i := range entries {
		e := &entries[i]
		if e.Item == nil {
			continue
		}
		if j, seen := first[e.Item.ID]; seen {
			e.Item = nil
			e.Fields = map[string]string{"id": "repeats item " + strconv.Itoa(j) + " of this request"}
			continue
		}
		first[e.Item.ID] = i
	}
}

// flattenFields joins the field errors of rejected entries into one map
// keyed "items[i].field", for a 422 body.
func flattenFields(entries []intakeEntry) map[string]string {
	out := map[string]string{}
	for i, e := range entries {
		for k, v := range e.Fields {
			out["items["+strconv.Itoa(i)+"]."+k] = v
		}
	}
	return out
}

func firstNonEmpty(values ...string) string {
	for _, v := range values {
		if v != "" {
			return v
		}
	}
	return ""
}
