package workers

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"encoding/binary"
	"errors"
	"io"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/andybalholm/brotli"
)

func gzipBytes(t *testing.T, data []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	writeAndClose(t, zw, data)
	return buf.Bytes()
}

func zlibBytes(t *testing.T, data []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	writeAndClose(t, zlib.NewWriter(&buf), data)
	return buf.Bytes()
}

func rawDeflateBytes(t *testing.T, data []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	fw, err := flate.NewWriter(&buf, flate.DefaultCompression)
	if err != nil {
		t.Fatalf("creating flate writer: %v", err)
	}
	writeAndClose(t, fw, data)
	return buf.Bytes()
}

func brotliBytes(t *testing.T, data []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	writeAndClose(t, brotli.NewWriter(&buf), data)
	return buf.Bytes()
}

func writeAndClose(t *testing.T, w io.WriteCloser, data []byte) {
	t.Helper()
	if _, err := w.Write(data); err != nil {
		t.Fatalf("compressing: %v", err)
	}
	if err := w.Close(); err != nil {
		t.Fatalf("closing compressor: %v", err)
	}
}

// serveEncoded starts a server that responds to every request with body
// and, when encoding is not empty, that Content-Encoding header.
func serveEncoded(t *testing.T, encoding string, body []byte) string {
	t.Helper()
	srv := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/rss+xml; charset=utf-8")
		if encoding != "" {
			w.Header().Set("Content-Encoding", encoding)
		}
		_, _ = w.Write(body)
	})
	return srv.URL
}

func TestFetchContentDecoding(t *testing.T) {
	feed := readFixture(t, "feed.xml")
	tests := []struct {
		name     string
		encoding string
		body     []byte
	}{
		{"gzip", "gzip", gzipBytes(t, feed)},
		{"x-gzip alias", "x-gzip", gzipBytes(t, feed)},
		{"uppercase label", "GZIP", gzipBytes(t, feed)},
		{"deflate as zlib", "deflate", zlibBytes(t, feed)},
		{"deflate without zlib header", "deflate", rawDeflateBytes(t, feed)},
		{"brotli", "br", brotliBytes(t, feed)},
		{"identity label", "identity", feed},
		{"no label", "", feed},
		{"gzip without label", "", gzipBytes(t, feed)},
		{"gzip label on plain body", "gzip", feed},
		{"gzip labelled as brotli", "br", gzipBytes(t, feed)},
		{"gzip labelled as deflate", "deflate", gzipBytes(t, feed)},
		{"brotli label on plain body", "br", feed},
		{"deflate label on plain body", "deflate", feed},
		{"stacked gzip then brotli", "gzip, br", brotliBytes(t, gzipBytes(t, feed))},
		{"stacked deflate then gzip", "deflate, gzip", gzipBytes(t, zlibBytes(t, feed))},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := fetchURL(t, newTestFetcher(t, nil), serveEncoded(t, tc.encoding, tc.body))
			if res.Outcome != OutcomeNewContent {
				t.Fatalf("Outcome = %v, want new_content (err %v)", res.Outcome, res.Err)
			}
			if !bytes.Equal(res.Body, feed) {
				t.Errorf("Body = %q, want the fixture feed", res.Body)
			}
		})
	}
}

func TestFetchUndecodableBody(t *testing.T) {
	feed := readFixture(t, "feed.xml")
	gz := gzipBytes(t, feed)
	tests := []struct {
		name     string
		encoding string
		body     []byte
	}{
		{"truncated gzip", "gzip", gz[:len(gz)/2]},
		{"corrupt gzip header", "gzip", append([]byte{0x1f, 0x8b, 0x42}, gz[3:]...)},
		{"binary garbage as brotli", "br", []byte{0xff, 0xfe, 0xfd, 0x00, 0x01, 0x02, 0x03}},
		{"binary garbage as deflate", "deflate", []byte{0xff, 0xff, 0xff, 0x00, 0x01}},
		{"unknown coding", "compress", feed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := fetchURL(t, newTestFetcher(t, nil), serveEncoded(t, tc.encoding, tc.body))
			if res.Outcome != OutcomePermanent {
				t.Errorf("Outcome = %v, want permanent", res.Outcome)
			}
			if !errors.Is(res.Err, ErrContentDecoding) {
				t.Errorf("Err = %v, want ErrContentDecoding", res.Err)
			}
			if res.Body != nil {
				t.Errorf("Body = %q, want nil", res.Body)
			}
		})
	}
}

