package pipeline

import (
	"math/rand/v2"
	"net/url"
	"strings"
	"testing"
)

// controlClasses are the characters a partner may hide in text, each with
// the text normalisation makes of "Export " + char + "fair " + char +
// " opens".
var controlClasses = []struct {
	name, char, want string
}{
	{"escape (C0)", "\x1b", "Export fair opens"},
	{"unit separator (C0)", "\x1f", "Export fair opens"},
	{"delete", "\x7f", "Export fair opens"},
	{"first C1 control", "\u0080", "Export fair opens"},
	{"C1 control sequence introducer", "\u009b", "Export fair opens"},
	{"last C1 control", "\u009f", "Export fair opens"},
	{"next line (C1) as a space", "\u0085", "Export fair opens"},
	{"left-to-right embedding", "\u202a", "Export fair opens"},
	{"right-to-left embedding", "\u202b", "Export fair opens"},
	{"pop directional formatting", "\u202c", "Export fair opens"},
	{"left-to-right override", "\u202d", "Export fair opens"},
	{"right-to-left override", "\u202e", "Export fair opens"},
	{"left-to-right isolate", "\u2066", "Export fair opens"},
	{"right-to-left isolate", "\u2067", "Export fair opens"},
	{"first strong isolate", "\u2068", "Export fair opens"},
	{"pop directional isolate", "\u2069", "Export fair opens"},
	{"left-to-right mark kept", "\u200e", "Export \u200efair \u200e opens"},
	{"right-to-left mark kept", "\u200f", "Export \u200ffair \u200f opens"},
	{"arabic letter mark kept", "\u061c", "Export \u061cfair \u061c opens"},
	{"hebrew letter kept", "ש", "Export שfair ש opens"},
	{"arabic letter kept", "ع", "Export عfair ع opens"},
}

func TestNormaliseItemStripsControls(t *testing.T) {
	fields := []struct {
		name string
		item func(text string) Item
		got  func(it *Item) string
	}{
		{"title", func(s string) Item { return Item{Title: s} },
			func(it *Item) string { return it.Title }},
		{"summary", func(s string) Item { return Item{Title: "t", Summary: "<p>" + s + "</p>"} },
			func(it *Item) string { return it.Summary }},
		{"author name", func(s string) Item { return Item{Title: "t", Authors: []Author{{Name: s}}} },
			func(it *Item) string { return it.Authors[0].Name }},
		{"category", func(s string) Item { return Item{Title: "t", Categories: []string{s}} },
			func(it *Item) string { return it.Categories[0] }},
	}
	for _, f := range fields {
		for _, c := range controlClasses {
			t.Run(f.name+" "+c.name, func(t *testing.T) {
				in := f.item("Export " + c.char + "fair " + c.char + " opens")
				in.GUID = "ctl"
				it, _ := normaliseWithWarnings(t, in)
				if got := f.got(&it); got != c.want {
					t.Errorf("%s = %q, want %q", f.name, got, c.want)
				}
			})
		}
	}
}

func TestNormaliseItemStripsEscapedControls(t *testing.T) {
	tests := []struct {
		name, title, want string
	}{
		{"hex reference to override", "Export &#x202E;fair opens", "Export fair opens"},
		{"decimal reference to isolate", "Export &#8294;fair opens", "Export fair opens"},
		{"reference to delete", "Export &#127;fair opens", "Export fair opens"},
		{"override escaped twice", "Export &amp;#x202E;fair opens", "Export fair opens"},
		{"isolate escaped twice without semicolon", "Export &amp;#8295fair opens", "Export fair opens"},
		{"other reference escaped twice kept", "Use &amp;#x2014; or &amp;#x202EF;", "Use &#x2014; or &#x202EF;"},
		{"references nested", "Export &amp;&amp;#x202E;#x202E;fair", "Export & #x202E;fair"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			it, _ := normaliseWithWarnings(t, Item{GUID: "ctl", Title: tt.title})
			if it.Title != tt.want {
				t.Errorf("title = %q, want %q", it.Title, tt.want)
			}
		})
	}
}

func TestNormaliseItemStripsControlsFromOtherFields(t *testing.T) {
	it, _ := normaliseWithWarnings(t, Item{
		GUID: "ctl", Title: "t",
		Authors:    []Author{{Name: "Ann", Email: "ann\u202e@a.example"}},
		Enclosures: []Enclosure{{URL: "https://a.example/a.mp3", Type: "audio/mpeg\u0080"}},
		Content:    "<p>Export \u202efair\u007f opens</p>",
	})
	if got := it.Authors[0].Email; got != "ann@a.example" {
		t.Errorf("author email = %q, want ann@a.example", got)
	}
	if got := it.Enclosures[0].Type; got != "audio/mpeg" {
		t.Errorf("enclosure type = %q, want audio/mpeg", got)
	}
	if it.Content != "<p>Export fair opens</p>" {
		t.Errorf("content = %q, want the controls removed", it.Content)
	}
}

