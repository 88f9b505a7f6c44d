package pipeline

import (
	"strings"
	"testing"
)

func TestPlainTitle(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"script element", "<script>alert(1)</script> title XSS", "title XSS"},
		{"upper-case script", "<SCRIPT>alert(1)</SCRIPT>News", "News"},
		{"style element", "<style>h1{}</style>Fair opens", "Fair opens"},
		{"iframe with script text", "<iframe><script>alert(1)</script></iframe>Fair", "Fair"},
		{"image with handler", `<img src=x onerror="alert(1)">Fair`, "Fair"},
		{"div element", "<div>Fair</div> opens", "Fair opens"},
		{"svg with handler", `<svg onload="alert(1)">Fair</svg>`, "Fair"},
		{"comment", "Fair<!-- x --> opens", "Fair opens"},
		{"escaped twice", "&lt;script&gt;alert(1)&lt;/script&gt; title", "title"},
		// Decoded once, this is escaped text that an HTML reader shows
		// as "<script>", so it runs nowhere.
		{"escaped three times", "&amp;lt;script&amp;gt; t", "&lt;script&gt; t"},
		{"inline bold", "Stocks <b>up</b>.", "Stocks up."},
		{"generic type", "Vector<int> in C++", "Vector<int> in C++"},
		{"generic pair", "Map<K, V> explained", "Map<K, V> explained"},
		{"less than", "a < b and c > d", "a < b and c > d"},
		{"escaped less than", "a &lt; b", "a < b"},
		{"no space before letter", "a<b", "a<b"},
		{"ampersand", "AT&amp;T results", "AT&T results"},
		{"comparison in code", "if (a<b && c>d) return", "if (a<b && c>d) return"},
		{"element named in prose", "The <title> element explained", "The <title> element explained"},
		{"two elements named", "How to use <input> and <button>", "How to use <input> and <button>"},
		{"line break", "Fair<br>opens today", "Fair opens today"},
		{"unclosed script", "Fair <script>alert(1)", "Fair"},
		{"span with class", `<span class="kicker">Export</span> mission`, "Export mission"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := plainTitle(tt.in); got != tt.want {
				t.Errorf("plainTitle(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestParseFeedReducesEscapedScriptTitle(t *testing.T) {
	doc := `<rss version="2.0"><channel><title>X</title><link>https://x.example/</link><item>` +
		`<title>&lt;script&gt;alert(1)&lt;/script&gt; title XSS</title><link>https://x.example/1</link>` +
		`</item></channel></rss>`
	res, err := ParseFeed([]byte(doc), "application/rss+xml", Source{Partner: "x", Feed: "news", FeedURL: "https://x.example/rss"}, limitsNow)
	if err != nil {
		t.Fatalf("parsing feed: %v", err)
	}
	if len(res.Items) != 1 {
		t.Fatalf("parsed %d items, want 1", len(res.Items))
	}
	if got := res.Items[0].Title; got != "title XSS" {
		t.Errorf("title = %q, want %q", got, "title XSS")
	}
}

func TestNormaliseItemReducesPushedScriptTitle(t *testing.T) {
	it, _ := normaliseWithWarnings(t, Item{GUID: "px-1c", Title: "<script>alert(1)</script> title XSS"})
	if it.Title != "title XSS" {
		t.Errorf("title = %q, want %q", it.Title, "title XSS")
	}
	if strings.Contains(it.Title, "<") {
		t.Errorf("title kept markup")
	}
}

func TestNormaliseItemWarnsMarkupOnlyTitle(t *testing.T) {
	it, w := normaliseWithWarnings(t, Item{GUID: "px-2", Title: "<script>alert(1)</script>", URL: "https://x.example/2"})
	if it.Title != "" {
		t.Errorf("title = %q, want empty", it.Title)
	}
	if w["title"] == "" {
		t.Errorf("warnings = %v, want one for the title", w)
	}
}
