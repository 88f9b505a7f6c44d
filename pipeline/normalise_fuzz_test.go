package pipeline

import (
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"
)

// unsafeMarkup matches what sanitised content must never contain: script,
// style and frame elements, event handler attributes and script URLs in
// attribute values. Text is escaped, so a "<" always starts a tag.
var unsafeMarkup = regexp.MustCompile(`(?i)<(?:script|style|iframe)\b|<[^>]*\son[a-z]+\s*=|="\s*(?:javascript|vbscript):`)

// urlValues matches src, href and srcset attribute values in rendered HTML.
var urlValues = regexp.MustCompile(`\s(src|href|srcset)="([^"]*)"`)

func FuzzSanitizeHTML(f *testing.F) {
	for _, name := range []string{"lazy-images.xml", "relative-image.xml", "html-entities.xml"} {
		body, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatalf("reading %s: %v", name, err)
		}
		f.Add(string(body))
	}
	f.Add(`<img data-srcset="a.png 1x, b.png 2x" src="data:image/gif;base64,R0"><a href="../x" onclick="y()">x</a>`)
	f.Add(`<p>x<script>alert(1)</script><img src="/blank.gif"><img srcset="javascript:x 1x"></p>`)
	f.Add("<p dir=rtl>\u202eevil\u2066 <a href=\"?q=\u202e\u0085\" title=\"\u009b\">x\x7f</a>&#x202E;&#127;</p>")
	base, err := url.Parse("https://base.example/dir/page")
	if err != nil {
		f.Fatalf("parsing base: %v", err)
	}
	f.Fuzz(func(t *testing.T, fragment string) {
		got := sanitizeHTML(fragment, base)
		if !utf8.ValidString(got) || strings.ContainsFunc(got, notXMLChar) || hasControls(got) {
			t.Fatalf("output is not clean text: %q", got)
		}
		if m := unsafeMarkup.FindString(got); m != "" {
			t.Fatalf("output keeps %q: %q", m, got)
		}
		for _, m := range urlValues.FindAllStringSubmatch(got, -1) {
			checkAbsolute(t, m[1], m[2], got)
		}
	})
}

// checkAbsolute fails unless every URL of an attribute value is an
// absolute http(s) URL. Link targets may also be mailto: links.
func checkAbsolute(t *testing.T, name, value, out string) {
	t.Helper()
	candidates := []string{value}
	if name == "srcset" {
		candidates = nil
		for _, c := range parseSrcset(value) {
			candidates = append(candidates, c.url)
		}
	}
	for _, raw := range candidates {
		raw = strings.ReplaceAll(raw, "&amp;", "&")
		if name == "href" && !strings.Contains(raw, "://") {
			continue
		}
		if !isHTTPURL(raw) {
			t.Fatalf("%s value %q is not an absolute http(s) URL in %q", name, raw, out)
		}
	}
}
