package pipeline

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// baseSource is the source of the documents these tests parse.
var baseSource = Source{Partner: "p", Feed: "f", FeedURL: "http://partner.example.org/feed.xml"}

// parseBaseDoc parses doc with ParseFeed and fails the test on an error
// or on another number of items than want.
func parseBaseDoc(t *testing.T, doc string, src Source, want int) []Item {
	t.Helper()
	res, err := ParseFeed([]byte(doc), "", src, fetchTime)
	if err != nil {
		t.Fatalf("ParseFeed: %v", err)
	}
	if len(res.Items) != want {
		t.Fatalf("parsed %d items, want %d (rejected %v)", len(res.Items), want, res.Rejected)
	}
	return res.Items
}

// checkContains reports an error when the field value lacks want.
func checkContains(t *testing.T, field, value, want string) {
	t.Helper()
	if !strings.Contains(value, want) {
		t.Errorf("%s = %q, want it to contain %q", field, value, want)
	}
}

// checkEnclosure reports an error unless the item has one enclosure at
// want.
func checkEnclosure(t *testing.T, it Item, want string) {
	t.Helper()
	if len(it.Enclosures) != 1 {
		t.Errorf("item %q has %d enclosures, want 1", it.Title, len(it.Enclosures))
		return
	}
	if got := it.Enclosures[0].URL; got != want {
		t.Errorf("item %q enclosure = %q, want %q", it.Title, got, want)
	}
}

func TestParseFeedEntryBase(t *testing.T) {
	doc := `<?xml version="1.0"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title><id>urn:x</id><updated>2026-01-01T00:00:00Z</updated>
<entry xml:base="http://cdn.example.org/news/2026/"><title>A</title><id>urn:a</id><updated>2026-01-01T00:00:00Z</updated>
<link href="http://partner.example.org/a"/>
<content type="html">&lt;p&gt;x &lt;img src="pic.jpg"&gt; &lt;a href="more.html"&gt;m&lt;/a&gt;&lt;/p&gt;</content></entry>
<entry xml:base="http://cdn.example.org/news/2026/"><title>B</title><id>urn:b</id><updated>2026-01-01T00:00:00Z</updated>
<link href="b.html"/><link rel="enclosure" href="b.mp3" type="audio/mpeg"/>
<summary type="html">&lt;img src="b.jpg"&gt; text</summary></entry>
<entry xml:base="http://cdn.example.org/news/item.html"><title>C</title><id>urn:c</id><updated>2026-01-01T00:00:00Z</updated>
<link href="item.html"/><content type="html">&lt;a href="#fn1"&gt;1&lt;/a&gt; &lt;a href="other.html"&gt;o&lt;/a&gt;</content></entry></feed>`
	items := parseBaseDoc(t, doc, baseSource, 3)

	a := items[0]
	if a.URL != "http://partner.example.org/a" {
		t.Errorf("absolute link = %q, want it unchanged", a.URL)
	}
	checkContains(t, "content", a.Content, `src="http://cdn.example.org/news/2026/pic.jpg"`)
	checkContains(t, "content", a.Content, `href="http://cdn.example.org/news/2026/more.html"`)

	b := items[1]
	if b.URL != "http://cdn.example.org/news/2026/b.html" {
		t.Errorf("relative link = %q, want it resolved against the entry's xml:base", b.URL)
	}
	checkEnclosure(t, b, "http://cdn.example.org/news/2026/b.mp3")
	checkContains(t, "content", b.Content, `src="http://cdn.example.org/news/2026/b.jpg"`)

	// A base naming a file keeps its name for a fragment and loses it for
	// a path, as RFC 3986 resolves them.
	c := items[2]
	if c.URL != "http://cdn.example.org/news/item.html" {
		t.Errorf("link = %q, want the entry's base itself", c.URL)
	}
	checkContains(t, "content", c.Content, `href="http://cdn.example.org/news/item.html#fn1"`)
	checkContains(t, "content", c.Content, `href="http://cdn.example.org/news/other.html"`)
}

