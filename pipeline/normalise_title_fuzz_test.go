package pipeline

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzPlainTitle checks that a cleaned title contains no markup and is
// clean text, and that cutting it a second time changes nothing.
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
	})
}
