package workers

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"testing"
)

func TestFindFeedLinks(t *testing.T) {
	const page = "https://news.example/section/index.html"
	tests := []struct {
		name string
		html string
		want []string
	}{
		{"rss link in head", `<html><head><link rel="alternate" type="application/rss+xml" href="/feed.xml"></head></html>`,
			[]string{"https://news.example/feed.xml"}},
		{"atom preferred over rss", `<head>
			<link rel="alternate" type="application/rss+xml" href="rss.xml">
			<link rel="alternate" type="application/atom+xml" href="atom.xml"></head>`,
			[]string{"https://news.example/section/atom.xml", "https://news.example/section/rss.xml"}},
		{"base href resolves relative links", `<head><base href="https://cdn.example/site/"><link rel="alternate" type="application/rss+xml" href="feed"></head>`,
			[]string{"https://cdn.example/site/feed"}},
		{"attribute case and rel lists are accepted", `<HEAD><LINK REL="Alternate Feed" TYPE="Application/RSS+XML; charset=utf-8" HREF="/a"></HEAD>`,
			[]string{"https://news.example/a"}},
		{"links in body are found", `<html><body><link rel="alternate" type="application/atom+xml" href="/b"></body></html>`,
			[]string{"https://news.example/b"}},
		{"duplicates are listed once", `<link rel="alternate" type="application/rss+xml" href="/c#top"><link rel="alternate" type="application/rss+xml" href="/c">`,
			[]string{"https://news.example/c"}},
		{"html alternates are ignored", `<link rel="alternate" type="text/html" hreflang="de" href="/de/">`, nil},
		{"stylesheets are ignored", `<link rel="alternate stylesheet" type="application/rss+xml" href="/s">`, nil},
		{"non-http schemes are ignored", `<link rel="alternate" type="application/rss+xml" href="javascript:alert(1)">`, nil},
		{"missing href is ignored", `<link rel="alternate" type="application/rss+xml">`, nil},
		{"page without links gives none", `<html><head><title>x</title></head><body>hello</body></html>`, nil},
		{"broken html is read", `<head><link rel=alternate type=application/rss+xml href=/d><p><<<`,
			[]string{"https://news.example/d"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := FindFeedLinks([]byte(tc.html), page); !slices.Equal(got, tc.want) {
				t.Errorf("FindFeedLinks = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestLooksLikeHTML(t *testing.T) {
	tests := []struct {
		name        string
		contentType string
		body        string
		want        bool
	}{
		{"html media type", "text/html; charset=utf-8", "<rss/>", true},
		{"xhtml media type", "application/xhtml+xml", "", true},
		{"doctype without media type", "", "  <!DOCTYPE html><html>", true},
		{"html tag under a generic type", "application/octet-stream", "<html lang=en>", true},
		{"rss under a generic type", "text/plain", "<?xml version='1.0'?><rss/>", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := looksLikeHTML(tc.contentType, []byte(tc.body)); got != tc.want {
				t.Errorf("looksLikeHTML = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestDiscover(t *testing.T) {
	srv := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/page":
			w.Header().Set("Content-Type", "text/html")
			_, _ = w.Write([]byte(`<html><head><link rel="alternate" type="application/rss+xml" href="/feed"></head></html>`))
		case "/bare":
			w.Header().Set("Content-Type", "text/html")
			_, _ = w.Write([]byte(`<html><body>no feed here</body></html>`))
		case "/moved":
			http.Redirect(w, r, "/feed", http.StatusMovedPermanently)
		case "/feed":
			w.Header().Set("Content-Type", "application/rss+xml")
			_, _ = w.Write([]byte(`<rss version="2.0"><channel><title>x</title></channel></rss>`))
		default:
			http.NotFound(w, r)
		}
	})
	f := newTestFetcher(t, nil)
	ctx := context.Background()
	tests := []struct {
		name    string
		path    string
		want    string
		wantErr error
	}{
		{"page resolves to its feed", "/page", srv.URL + "/feed", nil},
		{"feed resolves to itself", "/feed", srv.URL + "/feed", nil},
		{"redirect resolves to its target", "/moved", srv.URL + "/feed", nil},
		{"page without feed link fails", "/bare", "", ErrNoFeedFound},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := f.Discover(ctx, srv.URL+tc.path, false)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("Discover error = %v, want %v", err, tc.wantErr)
			}
			if got != tc.want {
				t.Errorf("Discover = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestDiscoverMissingPage(t *testing.T) {
	srv := newTestServer(t, http.NotFound)
	if _, err := newTestFetcher(t, nil).Discover(context.Background(), srv.URL+"/x", false); err == nil {
		t.Error("Discover of a 404 page returned no error")
	}
}
