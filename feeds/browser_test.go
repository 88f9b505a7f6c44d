package feeds

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/net/html"
)

// chromiumPath returns the headless browser for the browser tests. Outside
// CI a missing browser skips the test with a hint. In CI (CI=true) it fails
// the test, because .ci/run installs the browser.
func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("chromium not found: .ci/run installs it with apt-get install chromium")
	}
	t.Skip("chromium not found: install it with apt-get install chromium")
	return ""
}

// renderedDOM loads url in headless Chromium with langs, a comma-separated
// list of language tags without quality values, as the reader's languages,
// and returns the DOM after the page has loaded, as a reader's
// browser builds it.
func renderedDOM(t *testing.T, browser, url, langs string) *html.Node {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, browser,
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir="+t.TempDir(), "--accept-lang="+langs, "--dump-dom", url)
	out, err := cmd.Output()
	if err != nil {
		var exitErr *exec.ExitError
		if errors.As(err, &exitErr) {
			t.Fatalf("running chromium on %s: %v\n%s", url, err, exitErr.Stderr)
		}
		t.Fatalf("running chromium on %s: %v", url, err)
	}
	return parsePage(t, string(out))
}

// visibleText returns the text a reader sees in n: text nodes outside
// head, script and style, with runs of whitespace collapsed.
func visibleText(n *html.Node) string {
	var b strings.Builder
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode && (n.Data == "head" || n.Data == "script" || n.Data == "style") {
			return
		}
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
			b.WriteByte(' ')
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return strings.Join(strings.Fields(b.String()), " ")
}

// startPageServer serves the test handler on a local port, with a base URL
// that points at that port so every link in the pages works.
func startPageServer(t *testing.T) string {
	t.Helper()
	// The handler needs the server's URL, so it is stored after the start,
	// through an atomic pointer that orders it before every request.
	var handler atomic.Pointer[http.Handler]
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		(*handler.Load()).ServeHTTP(w, r)
	}))
	srv.Start()
	t.Cleanup(srv.Close)
	v := NewView(100)
	for _, ev := range loadEvents(t, "events.json") {
		v.Apply(ev)
	}
	hostile := event("hostile", time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC))
	hostile.Title = "Targi eksportowe"
	hostile.Language = "pl"
	hostile.Content = `<p>Zapraszamy na targi.</p><script>document.body.innerHTML = "hijacked"</script>` +
		`<img src="x" onerror="document.title='pwned'">`
	v.Apply(hostile)
	m := testMeta()
	h := NewHandler(HandlerOptions{
		View:         v,
		Channels:     []Channel{{ID: "all", Title: "Everything", Description: "All partners"}},
		BaseURL:      srv.URL,
		TagAuthority: m.TagAuthority,
		Partners:     m.Partners,
		FeedURLs:     m.FeedURLs,
		SignUpURL:    "/digests",
	})
	handler.Store(&h)
	return srv.URL
}

func TestBrowserHomePage(t *testing.T) {
	browser := chromiumPath(t)
	base := startPageServer(t)
	doc := renderedDOM(t, browser, base+"/", "pl-PL,pl")

	if lang := attr(findAll(doc, "html")[0], "lang"); lang != "pl" {
		t.Errorf("html lang = %q, want pl", lang)
	}
	text := visibleText(doc)
	for _, want := range []string{"Połączone wiadomości partnerów", "Kanały", "Everything", "Subskrybuj", "Zamów przegląd e-mailem"} {
		if !strings.Contains(text, want) {
			t.Errorf("home page text lacks %q:\n%s", want, text)
		}
	}
	var hrefs []string
	for _, a := range findAll(doc, "a") {
		hrefs = append(hrefs, attr(a, "href"))
	}
	for _, want := range []string{base + "/channels/all", base + "/feeds/all.atom", base + "/opml", "/digests"} {
		if !strings.Contains(strings.Join(hrefs, "\n"), want) {
			t.Errorf("home page links %v, want %s", hrefs, want)
		}
	}
	if alt := alternates(doc); len(alt) != 3 {
		t.Errorf("autodiscovery links = %v, want 3", alt)
	}
}

func TestBrowserChannelPage(t *testing.T) {
	browser := chromiumPath(t)
	base := startPageServer(t)
	doc := renderedDOM(t, browser, base+"/channels/all", "de")

	titles := findAll(doc, "title")
	if len(titles) != 1 || visibleText(titles[0]) != "Everything" {
		t.Errorf("document title = %v, want Everything, unchanged by item scripts", titles)
	}
	articles := findAll(doc, "article")
	if len(articles) != 4 {
		t.Fatalf("articles = %d, want 4", len(articles))
	}
	first := visibleText(articles[0])
	for _, want := range []string{"Targi eksportowe", "Zapraszamy na targi.", "Quelle: Northwind Gazette", "Sprache: pl", "Veröffentlicht: 2026-12-03 09:00 UTC"} {
		if !strings.Contains(first, want) {
			t.Errorf("first article text = %q, want %q in it", first, want)
		}
	}
	if lang := attr(articles[0], "lang"); lang != "pl" {
		t.Errorf("first article lang = %q, want pl", lang)
	}
	if text := visibleText(doc); strings.Contains(text, "hijacked") {
		t.Error("an item script ran in the page")
	}
	if n := len(findAll(doc, "script")); n != 0 {
		t.Errorf("page DOM has %d script elements, want none", n)
	}
	for _, img := range findAll(doc, "img") {
		if attr(img, "onerror") != "" {
			t.Errorf("image keeps an event handler: %q", attr(img, "onerror"))
		}
	}
	if alt := alternates(doc); len(alt) != 3 || !strings.Contains(alt[1], base+"/feeds/all.atom") {
		t.Errorf("autodiscovery links = %v, want the channel's 3 feeds", alt)
	}
}
