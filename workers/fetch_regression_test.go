package workers

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// largeFeed builds an RSS document of about 2.9 MB: episodes newest first,
// each with 4,000 characters of show notes, the size of a long-running
// podcast feed.
func largeFeed(episodes int) []byte {
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n" +
		`<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel>` +
		"<title>Weekly Partner Podcast</title><link>https://audio.example.com/</link>\n")
	newest := time.Date(2026, 3, 9, 20, 0, 0, 0, time.UTC)
	for n := episodes; n >= 1; n-- {
		notes := strings.Repeat(fmt.Sprintf("Notes for show %d. ", n), 4000/18)
		fmt.Fprintf(&b, "<item><title>Episode %d</title><guid>audio-example-%d</guid>"+
			"<pubDate>%s</pubDate><content:encoded><![CDATA[<p>%s</p>]]></content:encoded></item>\n",
			n, n, newest.AddDate(0, 0, -7*(episodes-n)).Format(time.RFC1123Z), notes)
	}
	b.WriteString("</channel></rss>\n")
	return b.Bytes()
}

// serveFramed serves body with the given HTTP/1.1 framing: "length" sets
// Content-Length, "chunked" streams it, "close" hijacks the connection and
// ends the body by closing it, and "short" announces one byte more than it
// sends.
func serveFramed(t *testing.T, framing string, body []byte) string {
	t.Helper()
	srv := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
		switch framing {
		case "length":
			w.Header().Set("Content-Length", strconv.Itoa(len(body)))
			_, _ = w.Write(body)
		case "chunked":
			for chunk := range slices.Chunk(body, 64<<10) {
				_, _ = w.Write(chunk)
				w.(http.Flusher).Flush()
			}
		default:
			writeRawResponse(t, w, framing, body)
		}
	})
	return srv.URL
}

func writeRawResponse(t *testing.T, w http.ResponseWriter, framing string, body []byte) {
	t.Helper()
	conn, buf, err := http.NewResponseController(w).Hijack()
	if err != nil {
		t.Errorf("hijacking connection: %v", err)
		return
	}
	defer conn.Close()
	header := "HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\nConnection: close\r\n"
	if framing == "short" {
		header += fmt.Sprintf("Content-Length: %d\r\n", len(body)+1)
	}
	_, _ = buf.WriteString(header + "\r\n")
	_, _ = buf.Write(body)
	_ = buf.Flush()
}

// A 1 MiB io.LimitReader once cut a 2.9 MB feed and the parser reported an
// unrecognised format. The fetcher must return the whole feed under the
// default cap and a distinct error naming the limit under a small one,
// whatever the framing.
func TestFetchLargeFeedNotTruncated(t *testing.T) {
	feed := largeFeed(681)
	if len(feed) < 2_800_000 {
		t.Fatalf("generated feed is %d bytes, want about 2.9 MB", len(feed))
	}
	for _, framing := range []string{"length", "chunked", "close"} {
		t.Run("default cap with "+framing+" framing", func(t *testing.T) {
			res := fetchURL(t, newTestFetcher(t, nil), serveFramed(t, framing, feed))
			if res.Outcome != OutcomeNewContent {
				t.Fatalf("Outcome = %v, want new_content (err %v)", res.Outcome, res.Err)
			}
			if !bytes.Equal(res.Body, feed) {
				t.Fatalf("Body has %d bytes, want the %d served", len(res.Body), len(feed))
			}
			if n := bytes.Count(res.Body, []byte("<item>")); n != 681 {
				t.Errorf("Body has %d items, want 681", n)
			}
			first := bytes.Index(res.Body, []byte("<title>Episode 681</title>"))
			last := bytes.Index(res.Body, []byte("<title>Episode 1</title>"))
			if first < 0 || last < first {
				t.Errorf("episode order: 681 at %d, 1 at %d, want 681 first", first, last)
			}
		})
		t.Run("1 MiB cap with "+framing+" framing", func(t *testing.T) {
			f := newTestFetcher(t, func(o *FetcherOptions) { o.MaxBody = 1 << 20 })
			res := fetchURL(t, f, serveFramed(t, framing, feed))
			assertTooLarge(t, res, 1<<20)
		})
	}
}

func TestFetchShortBodyNotReturned(t *testing.T) {
	res := fetchURL(t, newTestFetcher(t, nil), serveFramed(t, "short", []byte("<rss><channel>")))
	if res.Outcome != OutcomeRetryLater {
		t.Errorf("Outcome = %v, want retry_later (err %v)", res.Outcome, res.Err)
	}
	if res.Body != nil {
		t.Errorf("Body = %q, want nil: truncated bytes must not reach the parser", res.Body)
	}
}

