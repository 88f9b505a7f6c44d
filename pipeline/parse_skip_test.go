package pipeline

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
	"unsafe"
)

// skipSource is the source of the documents these tests parse.
var skipSource = Source{Partner: "wipk", Feed: "news", FeedURL: "https://partner.example/rss", Language: "pl"}

// compareSkipping parses before with an empty memo, then after with the
// resulting memo. It checks the result against ParseFeed of after: the
// completed items, rejects, recoveries, the GUID check and the feed
// fields. It then parses after again with its own memo and checks that
// too. It returns how many items of after skipped gofeed.
func compareSkipping(t *testing.T, name string, before, after []byte, src Source) int {
	t.Helper()
	later := fetchTime.Add(time.Hour)
	first, err := ParseFeedMemo(before, "", src, fetchTime, nil)
	if err != nil {
		first = &ParseResult{Memo: &ParseMemo{}}
	}
	skipped := compareResults(t, name, after, src, later, first.Memo)
	got, err := ParseFeedMemo(after, "", src, later, first.Memo)
	if err == nil {
		compareResults(t, name+" again", after, src, later.Add(time.Hour), got.Memo)
	}
	return skipped
}

// compareResults parses body with memo and without, and reports every
// difference, in the items from the memo both before and after they are
// completed. It returns how many items skipped gofeed.
func compareResults(t *testing.T, name string, body []byte, src Source, now time.Time, memo *ParseMemo) int {
	t.Helper()
	got, err := ParseFeedMemo(body, "", src, now, memo)
	want, wantErr := ParseFeed(body, "", src, now)
	if fmt.Sprint(err) != fmt.Sprint(wantErr) {
		t.Fatalf("%s: with memo err %v, without %v", name, err, wantErr)
	}
	if err != nil {
		return 0
	}

	if len(got.Items) != len(want.Items) {
		t.Fatalf("%s: %d items with memo, %d from ParseFeed", name, len(got.Items), len(want.Items))
	}
	skipped := 0
	for i := range got.Items {
		if p := got.Items[i].partial; p != nil && p.reread != nil {
			skipped++
		}
		// IngestBatch looks the partial item's hash up in the seen cache
		// before it completes the item.
		if g, w := partialFields(got.Items[i]), partialFields(want.Items[i]); got.Items[i].partial != nil && g != w {
			t.Errorf("%s: item %d from the memo:\n got %s\nwant %s", name, i, g, w)
		}
		if err := got.Items[i].complete(); err != nil {
			t.Fatalf("%s: completing item %d: %v", name, i, err)
		}
	}

	if !reflect.DeepEqual(got.Items, want.Items) {
		t.Errorf("%s: items differ from ParseFeed:\n got %s\nwant %s", name, itemsJSON(t, got.Items), itemsJSON(t, want.Items))
	}
	g := fmt.Sprintf("%q %q %q %q %q %v %v", got.Title, got.Link, got.Language, got.Hubs, got.Recoveries, got.RepeatedGUIDs, got.Rejected)
	w := fmt.Sprintf("%q %q %q %q %q %v %v", want.Title, want.Link, want.Language, want.Hubs, want.Recoveries, want.RepeatedGUIDs, want.Rejected)
	if g != w {
		t.Errorf("%s: document differs from ParseFeed:\n got %s\nwant %s", name, g, w)
	}
	return skipped
}

func skipItem(n int, extra string) string {
	return fmt.Sprintf(`<item><title>Wpis %d</title><link>https://partner.example/news/%d</link>`+
		`<guid isPermaLink="false">g-%d</guid><pubDate>Tue, 01 Dec 2026 09:%02d:00 +0100</pubDate>`+
		`<description><![CDATA[<p>Treść wpisu %d.</p>]]></description>%s</item>`, n, n, n, n%60, n, extra)
}

