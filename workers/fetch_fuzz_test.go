package workers

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/syndic-network/syndic/pipeline"
)

// fuzzResponse is the response the fuzz server sends for the current input.
type fuzzResponse struct {
	contentType, contentEncoding string
	body                         []byte
}

// FuzzFetchAndParse serves fuzzed bodies with fuzzed Content-Type and
// Content-Encoding headers over loopback, fetches them and parses the
// result as a poll does. Neither step may panic, a fetch ends with one
// outcome, a body never exceeds the cap, and parsed items hold valid
// UTF-8.
func FuzzFetchAndParse(f *testing.F) {
	seedFetchFuzz(f)
	var mu sync.Mutex
	var current fuzzResponse
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		mu.Lock()
		r := current
		mu.Unlock()
		if r.contentType != "" {
			w.Header().Set("Content-Type", r.contentType)
		}
		if r.contentEncoding != "" {
			w.Header().Set("Content-Encoding", r.contentEncoding)
		}
		_, _ = w.Write(r.body)
	}))
	f.Cleanup(srv.Close)
	const maxBody = 64 << 10
	fetcher := NewFetcher(FetcherOptions{Timeout: 5 * time.Second, MaxBody: maxBody, AllowPrivateNetworks: true})

	f.Fuzz(func(t *testing.T, contentType, contentEncoding string, body []byte) {
		if !validHeaderValue(contentType) || !validHeaderValue(contentEncoding) {
			return
		}
		mu.Lock()
		current = fuzzResponse{contentType, contentEncoding, body}
		mu.Unlock()
		res := fetcher.Fetch(context.Background(), FetchRequest{URL: srv.URL + "/feed"})
		if res.Outcome < OutcomeNotModified || res.Outcome > OutcomeGone {
			t.Fatalf("fetch ended with no outcome: %v (err %v)", res.Outcome, res.Err)
		}
		if len(res.Body) > maxBody {
			t.Fatalf("body of %d bytes exceeds the %d byte cap", len(res.Body), maxBody)
		}
		if res.Outcome != OutcomeNewContent {
			if res.Err == nil {
				t.Fatalf("outcome %v without an error", res.Outcome)
			}
			return
		}
		parsed, err := pipeline.ParseFeed(res.Body, res.ContentType, pipeline.Source{Partner: "p", Feed: "f", FeedURL: srv.URL}, time.Now())
		if err != nil {
			return
		}
		for _, it := range parsed.Items {
			if !utf8.ValidString(it.Title) || !utf8.ValidString(it.Content) {
				t.Fatalf("item with invalid UTF-8: %+v", it)
			}
		}
		_ = discoveredFeed(PollReport{}, res, srv.URL)
	})
}

// validHeaderValue reports whether net/http would send v as a header
// value; other values would only test the test server.
func validHeaderValue(v string) bool {
	return utf8.ValidString(v) && !strings.ContainsAny(v, "\r\n\x00") && len(v) < 200
}

func seedFetchFuzz(f *testing.F) {
	f.Add("application/rss+xml; charset=utf-8", "", []byte(`<rss version="2.0"><channel><title>t</title><item><title>a & b</title><link>https://x.example/1</link></item></channel></rss>`))
	f.Add("text/xml; charset=windows-1250", "", []byte("<?xml version=\"1.0\" encoding=\"windows-1250\"?><rss><channel><item><title>\xbf\xf3\xb3w</title></item></channel></rss>"))
	f.Add("text/html", "", []byte(`<html><head><link rel="alternate" type="application/rss+xml" href="/f"></head></html>`))
	f.Add("application/feed+json", "", []byte(`{"version":"https://jsonfeed.org/version/1.1","items":[{"id":"1","title":"x"}]}`))
	f.Add("text/xml", "gzip", []byte("<rss/>"))
	f.Add("text/xml", "br", []byte{0x0b, 0x02, 0x80, 0x3c, 0x72, 0x73, 0x73, 0x2f, 0x3e, 0x03})
	f.Add("", "deflate", []byte{0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01})
	paths, _ := filepath.Glob(filepath.Join("testdata", "*.xml"))
	for _, p := range paths {
		if body, err := os.ReadFile(p); err == nil {
			f.Add("application/xml", "", body)
		}
	}
}