// TestParseFeedRelativeEntryBase checks entry bases that are themselves
// relative. The enclosure comes first, which gofeed would resolve against
// the bare relative base, and the alternate link second, so that the
// item's link does not stand in for its base. The head has a link, as
// most Atom heads do: see the NOTE in parse_base.go for a head without
// one.
func TestParseFeedRelativeEntryBase(t *testing.T) {
	entry := func(base string) string {
		return `<entry xml:base="` + base + `"><title>E</title><id>urn:e</id><updated>2026-01-01T00:00:00Z</updated>` +
			`<link rel="enclosure" href="clip.mp3" type="audio/mpeg"/><link href="story.html"/>` +
			`<content type="html">&lt;img src="pic.jpg"&gt;</content></entry>`
	}
	feed := func(rootBase, entries string) string {
		return `<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"` + rootBase +
			`><title>t</title><id>urn:x</id><updated>2026-01-01T00:00:00Z</updated><link rel="self" href="feed.atom"/>` +
			entries + `</feed>`
	}
	cases := []struct {
		name, doc string
		want      string // the base every relative URL of the entry must take
	}{
		{"directory below a document base naming a file",
			feed(` xml:base="https://journal.example.net/notes/feed.atom"`, entry("2026/03/14/")),
			"https://journal.example.net/notes/2026/03/14/"},
		{"absolute path under a document base",
			feed(` xml:base="https://journal.example.net/notes/"`, entry("/news/")),
			"https://journal.example.net/news/"},
		{"absolute path against the feed URL",
			feed("", entry("/news/")),
			"http://partner.example.org/news/"},
		{"directory against the feed URL",
			feed("", entry("sub/")),
			"http://partner.example.org/sub/"},
		{"parent directory",
			feed(` xml:base="https://journal.example.net/notes/2026/"`, entry("../archive/")),
			"https://journal.example.net/notes/archive/"},
		{"absolute base naming a file",
			feed("", entry("https://cdn.example.org/news/item.html")),
			"https://cdn.example.org/news/"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			it := parseBaseDoc(t, c.doc, baseSource, 1)[0]
			if want := c.want + "story.html"; it.URL != want {
				t.Errorf("link = %q, want %q", it.URL, want)
			}
			checkEnclosure(t, it, c.want+"clip.mp3")
			checkContains(t, "content", it.Content, `src="`+c.want+`pic.jpg"`)
		})
	}
}

// TestParseFeedEntryBaseFixture checks the entries of a fixture with a
// document base naming a file and entries with relative, absolute and
// no bases of their own.
func TestParseFeedEntryBaseFixture(t *testing.T) {
	res := parseFixture(t, "entry-xml-base.atom.xml", Source{FeedURL: "https://feeds.example.org/harbour.atom"}, fetchTime)
	want := []struct{ url, content string }{
		{"https://journal.example.net/notes/2026/03/14/Tide-Tables", `href="https://journal.example.net/notes/2026/03/12/Moorings"`},
		{"https://journal.example.net/notes/about", `src="https://journal.example.net/notes/logo.png"`},
		{"https://journal.example.net/archive/storms.html", `href="https://journal.example.net/archive/storm-1.html"`},
		{"https://journal.example.net/notes/crane", `src="https://cdn.example.org/harbour/crane.jpg"`},
	}
	if len(res.Items) != len(want) {
		t.Fatalf("parsed %d items, want %d", len(res.Items), len(want))
	}
	for k, w := range want {
		if got := res.Items[k].URL; got != w.url {
			t.Errorf("item %d link = %q, want %q", k, got, w.url)
		}
		checkContains(t, fmt.Sprintf("item %d content", k), res.Items[k].Content, w.content)
	}
	checkEnclosure(t, res.Items[0], "https://journal.example.net/notes/2026/03/14/tides.mp3")
}

