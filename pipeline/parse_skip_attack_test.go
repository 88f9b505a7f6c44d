package pipeline

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/encoding/charmap"
)

// These tests attack the skipping of known items in ParseFeedMemo with
// documents that a partner's old CMS might send. A failure names the
// field that differs from ParseFeed (see compareResults).

// attackCase is a sequence of documents of one feed. Each document but
// the last gives the memo for the next.
type attackCase struct {
	name string
	docs []string
}

// compareChain parses docs in order, passing each memo to the next, and
// compares the last parse with ParseFeed. It returns how many items
// skipped gofeed.
func compareChain(t *testing.T, docs []string, src Source) int {
	t.Helper()
	var memo *ParseMemo
	for k, doc := range docs[:len(docs)-2] {
		at := fetchTime.Add(time.Duration(k-len(docs)) * time.Hour)
		if res, err := ParseFeedMemo([]byte(doc), "", src, at, memo); err == nil {
			memo = res.Memo
		}
	}
	before, after := []byte(docs[len(docs)-2]), []byte(docs[len(docs)-1])
	if memo == nil {
		return compareSkipping(t, "chain", before, after, src)
	}
	first, err := ParseFeedMemo(before, "", src, fetchTime, memo)
	if err != nil {
		first = &ParseResult{Memo: &ParseMemo{}}
	}
	return compareResults(t, "chain", after, src, fetchTime.Add(time.Hour), first.Memo)
}

// xmlDecl is an XML declaration. encoding/xml obeys it at any position
// and reads the bytes after it as ISO-8859-2.
const xmlDecl = `<?xml version="1.0" encoding="iso-8859-2"?>`

// TestSkipLaterXMLDeclaration checks documents with an XML declaration
// after their start, between or inside items. encoding/xml changes the
// charset of the rest of the document there, so cutting items out must
// not happen.
func TestSkipLaterXMLDeclaration(t *testing.T) {
	known := `<item><title>K</title><guid>k</guid>` + xmlDecl + `<description>ascii</description></item>`
	fresh := `<item><title>Zażółć</title><guid>n</guid><description>gęślą jaźń</description></item>`
	cdata := `<item><title><![CDATA[Treść]]></title><guid>k</guid></item>`
	ascii := `<item><title>Entry one</title><guid>a</guid><description>plain</description></item>`
	cases := []attackCase{
		// The items keep their bytes. ParseFeed reads them as ISO-8859-2,
		// and a memo would give the hashes of their UTF-8 reading.
		{"declaration in the header", []string{
			string(plainRSS(skipItems(3, 1, ""))),
			string(skipRSS(`<?xml version="1.0" encoding="utf-8"?>`, "", "", xmlDecl, "\n", skipItems(4, 1, ""))),
		}},
		// complete() would read the item again without the declaration,
		// so even the completed items would differ.
		{"declaration between items", []string{
			string(plainRSS(skipItems(3, 1, ""))),
			string(plainRSS([]string{skipItem(4, ""), skipItem(3, ""), xmlDecl + "\n" + skipItem(2, ""), skipItem(1, "")})),
		}},
		// Cutting the known item out would drop its declaration, so gofeed
		// would read the new item after it as UTF-8.
		{"declaration inside a known item", []string{
			string(plainRSS([]string{known})),
			string(plainRSS([]string{known, fresh})),
		}},
		// Shift_JIS joins the last byte of "ś" with "]", so the CDATA
		// section never ends. ParseFeed fails, and a cut document would
		// parse.
		{"shift_jis hides the end of a known cdata", []string{
			string(plainRSS([]string{cdata})),
			string(plainRSS([]string{ascii, `<?xml version="1.0" encoding="shift_jis"?>`, cdata})),
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			compareChain(t, c.docs, skipSource)
		})
	}
}

