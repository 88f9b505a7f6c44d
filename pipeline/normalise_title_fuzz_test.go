package pipeline

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzPlainTitle checks that a cleaned title contains no markup and is
// clean text, and that cutting it or removing controls from it a second
// time changes nothing.
func FuzzPlainTitle(f *testing.F) {
	for _, seed := range []string{
		"<script>alert(1)</script> title XSS",
		"&lt;script&gt;alert(1)&lt;/script&gt; title",
		"&amp;lt;b&amp;gt;x",
		"Vector<int> and a < b",
		`<img src=x onerror="alert(1)">Fair`,
		"<iframe><script>x</script></iframe>y",
		"Fair<!-- x --> opens",
		"<<b>>",
		"Export \u202efair\u202c opens",
		"\u2067عربي\u2069 and \u200fשלום\u200e",
		"a \x7f b \u0085 c \u009b[31m d",
		"&#x202E;fair &amp;#8238; &amp;&amp;#x202E;#x202E;",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, title string) {
		got := plainTitle(title)
		if hasTitleMarkup(got) {
			t.Fatalf("plainTitle(%q) = %q, which is still markup", title, got)
		}
		if !utf8.ValidString(got) || strings.ContainsFunc(got, notXMLChar) {
			t.Fatalf("plainTitle(%q) = %q, which is not clean text", title, got)
		}
		cut := cutTitle(got)
		if cutTitle(cut) != cut {
			t.Fatalf("cutTitle is not idempotent on %q", got)
		}
		clean := stripTextControls(got)
		if hasControls(clean) || charReference.ReplaceAllStringFunc(clean, dropBidiReference) != clean {
			t.Fatalf("stripTextControls(%q) = %q, which keeps a control", got, clean)
		}
		if !isCollapsed(clean) {
			t.Fatalf("stripTextControls(%q) = %q, which is not collapsed", got, clean)
		}
		if stripTextControls(clean) != clean {
			t.Fatalf("stripTextControls is not idempotent on %q", got)
		}
	})
}
