package digests

import (
	"bytes"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// maxImageWidth is the widest image in the 600 px message table, after
// 24 px of padding on each side.
const maxImageWidth = 552

// emailHTML prepares sanitised item HTML for mail clients and returns it
// with the absolute http(s) links it contains, for the text part. HTML
// without images is returned unchanged, byte for byte. Every image gets
// an alt attribute (empty when the feed gave none, so screen readers skip
// it), a width of at most maxImageWidth and an inline style that scales it
// down on narrow screens.
func emailHTML(content string) (string, []string) {
	links := linksIn(content)
	if !strings.Contains(strings.ToLower(content), "<img") {
		return content, links
	}
	nodes, err := html.ParseFragment(strings.NewReader(content), &html.Node{Type: html.ElementNode, Data: "div", DataAtom: atom.Div})
	if err != nil {
		return content, links
	}
	var out bytes.Buffer
	for _, n := range nodes {
		fixImages(n)
		if err := html.Render(&out, n); err != nil {
			return content, links
		}
	}
	return out.String(), links
}

func fixImages(n *html.Node) {
	if n.Type == html.ElementNode && n.DataAtom == atom.Img {
		fixImage(n)
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		fixImages(c)
	}
}

func fixImage(n *html.Node) {
	width := maxImageWidth
	keepHeight := false
	if w, err := strconv.Atoi(attr(n, "width")); err == nil && w > 0 && w <= maxImageWidth {
		width, keepHeight = w, true
	}
	if _, err := strconv.Atoi(attr(n, "height")); err != nil {
		keepHeight = false
	}
	var kept []html.Attribute
	for _, a := range n.Attr {
		switch a.Key {
		case "width", "style", "srcset", "sizes":
		case "height":
			if keepHeight {
				kept = append(kept, a)
			}
		default:
			kept = append(kept, a)
		}
	}
	if !hasAttr(n, "alt") {
		kept = append(kept, html.Attribute{Key: "alt"})
	}
	kept = append(kept,
		html.Attribute{Key: "width", Val: strconv.Itoa(width)},
		html.Attribute{Key: "style", Val: "max-width:100%;height:auto;border:0;"})
	n.Attr = kept
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

func hasAttr(n *html.Node, key string) bool {
	return slices.ContainsFunc(n.Attr, func(a html.Attribute) bool { return a.Key == key })
}

// linksIn returns the distinct absolute http(s) hrefs of the a elements
// in fragment, in document order.
func linksIn(fragment string) []string {
	var links []string
	z := html.NewTokenizer(strings.NewReader(fragment))
	for {
		switch z.Next() {
		case html.ErrorToken:
			return links
		case html.StartTagToken, html.SelfClosingTagToken:
			t := z.Token()
			if t.DataAtom != atom.A {
				continue
			}
			for _, a := range t.Attr {
				isWeb := strings.HasPrefix(a.Val, "https://") || strings.HasPrefix(a.Val, "http://")
				if a.Key == "href" && isWeb && !slices.Contains(links, a.Val) {
					links = append(links, a.Val)
				}
			}
		}
	}
}

// textFromHTML returns the text of fragment with runs of white space
// collapsed to one space.
func textFromHTML(fragment string) string {
	var b strings.Builder
	z := html.NewTokenizer(strings.NewReader(fragment))
	for {
		switch z.Next() {
		case html.ErrorToken:
			return strings.Join(strings.Fields(b.String()), " ")
		case html.TextToken:
			b.Write(z.Text())
		case html.StartTagToken, html.EndTagToken, html.SelfClosingTagToken:
			name, _ := z.TagName()
			if blockTags[atom.Lookup(name)] {
				b.WriteByte(' ')
			}
		}
	}
}

// blockTags separate words in textFromHTML. Inline tags such as b and a
// do not, so "Stocks <b>up</b>." reads "Stocks up.".
var blockTags = map[atom.Atom]bool{
	atom.P: true, atom.Div: true, atom.Br: true, atom.Li: true, atom.Ul: true, atom.Ol: true,
	atom.H1: true, atom.H2: true, atom.H3: true, atom.H4: true, atom.H5: true, atom.H6: true,
	atom.Tr: true, atom.Td: true, atom.Th: true, atom.Blockquote: true, atom.Pre: true,
	atom.Figure: true, atom.Figcaption: true, atom.Hr: true, atom.Table: true,
}
