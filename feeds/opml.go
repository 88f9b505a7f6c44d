package feeds

import (
	"encoding/xml"
	"net/http"
	"strconv"

	"github.com/syndic-network/syndic/internal/apierror"
)

// opmlDocument is an OPML 2.0 subscription list
// (http://opml.org/spec2.opml), the format feed readers import and export.
type opmlDocument struct {
	XMLName xml.Name      `xml:"opml"`
	Version string        `xml:"version,attr"`
	Title   string        `xml:"head>title"`
	Outline []opmlOutline `xml:"body>outline"`
}

// opmlOutline is one subscription. OPML 2.0 names every feed type "rss",
// whatever its format, and readers detect the format when they fetch it.
type opmlOutline struct {
	Type     string `xml:"type,attr"`
	Text     string `xml:"text,attr"`
	Title    string `xml:"title,attr"`
	XMLURL   string `xml:"xmlUrl,attr"`
	HTMLURL  string `xml:"htmlUrl,attr"`
	Language string `xml:"language,attr,omitempty"`
}

// serveOPML sends every channel in every format as one OPML list, so a
// reader can subscribe to all merged feeds at once.
func (h *handler) serveOPML(w http.ResponseWriter, r *http.Request) {
	doc := opmlDocument{Version: "2.0", Title: "Syndic channels"}
	for _, ch := range h.opts.Channels {
		page := h.baseURL + "/channels/" + ch.ID
		for _, link := range h.feedLinks(ch, "") {
			doc.Outline = append(doc.Outline, opmlOutline{
				Type:     "rss",
				Text:     cleanText(link.Title),
				Title:    cleanText(link.Title),
				XMLURL:   link.Href,
				HTMLURL:  page,
				Language: languageTag(ch.language()),
			})
		}
	}
	body, err := xml.MarshalIndent(doc, "", "  ")
	if err != nil {
		h.log.ErrorContext(r.Context(), "encoding opml failed", "error", err)
		apierror.Write(w, http.StatusInternalServerError, "internal", "encoding the channel list failed", nil)
		return
	}
	body = append([]byte(xml.Header), append(body, '\n')...)
	w.Header().Set("Content-Type", "text/x-opml; charset=utf-8")
	w.Header().Set("Cache-Control", cacheControl)
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	if r.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
}