func TestParseFeedRSSItemBase(t *testing.T) {
	doc := `<?xml version="1.0"?><rss version="2.0" xmlns:media="http://search.yahoo.com/mrss/"><channel>
<title>t</title><link>http://partner.example.org/</link>
<item xml:base="https://cdn.example.org/news/"><title>With base</title><guid>a</guid><link>a.html</link>
<description>text &lt;a href="more.html"&gt;more&lt;/a&gt;</description>
<enclosure url="a.mp3" type="audio/mpeg" length="10"/><media:thumbnail url="t.jpg"/></item>
<item><title>Without base</title><guid>b</guid><link>/b.html</link><description>&lt;img src="q.jpg"&gt;</description></item>
</channel></rss>`
	items := parseBaseDoc(t, doc, baseSource, 2)

	a := items[0]
	if a.URL != "https://cdn.example.org/news/a.html" {
		t.Errorf("link = %q, want it resolved against the item's xml:base", a.URL)
	}
	checkContains(t, "content", a.Content, `href="https://cdn.example.org/news/more.html"`)
	checkEnclosure(t, a, "https://cdn.example.org/news/a.mp3")
	if a.Image != "https://cdn.example.org/news/t.jpg" {
		t.Errorf("image = %q, want the thumbnail resolved against the item's xml:base", a.Image)
	}

	b := items[1]
	if b.URL != "http://partner.example.org/b.html" {
		t.Errorf("link of the item without a base = %q, want it resolved against the feed URL", b.URL)
	}
	checkContains(t, "content", b.Content, `src="http://partner.example.org/q.jpg"`)
}

// TestParseFeedRDFItemBase checks an RSS 1.0 item, whose channel lists
// the items in an <items> element that must not count as one.
func TestParseFeedRDFItemBase(t *testing.T) {
	doc := `<?xml version="1.0"?><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/">
<channel rdf:about="http://partner.example.org/"><title>t</title><link>http://partner.example.org/</link>
<items><rdf:Seq><rdf:li rdf:resource="http://partner.example.org/1"/></rdf:Seq></items></channel>
<item rdf:about="http://partner.example.org/1" xml:base="https://cdn.example.org/rdf/"><title>One</title><link>one.html</link>
<description>&lt;img src="one.png"&gt;</description></item>
</rdf:RDF>`
	it := parseBaseDoc(t, doc, baseSource, 1)[0]
	if it.URL != "https://cdn.example.org/rdf/one.html" {
		t.Errorf("link = %q, want it resolved against the item's xml:base", it.URL)
	}
	checkContains(t, "content", it.Content, `src="https://cdn.example.org/rdf/one.png"`)
}

// TestParseFeedItemBaseQuotedTags checks that item tags inside CDATA
// sections and comments do not shift the bases to other items.
func TestParseFeedItemBaseQuotedTags(t *testing.T) {
	doc := `<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>
<!-- <item xml:base="https://comment.example/"> -->
<item><title>First</title><guid>1</guid><link>one.html</link>
<description><![CDATA[<item xml:base="https://cdata.example/"> <entry> <p>x</p>]]></description></item>
<item xml:base="https://cdn.example.org/two/"><title>Second</title><guid>2</guid><link>two.html</link></item>
</channel></rss>`
	items := parseBaseDoc(t, doc, baseSource, 2)
	if items[0].URL != "http://partner.example.org/one.html" {
		t.Errorf("first link = %q, want it resolved against the feed URL", items[0].URL)
	}
	if items[1].URL != "https://cdn.example.org/two/two.html" {
		t.Errorf("second link = %q, want it resolved against its own xml:base", items[1].URL)
	}
}

// TestParseFeedItemBaseCountMismatch checks a document with an item
// element that gofeed does not read as an item: one inside a channel
// extension. The start tags then do not match gofeed's items, and every
// item must take the document's base, never the base of another item.
func TestParseFeedItemBaseCountMismatch(t *testing.T) {
	doc := `<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>
<ex:list xmlns:ex="http://example.com/list"><item><title>listed</title></item></ex:list>
<item xml:base="https://cdn.example.org/a/"><title>A</title><guid>a</guid><link>a.html</link></item>
<item><title>B</title><guid>b</guid><link>b.html</link><description>&lt;img src="b.png"&gt;</description></item>
</channel></rss>`
	items := parseBaseDoc(t, doc, baseSource, 2)
	if items[1].URL != "http://partner.example.org/b.html" {
		t.Errorf("link of the item without a base = %q, want it resolved against the feed URL", items[1].URL)
	}
	checkContains(t, "content", items[1].Content, `src="http://partner.example.org/b.png"`)
	// Item A loses its own base with the rest: the safe fallback.
	if items[0].URL != "http://partner.example.org/a.html" {
		t.Errorf("link of the item with a base = %q, want the document's base when start tags do not match", items[0].URL)
	}
}

