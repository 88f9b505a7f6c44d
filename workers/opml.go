package workers

import (
	"encoding/xml"
	"fmt"
	"io"
	"strings"

	"golang.org/x/net/html/charset"
)

// maxOPMLBytes bounds an imported OPML file. Subscription lists with
// thousands of feeds stay under 2 MiB.
const maxOPMLBytes = 16 << 20

// OPMLFeed is one feed outline of an OPML subscription list.
type OPMLFeed struct {
	// Title is the outline's title, or its text when it has no title.
	Title string
	// FeedURL is the xmlUrl attribute, empty when the outline gives only
	// a page (HTMLURL) whose feed must be discovered.
	FeedURL string
	HTMLURL string
	// Group is the text of the enclosing outline, empty at the top level.
	Group string
}

type opmlDoc struct {
	XMLName xml.Name      `xml:"opml"`
	Body    []opmlOutline `xml:"body>outline"`
}

type opmlOutline struct {
	Text     string        `xml:"text,attr"`
	Title    string        `xml:"title,attr"`
	XMLURL   string        `xml:"xmlUrl,attr"`
	HTMLURL  string        `xml:"htmlUrl,attr"`
	Children []opmlOutline `xml:"outline"`
}

// ParseOPML reads an OPML 1.0 or 2.0 subscription list and returns its
// feed outlines in document order: every outline with an xmlUrl, and every
// outline without children that has an htmlUrl. Nested groups are
// flattened, each feed keeping the text of its nearest group. The error
// wraps ErrInvalidOPML for a document that is not OPML or lists no feed.
func ParseOPML(r io.Reader) ([]OPMLFeed, error) {
	dec := xml.NewDecoder(io.LimitReader(r, maxOPMLBytes))
	dec.CharsetReader = charset.NewReaderLabel
	dec.Strict = false
	var doc opmlDoc
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidOPML, err)
	}
	var out []OPMLFeed
	collectOutlines(doc.Body, "", &out)
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: no outline has an xmlUrl or htmlUrl", ErrInvalidOPML)
	}
	return out, nil
}

func collectOutlines(outlines []opmlOutline, group string, out *[]OPMLFeed) {
	for _, o := range outlines {
		title := strings.TrimSpace(o.Title)
		if title == "" {
			title = strings.TrimSpace(o.Text)
		}
		feedURL, htmlURL := strings.TrimSpace(o.XMLURL), strings.TrimSpace(o.HTMLURL)
		if feedURL != "" || (htmlURL != "" && len(o.Children) == 0) {
			*out = append(*out, OPMLFeed{Title: title, FeedURL: feedURL, HTMLURL: htmlURL, Group: group})
		}
		if len(o.Children) > 0 {
			collectOutlines(o.Children, title, out)
		}
	}
}