// TestSkipHostileDocuments checks attacks that ParseFeedMemo withstands, and
// the number of items that must still skip gofeed.
func TestSkipHostileDocuments(t *testing.T) {
	dc := ` xmlns:dc="http://purl.org/dc/elements/1.1/"`
	undated := func(n int) string {
		return fmt.Sprintf(`<item><title>Bez daty %d</title><description>opis %d</description></item>`, n, n)
	}
	first := `<item><title>A</title><guid>same</guid><link>https://partner.example/a</link></item>`
	second := `<item><title>B</title><guid>same</guid><link>https://partner.example/b</link></item>`
	source := `<entry><title>S</title><id>urn:s</id><link href="/s"/><updated>2026-12-01T09:00:00Z</updated>` +
		`<source><id>urn:other</id><title>Other</title><link href="https://other.example/"/></source></entry>`
	seq := `<items><rdf:Seq><rdf:li rdf:resource="https://partner.example/1"/></rdf:Seq></items></channel>`
	full := string(plainRSS(skipItems(5, 1, "")))
	offset := "<dc:date>2026-03-01T09:00:00+05:30</dc:date>"
	crlf := func(s []byte) string { return strings.ReplaceAll(string(s), "\n", "\r\n") }
	cases := []struct {
		attackCase
		skipped int
	}{
		{attackCase{"undated items keyed by text", []string{
			string(plainRSS([]string{undated(2), undated(1)})), string(plainRSS([]string{undated(3), undated(2), undated(1)}))}}, 2},
		{attackCase{"guid repeated across the split", []string{
			string(plainRSS([]string{first})), string(plainRSS([]string{second, first}))}}, 1},
		{attackCase{"known item listed twice", []string{
			string(plainRSS([]string{first})), string(plainRSS([]string{first, first}))}}, 0},
		{attackCase{"dates with an offset zone", []string{
			string(skipRSS("", dc, "", "", "\n", skipItems(2, 1, offset))), string(skipRSS("", dc, "", "", "\n", skipItems(3, 1, offset)))}}, 2},
		{attackCase{"crlf line ends", []string{crlf(plainRSS(skipItems(3, 1, ""))), crlf(plainRSS(skipItems(4, 1, "")))}}, 3},
		{attackCase{"byte-order mark", []string{"\uFEFF" + string(plainRSS(skipItems(3, 1, ""))), "\uFEFF" + string(plainRSS(skipItems(4, 1, "")))}}, 3},
		{attackCase{"truncated then whole", []string{full[:strings.LastIndex(full, "<item>")+20], full}}, 4},
		{attackCase{"atom entry with a source", []string{
			string(skipAtom("", "<title>B</title>", []string{source})),
			string(skipAtom("", "<title>B</title>", append(atomEntries(2, 1, ""), source)))}}, 1},
		{attackCase{"rss 1.0 with an item list", []string{
			strings.Replace(string(skipRDF("K", []string{rdfItem(2), rdfItem(1)})), "</channel>", seq, 1),
			strings.Replace(string(skipRDF("K", []string{rdfItem(3), rdfItem(2), rdfItem(1)})), "</channel>", seq, 1)}}, 2},
		{attackCase{"every item known, three documents", []string{full, full, full}}, 5},
		{attackCase{"no item known", []string{string(plainRSS(skipItems(5, 1, ""))), string(plainRSS(skipItems(10, 6, "")))}}, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if n := compareChain(t, c.docs, skipSource); n < c.skipped {
				t.Errorf("%d items skipped gofeed, want at least %d", n, c.skipped)
			}
		})
	}
}

// TestSkipSourceChanges parses the next document under another
// source, as after RepeatedGUIDs turns on LinkKeys or a partner changes.
func TestSkipSourceChanges(t *testing.T) {
	before, after := plainRSS(skipItems(3, 1, "")), plainRSS(skipItems(4, 1, ""))
	linkKeys, other, zone := skipSource, skipSource, skipSource
	linkKeys.LinkKeys = true
	other.Feed, other.FeedURL = "other", "https://other.example/rss"
	zone.Location = time.FixedZone("Europe/Warsaw", 3600)
	for name, src := range map[string]Source{"link keys": linkKeys, "another feed": other, "partner zone": zone} {
		t.Run(name, func(t *testing.T) {
			first, err := ParseFeedMemo(before, "", skipSource, fetchTime, nil)
			if err != nil {
				t.Fatal(err)
			}
			compareResults(t, name, after, src, fetchTime.Add(time.Hour), first.Memo)
		})
	}
	t.Run("charset from content type", func(t *testing.T) {
		first, err := ParseFeedMemo(before, "", skipSource, fetchTime, nil)
		if err != nil {
			t.Fatal(err)
		}
		body, err := charmap.ISO8859_2.NewEncoder().Bytes(after)
		if err != nil {
			t.Fatal(err)
		}
		body = []byte(strings.Replace(string(body), `encoding="utf-8"`, `encoding="iso-8859-2"`, 1))
		got, err := ParseFeedMemo(body, "text/xml; charset=iso-8859-2", skipSource, fetchTime, first.Memo)
		if err != nil {
			t.Fatal(err)
		}
		want, err := ParseFeed(body, "text/xml; charset=iso-8859-2", skipSource, fetchTime)
		if err != nil {
			t.Fatal(err)
		}
		for i := range got.Items {
			if err := got.Items[i].complete(); err != nil {
				t.Fatal(err)
			}
		}
		if g, w := itemsJSON(t, got.Items), itemsJSON(t, want.Items); g != w {
			t.Errorf("items differ:\n got %s\nwant %s", g, w)
		}
	})
}

