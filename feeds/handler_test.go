package feeds

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/syndic-network/syndic/internal/feedcheck"
)

func newTestHandler(t *testing.T) (http.Handler, *View) {
	t.Helper()
	v := NewView(100)
	for _, ev := range loadEvents(t, "events.json") {
		v.Apply(ev)
	}
	m := testMeta()
	h := NewHandler(HandlerOptions{
		View: v,
		Channels: []Channel{
			{ID: "all", Title: "Everything", Description: "All partners", Language: "en"},
			{ID: "fr.podcasts", Title: "Podcasts", Filter: Filter{Languages: []string{"fr"}}},
		},
		BaseURL:      "https://hub.example.org/",
		TagAuthority: m.TagAuthority,
		Partners:     m.Partners,
		FeedURLs:     m.FeedURLs,
	})
	return h, v
}

func serve(t *testing.T, h http.Handler, method, path string, header map[string]string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, path, nil)
	for k, val := range header {
		req.Header.Set(k, val)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func TestHandlerServesFormats(t *testing.T) {
	h, _ := newTestHandler(t)
	tests := []struct {
		name        string
		path        string
		contentType string
		check       func(testing.TB, []byte)
	}{
		{"rss", "/feeds/all.rss", "application/rss+xml; charset=utf-8", feedcheck.CheckRSS},
		{"atom", "/feeds/all.atom", "application/atom+xml; charset=utf-8", feedcheck.CheckAtom},
		{"json feed", "/feeds/all.json", "application/feed+json; charset=utf-8", feedcheck.CheckJSONFeed},
		{"channel id with a dot", "/feeds/fr.podcasts.atom", "application/atom+xml; charset=utf-8", feedcheck.CheckAtom},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := serve(t, h, http.MethodGet, tt.path, nil)
			if rec.Code != http.StatusOK {
				t.Fatalf("status = %d, want 200: %s", rec.Code, rec.Body)
			}
			wantHeaders := map[string]string{
				"Content-Type":                tt.contentType,
				"Cache-Control":               "public, max-age=60",
				"Vary":                        "Accept-Encoding",
				"Access-Control-Allow-Origin": "*",
			}
			for k, want := range wantHeaders {
				if got := rec.Header().Get(k); got != want {
					t.Errorf("%s = %q, want %q", k, got, want)
				}
			}
			if etag := rec.Header().Get("ETag"); !strings.HasPrefix(etag, `"`) || !strings.HasSuffix(etag, `"`) {
				t.Errorf("ETag = %q, want a strong quoted tag", etag)
			}
			if _, err := http.ParseTime(rec.Header().Get("Last-Modified")); err != nil {
				t.Errorf("Last-Modified %q does not parse: %v", rec.Header().Get("Last-Modified"), err)
			}
			tt.check(t, rec.Body.Bytes())
		})
	}
}

func TestHandlerSelfLinkUsesBaseURL(t *testing.T) {
	h, _ := newTestHandler(t)
	rec := serve(t, h, http.MethodGet, "/feeds/all.atom", nil)
	d := decodeAtom(t, rec.Body.Bytes())
	if !hasLink(d.Links, "self", "https://hub.example.org/feeds/all.atom") {
		t.Errorf("links = %+v, want self https://hub.example.org/feeds/all.atom", d.Links)
	}
	if d.Lang != "en" {
		t.Errorf("xml:lang = %q, want en", d.Lang)
	}
}

func TestHandlerNotModified(t *testing.T) {
	h, _ := newTestHandler(t)
	first := serve(t, h, http.MethodGet, "/feeds/all.rss", nil)
	etag := first.Header().Get("ETag")
	lastModified := first.Header().Get("Last-Modified")
	later := time.Now().Add(time.Hour).UTC().Format(http.TimeFormat)
	earlier := time.Unix(0, 0).UTC().Format(http.TimeFormat)

	tests := []struct {
		name   string
		header map[string]string
		want   int
	}{
		{"matching etag", map[string]string{"If-None-Match": etag}, http.StatusNotModified},
		{"etag in a list", map[string]string{"If-None-Match": `"other", ` + etag}, http.StatusNotModified},
		{"weak form of the etag", map[string]string{"If-None-Match": "W/" + etag}, http.StatusNotModified},
		{"other etag", map[string]string{"If-None-Match": `"other"`}, http.StatusOK},
		{"same modification time", map[string]string{"If-Modified-Since": lastModified}, http.StatusNotModified},
		{"later modification time", map[string]string{"If-Modified-Since": later}, http.StatusNotModified},
		{"earlier modification time", map[string]string{"If-Modified-Since": earlier}, http.StatusOK},
		{"etag wins over date", map[string]string{"If-None-Match": `"other"`, "If-Modified-Since": later}, http.StatusOK},
		{"gzip etag needs gzip", map[string]string{"If-None-Match": etag, "Accept-Encoding": "gzip"}, http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := serve(t, h, http.MethodGet, "/feeds/all.rss", tt.header)
			if rec.Code != tt.want {
				t.Fatalf("status = %d, want %d", rec.Code, tt.want)
			}
			if tt.want == http.StatusNotModified {
				if rec.Body.Len() != 0 {
					t.Errorf("304 has a body of %d bytes", rec.Body.Len())
				}
				if rec.Header().Get("ETag") != etag {
					t.Errorf("304 ETag = %q, want %q", rec.Header().Get("ETag"), etag)
				}
			}
		})
	}
}

