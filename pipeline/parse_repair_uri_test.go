package pipeline

import (
	"bytes"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// referenceRepairURIAttributes is repairURIAttributes before it skipped
// documents whose URI attributes all parse: the regexp rewrite alone.
func referenceRepairURIAttributes(text []byte) ([]byte, bool) {
	changed := false
	out := uriAttribute.ReplaceAllFunc(text, func(m []byte) []byte {
		sub := uriAttribute.FindSubmatch(m)
		value := string(sub[2]) + string(sub[3])
		if _, err := url.Parse(value); err == nil {
			return m
		}
		changed = true
		value = strings.Join(strings.Fields(value), "")
		if _, err := url.Parse(value); err != nil {
			value = ""
		}
		return []byte(string(sub[1]) + `"` + strings.ReplaceAll(value, `"`, "%22") + `"`)
	})
	return out, changed
}

var uriAttributeCases = []string{
	``,
	`<rss><channel><link>https://a.example/</link></channel></rss>`,
	`<feed><link href="https://a.example/x?a=1&amp;b=2#top"/></feed>`,
	`<feed><link href="http://[bad"/></feed>`,
	`<feed><link href="https://a.example/a b"/></feed>`,
	`<feed><link href="http://a b.example/"/></feed>`,
	`<feed><link HREF = 'http://[bad' /><img SRC="%zz"/></feed>`,
	`<feed><category scheme="urn:x:y" term="a"/></feed>`,
	`<feed><link ſrc="http://[bad"/></feed>`,
	`<feed><category ſcheme="http://[bad" term="a"/></feed>`,
	`<feed><category SCHEME  =  "http://[bad"/></feed>`,
	`src="http://[bad"`,
	` src="http://[bad"`,
	`<a title="x=y" href="http://[bad" data-q="a=b"></a>`,
	`<a xhref="http://[bad" hrefs="http://[bad"></a>`,
	`<feed><link hreF="http://a.example:99999/"/></feed>`,
	`<feed><link href="http://[bad<x"/></feed>`,
	`<feed><link href="http://[bad' uri="x"/></feed>`,
	`<feed><link  href="a:b"/><link	src=":x"/></feed>`,
	`<feed><link x="y href='http://[bad'"/></feed>`,
	`<feed><link href="//user@host/"/><a href="mailto:a@b.example"/></feed>`,
	`<feed><link href="http://host:80/p"/><link href="http://ho%41st/"/></feed>`,
	"<feed><link href=\"https://a.example/\x01\"/></feed>",
	"<feed><link href=\"https://a.example/é\"/><link href=\"\xff\"/></feed>",
}

func TestRepairURIAttributesMatchesReference(t *testing.T) {
	for _, text := range uriAttributeCases {
		got, gotChanged := repairURIAttributes([]byte(text))
		want, wantChanged := referenceRepairURIAttributes([]byte(text))
		if !bytes.Equal(got, want) {
			t.Errorf("repairURIAttributes(%q) = %q, reference %q", text, got, want)
		}
		if gotChanged != wantChanged {
			t.Errorf("repairURIAttributes(%q) changed = %v, reference %v", text, gotChanged, wantChanged)
		}
	}
}

func TestRepairURIAttributesUnchangedAllocates(t *testing.T) {
	text := []byte(`<feed><link rel="alternate" href="https://a.example/x?a=1&amp;b=2"/>` +
		`<category scheme="https://a.example/tags" term="t"/><img src="/img/1.jpg"/></feed>`)
	allocs := testing.AllocsPerRun(100, func() {
		if _, changed := repairURIAttributes(text); changed {
			t.Fatal("repairURIAttributes changed valid attributes")
		}
	})
	if allocs != 0 {
		t.Errorf("repairURIAttributes allocated %v times for valid attributes, want 0", allocs)
	}
}

// FuzzRepairURIAttributes checks that skipping documents without an
// invalid URI attribute gives the same output as the regexp rewrite, and
// that every value simpleURL accepts parses.
func FuzzRepairURIAttributes(f *testing.F) {
	for _, text := range uriAttributeCases {
		f.Add([]byte(text))
	}
	f.Fuzz(func(t *testing.T, text []byte) {
		got, gotChanged := repairURIAttributes(bytes.Clone(text))
		want, wantChanged := referenceRepairURIAttributes(bytes.Clone(text))
		if !bytes.Equal(got, want) {
			t.Fatalf("repairURIAttributes(%q) = %q, reference %q", text, got, want)
		}
		if gotChanged != wantChanged {
			t.Fatalf("repairURIAttributes(%q) changed = %v, reference %v", text, gotChanged, wantChanged)
		}
		if simpleURL(text) {
			if _, err := url.Parse(string(text)); err != nil {
				t.Fatalf("simpleURL accepts %q, which url.Parse rejects: %v", text, err)
			}
		}
	})
}

// BenchmarkRepairXML measures the repair pass over an Atom feed of 50
// entries whose URI attributes all parse, the common case.
func BenchmarkRepairXML(b *testing.B) {
	var doc strings.Builder
	doc.WriteString(`<?xml version="1.0" encoding="utf-8"?>` + "\n" +
		`<feed xmlns="http://www.w3.org/2005/Atom"><title>Chamber news</title>` +
		`<link rel="self" href="https://chamber.example/atom.xml"/>` + "\n")
	for n := range 50 {
		fmt.Fprintf(&doc, `<entry><id>https://chamber.example/news/%d</id><title>Export fair %d opens</title>`+
			`<link rel="alternate" href="https://chamber.example/news/%d?utm_source=rss&amp;utm_medium=feed"/>`+
			`<category scheme="https://chamber.example/tags" term="export"/>`+
			`<link rel="enclosure" href="https://chamber.example/img/%d.jpg" type="image/jpeg" length="1024"/>`+
			`<content type="html">&lt;p&gt;The chamber opens registration for fair %d. `+
			`&lt;a href="/fair?id=%d"&gt;Details&lt;/a&gt;&lt;/p&gt;</content></entry>`+"\n", n, n, n, n, n, n)
	}
	doc.WriteString("</feed>\n")
	text := []byte(doc.String())
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	for b.Loop() {
		if _, notes := repairXML(text); len(notes) != 0 {
			b.Fatalf("repairXML changed a valid feed: %v", notes)
		}
	}
}

// TestURIAttributeStartCoversFolds checks that uriAttributeStart accepts
// the first byte of every character that (?i) folds to the first letter
// of a URI attribute name.
func TestURIAttributeStartCoversFolds(t *testing.T) {
	for _, name := range uriAttributeNames {
		first := rune(name[0])
		for f := unicode.SimpleFold(first); ; f = unicode.SimpleFold(f) {
			if lead := utf8.AppendRune(nil, f)[0]; !uriAttributeStart(lead) {
				t.Errorf("uriAttributeStart rejects %q, the first byte of %q", lead, f)
			}
			if f == first {
				break
			}
		}
	}
}
