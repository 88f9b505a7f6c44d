package feeds

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/syndic-network/syndic/internal/apierror"
	"github.com/syndic-network/syndic/pipeline"
)

// cacheControl lets shared caches and readers reuse a document for one
// minute. Items reach the view within seconds, so a longer lifetime would
// hide fresh news, and a shorter one would bring little over revalidation.
const cacheControl = "public, max-age=60"

// format is one output format of a channel, chosen by the path extension.
type format struct {
	ext         string
	contentType string
	render      func(Meta, []pipeline.Event) ([]byte, error)
}

var formats = []format{
	{ext: "rss", contentType: "application/rss+xml; charset=utf-8", render: RenderRSS},
	{ext: "atom", contentType: "application/atom+xml; charset=utf-8", render: RenderAtom},
	{ext: "json", contentType: "application/feed+json; charset=utf-8", render: RenderJSON},
}

// HandlerOptions configures NewHandler.
type HandlerOptions struct {
	// View supplies the entries; it is required.
	View     *View
	Channels []Channel
	// BaseURL is the public URL the handler is mounted at, such as
	// "https://hub.example.com"; feed and site links start with it.
	BaseURL      string
	TagAuthority string
	Partners     map[string]PartnerInfo
	FeedURLs     map[string]string
	// PartnerDomains names the partner that owns each domain. Within a
	// story, the item of that partner is shown when its link is on the
	// domain, and the other copies are listed with it. Nil shows the
	// cluster's origin.
	PartnerDomains PartnerDomains
	// SignUpURL is the digest sign-up form that the home page links to;
	// empty leaves the link out.
	SignUpURL string
	// HubURL is the WebSub hub that the channels' own feeds advertise in
	// rel="hub" links and Link headers; empty advertises none.
	HubURL string
	// Archive reads older events for RFC 5005 archive pages; nil serves
	// no archives.
	Archive ArchiveSource
	// ArchivePageSize is the number of stream messages per archive page;
	// below 1 means DefaultArchivePageSize.
	ArchivePageSize int
	// QueryCacheSize is the number of documents for ad-hoc queries kept
	// in the render cache; below 1 means DefaultQueryCacheSize.
	QueryCacheSize int
	// QueryCacheBytes bounds the total size of those documents, gzip
	// copies included; below 1 means DefaultQueryCacheBytes. A document
	// over an eighth of it is served but not cached.
	QueryCacheBytes int64
	// Ready reports whether View has caught up with the stream. While it
	// returns false, feeds, archive pages and channel pages get 503 with
	// Retry-After and Cache-Control: no-store. Nil means always ready.
	Ready func() bool
	// Logger receives render timings at debug level and render failures
	// at error level. Nil discards them.
	Logger *slog.Logger
}

type handler struct {
	opts     HandlerOptions
	baseURL  string
	channels map[string]Channel
	mux      *http.ServeMux
	log      *slog.Logger
	cache    *renderCache
	// querySlots limits how many ad-hoc query documents are built at once.
	querySlots chan struct{}
}

// NewHandler returns a handler that serves GET and HEAD for
// /feeds/{channel}.rss, .atom and .json, /feeds with a JSON list of the
// channels and their URLs, /feeds/{channel}/archive/{page}.rss, .atom and
// .json with RFC 5005 archive pages when Archive is set, /opml with every
// feed, and the HTML pages / and /channels/{channel} in the reader's
// language. A feed or page request may narrow the channel with the
// query parameters lang, partner, category, q and limit; invalid values get
// 400. Other methods get 405, unknown paths, channels and formats get 404,
// all with the apierror body. Documents are rendered once per channel,
// format, normalised query and View.Version. A document response sets its
// own write deadline, 30 seconds plus one second per 64 KiB, in place of
// the server's WriteTimeout.
func NewHandler(o HandlerOptions) http.Handler {
	h := &handler{
		opts:     o,
		baseURL:  strings.TrimRight(o.BaseURL, "/"),
		channels: make(map[string]Channel, len(o.Channels)),
		log:      o.Logger,
		cache:    newRenderCache(o.QueryCacheSize, o.QueryCacheBytes),

		querySlots: newQuerySlots(),
	}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	for _, ch := range o.Channels {
		h.channels[ch.ID] = ch
	}
	h.mux = http.NewServeMux()
	h.mux.HandleFunc("/feeds", h.serveIndex)
	h.mux.HandleFunc("/feeds/{file}", h.serveFeed)
	h.mux.HandleFunc("/feeds/{id}/archive/{file}", h.serveArchive)
	h.mux.HandleFunc("/{$}", h.serveHome)
	h.mux.HandleFunc("/channels/{id}", h.serveChannel)
	h.mux.HandleFunc("/opml", h.serveOPML)
	h.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		apierror.Write(w, http.StatusNotFound, "not_found", "no resource at this path", map[string]string{"path": r.URL.Path})
	})
	return h
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Access-Control-Allow-Origin", "*")
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		apierror.Write(w, http.StatusMethodNotAllowed, "method_not_allowed", "use GET or HEAD", map[string]string{"method": r.Method})
		return
	}
	h.mux.ServeHTTP(w, r)
}