// TestItemBaseKeepsOtherItems checks that an entry's xml:base changes
// neither the id nor the content hash of an entry without one, and not
// the id of the entry itself, which is keyed by its id element.
func TestItemBaseKeepsOtherItems(t *testing.T) {
	doc := func(base string) string {
		return `<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>t</title><id>urn:x</id><updated>2026-01-01T00:00:00Z</updated>` +
			`<entry` + base + `><title>A</title><id>urn:a</id><updated>2026-01-01T00:00:00Z</updated><link href="a.html"/>` +
			`<content type="html">&lt;img src="a.png"&gt;</content></entry>` +
			`<entry><title>B</title><id>urn:b</id><updated>2026-01-01T00:00:00Z</updated><link href="b.html"/>` +
			`<content type="html">&lt;img src="b.png"&gt;</content></entry></feed>`
	}
	with := parseBaseDoc(t, doc(` xml:base="https://cdn.example.org/a/"`), baseSource, 2)
	without := parseBaseDoc(t, doc(""), baseSource, 2)
	if with[1].ID != without[1].ID {
		t.Errorf("entry without a base: id %s, want %s as without the other entry's base", with[1].ID, without[1].ID)
	}
	if with[1].ContentHash != without[1].ContentHash {
		t.Errorf("entry without a base: content hash %s, want %s as without the other entry's base", with[1].ContentHash, without[1].ContentHash)
	}
	if with[0].ID != without[0].ID {
		t.Errorf("entry keyed by its id element: id %s with its base, %s without", with[0].ID, without[0].ID)
	}
	if with[0].ContentHash == without[0].ContentHash {
		t.Errorf("entry with a base: content hash unchanged, want the resolved image in it")
	}
}

// TestParseMemoEntryBase parses documents with entry bases twice, with
// the memo of the first poll, and checks the resolved URLs of the items
// that came from the memo and skipped gofeed, once completed.
func TestParseMemoEntryBase(t *testing.T) {
	entry := func(n int, base string) string {
		return fmt.Sprintf(`<entry%s><title>Entry %d</title><id>urn:e:%d</id><link href="post/%d"/>`+
			`<updated>2026-03-01T09:%02d:00Z</updated><content type="html">&lt;img src="img/%d.png"&gt;</content></entry>`,
			base, n, n, n, n, n)
	}
	bases := []string{` xml:base="https://cdn.example.org/a/"`, "", ` xml:base="b/"`, ` xml:base="/c/"`}
	wantBase := []string{"https://cdn.example.org/a/", "https://partner.example/", "https://partner.example/b/", "https://partner.example/c/"}
	// Without a base, content resolves against the item's link.
	wantContentBase := []string{"https://cdn.example.org/a/", "https://partner.example/post/", "https://partner.example/b/", "https://partner.example/c/"}
	doc := func(top int) []byte {
		var entries []string
		for n := top; n > top-6; n-- {
			entries = append(entries, entry(n, bases[n%len(bases)]))
		}
		return skipAtom("", "<title>Blog</title>", entries)
	}
	src := skipSource // its feed URL is https://partner.example/rss

	first, err := ParseFeedMemo(doc(6), "", src, fetchTime, nil)
	if err != nil {
		t.Fatalf("first poll: %v", err)
	}
	second, err := ParseFeedMemo(doc(8), "", src, fetchTime.Add(time.Hour), first.Memo)
	if err != nil {
		t.Fatalf("second poll: %v", err)
	}
	skipped := 0
	for k, it := range second.Items {
		if it.partial != nil && it.partial.reread != nil {
			skipped++
		}
		if err := second.Items[k].complete(); err != nil {
			t.Fatalf("completing item %d: %v", k, err)
		}
		n := 8 - k
		base := wantBase[n%len(bases)]
		if want := fmt.Sprintf("%spost/%d", base, n); second.Items[k].URL != want {
			t.Errorf("item %d link = %q, want %q", k, second.Items[k].URL, want)
		}
		contentBase := wantContentBase[n%len(bases)]
		checkContains(t, fmt.Sprintf("item %d content", k), second.Items[k].Content, fmt.Sprintf(`src="%simg/%d.png"`, contentBase, n))
	}
	if skipped < 4 {
		t.Errorf("%d items skipped gofeed, want the 4 known ones", skipped)
	}
}

