package feeds

import (
	"encoding/xml"
	"net/http"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"
)

func TestTextForAcceptLanguage(t *testing.T) {
	tests := []struct {
		name   string
		header string
		want   string
	}{
		{"empty header gives english", "", "en"},
		{"polish", "pl", "pl"},
		{"region of a supported language", "fr-CA,fr;q=0.9", "fr"},
		{"lithuanian", "lt-LT", "lt"},
		{"quality order wins", "de;q=0.5, lt;q=0.9", "lt"},
		{"german", "de-AT", "de"},
		{"unsupported language gives english", "es", "en"},
		{"unsupported first, supported later", "es, pl;q=0.8", "pl"},
		{"invalid header gives english", ";;;q=x", "en"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := textFor(tt.header).Lang; got != tt.want {
				t.Errorf("textFor(%q) = %s, want %s", tt.header, got, tt.want)
			}
		})
	}
}

// parsePage parses an HTML response body and fails the test on error.
func parsePage(t *testing.T, body string) *html.Node {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(body))
	if err != nil {
		t.Fatalf("parsing page: %v", err)
	}
	return doc
}

// findAll returns the elements named tag below n, in document order.
func findAll(n *html.Node, tag string) []*html.Node {
	var out []*html.Node
	if n.Type == html.ElementNode && n.Data == tag {
		out = append(out, n)
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		out = append(out, findAll(c, tag)...)
	}
	return out
}

func attr(n *html.Node, name string) string {
	for _, a := range n.Attr {
		if a.Key == name {
			return a.Val
		}
	}
	return ""
}

func alternates(doc *html.Node) []string {
	var out []string
	for _, l := range findAll(doc, "link") {
		if attr(l, "rel") == "alternate" {
			out = append(out, attr(l, "type")+" "+attr(l, "href"))
		}
	}
	return out
}

func TestHomePageListsChannels(t *testing.T) {
	h, _ := newTestHandler(t)
	rec := serve(t, h, http.MethodGet, "/", nil)
	if rec.Code != http.StatusOK {
		t.Fatalf("status = %d, want 200", rec.Code)
	}
	if ct := rec.Header().Get("Content-Type"); ct != "text/html; charset=utf-8" {
		t.Errorf("Content-Type = %q, want text/html; charset=utf-8", ct)
	}
	body := rec.Body.String()
	doc := parsePage(t, body)
	if n := len(findAll(doc, "script")); n != 0 {
		t.Errorf("page has %d script elements, want none", n)
	}
	if csp := rec.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") {
		t.Errorf("Content-Security-Policy = %q, want default-src 'none'", csp)
	}
	alt := alternates(doc)
	for _, want := range []string{
		"application/rss+xml https://hub.example.org/feeds/all.rss",
		"application/atom+xml https://hub.example.org/feeds/all.atom",
		"application/feed+json https://hub.example.org/feeds/fr.podcasts.json",
	} {
		if !strings.Contains(strings.Join(alt, "\n"), want) {
			t.Errorf("alternate links = %v, want %s", alt, want)
		}
	}
	if len(alt) != 6 {
		t.Errorf("alternate links = %d, want 6 (2 channels in 3 formats)", len(alt))
	}
	for _, want := range []string{"Everything", "Podcasts", `href="https://hub.example.org/channels/all"`, `href="https://hub.example.org/opml"`} {
		if !strings.Contains(body, want) {
			t.Errorf("home page lacks %s", want)
		}
	}
}

func TestHomePageLocalised(t *testing.T) {
	h, _ := newTestHandler(t)
	tests := []struct {
		name     string
		header   string
		wantLang string
		wantText string
	}{
		{"english by default", "", "en", "Merged partner news"},
		{"polish", "pl-PL,pl;q=0.9", "pl", "Połączone wiadomości partnerów"},
		{"french", "fr", "fr", "Actualités réunies des partenaires"},
		{"lithuanian", "lt", "lt", "Sujungtos partnerių naujienos"},
		{"german", "de-DE", "de", "Zusammengeführte Partnernachrichten"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := serve(t, h, http.MethodGet, "/", map[string]string{"Accept-Language": tt.header})
			if got := rec.Header().Get("Content-Language"); got != tt.wantLang {
				t.Errorf("Content-Language = %q, want %q", got, tt.wantLang)
			}
			if !strings.Contains(rec.Body.String(), `<html lang="`+tt.wantLang+`">`) {
				t.Errorf("page lacks <html lang=%q>", tt.wantLang)
			}
			if !strings.Contains(rec.Body.String(), tt.wantText) {
				t.Errorf("page lacks %q", tt.wantText)
			}
			if vary := strings.Join(rec.Header().Values("Vary"), ", "); !strings.Contains(vary, "Accept-Language") {
				t.Errorf("Vary = %q, want Accept-Language in it", vary)
			}
		})
	}
}

func TestHomePageSignUpLink(t *testing.T) {
	v := NewView(10)
	with := NewHandler(HandlerOptions{View: v, BaseURL: "https://hub.example.org", SignUpURL: "/digests/new"})
	if body := serve(t, with, http.MethodGet, "/", nil).Body.String(); !strings.Contains(body, `href="/digests/new"`) {
		t.Error("home page lacks the sign-up link")
	}
	without := NewHandler(HandlerOptions{View: v, BaseURL: "https://hub.example.org"})
	if body := serve(t, without, http.MethodGet, "/", nil).Body.String(); strings.Contains(body, "digest") {
		t.Error("home page links a sign-up form that is not configured")
	}
}