// skipItems returns the items numbered from top down to bottom.
func skipItems(top, bottom int, extra string) []string {
	var out []string
	for n := top; n >= bottom; n-- {
		out = append(out, skipItem(n, extra))
	}
	return out
}

// skipRSS returns an RSS 2.0 document: prolog, root attributes, channel
// attributes, channel header, items joined by sep.
func skipRSS(prolog, rootAttrs, channelAttrs, header, sep string, items []string) []byte {
	return []byte(prolog + `<rss version="2.0"` + rootAttrs + `><channel` + channelAttrs + `>` +
		`<title>Izba</title><link>https://partner.example/</link>` + header + "\n" +
		strings.Join(items, sep) + "\n</channel></rss>\n")
}

func plainRSS(items []string) []byte {
	return skipRSS(`<?xml version="1.0" encoding="utf-8"?>`, "", "", "", "\n", items)
}

func skipAtom(rootAttrs, header string, entries []string) []byte {
	return []byte(`<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"` + rootAttrs + `>` + header +
		strings.Join(entries, "\n") + `</feed>`)
}

func atomEntry(n int, content string) string {
	return fmt.Sprintf(`<entry><title>Entry %d</title><id>urn:e:%d</id><link href="/post/%d"/>`+
		`<updated>2026-12-01T09:%02d:00Z</updated>%s</entry>`, n, n, n, n%60, content)
}

func atomEntries(top, bottom int, content string) []string {
	var out []string
	for n := top; n >= bottom; n-- {
		out = append(out, atomEntry(n, content))
	}
	return out
}

// baseEntries returns the entries numbered from top down to bottom, each
// with relative URLs and, in turn, each xml:base attribute of bases.
func baseEntries(top, bottom int, bases []string) []string {
	var out []string
	for n := top; n >= bottom; n-- {
		out = append(out, fmt.Sprintf(`<entry%s><title>Entry %d</title><id>urn:e:%d</id><link href="post/%d"/>`+
			`<link rel="enclosure" href="media/%d.mp3" type="audio/mpeg"/><updated>2026-12-01T09:%02d:00Z</updated>`+
			`<content type="html">&lt;img src="img/%d.png"&gt;</content></entry>`, bases[n%len(bases)], n, n, n, n, n%60, n))
	}
	return out
}

// baseItems returns RSS items as baseEntries does.
func baseItems(top, bottom int, bases []string) []string {
	var out []string
	for n := top; n >= bottom; n-- {
		out = append(out, fmt.Sprintf(`<item%s><title>Item %d</title><guid>g-%d</guid><link>post/%d</link>`+
			`<enclosure url="media/%d.mp3" type="audio/mpeg" length="1"/>`+
			`<description>&lt;img src="img/%d.png"&gt;</description></item>`, bases[n%len(bases)], n, n, n, n, n))
	}
	return out
}

func skipRDF(channel string, items []string) []byte {
	return []byte(`<?xml version="1.0"?><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" ` +
		`xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/">` +
		`<channel rdf:about="https://partner.example/"><title>` + channel + `</title><link>https://partner.example/</link></channel>` +
		strings.Join(items, "\n") + `</rdf:RDF>`)
}

func rdfItem(n int) string {
	return fmt.Sprintf(`<item rdf:about="https://partner.example/%d"><title>Item %d</title>`+
		`<link>https://partner.example/%d</link><dc:date>2026-12-01T09:%02d:00+01:00</dc:date></item>`, n, n, n, n%60)
}

type skipCase struct {
	name          string
	before, after []byte
	// minSkipped is how many items of after must skip gofeed: 0 for a
	// document the fast path must leave, or may leave, to gofeed.
	minSkipped int
}

