package pipeline

import (
	"bytes"
	"reflect"
	"testing"
)

// checkDirectParse compares parseXMLFeed with newFeedParser().Parse, the
// path it replaces, on the repaired text of body: both must fail, or both
// must return the same feed.
func checkDirectParse(t *testing.T, name string, body []byte) {
	t.Helper()
	dec, err := decodeToUTF8(body, "", "")
	if err != nil {
		return
	}
	doc, err := readDocument(dec.text)
	if err != nil || doc.json {
		return
	}
	for _, text := range [][]byte{doc.text, closedOrNil(doc.text)} {
		if text == nil {
			continue
		}
		want, wantErr := newFeedParser().Parse(bytes.NewReader(text))
		got, gotErr := parseXMLFeed(text, doc.root)
		if (gotErr != nil) != (wantErr != nil) {
			t.Fatalf("%s (root %q): parseXMLFeed error %v, gofeed's Parse error %v", name, doc.root, gotErr, wantErr)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%s (root %q): parseXMLFeed and gofeed's Parse return different feeds:\n got %+v\nwant %+v", name, doc.root, got, want)
		}
	}
}

func closedOrNil(text []byte) []byte {
	closed, ok := closeTruncated(text)
	if !ok {
		return nil
	}
	return closed
}

func TestParseXMLFeedMatchesGofeed(t *testing.T) {
	docs := fastPathDocuments(t)
	checked := 0
	for _, d := range docs {
		checkDirectParse(t, d.name, d.body)
		checked++
	}
	for name, body := range map[string]string{
		"rdf":              `<?xml version="1.0"?><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/"><channel><title>T</title></channel><item><title>A</title><link>http://a.example/1</link></item></rdf:RDF>`,
		"atom":             `<feed xmlns="http://www.w3.org/2005/Atom"><title>T</title><entry><id>1</id><title>A</title><content type="html">&lt;img src="x.png"&gt;</content></entry></feed>`,
		"rss with doctype": `<!DOCTYPE rss [<!ENTITY x "y">]><rss version="2.0"><channel><item><title>&x;</title></item></channel></rss>`,
		"comment first":    `<!-- <feed> --><rss version="0.91"><channel><item><description>&lt;p&gt;x&lt;img src="/i.png"&gt;</description></item></channel></rss>`,
		"truncated":        `<rss version="2.0"><channel><item><title>A</title></item><item><title>B`,
		"upper-case root":  `<RSS version="2.0"><channel><item><title>A</title></item></channel></RSS>`,
	} {
		checkDirectParse(t, name, []byte(body))
		checked++
	}
	if checked < 10 {
		t.Fatalf("compared %d documents; testdata should give more", checked)
	}
}

// FuzzParseXMLFeed compares parseXMLFeed with gofeed's Parse on any body
// that readDocument takes as RSS, RDF or Atom.
func FuzzParseXMLFeed(f *testing.F) {
	f.Add([]byte(`<rss version="2.0"><channel><title>T</title><item><title>A</title><guid>1</guid></item></channel></rss>`))
	f.Add([]byte(`<feed xmlns="http://www.w3.org/2005/Atom"><entry><title>A</title></entry></feed>`))
	f.Add([]byte(`<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><item><title>A</title></item></rdf:RDF>`))
	f.Add([]byte(`<?xml version="1.0"?><!-- c --><rss><channel><item><title>A`))
	f.Fuzz(func(t *testing.T, body []byte) {
		checkDirectParse(t, "fuzz input", body)
	})
}
