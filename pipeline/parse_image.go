package pipeline

import (
	"slices"
	"strings"

	"github.com/mmcdole/gofeed"
	"github.com/mmcdole/gofeed/rss"
	"golang.org/x/net/html"
)

// newFeedParser returns a gofeed parser whose RSS translator finds the
// first image of item HTML without building a tree when it can.
func newFeedParser() *gofeed.Parser {
	p := gofeed.NewParser()
	p.RSSTranslator = &rssTranslator{}
	return p
}

// rssTranslator is gofeed's DefaultRSSTranslator without its costly
// last step for item images. gofeed v1.3.0 takes an item's image from
// its iTunes image, a media:content image or an image enclosure, and
// otherwise HTML-parses content, then description, for the first
// img[src], even when both are empty. This translator runs the default
// on copies of the items with content and description emptied and an
// image enclosure appended, so the default never reaches the HTML step.
// It then restores the fields and computes the image with rssItemImage.
type rssTranslator struct {
	gofeed.DefaultRSSTranslator
}

// stopEnclosure is the image enclosure appended to every item the
// default translator receives. Its URL does not matter: Translate replaces
// the image and removes the enclosure.
var stopEnclosure = &rss.Enclosure{Type: "image/"}

// Translate converts an *rss.Feed as DefaultRSSTranslator does.
func (t *rssTranslator) Translate(feed any) (*gofeed.Feed, error) {
	doc, ok := feed.(*rss.Feed)
	if !ok {
		return t.DefaultRSSTranslator.Translate(feed)
	}
	bare := *doc
	bare.Items = make([]*rss.Item, len(doc.Items))
	for k, it := range doc.Items {
		if it == nil {
			continue
		}
		stripped := *it
		stripped.Content, stripped.Description = "", ""
		stripped.Enclosures = append(slices.Clip(it.Enclosures), stopEnclosure)
		bare.Items[k] = &stripped
	}
	out, err := t.DefaultRSSTranslator.Translate(&bare)
	if err != nil {
		return nil, err
	}
	for k, it := range doc.Items {
		restoreItem(out.Items[k], it)
	}
	return out, nil
}

// restoreItem undoes what Translate changed in the item it gave the
// default translator. A description only replaces the Dublin Core or
// iTunes fallback when it is not empty, and the enclosure list is nil
// when empty, as the default leaves them.
func restoreItem(fi *gofeed.Item, it *rss.Item) {
	fi.Content = it.Content
	if it.Description != "" {
		fi.Description = it.Description
	}
	fi.Enclosures = fi.Enclosures[:len(fi.Enclosures)-1]
	if len(fi.Enclosures) == 0 {
		fi.Enclosures = nil
	}
	fi.Image = rssItemImage(it)
}

// rssItemImage returns the image gofeed v1.3.0 gives an RSS item, in its
// order: the iTunes image, the first media:content whose type or medium
// contains "image", even without a URL, the first enclosure of an image
// type, and the first img of the content, then of the description. It
// searches only the HTML that cleanItem keeps (see cutRawHTML), so an
// image past that bound is not found.
func rssItemImage(it *rss.Item) *gofeed.Image {
	if it.ITunesExt != nil && it.ITunesExt.Image != "" {
		return &gofeed.Image{URL: it.ITunesExt.Image}
	}
	for _, c := range it.Extensions["media"]["content"] {
		if strings.Contains(c.Attrs["type"], "image") || strings.Contains(c.Attrs["medium"], "image") {
			return &gofeed.Image{URL: c.Attrs["url"]}
		}
	}
	for _, enc := range it.Enclosures {
		if strings.HasPrefix(enc.Type, "image/") {
			return &gofeed.Image{URL: enc.URL}
		}
	}
	content, _ := cutRawHTML(it.Content, rawLimits.htmlBytes, rawLimits.htmlTags)
	if img := firstHTMLImage(content); img != nil {
		return img
	}
	description, _ := cutRawHTML(it.Description, rawLimits.htmlBytes, rawLimits.htmlTags)
	return firstHTMLImage(description)
}

// firstHTMLImage returns the src of the first img element with a src
// attribute in the tree that html.Parse builds from document, or nil.
// Without a tag named img or image there is none. Without any of the
// tags in treeTags, the parser inserts every img in token order and
// drops none, so the tokenizer alone finds the result. Otherwise it
// parses the document.
func firstHTMLImage(document string) *gofeed.Image {
	if !hasTagPrefix(document, "img") && !hasTagPrefix(document, "image") {
		return nil
	}
	for _, tag := range treeTags {
		if hasTagPrefix(document, tag) {
			return parsedFirstImage(document)
		}
	}
	return tokenFirstImage(document)
}

// treeTags are the start tags after which html.Parse may place elements
// out of token order or drop them, or the tokenizer may read markup as
// text: tables (foster parenting), templates, select, frames, SVG and
// MathML, and the raw text elements. "image" is listed because the
// parser renames it to img. Each entry also covers the tag names it is a
// prefix of, such as "frame" for "frameset".
var treeTags = []string{
	"table", "template", "select", "frame", "svg", "math",
	"script", "style", "textarea", "title", "xmp", "iframe",
	"noembed", "noframes", "noscript", "plaintext", "image",
}

// hasTagPrefix reports whether document contains "<" followed by name in
// any ASCII case, which every start tag whose name begins with name
// does: the tokenizer lowers only ASCII letters of tag names.
func hasTagPrefix(document, name string) bool {
	for rest := document; ; {
		n := strings.IndexByte(rest, '<')
		if n < 0 {
			return false
		}
		rest = rest[n+1:]
		// EqualFold also folds non-ASCII letters, such as the Kelvin
		// sign to k, which the tokenizer does not.
		prefix := rest[:min(len(rest), len(name))]
		if strings.EqualFold(prefix, name) && isASCII(prefix) {
			return true
		}
	}
}

// tokenFirstImage returns the src of the first img start tag with a src
// attribute, or nil.
func tokenFirstImage(document string) *gofeed.Image {
	z := html.NewTokenizer(strings.NewReader(document))
	for {
		switch z.Next() {
		case html.ErrorToken:
			return nil
		case html.StartTagToken, html.SelfClosingTagToken:
			if src, ok := imgSource(z); ok {
				return &gofeed.Image{URL: src}
			}
		}
	}
}

// imgSource returns the value of the first src attribute of the tag the
// tokenizer is on, when that tag is an img.
func imgSource(z *html.Tokenizer) (string, bool) {
	name, more := z.TagName()
	if string(name) != "img" {
		return "", false
	}
	for more {
		var key, val []byte
		key, val, more = z.TagAttr()
		if string(key) == "src" {
			return string(val), true
		}
	}
	return "", false
}

// parsedFirstImage finds the first img element with a src attribute in
// document order of the parsed tree, as gofeed does.
func parsedFirstImage(document string) *gofeed.Image {
	root, err := html.Parse(strings.NewReader(document))
	if err != nil {
		return nil
	}
	if src, ok := treeFirstImage(root); ok {
		return &gofeed.Image{URL: src}
	}
	return nil
}

func treeFirstImage(n *html.Node) (string, bool) {
	if n.Type == html.ElementNode && n.Data == "img" {
		for _, a := range n.Attr {
			if a.Key == "src" {
				return a.Val, true
			}
		}
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if src, ok := treeFirstImage(c); ok {
			return src, true
		}
	}
	return "", false
}