func skipCases() []skipCase {
	dc := ` xmlns:dc="http://purl.org/dc/elements/1.1/"`
	media := ` xmlns:media="http://search.yahoo.com/mrss/"`
	creator := `<dc:creator>Ala</dc:creator>`
	thumb := `<media:thumbnail url="/img/x.jpg"/>`
	relative := func(n int) string {
		return fmt.Sprintf(`<item><title>Rel %d</title><link>/news/%d</link><description>x</description></item>`, n, n)
	}
	edited := skipItems(10, 1, "")
	edited[3] = strings.Replace(edited[3], "Wpis 7", "Wpis 7 (poprawiony)", 1)
	reordered := skipItems(10, 1, "")
	reordered[0], reordered[5] = reordered[5], reordered[0]
	dupGUID := strings.Replace(skipItem(3, ""), "Wpis 3", "Inny", 1)
	cdataItem := `<item><title>CDATA</title><link>https://partner.example/c</link><description><![CDATA[<item>x</item> </item> <entry>]]></description></item>`
	commentItem := `<item><!-- <item> --><title>Komentarz</title><link>https://partner.example/k</link></item>`
	ampItem := `<item><title>Tom & Jerry</title><link>https://partner.example/a?x=1&y=2</link></item>`
	entity := `<!DOCTYPE rss [<!ENTITY firma "Izba Handlowa">]>`
	entityItem := `<item><title>O &firma;</title><link>https://partner.example/e</link></item>`
	xhtml := `<content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml"><p>Tekst</p></div></content>`
	base := ` xml:base="https://blog.example/a/"`
	otherBase := ` xml:base="https://blog.example/b/"`
	truncated := plainRSS(skipItems(12, 3, ""))
	truncated = truncated[:bytes.LastIndex(truncated, []byte("<item>"))+40]
	entryBases := []string{` xml:base="https://cdn.example/a/"`, "", ` xml:base="b/"`, ` xml:base="/c/d.html"`}
	itemBases := []string{` xml:base="https://cdn.example/a/"`, "", ` xml:base="../b/"`}
	decoy := `<ex:list xmlns:ex="http://example.com/list"><item><title>listed</title></item></ex:list>`
	return []skipCase{
		{"slid window", plainRSS(skipItems(10, 1, "")), plainRSS(skipItems(12, 3, "")), 8},
		{"same document", plainRSS(skipItems(10, 1, "")), plainRSS(skipItems(10, 1, "")), 10},
		{"edited item", plainRSS(skipItems(10, 1, "")), plainRSS(edited), 9},
		{"reordered items", plainRSS(skipItems(10, 1, "")), plainRSS(reordered), 10},
		{"new channel title and date",
			plainRSS(skipItems(10, 1, "")),
			skipRSS(`<?xml version="1.0" encoding="utf-8"?>`, "", "", "<lastBuildDate>Tue, 01 Dec 2026 10:00:00 +0000</lastBuildDate><title>Nowy</title>", "\n", skipItems(10, 1, "")), 10},
		{"channel language changes", skipRSS("", "", "", "<language>en</language>", "", skipItems(5, 1, "")),
			skipRSS("", "", "", "<language>de</language>", "", skipItems(5, 1, "")), 0},
		{"channel language stays", skipRSS("", "", "", "<language>en</language>", "", skipItems(5, 1, "")),
			skipRSS("", "", "", "<language>en</language><ttl>5</ttl>", "", skipItems(6, 1, "")), 5},
		{"channel link changes under relative links",
			[]byte(strings.Replace(string(plainRSS([]string{relative(2), relative(1)})), "https://partner.example/</link>", "https://a.example/</link>", 1)),
			[]byte(strings.Replace(string(plainRSS([]string{relative(2), relative(1)})), "https://partner.example/</link>", "https://b.example/</link>", 1)), 0},
		{"xml:base on the channel changes", skipRSS("", "", base, "", "", []string{relative(2), relative(1)}),
			skipRSS("", "", otherBase, "", "", []string{relative(2), relative(1)}), 0},
		{"xml:base in the header", skipRSS("", "", "", `<image`+base+`><url>x.png</url></image>`, "", []string{relative(2), relative(1)}),
			skipRSS("", "", "", `<image`+base+`><url>x.png</url></image>`, "", []string{relative(3), relative(2), relative(1)}), 2},
		{"namespace moves", skipRSS("", dc, "", "", "", skipItems(4, 1, creator)),
			skipRSS("", ` xmlns:dc="http://example.com/dc"`, "", "", "", skipItems(4, 1, creator)), 0},
		{"namespace on the channel", skipRSS("", "", dc, "", "", skipItems(4, 1, creator)),
			skipRSS("", "", dc, "", "", skipItems(5, 1, creator)), 4},
		{"media image", skipRSS("", media, "", "", "", skipItems(4, 1, thumb)),
			skipRSS("", media, "", "", "", skipItems(5, 1, thumb)), 4},
		{"media namespace loses its slash", skipRSS("", media, "", "", "", skipItems(4, 1, thumb)),
			skipRSS("", ` xmlns:media="http://search.yahoo.com/mrss"`, "", "", "", skipItems(4, 1, thumb)), 0},
		{"atom link declared in the header",
			skipRSS("", "", "", `<atom:link xmlns:atom="http://www.w3.org/2005/Atom" rel="self" href="https://partner.example/rss"/>`, "", skipItems(4, 1, "")),
			skipRSS("", "", "", `<atom:link xmlns:atom="http://www.w3.org/2005/Atom" rel="self" href="https://partner.example/rss"/>`, "", skipItems(5, 1, "")), 4},
		{"default namespace on a channel child", skipRSS("", ` xmlns:ex="http://example.com/ns"`, "", "", "", skipItems(4, 1, "<ex:title>Ex</ex:title>")),
			skipRSS("", ` xmlns:ex="http://example.com/ns"`, "", `<link xmlns="http://example.com/ns">x</link>`, "", skipItems(5, 1, "<ex:title>Ex</ex:title>")), 0},
		{"core prefix on a channel child", skipRSS("", "", "", "", "", skipItems(4, 1, "<content:encoded>Ex</content:encoded>")),
			skipRSS("", "", "", `<content:x xmlns:content="http://example.com/c">x</content:x>`, "", skipItems(5, 1, "<content:encoded>Ex</content:encoded>")), 0},
		{"namespace declared in an item", plainRSS(append(skipItems(4, 1, ""), skipItem(0, `<ex:title xmlns:ex="http://example.com/ns">Ex</ex:title>`))),
			plainRSS(append(skipItems(5, 1, ""), skipItem(0, `<ex:title xmlns:ex="http://example.com/ns">Ex</ex:title>`))), 0},
		{"entity declarations", skipRSS(entity, "", "", "", "", []string{entityItem, skipItem(1, "")}),
			skipRSS(entity, "", "", "", "", []string{skipItem(2, ""), entityItem, skipItem(1, "")}), 2},
		{"entity declaration changes", skipRSS(entity, "", "", "", "", []string{entityItem, skipItem(1, "")}),
			skipRSS(strings.Replace(entity, "Izba Handlowa", "Izba", 1), "", "", "", "", []string{entityItem, skipItem(1, "")}), 0},
		{"cdata with item tags", plainRSS([]string{cdataItem, skipItem(1, "")}), plainRSS([]string{skipItem(2, ""), cdataItem, skipItem(1, "")}), 2},
		{"comments", plainRSS([]string{commentItem, skipItem(1, "")}),
			skipRSS(`<?xml version="1.0" encoding="utf-8"?>`, "", "", "<!-- lista -->", "\n<!-- <item> -->\n", []string{skipItem(2, ""), commentItem, skipItem(1, "")}), 2},
		{"bare ampersands", plainRSS([]string{ampItem, skipItem(1, "")}), plainRSS([]string{skipItem(2, ""), ampItem, skipItem(1, "")}), 2},
		{"truncated", plainRSS(skipItems(10, 1, "")), truncated, 0},
		{"duplicate guids", plainRSS(skipItems(4, 1, "")), plainRSS(append(skipItems(4, 1, ""), dupGUID)), 4},
		// A document that lists one item twice is read in full.
		{"repeated item", plainRSS(skipItems(4, 1, "")), plainRSS(append(skipItems(4, 1, ""), dupGUID, skipItem(2, ""))), 0},
		{"text between items", plainRSS(skipItems(4, 1, "")), skipRSS("", "", "", "", "\nx\n", skipItems(5, 1, "")), 0},
		{"item outside the channel", plainRSS(skipItems(4, 1, "")),
			[]byte(strings.Replace(string(plainRSS(skipItems(4, 1, ""))), "</rss>", skipItem(9, "")+"</rss>", 1)), 0},
		{"nested item", plainRSS(skipItems(4, 1, "")), plainRSS(append(skipItems(4, 1, ""), "<item><item><title>x</title></item></item>")), 0},
		{"empty item", plainRSS(skipItems(4, 1, "")), plainRSS(append(skipItems(4, 1, ""), "<item/>")), 0},
		{"item in capitals", plainRSS(skipItems(4, 1, "")), plainRSS(append(skipItems(4, 1, ""), "<ITEM><title>x</title></ITEM>")), 0},
		{"atom", skipAtom("", "<title>Blog</title>", atomEntries(6, 1, "")), skipAtom("", "<title>Blog</title>", atomEntries(8, 3, "")), 4},
		{"atom with xml:base", skipAtom(base, "<title>Blog</title>", atomEntries(6, 1, "")), skipAtom(base, "<title>Blog</title>", atomEntries(8, 3, "")), 0},
		{"atom xml:base and a relative id", skipAtom(base, "<title>Blog</title>", atomEntries(6, 1, "")),
			skipAtom(base, "<title>Blog</title>", append(atomEntries(8, 8, ""), strings.Replace(atomEntry(7, ""), "urn:e:7", "ur<?pi x?>n:e:7", 1))), 0},
		{"xml:base inside entries", skipAtom("", "<title>Blog</title>", atomEntries(6, 1, `<content type="html" xml:base="https://blog.example/c/">&lt;a href="x"&gt;x&lt;/a&gt;</content>`)),
			skipAtom("", "<title>Blog</title>", atomEntries(8, 3, `<content type="html" xml:base="https://blog.example/c/">&lt;a href="x"&gt;x&lt;/a&gt;</content>`)), 4},
		{"xml:base on entries", skipAtom("", "<title>Blog</title>", []string{strings.Replace(atomEntry(2, ""), "<entry>", "<entry"+base+">", 1), atomEntry(1, "")}),
			skipAtom("", "<title>Blog</title>", []string{atomEntry(3, ""), strings.Replace(atomEntry(2, ""), "<entry>", "<entry"+base+">", 1), atomEntry(1, "")}), 2},
		{"atom xml:base changes", skipAtom(base, "<title>Blog</title>", atomEntries(6, 1, "")), skipAtom(otherBase, "<title>Blog</title>", atomEntries(6, 1, "")), 0},
		{"atom xml:base reaching the first entry", skipAtom(base, "", atomEntries(6, 1, "")), skipAtom(base, "", atomEntries(8, 3, "")), 0},
		{"entry bases", skipAtom("", "<title>Blog</title>", baseEntries(6, 1, entryBases)),
			skipAtom("", "<title>Blog</title>", baseEntries(8, 3, entryBases)), 4},
		{"entry bases under a document base", skipAtom(` xml:base="https://blog.example/x/feed.atom"`, "<title>Blog</title>", baseEntries(6, 1, entryBases)),
			skipAtom(` xml:base="https://blog.example/x/feed.atom"`, "<title>Blog</title>", baseEntries(8, 3, entryBases)), 0},
		{"entry base changes", skipAtom("", "<title>Blog</title>", baseEntries(6, 1, entryBases)),
			skipAtom("", "<title>Blog</title>", baseEntries(6, 1, []string{` xml:base="https://cdn.example/z/"`})), 0},
		{"entry bases dropped", skipAtom("", "<title>Blog</title>", baseEntries(6, 1, entryBases)),
			skipAtom("", "<title>Blog</title>", baseEntries(6, 1, []string{""})), 0},
		{"item bases", plainRSS(baseItems(6, 1, itemBases)), plainRSS(baseItems(8, 3, itemBases)), 4},
		{"item bases that do not match the items", skipRSS("", "", "", decoy, "\n", baseItems(6, 1, itemBases)),
			skipRSS("", "", "", decoy, "\n", baseItems(8, 3, itemBases)), 0},
		{"atom xhtml content", skipAtom("", "<title>Blog</title>", atomEntries(6, 1, xhtml)), skipAtom("", "<title>Blog</title>", atomEntries(8, 3, xhtml)), 4},
		{"rss 1.0", skipRDF("Kanał", []string{rdfItem(3), rdfItem(2), rdfItem(1)}), skipRDF("Kanał nowy", []string{rdfItem(4), rdfItem(3), rdfItem(2)}), 2},
		{"not a feed", plainRSS(skipItems(4, 1, "")), []byte("<html><body>x</body></html>"), 0},
		{"json feed", plainRSS(skipItems(4, 1, "")), []byte(`{"version":"https://jsonfeed.org/version/1.1","items":[{"id":"1","title":"x","url":"https://partner.example/1"}]}`), 0},
	}
}

