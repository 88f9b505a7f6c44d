package pipeline

import (
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestCanonicalURL(t *testing.T) {
	base, err := url.Parse("https://feeds.example.com/news/rss.xml")
	if err != nil {
		t.Fatalf("parsing base: %v", err)
	}
	tests := []struct {
		name string
		raw  string
		want string
	}{
		{"scheme and host lower case", "HTTPS://WWW.Example.COM/Path", "https://www.example.com/Path"},
		{"default https port removed", "https://example.com:443/a", "https://example.com/a"},
		{"default http port removed", "http://example.com:80/a", "http://example.com/a"},
		{"other port kept", "https://example.com:8443/a", "https://example.com:8443/a"},
		{"fragment removed", "https://example.com/a#top", "https://example.com/a"},
		{"tracking parameters removed", "https://example.com/a?utm_source=x&id=3&fbclid=y&UTM_Medium=z&gclid=1&b=2", "https://example.com/a?id=3&b=2"},
		{"other tracking parameters removed", "https://example.com/?dclid=1&msclkid=2&mc_cid=3&mc_eid=4&_hsenc=5&_hsmi=6&igshid=7&yclid=8&ref_src=9", "https://example.com/"},
		{"empty query removed", "https://example.com/a?", "https://example.com/a"},
		{"query order kept", "https://example.com/a?z=1&a=2", "https://example.com/a?z=1&a=2"},
		{"relative resolved", "../sport/1.html", "https://feeds.example.com/sport/1.html"},
		{"root relative resolved", "/about", "https://feeds.example.com/about"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := CanonicalURL(tt.raw, base)
			if err != nil {
				t.Fatalf("CanonicalURL(%q): %v", tt.raw, err)
			}
			if got != tt.want {
				t.Errorf("CanonicalURL(%q) = %q, want %q", tt.raw, got, tt.want)
			}
		})
	}
}

func TestCanonicalURLRejects(t *testing.T) {
	for _, raw := range []string{"mailto:a@example.com", "javascript:alert(1)", "ftp://example.com/x", "/relative/without/base", "http://[::1"} {
		if got, err := CanonicalURL(raw, nil); err == nil {
			t.Errorf("CanonicalURL(%q) = %q, want an error", raw, got)
		}
	}
}

func TestItemKeyRules(t *testing.T) {
	tests := []struct {
		name     string
		in       identityInput
		linkKeys bool
		want     string
	}{
		{"guid wins", identityInput{guid: "abc", link: "https://x.example/1"}, false, "abc"},
		{"http guid becomes https", identityInput{guid: "http://X.Example/1"}, false, "https://x.example/1"},
		{"link keys skip guid", identityInput{guid: "abc", link: "https://x.example/1"}, true, "https://x.example/1"},
		{"link used without guid", identityInput{link: "http://x.example/1"}, false, "https://x.example/1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := itemKey(tt.in, tt.linkKeys); got != tt.want {
				t.Errorf("itemKey = %q, want %q", got, tt.want)
			}
		})
	}
	hashed := itemKey(identityInput{feed: "f", title: "t", summary: "s", published: "p"}, false)
	if !strings.HasPrefix(hashed, "h:") || len(hashed) != 66 {
		t.Errorf("hash key = %q, want h: and 64 hex digits", hashed)
	}
	if other := itemKey(identityInput{feed: "g", title: "t", summary: "s", published: "p"}, false); other == hashed {
		t.Errorf("hash key ignores the feed id")
	}
}

func TestItemIDAndContentHash(t *testing.T) {
	id := ItemID("partner", "key")
	if len(id) != 32 {
		t.Errorf("ItemID length = %d, want 32", len(id))
	}
	if id == ItemID("partne", "rkey") {
		t.Errorf("ItemID does not separate partner and key")
	}
	a := Item{Title: "t", Published: time.Unix(1, 0)}
	b := Item{Title: "t", Published: time.Unix(2, 0)}
	if ContentHash(&a) != ContentHash(&b) {
		t.Errorf("content hash depends on the published date")
	}
	b.Summary = "changed"
	if ContentHash(&a) == ContentHash(&b) {
		t.Errorf("content hash ignores the summary")
	}
}

func TestParseDateLayouts(t *testing.T) {
	la, err := time.LoadLocation("America/Los_Angeles")
	if err != nil {
		t.Skipf("time zone database missing: %v", err)
	}
	tests := []struct {
		name    string
		raw     string
		want    string
		assumed bool
	}{
		{"rfc 1123 with offset", "Mon, 02 Jan 2006 15:04:05 -0700", "2006-01-02T22:04:05Z", false},
		{"twelve hour with zone name", "Mon, 09 Jan 2006 8:56 am PST", "2006-01-09T16:56:00Z", false},
		{"prose date", "April 5, 2006", "2006-04-05T07:00:00Z", true},
		{"sql style date", "2018-12-13 00:00:00", "2018-12-13T08:00:00Z", true},
		{"three digit offset", "Wed 24 May 2006 14:04:24 -800", "2006-05-24T22:04:24Z", false},
		{"javascript date", "Sat Oct 06 2018 00:00:00 GMT+0200 (CEST)", "2018-10-05T22:00:00Z", false},
		{"cest name", "Sun, 14 Apr 2019 9:45 pm CEST", "2019-04-14T19:45:00Z", false},
		{"edt name", "Wed, 10 May 2006 10:00:00 EDT", "2006-05-10T14:00:00Z", false},
		{"bst name", "Wed, 10 May 2006 10:00:00 BST", "2006-05-10T09:00:00Z", false},
		{"portuguese names", "Seg, 05 Set 2011 10:00:00 -0300", "2011-09-05T13:00:00Z", false},
		{"month before weekday-like word", "Mar 5, 2006", "2006-03-05T08:00:00Z", true},
		{"rfc 3339", "2020-01-02T03:04:05.5+01:00", "2020-01-02T02:04:05.5Z", false},
		{"slashes", "2020/1/10 14:33:00", "2020-01-10T22:33:00Z", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, assumed, ok := parseDate(tt.raw, la)
			if !ok {
				t.Fatalf("parseDate(%q) failed", tt.raw)
			}
			if s := got.Format(time.RFC3339Nano); s != tt.want {
				t.Errorf("parseDate(%q) = %s, want %s", tt.raw, s, tt.want)
			}
			if assumed != tt.assumed {
				t.Errorf("zone assumed = %v, want %v", assumed, tt.assumed)
			}
		})
	}
	for _, bad := range []string{"", "soon", "1518478934", "32 Jan 2006"} {
		if _, _, ok := parseDate(bad, la); ok {
			t.Errorf("parseDate(%q) succeeded, want failure", bad)
		}
	}
}