// A reader once followed a 301 on every poll without recording it and kept
// requesting the old URL. The fetcher reports the permanent target so that
// the scheduler can switch. Temporary redirects and 410 are reported as such.
func TestFetchMovedFeedReported(t *testing.T) {
	atom := readFixture(t, "moved.atom")
	var newHits, oldHits atomic.Int32
	newHost := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
		newHits.Add(1)
		if r.URL.Path == "/retired.atom" {
			w.WriteHeader(http.StatusGone)
			return
		}
		w.Header().Set("Content-Type", "application/atom+xml; charset=utf-8")
		_, _ = w.Write(atom)
	})
	oldHost := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
		oldHits.Add(1)
		status := http.StatusMovedPermanently
		if r.URL.Path == "/tmp.xml" {
			status = http.StatusFound
		}
		http.Redirect(w, r, newHost.URL+"/feed.atom", status)
	})
	f := newTestFetcher(t, nil)

	first := fetchURL(t, f, oldHost.URL+"/blog/atom.xml")
	if first.Outcome != OutcomeNewContent {
		t.Fatalf("first poll: Outcome = %v, want new_content (err %v)", first.Outcome, first.Err)
	}
	if !bytes.Equal(first.Body, atom) {
		t.Errorf("first poll: Body differs from the feed at the new URL")
	}
	if first.MovedTo != newHost.URL+"/feed.atom" {
		t.Errorf("first poll: MovedTo = %q, want %q", first.MovedTo, newHost.URL+"/feed.atom")
	}

	second := fetchURL(t, f, first.MovedTo)
	if second.Outcome != OutcomeNewContent {
		t.Errorf("second poll: Outcome = %v, want new_content (err %v)", second.Outcome, second.Err)
	}
	if second.MovedTo != "" {
		t.Errorf("second poll: MovedTo = %q, want empty", second.MovedTo)
	}
	if n := oldHits.Load(); n != 1 {
		t.Errorf("old host saw %d requests, want 1", n)
	}

	temporary := fetchURL(t, f, oldHost.URL+"/tmp.xml")
	if temporary.MovedTo != "" {
		t.Errorf("temporary redirect: MovedTo = %q, want empty", temporary.MovedTo)
	}
	if temporary.FinalURL != newHost.URL+"/feed.atom" {
		t.Errorf("temporary redirect: FinalURL = %q, want %q", temporary.FinalURL, newHost.URL+"/feed.atom")
	}

	gone := fetchURL(t, f, newHost.URL+"/retired.atom")
	if gone.Outcome != OutcomeGone {
		t.Errorf("retired feed: Outcome = %v, want gone", gone.Outcome)
	}
	if gone.Err == nil {
		t.Error("retired feed: Err = nil, want the status as error")
	}
	if n := newHits.Load(); n != 4 {
		t.Errorf("new host saw %d requests, want 4", n)
	}
}

// Servers send brotli or gzip that was not requested, or label a plain body
// as gzip, and a fetcher that trusts the header hands compressed bytes to
// the parser. Every variant must yield the plain feed.
func TestFetchCompressionMislabelled(t *testing.T) {
	feed := readFixture(t, "feed.xml")
	tests := []struct {
		name     string
		encoding string
		body     []byte
	}{
		{"brotli sent although gzip was preferred", "br", brotliBytes(t, feed)},
		{"gzip sent without being asked", "gzip", gzipBytes(t, feed)},
		{"gzip header on a plain body", "gzip", feed},
		{"gzip body without a header", "", gzipBytes(t, feed)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := fetchURL(t, newTestFetcher(t, nil), serveEncoded(t, tc.encoding, tc.body))
			if res.Outcome != OutcomeNewContent {
				t.Fatalf("Outcome = %v, want new_content (err %v)", res.Outcome, res.Err)
			}
			if !bytes.Contains(res.Body, []byte("<title>Compressed item</title>")) {
				t.Errorf("Body = %q, want the plain feed with its item", res.Body)
			}
		})
	}
	t.Run("undecodable body is a decoding error", func(t *testing.T) {
		res := fetchURL(t, newTestFetcher(t, nil), serveEncoded(t, "br", []byte{0x0b, 0xff, 0x00, 0x9c}))
		if !errors.Is(res.Err, ErrContentDecoding) {
			t.Errorf("Err = %v, want ErrContentDecoding", res.Err)
		}
	})
}
