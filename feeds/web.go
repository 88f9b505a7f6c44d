package feeds

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"net/http"
	"sync"

	"github.com/microcosm-cc/bluemonday"

	"github.com/syndic-network/syndic/internal/apierror"
)

// pageItems is the number of items a channel page lists without a limit
// parameter. A page is for reading, so it stays short, while the feeds
// carry the channel's full max_items.
const pageItems = 30

//go:embed templates/*.html
var templateFiles embed.FS

var pageTemplates = template.Must(template.ParseFS(templateFiles, "templates/*.html"))

// pageSecurityPolicy allows the inline style sheet and images from
// anywhere, as item content links partner images, and nothing else.
const pageSecurityPolicy = "default-src 'none'; style-src 'unsafe-inline'; img-src * data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

var htmlFormat = format{ext: "html", contentType: "text/html; charset=utf-8"}

// pageContentPolicy cleans item HTML again before it is placed in a page.
// The pipeline already sanitises content, but events on the stream may come
// from older releases or other publishers, and a page, unlike a feed, runs
// in our own origin. The policy drops scripts, styles, forms, frames and
// event handlers and keeps the usual text markup, links and images.
var pageContentPolicy = sync.OnceValue(func() *bluemonday.Policy {
	p := bluemonday.UGCPolicy()
	p.AllowElements("figure", "figcaption")
	p.RequireNoFollowOnLinks(true)
	return p
})

// feedLink is one format of a channel, for links and autodiscovery.
type feedLink struct {
	Name  string
	Type  string
	Href  string
	Title string
}

// channelSummary is a channel as the pages list it.
type channelSummary struct {
	ID          string
	Title       string
	Description string
	PageURL     string
	Formats     []feedLink
}

// pageItem is one entry on a channel page.
type pageItem struct {
	Title        string
	URL          string
	Summary      string
	Content      template.HTML
	Lang         string
	Partner      string
	PartnerURL   string
	Published    string
	PublishedISO string
	// AlsoFrom are the other copies of the story, by partner.
	AlsoFrom []copyLink
}

// copyLink is another partner's copy of a story on a channel page.
type copyLink struct {
	Partner string
	URL     string
}

// pageData is the input of the page templates.
type pageData struct {
	Text       pageText
	Title      string
	Alternates []feedLink
	HomeURL    string
	OPMLURL    string
	SignUpURL  string
	Channels   []channelSummary
	Channel    channelSummary
	Filtered   bool
	Items      []pageItem
}

var formatNames = map[string]string{"rss": "RSS", "atom": "Atom", "json": "JSON Feed"}

// feedLinks lists the formats of ch, each URL followed by query when it is
// not empty.
func (h *handler) feedLinks(ch Channel, query string) []feedLink {
	out := make([]feedLink, 0, len(formats))
	for _, f := range formats {
		href := h.feedURL(ch, f)
		if query != "" {
			href += "?" + query
		}
		contentType, _, _ := bytes.Cut([]byte(f.contentType), []byte(";"))
		out = append(out, feedLink{
			Name:  formatNames[f.ext],
			Type:  string(contentType),
			Href:  href,
			Title: ch.Title + " (" + formatNames[f.ext] + ")",
		})
	}
	return out
}

func (h *handler) summary(ch Channel, query string) channelSummary {
	return channelSummary{
		ID:          ch.ID,
		Title:       ch.Title,
		Description: ch.Description,
		PageURL:     h.baseURL + "/channels/" + ch.ID,
		Formats:     h.feedLinks(ch, query),
	}
}

func (h *handler) basePage(text pageText, title string) pageData {
	return pageData{
		Text:      text,
		Title:     title,
		HomeURL:   h.baseURL + "/",
		OPMLURL:   h.baseURL + "/opml",
		SignUpURL: h.opts.SignUpURL,
	}
}

// serveHome sends the home page: every channel with its feed links, in the
// reader's language.
func (h *handler) serveHome(w http.ResponseWriter, r *http.Request) {
	text := textFor(r.Header.Get("Accept-Language"))
	key := cacheKey{format: "home." + text.Lang}
	doc, err := h.cachedDocument(r, key, false, func() (built, error) {
		data := h.basePage(text, text.SiteTitle)
		for _, ch := range h.opts.Channels {
			s := h.summary(ch, "")
			data.Channels = append(data.Channels, s)
			data.Alternates = append(data.Alternates, s.Formats...)
		}
		body, err := executePage("home.html", data)
		return built{body: body, entries: len(data.Channels)}, err
	})
	h.writePage(w, r, text, doc, err)
}