func TestHandlerGzip(t *testing.T) {
	h, _ := newTestHandler(t)
	plain := serve(t, h, http.MethodGet, "/feeds/all.json", nil)
	tests := []struct {
		name     string
		encoding string
		wantGzip bool
	}{
		{"gzip requested", "gzip, deflate, br", true},
		{"gzip with quality", "br;q=1.0, gzip;q=0.5", true},
		{"gzip refused", "gzip;q=0, br", false},
		{"wildcard", "*", true},
		{"no header", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := serve(t, h, http.MethodGet, "/feeds/all.json", map[string]string{"Accept-Encoding": tt.encoding})
			gotGzip := rec.Header().Get("Content-Encoding") == "gzip"
			if gotGzip != tt.wantGzip {
				t.Fatalf("Content-Encoding = %q, want gzip %v", rec.Header().Get("Content-Encoding"), tt.wantGzip)
			}
			body := rec.Body.Bytes()
			if gotGzip {
				body = gunzip(t, body)
				if rec.Header().Get("ETag") == plain.Header().Get("ETag") {
					t.Error("gzip response reuses the ETag of the identity response")
				}
			}
			if !bytes.Equal(body, plain.Body.Bytes()) {
				t.Error("decoded body differs from the identity response")
			}
		})
	}
}

func gunzip(t *testing.T, b []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("opening gzip body: %v", err)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		t.Fatalf("reading gzip body: %v", err)
	}
	return out
}

func TestHandlerErrors(t *testing.T) {
	h, _ := newTestHandler(t)
	tests := []struct {
		name     string
		method   string
		path     string
		want     int
		wantCode string
	}{
		{"unknown channel", http.MethodGet, "/feeds/nope.rss", http.StatusNotFound, "channel_not_found"},
		{"unknown format", http.MethodGet, "/feeds/all.xml", http.StatusNotFound, "format_not_found"},
		{"missing format", http.MethodGet, "/feeds/all", http.StatusNotFound, "format_not_found"},
		{"unknown path", http.MethodGet, "/other", http.StatusNotFound, "not_found"},
		{"post is not allowed", http.MethodPost, "/feeds/all.rss", http.StatusMethodNotAllowed, "method_not_allowed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := serve(t, h, tt.method, tt.path, nil)
			if rec.Code != tt.want {
				t.Fatalf("status = %d, want %d", rec.Code, tt.want)
			}
			if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type = %q, want application/json", ct)
			}
			var body struct {
				Error struct {
					Code    string `json:"code"`
					Message string `json:"message"`
				} `json:"error"`
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
				t.Fatalf("decoding error body %q: %v", rec.Body, err)
			}
			if body.Error.Code != tt.wantCode {
				t.Errorf("error code = %q, want %q", body.Error.Code, tt.wantCode)
			}
			if body.Error.Message == "" {
				t.Error("error message is empty")
			}
			if tt.want == http.StatusMethodNotAllowed && rec.Header().Get("Allow") != "GET, HEAD" {
				t.Errorf("Allow = %q, want GET, HEAD", rec.Header().Get("Allow"))
			}
		})
	}
}

func TestHandlerCacheInvalidation(t *testing.T) {
	h, v := newTestHandler(t)
	first := serve(t, h, http.MethodGet, "/feeds/all.atom", nil)
	again := serve(t, h, http.MethodGet, "/feeds/all.atom", nil)
	if first.Header().Get("ETag") != again.Header().Get("ETag") {
		t.Fatal("ETag changed without a change to the view")
	}

	v.Apply(event("fresh", time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC)))
	after := serve(t, h, http.MethodGet, "/feeds/all.atom", map[string]string{"If-None-Match": first.Header().Get("ETag")})
	if after.Code != http.StatusOK {
		t.Fatalf("status after Apply = %d, want 200", after.Code)
	}
	if !strings.Contains(after.Body.String(), "tag:hub.example.org,2026-12-04:fresh") {
		t.Error("document after Apply lacks the new entry")
	}
	if after.Header().Get("ETag") == first.Header().Get("ETag") {
		t.Error("ETag did not change after Apply")
	}
}

func TestHandlerHead(t *testing.T) {
	h, _ := newTestHandler(t)
	get := serve(t, h, http.MethodGet, "/feeds/all.rss", nil)
	head := serve(t, h, http.MethodHead, "/feeds/all.rss", nil)
	if head.Code != http.StatusOK {
		t.Fatalf("status = %d, want 200", head.Code)
	}
	if head.Body.Len() != 0 {
		t.Errorf("HEAD body has %d bytes, want 0", head.Body.Len())
	}
	for _, k := range []string{"ETag", "Content-Type", "Content-Length", "Last-Modified"} {
		if head.Header().Get(k) != get.Header().Get(k) {
			t.Errorf("HEAD %s = %q, GET has %q", k, head.Header().Get(k), get.Header().Get(k))
		}
	}
}

func TestHandlerIndex(t *testing.T) {
	h, _ := newTestHandler(t)
	rec := serve(t, h, http.MethodGet, "/feeds", nil)
	if rec.Code != http.StatusOK {
		t.Fatalf("status = %d, want 200", rec.Code)
	}
	var index struct {
		Channels []struct {
			ID   string            `json:"id"`
			URLs map[string]string `json:"urls"`
		} `json:"channels"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &index); err != nil {
		t.Fatalf("decoding index: %v", err)
	}
	if len(index.Channels) != 2 {
		t.Fatalf("channels = %+v, want 2", index.Channels)
	}
	if got, want := index.Channels[1].URLs["atom"], "https://hub.example.org/feeds/fr.podcasts.atom"; got != want {
		t.Errorf("atom url = %q, want %q", got, want)
	}
	for _, ch := range index.Channels {
		for ext, u := range ch.URLs {
			path := strings.TrimPrefix(u, "https://hub.example.org")
			if got := serve(t, h, http.MethodGet, path, nil); got.Code != http.StatusOK {
				t.Errorf("listed %s url %s returns %d", ext, u, got.Code)
			}
		}
	}
}
