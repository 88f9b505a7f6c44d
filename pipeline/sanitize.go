package pipeline

import (
	"net/url"
	"path"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"github.com/microcosm-cc/bluemonday"
	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// linkRel is the rel value every sanitised link carries: readers must not
// pass ranking to partner links, and the opened page must not reach back
// into ours through window.opener.
const linkRel = "nofollow noopener"

// srcsetPattern accepts the srcset values that rewriteSrcset produces:
// absolute http(s) URLs, each with an optional width or density
// descriptor.
var srcsetPattern = regexp.MustCompile(
	`^https?://[^\s,]+(\s+\d+(\.\d+)?[wx])?(,\s*https?://[^\s,]+(\s+\d+(\.\d+)?[wx])?)*$`)

// contentPolicy is the bluemonday policy for item content: the user
// generated content policy (no scripts, styles, iframes, forms or event
// handlers) plus srcset on images and our fixed rel on links.
var contentPolicy = sync.OnceValue(func() *bluemonday.Policy {
	p := bluemonday.UGCPolicy()
	p.AllowElements("figure", "figcaption")
	p.AllowAttrs("srcset").Matching(srcsetPattern).OnElements("img")
	p.AllowAttrs("rel").Matching(regexp.MustCompile(`^` + linkRel + `$`)).OnElements("a")
	return p
})

// droppedElements are removed with everything inside them before the
// policy runs. The policy would drop their tags but keep a noscript's
// fallback markup as text, which duplicates lazy-loaded images.
var droppedElements = map[atom.Atom]bool{
	atom.Script: true, atom.Style: true, atom.Noscript: true,
	atom.Iframe: true, atom.Object: true, atom.Embed: true,
	atom.Template: true, atom.Form: true,
}

// urlAttributes are the attributes that hold a single URL to resolve.
var urlAttributes = map[string]bool{
	"href": true, "src": true, "poster": true, "cite": true,
}

// sanitizeHTML resolves relative URLs against base, promotes lazy-loaded
// image sources, removes tracking pixels and unsafe markup, and returns
// HTML that the content policy allows, without the characters that
// StripControls removes. base may be nil.
func sanitizeHTML(fragment string, base *url.URL) string {
	if strings.TrimSpace(fragment) == "" {
		return ""
	}
	body := &html.Node{Type: html.ElementNode, Data: "body", DataAtom: atom.Body}
	nodes, err := html.ParseFragment(strings.NewReader(fragment), body)
	if err != nil {
		return ""
	}
	var b strings.Builder
	for _, n := range nodes {
		body.AppendChild(n)
	}
	rewriteTree(body, base)
	for c := body.FirstChild; c != nil; c = c.NextSibling {
		if err := html.Render(&b, c); err != nil {
			return ""
		}
	}
	clean := contentPolicy().Sanitize(b.String())
	// rewriteTree removed the controls from text and escaped them in
	// URLs. This pass keeps the promise above should the policy write
	// one, which it could only do in text or an attribute value.
	return strings.TrimSpace(StripControls(stripIllegal(clean)))
}

// rewriteTree walks the children of n, dropping and rewriting elements,
// and removes from text the characters that StripControls removes.
func rewriteTree(n *html.Node, base *url.URL) {
	for c := n.FirstChild; c != nil; {
		next := c.NextSibling
		switch {
		case c.Type == html.TextNode:
			c.Data = StripControls(c.Data)
		case c.Type == html.ElementNode && !rewriteElement(c, base):
			n.RemoveChild(c)
		default:
			rewriteTree(c, base)
		}
		c = next
	}
}

// rewriteElement fixes the attributes of one element and reports whether
// the element stays.
func rewriteElement(n *html.Node, base *url.URL) bool {
	if droppedElements[n.DataAtom] {
		return false
	}
	if n.DataAtom == atom.Img {
		promoteLazySource(n)
		if isTrackingPixel(n) || isPlaceholder(attr(n, "src")) {
			return false
		}
	}
	for k := range n.Attr {
		a := &n.Attr[k]
		// A URL keeps the controls, escaped, so it still names the
		// resource the partner linked to. Other values are text.
		switch {
		case urlAttributes[a.Key]:
			a.Val = EscapeControls(resolveReference(base, a.Val))
		case a.Key == "srcset":
			a.Val = EscapeControls(rewriteSrcset(base, a.Val))
		default:
			a.Val = StripControls(a.Val)
		}
	}
	switch n.DataAtom {
	case atom.Img:
		return isHTTPURL(attr(n, "src"))
	case atom.A:
		setAttr(n, "rel", linkRel)
	}
	return true
}

// promoteLazySource copies the real image URL of a lazy-loading plugin
// into src and srcset. A data: URI or missing src is replaced by the
// largest srcset candidate.
func promoteLazySource(n *html.Node) {
	for _, key := range []string{"data-src", "data-lazy-src", "data-original"} {
		if v := strings.TrimSpace(attr(n, key)); v != "" && !strings.HasPrefix(v, "data:") {
			setAttr(n, "src", v)
			break
		}
	}
	for _, key := range []string{"data-srcset", "data-lazy-srcset"} {
		if v := strings.TrimSpace(attr(n, key)); v != "" {
			setAttr(n, "srcset", v)
			break
		}
	}
	src := strings.TrimSpace(attr(n, "src"))
	if src == "" || strings.HasPrefix(src, "data:") {
		if best := largestCandidate(attr(n, "srcset")); best != "" {
			setAttr(n, "src", best)
		}
	}
}

// isTrackingPixel reports whether an image is declared 1x1 or smaller,
// which in feeds means a view counter rather than content.
func isTrackingPixel(n *html.Node) bool {
	w, okW := pixelSize(attr(n, "width"))
	h, okH := pixelSize(attr(n, "height"))
	return okW && okH && w <= 1 && h <= 1
}

// placeholderName matches the file names lazy-loading plugins and themes
// give the stand-in image shown before the real one loads.
var placeholderName = regexp.MustCompile(
	`(?i)^(?:blank|spacer|placeholder|transparent|lazy|loading|grey|gray|pixel|empty|1x1)(?:[-_.][a-z0-9]*)*\.(?:gif|png|svg|webp)$`)

// isPlaceholder reports whether an image source is a stand-in: an inline
// data: URI or a file named like a lazy-loading placeholder. Sources are
// promoted from data-src before this check, so only images without a real
// source are dropped.
func isPlaceholder(src string) bool {
	src = strings.TrimSpace(src)
	if strings.HasPrefix(strings.ToLower(src), "data:") {
		return true
	}
	u, err := url.Parse(src)
	if err != nil {
		return false
	}
	return placeholderName.MatchString(path.Base(u.Path))
}

func pixelSize(v string) (int, bool) {
	n, err := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), "px"))
	return n, err == nil
}