func TestItemStarts(t *testing.T) {
	cases := []struct {
		name, text, element string
		want                []int
	}{
		{"plain items", `<rss><channel><item>a</item><item x="1">b</item></channel></rss>`, "item", []int{14, 28}},
		{"items element of rss 1.0", `<rdf:RDF><channel><items><rdf:Seq/></items></channel><item>a</item></rdf:RDF>`, "item", []int{53}},
		{"prefix and capitals", `<feed><atom:entry>a</atom:entry><ENTRY>b</ENTRY></feed>`, "entry", []int{6, 32}},
		{"end and empty tags", `<feed><entry/></entry></feed>`, "entry", []int{6}},
		{"comment", `<rss><!-- <item> --><item>a</item></rss>`, "item", []int{20}},
		{"cdata", `<rss><item><![CDATA[<item>]]></item></rss>`, "item", []int{5}},
		{"processing instruction", `<rss><?pi <item>?><item>a</item></rss>`, "item", []int{18}},
		{"doctype with an entity holding a tag", `<!DOCTYPE rss [<!ENTITY e "<item>">]><rss><item>a</item></rss>`, "item", []int{42}},
		{"unclosed comment", `<rss><item>a</item><!-- <item>`, "item", []int{5}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := itemStarts([]byte(c.text), c.element, 10)
			if fmt.Sprint(got) != fmt.Sprint(c.want) {
				t.Errorf("itemStarts = %v, want %v", got, c.want)
			}
		})
	}
}

// TestFeedKeyItemBasesIgnored checks that a memo made where item bases
// applied is not used where they were ignored: the items' bytes are the
// same, but their bases are not.
func TestFeedKeyItemBasesIgnored(t *testing.T) {
	feedURL := feedBase("https://partner.example/rss")
	applied := feedKey(feedURL, itemBases{}, "en")
	ignored := feedKey(feedURL, itemBases{ignored: true}, "en")
	if applied == ignored {
		t.Errorf("feedKey is the same whether item bases applied or not")
	}
}

func TestHideItemBases(t *testing.T) {
	cases := []struct {
		name, text, want string
		found            bool
	}{
		{"item base", `<rss><channel><item xml:base="a/">x</item></channel></rss>`,
			`<rss><channel><item xml:BASE="a/">x</item></channel></rss>`, true},
		{"entry bases and other bases kept", `<feed xml:base="/f/"><entry a='1' xml:base='y/'><content xml:base="z/">x</content></entry><entry xml:base="w/"/></feed>`,
			`<feed xml:base="/f/"><entry a='1' xml:BASE='y/'><content xml:base="z/">x</content></entry><entry xml:BASE="w/"/></feed>`, true},
		{"base on the channel only", `<rss><channel xml:base="a/"><item>x</item></channel></rss>`,
			`<rss><channel xml:base="a/"><item>x</item></channel></rss>`, false},
		{"base inside an item only", `<rss><item><description xml:base="a/">x</description></item></rss>`,
			`<rss><item><description xml:base="a/">x</description></item></rss>`, true},
		{"tag the scanner cannot read", `<rss><item flag xml:base="a/">x</item></rss>`,
			`<rss><item flag xml:base="a/">x</item></rss>`, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			text := []byte(c.text)
			got, found := hideItemBases(text, rootElement(text))
			if string(got) != c.want {
				t.Errorf("text:\n got %s\nwant %s", got, c.want)
			}
			if found != c.found {
				t.Errorf("found = %v, want %v", found, c.found)
			}
			if string(text) != c.text {
				t.Errorf("input changed to %s", text)
			}
		})
	}
}
