package workers

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestParseOPML(t *testing.T) {
	const doc = `<?xml version="1.0" encoding="ISO-8859-2"?>
<opml version="2.0"><head><title>Partners</title></head><body>
  <outline text="Top" title="Top feed" type="rss" xmlUrl=" https://top.example/rss " htmlUrl="https://top.example/"/>
  <outline text="Kurier">
    <outline text="Kraj" type="rss" xmlUrl="https://kurier.example/kraj.xml"/>
    <outline text="Strona" htmlUrl="https://kurier.example/"/>
    <outline text="Empty"/>
  </outline>
</body></opml>`
	feeds, err := ParseOPML(strings.NewReader(doc))
	if err != nil {
		t.Fatalf("ParseOPML: %v", err)
	}
	want := []OPMLFeed{
		{Title: "Top feed", FeedURL: "https://top.example/rss", HTMLURL: "https://top.example/"},
		{Title: "Kraj", FeedURL: "https://kurier.example/kraj.xml", Group: "Kurier"},
		{Title: "Strona", HTMLURL: "https://kurier.example/", Group: "Kurier"},
	}
	if !slices.Equal(feeds, want) {
		t.Errorf("ParseOPML =\n%+v\nwant\n%+v", feeds, want)
	}
}

func TestParseOPMLInvalid(t *testing.T) {
	tests := []struct {
		name string
		doc  string
	}{
		{"empty document", ""},
		{"rss instead of opml", `<rss version="2.0"><channel/></rss>`},
		{"outlines without urls", `<opml version="2.0"><body><outline text="a"/></body></opml>`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := ParseOPML(strings.NewReader(tc.doc)); !errors.Is(err, ErrInvalidOPML) {
				t.Errorf("ParseOPML error = %v, want ErrInvalidOPML", err)
			}
		})
	}
}