// TestParseSkipEquivalence checks that items skipping gofeed give what
// ParseFeed gives, in documents that keep, change or break what an
// item's reading depends on.
func TestParseSkipEquivalence(t *testing.T) {
	for _, c := range skipCases() {
		t.Run(c.name, func(t *testing.T) {
			n := compareSkipping(t, c.name, c.before, c.after, skipSource)
			if n < c.minSkipped {
				t.Errorf("%d items skipped gofeed, want at least %d", n, c.minSkipped)
			}
		})
	}
}

// TestParseSkipSettingsChange checks that a memo made under other partner
// settings gives no item.
func TestParseSkipSettingsChange(t *testing.T) {
	doc := plainRSS(skipItems(5, 1, ""))
	first, err := ParseFeedMemo(doc, "", skipSource, fetchTime, nil)
	if err != nil {
		t.Fatal(err)
	}
	src := skipSource
	src.Language = "de"
	if n := compareResults(t, "language", doc, src, fetchTime, first.Memo); n != 0 {
		t.Errorf("%d items skipped gofeed under another partner language", n)
	}
}

// TestParseSkipReadsOnlyNewItems checks that the known items of a slid
// document do not reach gofeed: they come from the memo, whose dates are
// altered here, and only the new items are read.
func TestParseSkipReadsOnlyNewItems(t *testing.T) {
	before, after := plainRSS(skipItems(50, 1, "")), plainRSS(skipItems(55, 6, ""))
	first, err := ParseFeedMemo(before, "", skipSource, fetchTime, nil)
	if err != nil {
		t.Fatal(err)
	}
	memo := first.Memo
	if len(memo.segments) != 50 {
		t.Fatalf("memo holds %d segments, want 50", len(memo.segments))
	}

	// Point every stored published date at a string that no document
	// contains.
	const marker = "Mon, 02 Mar 2026 08:00:00 +0000"
	for key, s := range memo.segments {
		s.published = span{off: uint32(len(memo.text)), n: uint32(len(marker))}
		s.publishedAt = storedTime{}
		memo.text = append(memo.text, marker...)
		memo.segments[key] = s
	}

	got, err := ParseFeedMemo(after, "", skipSource, fetchTime, memo)
	if err != nil {
		t.Fatal(err)
	}
	fromMemo, read := 0, 0
	for _, it := range got.Items {
		switch {
		case it.partial != nil && it.partial.reread != nil && it.Published.Equal(time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)):
			fromMemo++
		case it.partial == nil:
			read++
		}
	}
	if fromMemo != 45 {
		t.Errorf("%d items came from the memo, want 45", fromMemo)
	}
	if read != 5 {
		t.Errorf("%d items were read, want 5", read)
	}

	// The next memo carries every item's segment, known or new.
	if n := len(got.Memo.segments); n != 50 {
		t.Errorf("next memo holds %d segments, want 50", n)
	}
}

