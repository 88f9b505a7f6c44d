package pipeline

import (
	"slices"
	"testing"
	"unicode"
)

// findHubsReference is findHubs as it was before the quoted-hub
// prefilter: the regular expressions over every document.
func findHubsReference(text []byte) []string {
	var hubs []string
	for _, tag := range linkTag.FindAll(text, -1) {
		if !relHub.Match(tag) {
			continue
		}
		if m := hrefValue.FindSubmatch(tag); m != nil {
			if hub := cleanURL(string(m[1])+string(m[2]), nil); hub != "" {
				hubs = append(hubs, hub)
			}
		}
	}
	return hubs
}

var hubCases = []string{
	`<feed><link rel="hub" href="https://hub.example.com/"/></feed>`,
	`<feed><atom:link rel='HUB' href='https://hub.example.com/a'/></feed>`,
	`<feed><link rel="Hub' href="https://hub.example.com/b"/></feed>`,
	`<feed><link rel = "hub" href = "https://hub.example.com/c" ></feed>`,
	`<rss><channel><title>GitHub news</title><link>https://github.example/</link></channel></rss>`,
	`<rss><channel><description>the "hub" of trade</description></channel></rss>`,
	`<feed><link rel="hub"`,
	`"hub"`,
	`'hub`,
	"",
}

func checkFindHubs(t *testing.T, name string, text []byte) {
	t.Helper()
	got, want := findHubs(text), findHubsReference(text)
	if !slices.Equal(got, want) || (got == nil) != (want == nil) {
		t.Fatalf("%s: findHubs = %q, want %q", name, got, want)
	}
}

func TestFindHubsMatchesReference(t *testing.T) {
	for _, c := range hubCases {
		checkFindHubs(t, c, []byte(c))
	}
	for _, doc := range fastPathDocuments(t) {
		checkFindHubs(t, doc.name, doc.body)
	}
}

// TestHubLettersFoldToASCII pins the assumption of hasQuotedHub: under
// the case folding of (?i), h, u and b match no character outside ASCII.
func TestHubLettersFoldToASCII(t *testing.T) {
	for _, c := range "hub" {
		for f := unicode.SimpleFold(c); f != c; f = unicode.SimpleFold(f) {
			if f > unicode.MaxASCII {
				t.Errorf("%q folds to %q", c, f)
			}
		}
	}
}

func FuzzFindHubsFastPath(f *testing.F) {
	for _, c := range hubCases {
		f.Add([]byte(c))
	}
	f.Fuzz(func(t *testing.T, text []byte) {
		checkFindHubs(t, "fuzz input", text)
	})
}