// TestSkipRepeatedItemCost repeats one known item under a large
// channel description. assignIdentity completes every repeat for
// Rejected, and each completion would parse the head of the document
// again, so such a document must be read in full.
func TestSkipRepeatedItemCost(t *testing.T) {
	if testing.Short() {
		t.Skip("timing test skipped in short mode")
	}
	items := make([]string, 300)
	for i := range items {
		items[i] = skipItem(1, "")
	}
	doc := skipRSS("", "", "", "<description>"+strings.Repeat("x", 200<<10)+"</description>", "\n", items)
	first, err := ParseFeedMemo(doc, "", skipSource, fetchTime, nil)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if _, err := ParseFeed(doc, "", skipSource, fetchTime); err != nil {
		t.Fatal(err)
	}
	plain := time.Since(start)
	start = time.Now()
	if _, err := ParseFeedMemo(doc, "", skipSource, fetchTime, first.Memo); err != nil {
		t.Fatal(err)
	}
	if memo := time.Since(start); memo > 10*plain+100*time.Millisecond {
		t.Errorf("ParseFeedMemo took %v on a %d-byte document, ParseFeed %v", memo, len(doc), plain)
	}
}

// tinyItems returns an RSS document of n items of one short title each.
func tinyItems(n int) []byte {
	items := make([]string, n)
	for i := range items {
		items[i] = fmt.Sprintf("<item><title>%d</title></item>", i)
	}
	return skipRSS("", "", "", "", "", items)
}

// TestSkipMemoHeap compares ParseMemo.Bytes with the heap a memo keeps
// for a document of many tiny items, of which the budget keeps few.
func TestSkipMemoHeap(t *testing.T) {
	if testing.Short() {
		t.Skip("heap measurement skipped in short mode")
	}
	doc := tinyItems(50000)
	// Fill the package caches first, so the heap growth is the memo.
	for range 2 {
		if _, err := ParseFeed(doc, "", skipSource, fetchTime); err != nil {
			t.Fatal(err)
		}
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	res, err := ParseFeedMemo(doc, "", skipSource, fetchTime, nil)
	if err != nil {
		t.Fatal(err)
	}
	memo := res.Memo
	res = nil
	runtime.GC()
	runtime.ReadMemStats(&after)
	retained := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	if retained > 2*int64(memo.Bytes()) {
		t.Errorf("memo of %d items keeps %d bytes of heap, Bytes gives %d", memo.Len(), retained, memo.Bytes())
	}
	runtime.KeepAlive(memo)
}

// TestSkipMemoBudget checks that a memo takes at most its document's
// size plus minMemoBudget when each date has a zone abbreviation of its
// own, which adds a location to the memo.
func TestSkipMemoBudget(t *testing.T) {
	items := make([]string, 2000)
	for i := range items {
		zone := string([]byte{byte('A' + i/676%26), byte('A' + i/26%26), byte('A' + i%26)})
		items[i] = fmt.Sprintf("<item><title>t%d</title><guid>g%d</guid><dc:date>Tue, 01 Dec 2026 09:00:00 %s</dc:date></item>", i, i, zone)
	}
	doc := skipRSS("", ` xmlns:dc="http://purl.org/dc/elements/1.1/"`, "", "", "\n", items)
	res, err := ParseFeedMemo(doc, "", skipSource, fetchTime, nil)
	if err != nil {
		t.Fatal(err)
	}
	if n, limit := res.Memo.Bytes(), len(doc)+minMemoBudget; n > limit {
		t.Errorf("memo of a %d-byte document takes %d bytes with %d locations, over its budget of %d",
			len(doc), n, len(res.Memo.locations), limit)
	}
}

// FuzzSkipChain compares a chain of three documents with ParseFeed,
// seeded with the equivalence cases.
func FuzzSkipChain(f *testing.F) {
	for _, c := range skipCases() {
		f.Add(c.before, c.before, c.after)
	}
	f.Fuzz(func(t *testing.T, first, before, after []byte) {
		compareChain(t, []string{string(first), string(before), string(after)}, skipSource)
	})
}