func TestParseFeedStripsControls(t *testing.T) {
	doc := `<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel>
<title>News` + "\u202e" + `room</title><link>https://a.example/</link>
<item><title>Export ` + "\u202e" + `fair` + "\u0080\x7f" + ` opens</title>
<link>https://a.example/fair</link>
<description>Registration ` + "\u2067" + `opens</description>
<dc:creator>Ann` + "\u202d" + ` Lee</dc:creator>
<category>trade` + "\u009b" + `</category></item>
</channel></rss>`
	res, err := ParseFeed([]byte(doc), "application/rss+xml", Source{Partner: "p", Feed: "f"}, fetchTime)
	if err != nil {
		t.Fatalf("parsing feed: %v", err)
	}
	if res.Title != "Newsroom" {
		t.Errorf("feed title = %q, want Newsroom", res.Title)
	}
	if len(res.Items) != 1 {
		t.Fatalf("items = %d, want 1", len(res.Items))
	}
	it := res.Items[0]
	if it.Title != "Export fair opens" {
		t.Errorf("title = %q, want Export fair opens", it.Title)
	}
	if it.Summary != "Registration opens" {
		t.Errorf("summary = %q, want Registration opens", it.Summary)
	}
	if len(it.Authors) != 1 || it.Authors[0].Name != "Ann Lee" {
		t.Errorf("authors = %q, want Ann Lee", it.Authors)
	}
	if len(it.Categories) != 1 || it.Categories[0] != "trade" {
		t.Errorf("categories = %q, want trade", it.Categories)
	}
}