// TestParseSkipMemoBytes checks that the memo's size counts its segments,
// and the slot size that segmentEntryBytes is estimated from.
func TestParseSkipMemoBytes(t *testing.T) {
	if n := unsafe.Sizeof(memoKey{}) + unsafe.Sizeof(storedSegment{}); n != 80 {
		t.Errorf("a segment's key and value take %d bytes, want 80 as segmentEntryBytes assumes", n)
	}
	res, err := ParseFeedMemo(plainRSS(skipItems(10, 1, "")), "", skipSource, fetchTime, nil)
	if err != nil {
		t.Fatal(err)
	}
	m := res.Memo
	want := len(m.entries)*memoEntryBytes + len(m.segments)*segmentEntryBytes + len(m.locations)*locationBytes + len(m.text)
	if len(m.segments) != 10 {
		t.Errorf("memo holds %d segments, want 10", len(m.segments))
	}
	if m.Bytes() != want {
		t.Errorf("memo takes %d bytes, want %d", m.Bytes(), want)
	}
	// Every item's date has the offset +0100, which gofeed gives each
	// date its own location for.
	if len(m.locations) != 1 {
		t.Errorf("memo holds %d locations, want 1", len(m.locations))
	}
}

// TestParseSkipCorpus feeds every corpus document, then a version without
// its first item and with a new one, and the same document again.
func TestParseSkipCorpus(t *testing.T) {
	paths, err := filepath.Glob(filepath.Join(corpusDir, "*"))
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) == 0 {
		t.Skip("no corpus at " + corpusDir)
	}
	skipping := 0 // documents in which some item skipped gofeed
	for _, p := range paths {
		body, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		name := filepath.Base(p)
		n := compareSkipping(t, name+" modified", body, slideDocument(body), skipSource)
		n += compareSkipping(t, name+" same", body, body, skipSource)
		t.Logf("%s: %d items skipped gofeed", name, n)
		if n > 0 {
			skipping++
		}
	}
	// 122 of the 145 documents of the shared corpus have items that skip
	// gofeed. The others are JSON Feed, compressed, truncated or no feed,
	// have no items, or use xml:base or namespaces that stop the cut.
	if skipping < len(paths)*3/4 {
		t.Errorf("items skipped gofeed in %d of %d corpus documents, want at least three quarters", skipping, len(paths))
	}
}