// serveChannel sends the page of one channel with its latest items. It
// takes the query parameters of the feeds, so a reader can see what a
// narrowed feed would carry before subscribing to it.
func (h *handler) serveChannel(w http.ResponseWriter, r *http.Request) {
	if h.writeNotReady(w) {
		return
	}
	id := r.PathValue("id")
	ch, known := h.channels[id]
	if !known {
		apierror.Write(w, http.StatusNotFound, "channel_not_found", "no channel with this id", map[string]string{"channel": id})
		return
	}
	q, problems := parseFeedQuery(r.URL.Query(), ch.MaxItems)
	if problems != nil {
		apierror.Write(w, http.StatusBadRequest, "invalid_query", "invalid query parameters", problems)
		return
	}
	text := textFor(r.Header.Get("Accept-Language"))
	key := cacheKey{channel: ch.ID, format: "html." + text.Lang, query: q.key}
	doc, err := h.cachedDocument(r, key, false, func() (built, error) {
		return h.renderChannelPage(ch, q, text)
	})
	h.writePage(w, r, text, doc, err)
}

func (h *handler) renderChannelPage(ch Channel, q feedQuery, text pageText) (built, error) {
	limit := q.limit
	if limit == 0 {
		limit = pageItems
	}
	stories := h.opts.View.ChannelStories(h.opts.PartnerDomains, ch, q.filter, limit)
	data := h.basePage(text, ch.Title)
	data.Channel = h.summary(ch, q.key)
	data.Alternates = data.Channel.Formats
	data.Filtered = q.key != ""
	for _, s := range stories {
		data.Items = append(data.Items, h.pageItem(s))
	}
	body, err := executePage("channel.html", data)
	return built{body: body, entries: len(stories)}, err
}

func (h *handler) pageItem(s Story) pageItem {
	ev := s.Item
	meta := Meta{Partners: h.opts.Partners}
	it := pageItem{
		Title:      cleanText(ev.Title),
		Summary:    cleanText(ev.Summary),
		Lang:       languageTag(ev.Language),
		Partner:    cleanText(meta.partnerName(ev.Partner)),
		PartnerURL: pageURL(h.opts.Partners[ev.Partner].URL),
		URL:        pageURL(ev.URL),
		// The policy's output is safe to place in a page unescaped.
		Content: template.HTML(pageContentPolicy().Sanitize(cleanText(ev.Content))), //nolint:gosec
	}
	if it.Title == "" {
		it.Title = it.URL
	}
	for _, c := range s.Copies {
		it.AlsoFrom = append(it.AlsoFrom, copyLink{Partner: cleanText(meta.partnerName(c.Partner)), URL: pageURL(c.URL)})
	}
	if !ev.Published.IsZero() {
		it.Published = ev.Published.UTC().Format("2006-01-02 15:04 UTC")
		it.PublishedISO = rfc3339Date(ev.Published)
	}
	return it
}

// pageURL returns u when it is an absolute http or https URL, else "".
// html/template already neutralises javascript: URLs, and this also keeps
// relative links, which would point into our own site, off the page.
func pageURL(u string) string {
	if !isWebURL(u) {
		return ""
	}
	return cleanURL(u)
}

func executePage(name string, data pageData) ([]byte, error) {
	var b bytes.Buffer
	if err := pageTemplates.ExecuteTemplate(&b, name, data); err != nil {
		return nil, fmt.Errorf("executing template %s: %w", name, err)
	}
	return b.Bytes(), nil
}

// writePage sends a page document, or 500 when building it failed.
func (h *handler) writePage(w http.ResponseWriter, r *http.Request, text pageText, doc *document, err error) {
	if err != nil {
		h.log.ErrorContext(r.Context(), "rendering page failed", "path", r.URL.Path, "error", err)
		apierror.Write(w, http.StatusInternalServerError, "render_failed", "rendering the page failed", nil)
		return
	}
	w.Header().Set("Content-Language", text.Lang)
	w.Header().Add("Vary", "Accept-Language")
	// The pages need no script, so the policy forbids all of it. That is
	// a second line of defence behind the content policy for any markup in
	// item HTML that would try to run.
	w.Header().Set("Content-Security-Policy", pageSecurityPolicy)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	writeDocument(w, r, htmlFormat, doc)
}