func TestSanitizeHTMLStripsControls(t *testing.T) {
	base, err := url.Parse("https://a.example/")
	if err != nil {
		t.Fatalf("parsing base: %v", err)
	}
	tests := []struct {
		name, in, want string
	}{
		{"override in text", "<p>Export \u202efair</p>", "<p>Export fair</p>"},
		{"isolates around text", "<p>\u2067عربي\u2069 fair</p>", "<p>عربي fair</p>"},
		{"delete and C1 in text", "<p>a\u007fb\u0080c\u009bd</p>", "<p>abcd</p>"},
		{"next line as space", "<p>a\u0085b</p>", "<p>a b</p>"},
		{"override as reference", "<p>Export &#x202E;fair</p>", "<p>Export fair</p>"},
		{"delete as reference", "<p>a&#127;b</p>", "<p>ab</p>"},
		{"override in image text", `<img src="https://a.example/i.png" alt="x` + "\u202e" + `y">`,
			`<img src="https://a.example/i.png" alt="xy"/>`},
		{"override in link URL escaped", `<a href="https://a.example/?q=` + "\u202e" + `">l</a>`,
			`<a href="https://a.example/?q=%E2%80%AE" rel="nofollow noopener">l</a>`},
		{"C1 in link URL escaped", `<a href="https://a.example/?q=` + "\u0092" + `">l</a>`,
			`<a href="https://a.example/?q=%C2%92" rel="nofollow noopener">l</a>`},
		{"marks kept", "<p>\u200fשלום\u200e ok</p>", "<p>\u200fשלום\u200e ok</p>"},
		{"direction markup kept", `<p dir="rtl"><bdi>abc</bdi> <bdo dir="ltr">שלום</bdo></p>`,
			`<p dir="rtl"><bdi>abc</bdi> <bdo dir="ltr">שלום</bdo></p>`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := sanitizeHTML(tt.in, base); got != tt.want {
				t.Errorf("sanitizeHTML(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestStripControlsKeepsValidUTF8(t *testing.T) {
	// Removing U+0080 must not join the bytes around it into U+202E.
	in := "a\xe2\u0080\x80\xaeb"
	got := StripControls(in)
	if got != "ab" {
		t.Errorf("StripControls(%q) = %q, want \"ab\"", in, got)
	}
	if hasControls(got) {
		t.Errorf("StripControls(%q) = %q, which still has controls", in, got)
	}
}

func TestEscapeControls(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"clean URL unchanged", "https://a.example/a?b=c", "https://a.example/a?b=c"},
		{"override in query", "https://a.example/?q=\u202e", "https://a.example/?q=%E2%80%AE"},
		{"next line in query", "https://a.example/?q=\u0085", "https://a.example/?q=%C2%85"},
		{"delete in query", "https://a.example/?q=\x7f", "https://a.example/?q=%7F"},
		{"mark kept", "https://a.example/?q=\u200f", "https://a.example/?q=\u200f"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := EscapeControls(tt.in); got != tt.want {
				t.Errorf("EscapeControls(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestTextIdentityKeepsControls(t *testing.T) {
	// Items without GUID and link are keyed by their text. Rules version
	// 4 kept these characters in the title and summary, so the key must
	// still contain them or such items would get new ids.
	in := Item{Title: "Export \u202efair opens", Summary: "<p>Dates \u2067soon</p>"}
	it, _ := normaliseWithWarnings(t, in)
	if it.Title != "Export fair opens" {
		t.Fatalf("title = %q, want the override removed", it.Title)
	}
	want := ItemID("alpha", textKey(identityInput{
		feed: "push", title: "Export \u202efair opens", summary: "Dates \u2067soon",
	}))
	if it.ID != want {
		t.Errorf("id = %s, want %s as before the rule change", it.ID, want)
	}
}

func TestContentHashIgnoresStrippedControls(t *testing.T) {
	clean, _ := normaliseWithWarnings(t, Item{
		GUID: "ctl", Title: "Export fair opens", Summary: "Dates soon",
		Content:    "<p>Dates soon</p>",
		Authors:    []Author{{Name: "Ann Lee"}},
		Categories: []string{"trade"},
	})
	// The same item as rules version 4 stored it, controls included.
	stored := clean
	stored.Title = "Export \u202efair\u007f opens"
	stored.Summary = "Dates \u2066soon\u2069"
	stored.Content = "<p>Dates \u0080soon</p>"
	stored.Authors = []Author{{Name: "Ann \u202dLee"}}
	stored.Categories = []string{"\u202e", "trade\u009b"}
	if got := ContentHash(&stored); got != clean.ContentHash {
		t.Errorf("hash of the stored item = %s, want %s as for the clean item", got, clean.ContentHash)
	}
	if got := contentHashV4(&clean); got != clean.ContentHash {
		t.Errorf("version 4 hash of the clean item = %s, want %s: items without controls keep their hash", got, clean.ContentHash)
	}
	if stored.Title != "Export \u202efair\u007f opens" || stored.Categories[0] != "\u202e" {
		t.Errorf("hashing changed the item: %q %q", stored.Title, stored.Categories)
	}
}

// hasControlsByByte is the plain loop that hasControls replaces with
// searches for lead bytes.
func hasControlsByByte(s string) bool {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case 0x7F:
			return true
		case 0xC2:
			if i+1 < len(s) && s[i+1] >= 0x80 && s[i+1] <= 0x9F {
				return true
			}
		case 0xE2:
			if i+2 < len(s) && isBidiControlTail(s[i+1], s[i+2]) {
				return true
			}
		}
	}
	return false
}

func TestHasControlsMatchesByteLoop(t *testing.T) {
	cases := []string{
		"", "plain", "\x7f", "a\u0085b", "\u00a0nbsp", "\xc2", "x\xc2", "\xc2\x9f", "\xc2\xa0\xc2\x80",
		"\u202e", "a\u2013b\u202a", "\xe2\x80", "\xe2\x80\xaa", "\xe2\x81\xa9", "\xe2\x81\xaa",
		"“quoted” – dash \u2066", "zażółć gęślą jaźń", "\xe2\xe2\x80\xae",
	}
	rng := rand.New(rand.NewPCG(1, 2))
	alphabet := []byte{'a', ' ', 0x7F, 0xC2, 0x80, 0x85, 0x9F, 0xA0, 0xE2, 0x81, 0xAA, 0xAE, 0xA6, 0xA9}
	for range 5000 {
		b := make([]byte, rng.IntN(12))
		for i := range b {
			b[i] = alphabet[rng.IntN(len(alphabet))]
		}
		cases = append(cases, string(b))
	}
	for _, s := range cases {
		if got, want := hasControls(s), hasControlsByByte(s); got != want {
			t.Errorf("hasControls(%q) = %v, want %v", s, got, want)
		}
	}
}

// BenchmarkHasControls compares hasControls with the plain loop over
// every byte on 1.6 KB of Polish text with dashes and quotes, whose
// lead bytes 0xC2 and 0xE2 recur without starting a control.
func BenchmarkHasControls(b *testing.B) {
	text := strings.Repeat("Zażółć gęślą jaźń – „eksport” na targach w Wilnie, 12 firm. ", 22)
	for _, c := range []struct {
		name string
		fn   func(string) bool
	}{{"lead bytes", hasControls}, {"every byte", hasControlsByByte}} {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(text)))
			for b.Loop() {
				if c.fn(text) {
					b.Fatal("text has no control")
				}
			}
		})
	}
}
