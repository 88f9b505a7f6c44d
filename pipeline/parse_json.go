package pipeline

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"

	"github.com/mmcdole/gofeed"
	jsonfeed "github.com/mmcdole/gofeed/json"
)

// recoveryJSONFieldType is the repair of a JSON Feed whose top-level
// field has the wrong type: the field is dropped, and the recovery names
// it when it is one of jsonFeedFields.
const recoveryJSONFieldType = "json feed field of the wrong type"

// jsonFeedFields are the JSON names of the top-level fields that gofeed
// v1.3.0 decodes. Only these can fail on their type, because gofeed
// ignores other keys, so a recovery that names one stays within a fixed
// set of metric labels.
var jsonFeedFields = jsonNames(reflect.TypeFor[jsonfeed.Feed]())

// parseJSONFeed checks that a JSON body is a JSON Feed before handing it
// to gofeed. When gofeed fails, it reads the items one by one (see
// parseJSONFeedParts). A truncated body is unparseable: its first item is
// usually the one cut off, so nothing is recovered.
func parseJSONFeed(text []byte) (parsedDocument, error) {
	var probe struct {
		Version json.RawMessage `json:"version"`
		Items   json.RawMessage `json:"items"`
	}
	if err := json.Unmarshal(text, &probe); err != nil {
		return parsedDocument{}, fmt.Errorf("%w: invalid json: %w", ErrUnparseable, err)
	}
	// A version of the wrong type counts as none: gofeed's error for it
	// then drops the field in parseJSONFeedParts.
	var version string
	_ = json.Unmarshal(probe.Version, &version)
	if !strings.Contains(version, "jsonfeed.org") && probe.Items == nil {
		return parsedDocument{}, fmt.Errorf("%w: json without a json feed version or items", ErrNotAFeed)
	}
	jf, err := readJSONFeed(text)
	if err != nil {
		return parseJSONFeedParts(text, probe.Items, err)
	}
	feed, err := (&gofeed.DefaultJSONTranslator{}).Translate(jf)
	if err != nil {
		return parsedDocument{}, fmt.Errorf("%w: %w", ErrUnparseable, err)
	}
	return parsedDocument{feed: feed, text: text}, nil
}

// readJSONFeed decodes a JSON Feed with gofeed's JSON parser. It also
// fails on a null item or author, because gofeed v1.3.0 decodes them as
// nil pointers and then dereferences them when translating.
func readJSONFeed(doc []byte) (*jsonfeed.Feed, error) {
	jf, err := (&jsonfeed.Parser{}).Parse(bytes.NewReader(doc))
	if err != nil {
		return nil, err
	}
	errNullAuthor := errors.New(`"authors" must contain objects, got null`)
	if slices.Contains(jf.Authors, nil) {
		return nil, errNullAuthor
	}
	for _, it := range jf.Items {
		if it == nil {
			return nil, errors.New("item must be an object, got null")
		}
		if slices.Contains(it.Authors, nil) {
			return nil, errNullAuthor
		}
	}
	return jf, nil
}

