package pipeline

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestParseMemoDocumentInputs changes a document-level input of cleaning
// (base, language, home page, fetch time) between two documents.
func TestParseMemoDocumentInputs(t *testing.T) {
	soon := fetchTime.Add(30 * time.Minute).Format(time.RFC1123Z)
	atom := func(base, lang, home string) []byte {
		return []byte(`<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom"` +
			` xml:base="` + base + `" xml:lang="` + lang + `"><title>Izba</title><id>urn:izba</id>` +
			`<link rel="alternate" href="` + home + `"/><updated>2026-04-01T10:00:00Z</updated>` +
			`<entry><id>urn:a</id><title>Targi</title><link href="news/a"/>` +
			`<content type="html">&lt;p&gt;Zobacz &lt;a href="more"&gt;więcej&lt;/a&gt;&lt;/p&gt;` +
			`&lt;img src="img/a.jpg"&gt;</content><updated>2026-04-01T09:00:00Z</updated></entry>` +
			`<entry><title>Bez identyfikatora</title><link href="/"/>` +
			`<summary>Krótki opis wpisu bez własnego identyfikatora.</summary></entry></feed>`)
	}
	rssLang := func(lang string, items ...string) []byte {
		return []byte(`<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Izba</title>` +
			`<link>https://partner.example/</link><language>` + lang + `</language>` +
			strings.Join(items, "") + `</channel></rss>`)
	}
	jsonFeed := func(home string, extra string) []byte {
		return []byte(`{"version":"https://jsonfeed.org/version/1.1","title":"J","home_page_url":"` + home + `",` +
			`"items":[{"id":"1","url":"https://j.example/1","title":"One","content_html":"<p>Hi <a href=\"x\">x</a></p>",` +
			`"date_published":"2026-03-02T03:04:05+01:00","tags":["a","A"],` +
			`"attachments":[{"url":"/a.mp3"}]}` + extra + `]}`)
	}
	dupA := rssItem("d", "https://partner.example/news/d", "Wpis", "Pierwsza wersja opisu.", "")
	dupB := rssItem("d", "https://partner.example/news/d", "Wpis", "Druga wersja opisu.", "")
	future := rssItem("f", "https://partner.example/news/f", "Jutro", "Wpis z datą w przyszłości.", soon)
	short := rssItem("s", "https://partner.example/news/s", "Hi", "Ok.", "")
	tests := []struct {
		name          string
		before, after []byte
		reused        int
	}{
		{"xml:base moves", atom("https://a.example/x/", "pl", "https://a.example/"),
			atom("https://b.example/y/", "pl", "https://a.example/"), 0},
		{"document language changes", atom("https://a.example/x/", "pl", "https://a.example/"),
			atom("https://a.example/x/", "de", "https://a.example/"), 0},
		{"home page becomes an item link", atom("https://a.example/x/", "pl", "https://a.example/"),
			atom("https://a.example/x/", "pl", "https://a.example/x/news/a"), 2},
		{"second copy of a guid from the memo", rssDoc(dupA, dupB), rssDoc(short, dupA, dupB), 1},
		{"rss language changes", rssLang("pl", short), rssLang("cs", short), 0},
		{"future date comes due", rssDoc(future), rssDoc(future), 1},
		{"json feed home page changes", jsonFeed("https://j.example/", ""),
			jsonFeed("https://j.example/1", ""), 1},
		{"json feed gains an item", jsonFeed("https://j.example/", ""),
			jsonFeed("https://j.example/", `,{"id":"2","url":"https://j.example/1","title":"Two"}`), 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if n := parseWithMemo(t, tt.name, tt.before, tt.after, memoSource, memoSource); n != tt.reused {
				t.Errorf("%d items came from the memo, want %d", n, tt.reused)
			}
		})
	}
}

// memoStringBytes returns the estimated memory of a memo's entries.
func memoStringBytes(m *ParseMemo) int {
	return m.bytes()
}

// TestParseMemoSizeBound checks that a feed's memo, which the poller keeps
// between polls, stays within its document's size plus minMemoBudget, and
// under 1 KiB an item.
func TestParseMemoSizeBound(t *testing.T) {
	tiny := make([]string, 20000)
	for i := range tiny {
		tiny[i] = fmt.Sprintf("<item><title>t%d</title></item>", i)
	}
	longGUID := make([]string, 100)
	for i := range longGUID {
		longGUID[i] = fmt.Sprintf("<item><guid>%d-%s</guid><title>t</title></item>", i, strings.Repeat("g", 64<<10))
	}
	tests := []struct {
		name  string
		items []string
	}{
		{"many tiny items", tiny},
		{"long guids", longGUID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := rssDoc(tt.items...)
			res, err := ParseFeedMemo(body, "", memoSource, fetchTime, nil)
			if err != nil {
				t.Fatal(err)
			}
			textBytes, entries := memoStringBytes(res.Memo), res.Memo.Len()
			if textBytes > len(body)+minMemoBudget {
				t.Errorf("memo takes about %d bytes for a document of %d bytes (%d entries)", textBytes, len(body), entries)
			}
			if perItem := textBytes / max(entries, 1); perItem > 1024 {
				t.Errorf("memo takes about %d bytes per item, want at most 1024", perItem)
			}
		})
	}
}