func TestChannelPageShowsItems(t *testing.T) {
	h, v := newTestHandler(t)
	bad := event("hostile", mustTime(t, "2026-12-03T10:00:00Z"))
	bad.Title = "Hostile <item>"
	bad.Language = "pl"
	bad.Content = `<p onclick="steal()">Safe text</p><script>alert(1)</script><a href="javascript:alert(2)">x</a>`
	v.Apply(bad)

	rec := serve(t, h, http.MethodGet, "/channels/all", map[string]string{"Accept-Language": "pl"})
	if rec.Code != http.StatusOK {
		t.Fatalf("status = %d, want 200", rec.Code)
	}
	body := rec.Body.String()
	doc := parsePage(t, body)
	if n := len(findAll(doc, "article")); n != 4 {
		t.Errorf("articles = %d, want 4", n)
	}
	for _, want := range []string{
		"Hostile &lt;item&gt;", "Safe text", "Northwind Gazette", "Radio Sud",
		`<article lang="pl">`, "Opublikowano", "Źródło", "Język",
		"Harbour reopens after storm (updated)",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("channel page lacks %q", want)
		}
	}
	for _, banned := range []string{"<script", "onclick", "javascript:", "steal()"} {
		if strings.Contains(body, banned) {
			t.Errorf("channel page contains %q", banned)
		}
	}
	alt := alternates(doc)
	if len(alt) != 3 || !strings.Contains(alt[1], "https://hub.example.org/feeds/all.atom") {
		t.Errorf("alternate links = %v, want the channel's 3 feeds", alt)
	}
}

func TestChannelPageQuery(t *testing.T) {
	h, _ := newTestHandler(t)
	rec := serve(t, h, http.MethodGet, "/channels/all?lang=fr", nil)
	if rec.Code != http.StatusOK {
		t.Fatalf("status = %d, want 200", rec.Code)
	}
	doc := parsePage(t, rec.Body.String())
	if n := len(findAll(doc, "article")); n != 1 {
		t.Errorf("articles = %d, want 1", n)
	}
	alt := alternates(doc)
	if len(alt) == 0 || !strings.HasSuffix(alt[0], "/feeds/all.rss?lang=fr") {
		t.Errorf("alternate links = %v, want feeds narrowed by lang=fr", alt)
	}
}

func TestChannelPageErrors(t *testing.T) {
	h, _ := newTestHandler(t)
	tests := []struct {
		name   string
		path   string
		status int
	}{
		{"unknown channel", "/channels/nope", http.StatusNotFound},
		{"invalid limit", "/channels/all?limit=x", http.StatusBadRequest},
		{"unknown page", "/about", http.StatusNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if rec := serve(t, h, http.MethodGet, tt.path, nil); rec.Code != tt.status {
				t.Errorf("status = %d, want %d", rec.Code, tt.status)
			}
		})
	}
}

func TestChannelPageRevalidates(t *testing.T) {
	h, v := newTestHandler(t)
	first := serve(t, h, http.MethodGet, "/channels/all", nil)
	etag := first.Header().Get("ETag")
	again := serve(t, h, http.MethodGet, "/channels/all", map[string]string{"If-None-Match": etag})
	if again.Code != http.StatusNotModified {
		t.Errorf("status with matching ETag = %d, want 304", again.Code)
	}
	polish := serve(t, h, http.MethodGet, "/channels/all", map[string]string{"Accept-Language": "pl", "If-None-Match": etag})
	if polish.Code != http.StatusOK {
		t.Errorf("status for another language = %d, want 200", polish.Code)
	}
	v.Apply(event("newer", time.Date(2026, 12, 5, 0, 0, 0, 0, time.UTC)))
	after := serve(t, h, http.MethodGet, "/channels/all", map[string]string{"If-None-Match": etag})
	if after.Code != http.StatusOK {
		t.Errorf("status after a new item = %d, want 200", after.Code)
	}
	if !strings.Contains(after.Body.String(), "Title newer") {
		t.Error("channel page lacks the new item")
	}
}

func TestOPMLListsEveryFeed(t *testing.T) {
	h, _ := newTestHandler(t)
	rec := serve(t, h, http.MethodGet, "/opml", nil)
	if rec.Code != http.StatusOK {
		t.Fatalf("status = %d, want 200", rec.Code)
	}
	if ct := rec.Header().Get("Content-Type"); ct != "text/x-opml; charset=utf-8" {
		t.Errorf("Content-Type = %q, want text/x-opml; charset=utf-8", ct)
	}
	var doc struct {
		Version  string `xml:"version,attr"`
		Title    string `xml:"head>title"`
		Outlines []struct {
			Type    string `xml:"type,attr"`
			Text    string `xml:"text,attr"`
			XMLURL  string `xml:"xmlUrl,attr"`
			HTMLURL string `xml:"htmlUrl,attr"`
		} `xml:"body>outline"`
	}
	if err := xml.Unmarshal(rec.Body.Bytes(), &doc); err != nil {
		t.Fatalf("decoding opml: %v", err)
	}
	if doc.Version != "2.0" {
		t.Errorf("version = %q, want 2.0", doc.Version)
	}
	want := map[string]bool{}
	for _, ch := range []string{"all", "fr.podcasts"} {
		for _, ext := range []string{"rss", "atom", "json"} {
			want["https://hub.example.org/feeds/"+ch+"."+ext] = true
		}
	}
	if len(doc.Outlines) != len(want) {
		t.Errorf("outlines = %d, want %d", len(doc.Outlines), len(want))
	}
	for _, o := range doc.Outlines {
		if !want[o.XMLURL] {
			t.Errorf("unexpected xmlUrl %q", o.XMLURL)
		}
		if o.Type != "rss" || o.Text == "" || !strings.HasPrefix(o.HTMLURL, "https://hub.example.org/channels/") {
			t.Errorf("outline %+v lacks type, text or htmlUrl", o)
		}
	}
}