// slideDocument drops the first item or entry of body and adds a new one
// in its place, by bytes, as a feed whose window slid does.
func slideDocument(body []byte) []byte {
	for _, name := range []string{"item", "entry"} {
		start := indexTag(body, "<"+name)
		end := bytes.Index(body, []byte("</"+name+">"))
		if start < 0 || end < start {
			continue
		}
		end += len(name) + 3
		synthetic := `<item><title>Synthetic</title><link>https://synthetic.example/1</link><guid>synthetic-1</guid></item>`
		if name == "entry" {
			synthetic = `<entry><title>Synthetic</title><id>urn:synthetic:1</id><link href="https://synthetic.example/1"/><updated>2026-12-01T00:00:00Z</updated></entry>`
		}
		out := append([]byte(nil), body[:start]...)
		out = append(out, synthetic...)
		return append(out, body[end:]...)
	}
	return body
}

// indexTag returns the offset of a start tag beginning with open and
// followed by '>' or a space.
func indexTag(body []byte, open string) int {
	for off := 0; ; {
		n := bytes.Index(body[off:], []byte(open))
		if n < 0 {
			return -1
		}
		at := off + n + len(open)
		if at < len(body) && (body[at] == '>' || isSpaceByte(body[at])) {
			return off + n
		}
		off = at
	}
}