// srcsetCandidate is one "URL descriptor" entry of a srcset attribute.
type srcsetCandidate struct {
	url        string
	descriptor string
}

func parseSrcset(v string) []srcsetCandidate {
	var out []srcsetCandidate
	for _, part := range strings.Split(v, ",") {
		f := strings.Fields(part)
		if len(f) == 0 {
			continue
		}
		c := srcsetCandidate{url: f[0]}
		if len(f) > 1 {
			c.descriptor = f[1]
		}
		out = append(out, c)
	}
	return out
}

// largestCandidate returns the srcset URL with the highest width or
// density descriptor, or the last one when none has a descriptor.
func largestCandidate(v string) string {
	best, bestSize := "", -1.0
	for _, c := range parseSrcset(v) {
		size := 0.0
		if d := c.descriptor; len(d) > 1 {
			size, _ = strconv.ParseFloat(d[:len(d)-1], 64)
		}
		if size >= bestSize {
			best, bestSize = c.url, size
		}
	}
	return best
}

// rewriteSrcset resolves every candidate URL against base and keeps the
// descriptors. Candidates that do not resolve to http(s) are dropped.
func rewriteSrcset(base *url.URL, v string) string {
	var parts []string
	for _, c := range parseSrcset(v) {
		u := resolveReference(base, c.url)
		if !isHTTPURL(u) {
			continue
		}
		if c.descriptor != "" {
			u += " " + c.descriptor
		}
		parts = append(parts, u)
	}
	return strings.Join(parts, ", ")
}

// resolveReference makes ref absolute against base and removes its user
// name and password, which are the publisher's secret in a link that is
// republished. It returns ref unchanged when it cannot be parsed, or when
// base is nil and ref has no user info.
func resolveReference(base *url.URL, ref string) string {
	ref = strings.TrimSpace(ref)
	u, err := url.Parse(ref)
	if err != nil || base == nil && u.User == nil {
		return ref
	}
	if base != nil {
		u = base.ResolveReference(u)
	}
	u.User = nil
	return u.String()
}

func isHTTPURL(v string) bool {
	u, err := url.Parse(v)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

func setAttr(n *html.Node, key, val string) {
	for k := range n.Attr {
		if n.Attr[k].Key == key {
			n.Attr[k].Val = val
			return
		}
	}
	n.Attr = append(n.Attr, html.Attribute{Key: key, Val: val})
}