func TestNormaliseItem(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	it := Item{
		GUID:       " http://Push.Example/1 ",
		URL:        "http://push.example/1?utm_source=x",
		Title:      "  <b>Pushed</b>\x1d title ",
		Content:    `<p onclick="x()">Body <img src="/a.png"></p>`,
		Categories: []string{"a", " A ", ""},
		Language:   "en-GB",
	}
	src := Source{Partner: "p", Feed: "push", FeedURL: "push"}
	if err := NormaliseItem(&it, src, now); err != nil {
		t.Fatalf("NormaliseItem: %v", err)
	}
	if it.Title != "Pushed title" {
		t.Errorf("title = %q", it.Title)
	}
	if it.URL != "http://push.example/1" {
		t.Errorf("url = %q", it.URL)
	}
	if it.ID != ItemID("p", "https://push.example/1") {
		t.Errorf("ID does not follow the GUID key")
	}
	if it.Language != "en" || it.Summary != "Body" {
		t.Errorf("language, summary = %q, %q", it.Language, it.Summary)
	}
	if !strings.Contains(it.Content, `src="http://push.example/a.png"`) || strings.Contains(it.Content, "onclick") {
		t.Errorf("content = %q", it.Content)
	}
	if len(it.Categories) != 1 || it.ContentHash != ContentHash(&it) {
		t.Errorf("categories = %q, hash = %q", it.Categories, it.ContentHash)
	}
	if !it.Published.Equal(now) || it.DateSource != DateFirstSeen {
		t.Errorf("published = %s (%s)", it.Published, it.DateSource)
	}
	empty := Item{}
	if err := NormaliseItem(&empty, src, now); err == nil {
		t.Errorf("NormaliseItem accepted an empty item")
	}
}

func TestTruncateText(t *testing.T) {
	long := strings.Repeat("word ", 200)
	got := truncateText(long, maxSummaryRunes)
	if n := utf8.RuneCountInString(got); n > maxSummaryRunes+1 {
		t.Errorf("summary has %d runes, want at most %d", n, maxSummaryRunes+1)
	}
	if !strings.HasSuffix(got, "word…") {
		t.Errorf("summary = %q, want a cut after a whole word", got[len(got)-20:])
	}
}

func seedFromTestdata(f *testing.F) {
	f.Helper()
	paths, err := filepath.Glob(filepath.Join("testdata", "*.*"))
	if err != nil {
		f.Fatalf("listing testdata: %v", err)
	}
	for _, p := range paths {
		body, err := os.ReadFile(p)
		if err != nil {
			f.Fatalf("reading %s: %v", p, err)
		}
		f.Add(body)
	}
}

func FuzzParseFeed(f *testing.F) {
	seedFromTestdata(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		res, err := ParseFeed(body, "", Source{Partner: "p", FeedURL: "https://f.example/feed"}, fetchTime)
		if err != nil {
			return
		}
		for _, it := range res.Items {
			if it.ID == "" || !utf8.ValidString(it.Title) || strings.ContainsFunc(it.Title+it.Summary+it.Content, notXMLChar) {
				t.Fatalf("bad item %+v", it)
			}
		}
	})
}

func FuzzCanonicalURL(f *testing.F) {
	for _, s := range []string{"https://Example.com:443/a?utm_source=x&b=1#f", "../x", "http://[::1]:80/", "mailto:x"} {
		f.Add(s)
	}
	base, _ := url.Parse("https://base.example/dir/")
	f.Fuzz(func(t *testing.T, raw string) {
		got, err := CanonicalURL(raw, base)
		if err != nil {
			return
		}
		again, err := CanonicalURL(got, nil)
		if err != nil || again != got {
			t.Fatalf("CanonicalURL is not idempotent: %q -> %q -> %q (%v)", raw, got, again, err)
		}
	})
}

func FuzzParseDate(f *testing.F) {
	for _, s := range []string{"Mon, 02 Jan 2006 15:04:05 -0700", "Sun, 15 Dec 2024 12:15 PM", "April 5, 2006", "2018-12-13 00:00:00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		got, _, ok := parseDate(raw, time.UTC)
		if ok && got.Location() != time.UTC {
			t.Fatalf("parseDate(%q) returned zone %s", raw, got.Location())
		}
	})
}

func TestHTMLToTextSpacing(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"inline tags join words", "<p>Stocks <b>up</b>.</p>", "Stocks up."},
		{"links stay inline", `Read <a href="/x">the report</a>, then act.`, "Read the report, then act."},
		{"blocks separate words", "<p>One</p><p>Two</p>", "One Two"},
		{"line breaks separate words", "One<br>Two", "One Two"},
		{"scripts are hidden", "Safe<script>alert(1)</script> text", "Safe text"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := htmlToText(tt.in); got != tt.want {
				t.Errorf("htmlToText(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}