// mutationTokens are inserted at random offsets by
// TestParseSkipMutations: markup that findItems must follow exactly or
// refuse, and dates in several zones.
var mutationTokens = []string{
	"<item>", "</item>", "<entry>", "</entry>", "<!--", "-->", "<![CDATA[", "]]>",
	` xml:base="/z/"`, ` xmlns:q="http://q/"`, ` xmlns="http://www.w3.org/1999/xhtml"`,
	"</channel>", "<channel>", "<?pi x?>", "&amp;", "&", "<a/>", "</a>",
	`<atom10:link xmlns:atom10="http://www.w3.org/2005/Atom" href="x"/>`,
	`<ex:title xmlns:ex="http://e/">t</ex:title>`, `<link xmlns="http://e/">x</link>`,
	` xmlns:ex="http://e/"`, `<ex:title>u</ex:title>`, ` xmlns:content="http://e/"`,
	"<pubDate>Tue, 01 Dec 2026 09:00:00 EST</pubDate>", "<pubDate>Tue, 01 Mar 2026 09:00:00 +0530</pubDate>",
	"<updated>2026-02-01T09:00:00-08:00</updated>", "<pubDate>2026-02-01 09:00</pubDate>",
}

// mutate returns body with one to three random edits: a byte replaced,
// removed or inserted, or a token of mutationTokens inserted.
func mutate(rng *rand.Rand, body []byte) []byte {
	const markup = "<>/!?-[]\"'= a&;:x"
	b := append([]byte(nil), body...)
	for range 1 + rng.IntN(3) {
		if len(b) == 0 {
			break
		}
		i := rng.IntN(len(b))
		switch rng.IntN(4) {
		case 0:
			b[i] = markup[rng.IntN(len(markup))]
		case 1:
			b = append(b[:i], b[i+1:]...)
		case 2:
			b = slices.Insert(b, i, markup[rng.IntN(len(markup))])
		case 3:
			b = slices.Insert(b, i, []byte(mutationTokens[rng.IntN(len(mutationTokens))])...)
		}
	}
	return b
}

