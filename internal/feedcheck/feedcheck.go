// Package feedcheck validates rendered feed documents from tests in any
// package. Each check parses the document strictly with encoding/xml or
// encoding/json and rejects two entries with the same id or the same
// non-empty link. It then hands the document to independent real clients:
// feedparser 6 (Python) for RSS and Atom, jing with the RFC 4287 RELAX NG
// schema for Atom, and the Python jsonschema validator with the JSON Feed
// 1.1 schema for JSON Feed.
//
// When a client is not installed the check skips the test with an install
// hint, except when the environment sets CI=true, where it fails instead.
package feedcheck

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"strconv"
	"testing"
)

// CheckRSS fails t unless doc is a well-formed RSS 2.0 document that
// feedparser reads without error and whose items have distinct guids and
// distinct links.
func CheckRSS(t testing.TB, doc []byte) {
	t.Helper()
	checkWellFormed(t, doc)

	var parsed struct {
		XMLName xml.Name `xml:"rss"`
		Items   []struct {
			GUID string `xml:"guid"`
			Link string `xml:"link"`
		} `xml:"channel>item"`
	}
	if err := xml.Unmarshal(doc, &parsed); err != nil {
		t.Fatalf("decoding rss document: %v", err)
	}
	var ids, links []string
	for _, it := range parsed.Items {
		ids = append(ids, it.GUID)
		links = append(links, it.Link)
	}
	checkUnique(t, "guid", ids)
	checkUnique(t, "link", links)

	runFeedparser(t, doc, "rss20", len(parsed.Items))
}

// CheckAtom fails t unless doc is a well-formed Atom 1.0 feed document that
// matches the RFC 4287 schema, meets its author and link rules, that
// feedparser reads without error, and whose entries have distinct ids and
// distinct alternate links.
func CheckAtom(t testing.TB, doc []byte) {
	t.Helper()
	checkWellFormed(t, doc)

	var feed atomFeed
	if err := xml.Unmarshal(doc, &feed); err != nil {
		t.Fatalf("decoding atom document: %v", err)
	}
	var ids, links []string
	for i, e := range feed.Entries {
		ids = append(ids, e.ID)
		links = append(links, e.alternate())
		checkAtomEntryRules(t, i, e, len(feed.Authors) > 0)
	}
	checkUnique(t, "entry id", ids)
	checkUnique(t, "alternate link", links)

	runJing(t, doc)
	runFeedparser(t, doc, "atom10", len(feed.Entries))
}

// CheckJSONFeed fails t unless doc is a JSON Feed 1.1 document that matches
// the JSON Feed 1.1 schema, contains no raw or decoded control character other
// than TAB, LF and CR, and whose items have distinct ids and distinct urls.
func CheckJSONFeed(t testing.TB, doc []byte) {
	t.Helper()
	checkNoControlBytes(t, doc)

	var feed struct {
		Version string `json:"version"`
		Items   []struct {
			ID  string `json:"id"`
			URL string `json:"url"`
		} `json:"items"`
	}
	if err := json.Unmarshal(doc, &feed); err != nil {
		t.Fatalf("decoding json feed document: %v", err)
	}
	if feed.Version != "https://jsonfeed.org/version/1.1" {
		t.Errorf("json feed version = %q, want https://jsonfeed.org/version/1.1", feed.Version)
	}
	var ids, urls []string
	for _, it := range feed.Items {
		ids = append(ids, it.ID)
		urls = append(urls, it.URL)
	}
	checkUnique(t, "item id", ids)
	checkUnique(t, "item url", urls)

	var tree any
	if err := json.Unmarshal(doc, &tree); err != nil {
		t.Fatalf("decoding json feed document: %v", err)
	}
	checkNoControlStrings(t, "$", tree)

	runJSONSchema(t, doc)
}

// checkWellFormed reads every token with the strict encoding/xml decoder
// and requires exactly one root element.
func checkWellFormed(t testing.TB, doc []byte) {
	t.Helper()
	dec := xml.NewDecoder(bytes.NewReader(doc))
	dec.Strict = true
	depth, roots := 0, 0
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("document is not well-formed XML: %v", err)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			if depth == 0 {
				roots++
			}
			depth++
		case xml.EndElement:
			depth--
		case xml.CharData:
			if depth == 0 && len(bytes.TrimSpace(tok)) > 0 {
				t.Fatalf("document has text outside the root element: %q", tok)
			}
		}
	}
	if roots != 1 {
		t.Fatalf("document has %d root elements, want 1", roots)
	}
}

// checkUnique fails t when two non-empty values are equal.
func checkUnique(t testing.TB, field string, values []string) {
	t.Helper()
	first := make(map[string]int, len(values))
	for i, v := range values {
		if v == "" {
			continue
		}
		if j, ok := first[v]; ok {
			t.Errorf("entries %d and %d share the %s %q", j, i, field, v)
			continue
		}
		first[v] = i
	}
}

func isForbiddenControl(r rune) bool {
	return r < 0x20 && r != '\t' && r != '\n' && r != '\r'
}

func checkNoControlBytes(t testing.TB, doc []byte) {
	t.Helper()
	for i, b := range doc {
		if isForbiddenControl(rune(b)) {
			t.Errorf("document has raw control byte %#02x at offset %d", b, i)
			return
		}
	}
}

// checkNoControlStrings walks a decoded JSON value and fails t for every
// string that contains a control character other than TAB, LF or CR.
func checkNoControlStrings(t testing.TB, path string, v any) {
	t.Helper()
	switch v := v.(type) {
	case string:
		for _, r := range v {
			if isForbiddenControl(r) {
				t.Errorf("%s contains control character %U: %q", path, r, v)
				return
			}
		}
	case []any:
		for i, e := range v {
			checkNoControlStrings(t, path+"["+strconv.Itoa(i)+"]", e)
		}
	case map[string]any:
		for k, e := range v {
			checkNoControlStrings(t, path+"."+k, e)
		}
	}
}