func (h *handler) serveFeed(w http.ResponseWriter, r *http.Request) {
	if h.writeNotReady(w) {
		return
	}
	file := r.PathValue("file")
	// Channel ids may contain dots, so the format is after the last one.
	dot := strings.LastIndexByte(file, '.')
	if dot < 0 {
		dot = len(file)
	}
	id, ext := file[:dot], strings.TrimPrefix(file[dot:], ".")
	ch, known := h.channels[id]
	if !known {
		apierror.Write(w, http.StatusNotFound, "channel_not_found", "no channel with this id", map[string]string{"channel": id})
		return
	}
	f, ok := formatByExt(ext)
	if !ok {
		apierror.Write(w, http.StatusNotFound, "format_not_found", "use .rss, .atom or .json", map[string]string{"format": ext})
		return
	}
	q, problems := parseFeedQuery(r.URL.Query(), ch.MaxItems)
	if problems != nil {
		apierror.Write(w, http.StatusBadRequest, "invalid_query", "invalid query parameters", problems)
		return
	}
	if q.key == "" && h.opts.HubURL != "" {
		// WebSub discovery (section 4) reads the Link header first.
		w.Header().Add("Link", "<"+h.opts.HubURL+">; rel=\"hub\"")
		w.Header().Add("Link", "<"+h.feedURL(ch, f)+">; rel=\"self\"")
	}
	doc, err := h.rendered(r, ch, f, q)
	if errors.Is(err, errBusy) {
		w.Header().Set("Retry-After", "1")
		apierror.Write(w, http.StatusServiceUnavailable, "busy", "too many filtered requests at once; retry in a second or use the channel feed without query parameters", nil)
		return
	}
	if err != nil {
		h.log.Error("rendering feed failed", "channel", ch.ID, "format", f.ext, "error", err)
		apierror.Write(w, http.StatusInternalServerError, "render_failed", "rendering the feed failed", nil)
		return
	}
	writeDocument(w, r, f, doc)
}

func formatByExt(ext string) (format, bool) {
	for _, f := range formats {
		if f.ext == ext {
			return f, true
		}
	}
	return format{}, false
}

// writeDocument sends doc, or 304 when the request's validators match.
// If-None-Match takes precedence over If-Modified-Since (RFC 9110 section
// 13.2.2).
func writeDocument(w http.ResponseWriter, r *http.Request, f format, doc *document) {
	body, etag := doc.body, doc.etag
	gz := acceptsGzip(r.Header.Get("Accept-Encoding"))
	if gz {
		body, etag = doc.gzBody, doc.gzETag
	}
	h := w.Header()
	h.Set("ETag", etag)
	h.Set("Cache-Control", doc.cacheControl)
	h.Add("Vary", "Accept-Encoding")
	if !doc.modified.IsZero() {
		h.Set("Last-Modified", doc.modified.UTC().Format(http.TimeFormat))
	}
	if notModified(r, etag, doc.modified) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h.Set("Content-Type", f.contentType)
	if gz {
		h.Set("Content-Encoding", "gzip")
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		setDocumentDeadline(w, len(body))
		_, _ = w.Write(body)
	}
}

func notModified(r *http.Request, etag string, modified time.Time) bool {
	if inm := r.Header.Get("If-None-Match"); inm != "" {
		return etagListMatches(inm, etag)
	}
	ims := r.Header.Get("If-Modified-Since")
	if ims == "" || modified.IsZero() {
		return false
	}
	since, err := http.ParseTime(ims)
	if err != nil {
		return false
	}
	return !modified.Truncate(time.Second).After(since)
}

// etagListMatches applies the weak comparison that If-None-Match uses: a
// W/ prefix is ignored and "*" matches any current representation.
func etagListMatches(list, etag string) bool {
	for _, tag := range strings.Split(list, ",") {
		tag = strings.TrimPrefix(strings.TrimSpace(tag), "W/")
		if tag == "*" || tag == etag {
			return true
		}
	}
	return false
}

// acceptsGzip reports whether an Accept-Encoding value admits gzip with a
// non-zero quality, by name or through "*".
func acceptsGzip(header string) bool {
	star, gzip := false, false
	gzipListed := false
	for _, part := range strings.Split(header, ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		allowed := qualityAboveZero(params)
		switch strings.ToLower(strings.TrimSpace(name)) {
		case "gzip", "x-gzip":
			gzipListed, gzip = true, allowed
		case "*":
			star = allowed
		}
	}
	if gzipListed {
		return gzip
	}
	return star
}

func qualityAboveZero(params string) bool {
	for _, p := range strings.Split(params, ";") {
		k, v, ok := strings.Cut(strings.TrimSpace(p), "=")
		if !ok || !strings.EqualFold(strings.TrimSpace(k), "q") {
			continue
		}
		q, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		return err == nil && q > 0
	}
	return true
}

// channelLinks is one entry of the /feeds index.
type channelLinks struct {
	ID          string            `json:"id"`
	Title       string            `json:"title"`
	Description string            `json:"description,omitempty"`
	Language    string            `json:"language,omitempty"`
	URLs        map[string]string `json:"urls"`
}

func (h *handler) serveIndex(w http.ResponseWriter, r *http.Request) {
	list := make([]channelLinks, 0, len(h.opts.Channels))
	for _, ch := range h.opts.Channels {
		urls := make(map[string]string, len(formats))
		for _, f := range formats {
			urls[f.ext] = h.feedURL(ch, f)
		}
		list = append(list, channelLinks{ID: ch.ID, Title: ch.Title, Description: ch.Description, Language: ch.language(), URLs: urls})
	}
	body, err := json.Marshal(map[string]any{"channels": list})
	if err != nil {
		h.log.Error("encoding channel list failed", "error", err)
		apierror.Write(w, http.StatusInternalServerError, "internal", "encoding the channel list failed", nil)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", cacheControl)
	w.Header().Set("Content-Length", strconv.Itoa(len(body)+1))
	if r.Method != http.MethodHead {
		_, _ = w.Write(append(body, '\n'))
	}
}

func (h *handler) feedURL(ch Channel, f format) string {
	return h.baseURL + "/feeds/" + ch.ID + "." + f.ext
}