// TestParseSkipMutations compares the two parses on randomly edited
// versions of the equivalence cases and of the smaller corpus documents.
// It tries far more edits per second than FuzzParseSkip, whose engine
// spends seconds minimising each new input of this size.
func TestParseSkipMutations(t *testing.T) {
	if testing.Short() {
		t.Skip("randomized comparison skipped in short mode")
	}
	cases := skipCases()
	paths, err := filepath.Glob(filepath.Join(corpusDir, "*.xml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range paths {
		body, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if len(body) < 60000 {
			cases = append(cases, skipCase{name: filepath.Base(p), before: body, after: slideDocument(body)})
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 1000 {
		c := cases[rng.IntN(len(cases))]
		before, after := c.before, c.after
		switch rng.IntN(3) {
		case 0:
			after = mutate(rng, after)
		case 1:
			before = mutate(rng, before)
			after = mutate(rng, before)
		case 2:
			before = mutate(rng, before)
		}
		compareSkipping(t, c.name+" edited", before, after, skipSource)
		if t.Failed() {
			t.Fatalf("documents:\nbefore %q\nafter %q", before, after)
		}
	}
}

// FuzzParseSkip compares ParseFeedMemo, with the memo of before, to
// ParseFeed on after.
func FuzzParseSkip(f *testing.F) {
	for _, c := range skipCases() {
		f.Add(c.before, c.after)
	}
	f.Fuzz(func(t *testing.T, before, after []byte) {
		compareSkipping(t, "fuzz", before, after, skipSource)
	})
}