func TestFetchBodyCapBoundary(t *testing.T) {
	const maxBody = 4096
	tests := []struct {
		name      string
		size      int
		chunked   bool
		wantError bool
	}{
		{"exactly the cap", maxBody, false, false},
		{"one byte over the cap", maxBody + 1, false, true},
		{"exactly the cap without length", maxBody, true, false},
		{"one byte over without length", maxBody + 1, true, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			body := bytes.Repeat([]byte("x"), tc.size)
			srv := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
				if !tc.chunked {
					w.Header().Set("Content-Length", strconv.Itoa(len(body)))
				}
				_, _ = w.Write(body[:1])
				w.(http.Flusher).Flush()
				_, _ = w.Write(body[1:])
			})
			f := newTestFetcher(t, func(o *FetcherOptions) { o.MaxBody = maxBody })
			res := fetchURL(t, f, srv.URL)
			if !tc.wantError {
				if res.Outcome != OutcomeNewContent {
					t.Fatalf("Outcome = %v, want new_content (err %v)", res.Outcome, res.Err)
				}
				if len(res.Body) != tc.size {
					t.Errorf("Body has %d bytes, want %d", len(res.Body), tc.size)
				}
				return
			}
			assertTooLarge(t, res, maxBody)
		})
	}
}

func assertTooLarge(t *testing.T, res FetchResult, limit int) {
	t.Helper()
	if res.Outcome != OutcomePermanent {
		t.Errorf("Outcome = %v, want permanent", res.Outcome)
	}
	if !errors.Is(res.Err, ErrFeedTooLarge) {
		t.Fatalf("Err = %v, want ErrFeedTooLarge", res.Err)
	}
	msg := res.Err.Error()
	if !strings.Contains(msg, "feed too large") {
		t.Errorf("Err = %q, want it to say %q", msg, "feed too large")
	}
	if !strings.Contains(msg, strconv.Itoa(limit)) {
		t.Errorf("Err = %q, want it to name the limit %d", msg, limit)
	}
	if res.Body != nil {
		t.Errorf("Body has %d bytes, want nil", len(res.Body))
	}
}

func TestFetchDecompressionBomb(t *testing.T) {
	const maxBody = 64 << 10
	inflated := bytes.Repeat([]byte("<a/>"), 4<<20) // 16 MiB, about 16 KiB compressed
	tests := []struct {
		name     string
		encoding string
		body     []byte
	}{
		{"gzip", "gzip", gzipBytes(t, inflated)},
		{"unlabelled gzip", "", gzipBytes(t, inflated)},
		{"deflate", "deflate", zlibBytes(t, inflated)},
		{"brotli", "br", brotliBytes(t, inflated)},
		{"gzip inside brotli", "gzip, br", brotliBytes(t, gzipBytes(t, inflated))},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if len(tc.body) > maxBody {
				t.Fatalf("compressed bomb is %d bytes, must fit the cap", len(tc.body))
			}
			f := newTestFetcher(t, func(o *FetcherOptions) { o.MaxBody = maxBody })
			res := fetchURL(t, f, serveEncoded(t, tc.encoding, tc.body))
			assertTooLarge(t, res, maxBody)
		})
	}
}

func TestLooksLikeFeedText(t *testing.T) {
	tests := []struct {
		name string
		data []byte
		want bool
	}{
		{"xml declaration", []byte(`<?xml version="1.0"?>`), true},
		{"json feed", []byte(`{"version":"https://jsonfeed.org/version/1.1"}`), true},
		{"leading whitespace", []byte("\r\n  <rss>"), true},
		{"utf-8 byte order mark", []byte("\xef\xbb\xbf<rss>"), true},
		{"utf-16le byte order mark", []byte("\xff\xfe<\x00r\x00"), true},
		{"utf-16be byte order mark", []byte("\xfe\xff\x00<\x00r"), true},
		{"utf-16 mark before binary", []byte{0xff, 0xfe, 0xfd, 0x00}, false},
		{"binary", []byte{0x8b, 0x00, 0x80}, false},
		{"empty", nil, false},
		{"only whitespace", []byte("  \n"), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := looksLikeFeedText(tc.data); got != tc.want {
				t.Errorf("looksLikeFeedText(%q) = %v, want %v", tc.data, got, tc.want)
			}
		})
	}
}