// parseJSONFeedParts parses a JSON Feed that gofeed could not parse
// whole, which failed with parseErr. It drops each top-level field that
// gofeed cannot read and rejects each item that gofeed cannot read, then
// parses the document that remains. The returned feed has a nil item at
// the index of each rejected item, so buildItems numbers the others by
// their place in the document.
func parseJSONFeedParts(text, items []byte, parseErr error) (parsedDocument, error) {
	var raws []json.RawMessage
	if err := json.Unmarshal(items, &raws); err != nil {
		return parsedDocument{}, fmt.Errorf("%w: %s", ErrUnparseable, describeJSONError(err, "items"))
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(text, &top); err != nil {
		return parsedDocument{}, fmt.Errorf("%w: invalid json: %w", ErrUnparseable, err)
	}

	var out parsedDocument
	out.recoveries = dropBadFields(top)
	var good []json.RawMessage
	for i, raw := range raws {
		raw = coerceNumberID(raw)
		if err := checkJSONItem(raw); err != nil {
			out.rejected = append(out.rejected, itemError(i, jsonItemDraft(raw), err))
			continue
		}
		good = append(good, raw)
	}

	var err error
	if top["items"], err = json.Marshal(good); err != nil {
		return parsedDocument{}, fmt.Errorf("%w: %w", ErrUnparseable, err)
	}
	if out.text, err = json.Marshal(top); err != nil {
		return parsedDocument{}, fmt.Errorf("%w: %w", ErrUnparseable, err)
	}
	out.feed, err = gofeed.NewParser().Parse(bytes.NewReader(out.text))
	if err != nil || len(out.feed.Items) != len(good) {
		// Every part was read on its own, so the whole fails for a reason
		// these checks do not cover, and gofeed's first error is the one
		// to report.
		return parsedDocument{}, fmt.Errorf("%w: %w", ErrUnparseable, parseErr)
	}
	out.feed.Items = spreadItems(out.feed.Items, out.rejected, len(raws))
	return out, nil
}

// readsJSONFeed reports whether readJSONFeed reads doc.
func readsJSONFeed(doc []byte) bool {
	_, err := readJSONFeed(doc)
	return err == nil
}

// dropBadFields deletes from top the items and each top-level field that
// gofeed cannot read. It returns one recovery per dropped field other
// than the items.
func dropBadFields(top map[string]json.RawMessage) []string {
	var recoveries []string
	for _, key := range slices.Sorted(maps.Keys(top)) {
		if strings.EqualFold(key, "items") {
			delete(top, key)
			continue
		}
		if !readsJSONFeed(fmt.Appendf(nil, `{%q:%s}`, key, top[key])) {
			delete(top, key)
			recoveries = append(recoveries, jsonFieldRecovery(key))
		}
	}
	return recoveries
}

// checkJSONItem returns why gofeed cannot read one raw item, wrapping
// ErrInvalidItem, or nil when it can. gofeed's own error gives a parser
// position rather than the field, so the reason comes from decoding the
// item again with encoding/json, which names the field and both types.
func checkJSONItem(raw json.RawMessage) error {
	_, err := readJSONFeed(fmt.Appendf(nil, `{"items":[%s]}`, raw))
	if err == nil {
		return nil
	}
	var item jsonfeed.Item
	if typeErr := json.Unmarshal(raw, &item); typeErr != nil {
		return fmt.Errorf("%w: %s", ErrInvalidItem, describeJSONError(typeErr, "item"))
	}
	return fmt.Errorf("%w: %w", ErrInvalidItem, err)
}

// coerceNumberID returns raw with an id that is a JSON number replaced by
// a string of the same literal. JSON Feed 1.1 requires readers to coerce
// such an id to a string (quoted in gofeed v1.3.0 json/feed.go), and
// gofeed does not. Any other item is returned as it is.
func coerceNumberID(raw json.RawMessage) json.RawMessage {
	var fields map[string]json.RawMessage
	if json.Unmarshal(raw, &fields) != nil {
		return raw
	}
	id := bytes.TrimSpace(fields["id"])
	if len(id) == 0 || (id[0] != '-' && (id[0] < '0' || id[0] > '9')) {
		return raw
	}
	var n json.Number
	if json.Unmarshal(id, &n) != nil {
		return raw
	}
	text, err := json.Marshal(n.String())
	if err != nil {
		return raw
	}
	fields["id"] = text
	out, err := json.Marshal(fields)
	if err != nil {
		return raw
	}
	return out
}

// describeJSONError turns an encoding/json type error into a sentence
// such as `"id" must be a string, got a number`. whole names the value
// when the error is about the value itself rather than one of its fields.
func describeJSONError(err error, whole string) string {
	var te *json.UnmarshalTypeError
	if !errors.As(err, &te) {
		return err.Error()
	}
	subject := whole
	if te.Field != "" {
		subject = fmt.Sprintf("%q", te.Field)
	} else if whole != "item" {
		subject = fmt.Sprintf("%q", whole)
	}
	return fmt.Sprintf("%s must be %s, got %s", subject, expectedJSONType(te.Type), actualJSONValue(te.Value))
}

// expectedJSONType returns the JSON type that decodes into t, with its
// article.
func expectedJSONType(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Bool:
		return "a boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	default:
		return "an object"
	}
}

// actualJSONValue returns the value of an UnmarshalTypeError with its
// article. encoding/json gives the JSON type ("number", "bool", …), or
// "number 1.5" for a number that does not fit the Go type.
func actualJSONValue(value string) string {
	switch value {
	case "array", "object":
		return "an " + value
	case "bool":
		return "a boolean"
	case "string", "number":
		return "a " + value
	}
	if literal, ok := strings.CutPrefix(value, "number "); ok {
		return literal
	}
	return value
}

// jsonItemDraft returns a draft that names a rejected item by its id, url
// and title where each is readable: a string, or a number for the id.
func jsonItemDraft(raw json.RawMessage) *itemDraft {
	var fields struct {
		ID    json.RawMessage `json:"id"`
		URL   json.RawMessage `json:"url"`
		Title json.RawMessage `json:"title"`
	}
	d := &itemDraft{}
	if json.Unmarshal(raw, &fields) != nil {
		return d
	}
	d.GUID = jsonText(fields.ID, true)
	d.URL = jsonText(fields.URL, false)
	d.Title = jsonText(fields.Title, false)
	return d
}

// jsonText returns a JSON string's value, a number's literal when
// numbers is true, and "" for anything else.
func jsonText(raw json.RawMessage, numbers bool) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var n json.Number
	if numbers && json.Unmarshal(raw, &n) == nil {
		return n.String()
	}
	return ""
}

// jsonFieldRecovery returns the recovery for a dropped top-level field,
// naming it only when it is a field gofeed decodes, so that the
// recoveries of a hostile document stay a fixed set.
func jsonFieldRecovery(key string) string {
	for _, name := range jsonFeedFields {
		if strings.EqualFold(key, name) {
			return fmt.Sprintf("%s: %q", recoveryJSONFieldType, name)
		}
	}
	return recoveryJSONFieldType
}

// spreadItems returns the parsed items with a nil at the index of each
// rejected item, n items in all.
func spreadItems(parsed []*gofeed.Item, rejected []ItemError, n int) []*gofeed.Item {
	out := make([]*gofeed.Item, 0, n)
	next := 0
	for _, rj := range rejected {
		for len(out) < rj.Index {
			out = append(out, parsed[next])
			next++
		}
		out = append(out, nil)
	}
	return append(out, parsed[next:]...)
}

// jsonNames returns the JSON names of the fields of struct type t.
func jsonNames(t reflect.Type) []string {
	var names []string
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		if name != "" && name != "-" {
			names = append(names, name)
		}
	}
	return names
}
