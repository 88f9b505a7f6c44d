package workers

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"net/url"
	"slices"
	"strings"
	"time"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"

	"github.com/syndic-network/syndic/pipeline"
)

// feedLinkTypes are the media types of <link rel="alternate"> elements
// that name a feed, in order of preference. Atom comes first because its
// dates and ids are stricter than those of RSS.
var feedLinkTypes = []string{
	"application/atom+xml",
	"application/rss+xml",
	"application/feed+json",
	"application/json",
	"application/rdf+xml",
	"application/xml",
	"text/xml",
}

// maxDiscoveryTokens bounds the HTML tokens read while looking for feed
// links. Links belong in <head>, which real pages close within a few
// hundred tokens; the bound keeps a huge page without <head> cheap.
const maxDiscoveryTokens = 20000

// FindFeedLinks returns the absolute URLs of the feeds that an HTML page
// announces with <link rel="alternate" type="…"> elements, most preferred
// type first and in document order within a type. pageURL resolves
// relative hrefs, after any <base href>. It returns nil when the page
// announces no feed.
func FindFeedLinks(page []byte, pageURL string) []string {
	base, err := url.Parse(pageURL)
	if err != nil {
		return nil
	}
	byType := map[string][]string{}
	z := html.NewTokenizer(bytes.NewReader(page))
	for range maxDiscoveryTokens {
		tt := z.Next()
		if tt == html.ErrorToken {
			break
		}
		if tt != html.StartTagToken && tt != html.SelfClosingTagToken {
			continue
		}
		name, hasAttr := z.TagName()
		if !hasAttr {
			continue
		}
		switch atom.Lookup(name) {
		case atom.Base:
			base = resolveBase(base, tagAttrs(z)["href"])
		case atom.Link:
			// Links are read in <body> too, where some CMSs put them.
			addFeedLink(byType, base, tagAttrs(z))
		}
	}
	var out []string
	for _, t := range feedLinkTypes {
		out = append(out, byType[t]...)
	}
	return out
}

func tagAttrs(z *html.Tokenizer) map[string]string {
	attrs := map[string]string{}
	for {
		key, val, more := z.TagAttr()
		attrs[strings.ToLower(string(key))] = string(val)
		if !more {
			return attrs
		}
	}
}

func resolveBase(current *url.URL, href string) *url.URL {
	ref, err := url.Parse(strings.TrimSpace(href))
	if href == "" || err != nil {
		return current
	}
	return current.ResolveReference(ref)
}

// addFeedLink records a <link> element's href when its rel contains
// "alternate" and its type names a feed. A rel that also contains
// "stylesheet" or "icon" is not a feed link.
func addFeedLink(byType map[string][]string, base *url.URL, attrs map[string]string) {
	rels := strings.Fields(strings.ToLower(attrs["rel"]))
	if !slices.Contains(rels, "alternate") || slices.Contains(rels, "stylesheet") || slices.Contains(rels, "icon") {
		return
	}
	mediaType, _, err := mime.ParseMediaType(attrs["type"])
	if err != nil {
		return
	}
	href := strings.TrimSpace(attrs["href"])
	ref, err := url.Parse(href)
	if href == "" || err != nil {
		return
	}
	abs := base.ResolveReference(ref)
	if abs.Scheme != "http" && abs.Scheme != "https" {
		return
	}
	abs.Fragment = ""
	for _, seen := range byType[mediaType] {
		if seen == abs.String() {
			return
		}
	}
	byType[mediaType] = append(byType[mediaType], abs.String())
}

// looksLikeHTML reports whether a body is an HTML page, from its media
// type or, when the server sent none or a generic one, from its first
// bytes.
func looksLikeHTML(contentType string, body []byte) bool {
	if mediaType, _, err := mime.ParseMediaType(contentType); err == nil {
		switch mediaType {
		case "text/html", "application/xhtml+xml":
			return true
		}
	}
	head := bytes.ToLower(bytes.TrimLeft(body[:min(len(body), 512)], " \t\r\n\uFEFF"))
	return bytes.HasPrefix(head, []byte("<!doctype html")) || bytes.HasPrefix(head, []byte("<html"))
}

// Discover returns the feed URL for rawURL: rawURL itself (after
// redirects) when it serves a feed, else the preferred feed its HTML page
// announces. Every request goes through the SSRF guard. It returns an
// error wrapping ErrNoFeedFound when the page announces no feed.
func (f *Fetcher) Discover(ctx context.Context, rawURL string, allowPrivate bool) (string, error) {
	res := f.Fetch(ctx, FetchRequest{URL: rawURL, AllowPrivateNetwork: allowPrivate})
	if res.Outcome != OutcomeNewContent {
		return "", fmt.Errorf("discovering the feed of %s: %w", rawURL, res.Err)
	}
	if !looksLikeHTML(res.ContentType, res.Body) {
		return res.FinalURL, nil
	}
	links := FindFeedLinks(res.Body, res.FinalURL)
	if len(links) == 0 {
		return "", fmt.Errorf("discovering the feed of %s: %w", rawURL, ErrNoFeedFound)
	}
	return links[0], nil
}

// discoveredFeed returns the feed that an HTML page links to when a poll
// of target got that page instead of a feed, or "" otherwise. A link back
// to target itself is ignored, so two pages cannot make the poller loop.
func discoveredFeed(rep PollReport, res FetchResult, target string) string {
	if rep.Class != classParseError || !errors.Is(rep.Err, pipeline.ErrNotAFeed) {
		return ""
	}
	if !looksLikeHTML(res.ContentType, res.Body) {
		return ""
	}
	for _, link := range FindFeedLinks(res.Body, res.FinalURL) {
		if link != target && link != res.FinalURL {
			return link
		}
	}
	return ""
}

// adoptDiscovered makes the poller fetch link in place of the feed URL,
// as for an adopted redirect, and makes the feed due at once. The page
// was no failure of the feed, so the failure counted for it is undone.
func (p *Poller) adoptDiscovered(next fetchState, link string, log *slog.Logger) fetchState {
	log.Warn("feed discovered on the page at the feed URL", "discovered_url", link,
		"hint", "put the feed URL in the configuration")
	next.Adopted = link
	next.MovedTo, next.MovedSeen = "", 0
	next.Failures = max(next.Failures-1, 0)
	next.PermanentFailures = max(next.PermanentFailures-1, 0)
	if next.PermanentFailures == 0 {
		next.PermanentSince = time.Time{}
	}
	next.Flagged = false
	next.LastError, next.LastErrorAt = "", time.Time{}
	next.Class = "discovered"
	next.Validators = Validators{}
	next.NextPoll = p.o.Now()
	next.Interval = 0
	return next
}