// TestGunzipIgnoresWrongTrailerSize checks that the size a gzip trailer
// states only sizes the buffer. A body whose trailer states a wrong size
// fails the trailer check, and two members decode to both.
func TestGunzipIgnoresWrongTrailerSize(t *testing.T) {
	feed := readFixture(t, "feed.xml")
	const maxBody = 1 << 20
	withSize := func(gz []byte, size uint32) []byte {
		out := bytes.Clone(gz)
		binary.LittleEndian.PutUint32(out[len(out)-4:], size)
		return out
	}
	gz := gzipBytes(t, feed)
	tests := []struct {
		name string
		body []byte
		want []byte
	}{
		{"true size", gz, feed},
		{"two members", append(gzipBytes(t, feed[:100]), gzipBytes(t, feed[100:])...), feed},
		{"empty document", gzipBytes(t, nil), []byte{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := gunzip(tc.body, maxBody)
			if err != nil {
				t.Fatalf("gunzip: %v", err)
			}
			if !bytes.Equal(got, tc.want) {
				t.Errorf("gunzip = %d bytes, want %d", len(got), len(tc.want))
			}
		})
	}
	for _, size := range []uint32{0, 1, uint32(len(feed)) - 1, uint32(len(feed)) + 1, 1 << 31} {
		t.Run("trailer states "+strconv.FormatUint(uint64(size), 10), func(t *testing.T) {
			_, err := gunzip(withSize(gz, size), maxBody)
			if !errors.Is(err, ErrContentDecoding) {
				t.Errorf("gunzip of a trailer stating %d bytes = %v, want ErrContentDecoding", size, err)
			}
		})
	}
}

func TestGzipSizeBounds(t *testing.T) {
	trailer := func(n int, size uint32) []byte {
		b := make([]byte, n)
		binary.LittleEndian.PutUint32(b[n-4:], size)
		return b
	}
	tests := []struct {
		name string
		data []byte
		max  int64
		want int64
	}{
		{"too short for a trailer", []byte{0x1f, 0x8b, 8}, 1 << 20, -1},
		{"stated size kept", trailer(1000, 5000), 1 << 20, 5000},
		{"bounded by the body limit", trailer(100_000, 900_000), 500_000, 500_000},
		{"bounded by the ratio", trailer(100, 1<<30), 1 << 30, 100 * maxGzipRatio},
		{"largest stated size", trailer(20, 1<<32-1), 1 << 40, 20 * maxGzipRatio},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := gzipSize(tc.data, tc.max); got != tc.want {
				t.Errorf("gzipSize = %d, want %d", got, tc.want)
			}
		})
	}
}

// TestGunzipIgnoresReservedFlags checks that a gzip header with reserved
// flag bits set decodes, as it did with compress/gzip.
func TestGunzipIgnoresReservedFlags(t *testing.T) {
	feed := readFixture(t, "feed.xml")
	for _, bits := range []byte{0x20, 0x40, 0x80, 0xe0} {
		t.Run("flags "+strconv.Itoa(int(bits)), func(t *testing.T) {
			body := gzipBytes(t, feed)
			body[3] |= bits
			got, err := gunzip(body, 1<<20)
			if err != nil {
				t.Fatalf("gunzip: %v", err)
			}
			if !bytes.Equal(got, feed) {
				t.Errorf("gunzip = %d bytes, want %d", len(got), len(feed))
			}
			if body[3]&bits != bits {
				t.Error("gunzip changed the caller's body")
			}
		})
	}
	t.Run("second member", func(t *testing.T) {
		second := gzipBytes(t, feed[100:])
		second[3] |= 0x20
		got, err := gunzip(append(gzipBytes(t, feed[:100]), second...), 1<<20)
		if err != nil {
			t.Fatalf("gunzip: %v", err)
		}
		if !bytes.Equal(got, feed) {
			t.Errorf("gunzip = %d bytes, want %d", len(got), len(feed))
		}
	})
}

// TestReadBodyBoundsContentLength checks that a Content-Length stating the
// whole body limit, followed by 5 bytes, does not reserve the limit.
func TestReadBodyBoundsContentLength(t *testing.T) {
	const maxBody = 64 << 20
	resp := &http.Response{
		ContentLength: maxBody,
		Header:        http.Header{},
		Body: io.NopCloser(io.MultiReader(strings.NewReader("<rss>"),
			iotest.ErrReader(io.ErrUnexpectedEOF))),
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err := readBody(resp, maxBody)
	runtime.ReadMemStats(&after)
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("readBody = %v, want io.ErrUnexpectedEOF", err)
	}
	if got := after.TotalAlloc - before.TotalAlloc; got > 4<<20 {
		t.Errorf("reading 5 bytes under Content-Length %d allocated %d bytes", int64(maxBody), got)
	}
}
