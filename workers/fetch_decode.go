package workers

import (
	"bytes"
	"compress/flate"
	stdgzip "compress/gzip"
	"compress/zlib"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/andybalholm/brotli"
	"github.com/klauspost/compress/gzip"
)

// readBody reads and decodes a response body, rejecting it with
// ErrFeedTooLarge when it exceeds max bytes on the wire or after any
// decoding step. Errors wrap ErrFeedTooLarge, ErrContentDecoding, or the
// transport error met while reading.
func readBody(resp *http.Response, max int64) ([]byte, error) {
	if resp.ContentLength > max {
		return nil, fmt.Errorf("%w: Content-Length %d exceeds the limit of %d bytes",
			ErrFeedTooLarge, resp.ContentLength, max)
	}
	raw, err := readCapped(resp.Body, max, min(resp.ContentLength, maxTrustedLength))
	if err != nil {
		return nil, fmt.Errorf("reading body: %w", err)
	}
	return decodeBody(raw, resp.Header.Values("Content-Encoding"), max)
}

// maxTrustedLength bounds the buffer that Content-Length reserves before
// the body arrives, because a server can state the body limit and then send
// a few bytes slowly. A larger body grows the buffer as it arrives.
const maxTrustedLength = 1 << 20

// readCapped reads r to the end, or fails as soon as it yields more than
// max bytes. Reading max+1 bytes detects overflow even when Content-Length
// is absent or wrong. size is the expected length, or -1 when unknown. A
// correct size saves the copies of a growing buffer.
func readCapped(r io.Reader, max, size int64) ([]byte, error) {
	data, err := readSized(io.LimitReader(r, max+1), size)
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > max {
		return nil, fmt.Errorf("%w: limit is %d bytes", ErrFeedTooLarge, max)
	}
	return data, nil
}

// decodeBody undoes the content codings listed in the Content-Encoding
// header values, last applied first. Servers get this wrong often enough
// that the gzip magic bytes overrule the header: a "gzip" body without them
// is used as is, and a body still starting with them after the listed
// codings are undone is gunzipped once more.
func decodeBody(data []byte, headerValues []string, max int64) ([]byte, error) {
	codings := parseCodings(headerValues)
	var err error
	for i := len(codings) - 1; i >= 0; i-- {
		data, err = decodeLayer(codings[i], data, max)
		if err != nil {
			return nil, err
		}
	}
	if isGzip(data) {
		return gunzip(data, max)
	}
	return data, nil
}

// parseCodings splits Content-Encoding values into lowercase codings in the
// order they were applied, dropping "identity".
func parseCodings(values []string) []string {
	var codings []string
	for _, v := range values {
		for _, c := range strings.Split(v, ",") {
			c = strings.ToLower(strings.TrimSpace(c))
			if c != "" && c != "identity" {
				codings = append(codings, c)
			}
		}
	}
	return codings
}

func decodeLayer(coding string, data []byte, max int64) ([]byte, error) {
	switch coding {
	case "gzip", "x-gzip":
		if !isGzip(data) {
			return data, nil
		}
		return gunzip(data, max)
	case "deflate":
		return decodeOrKeepText(data, max, inflate)
	case "br":
		return decodeOrKeepText(data, max, unbrotli)
	}
	return nil, fmt.Errorf("%w: unsupported coding %q", ErrContentDecoding, coding)
}

// decodeOrKeepText decodes data with decode, unless data carries the gzip
// magic bytes (a gzip body under the wrong label). When decoding fails and
// data reads as a plain feed, data is returned unchanged, because deflate
// and brotli have no magic bytes to check first.
func decodeOrKeepText(data []byte, max int64, decode func([]byte, int64) ([]byte, error)) ([]byte, error) {
	if isGzip(data) {
		return gunzip(data, max)
	}
	out, err := decode(data, max)
	if err != nil && !errors.Is(err, ErrFeedTooLarge) && looksLikeFeedText(data) {
		return data, nil
	}
	return out, err
}

// gunzip decodes gzip with klauspost/compress, which nats-server already
// brings in and which takes 20 to 30% less CPU than compress/gzip for a
// farm document (BenchmarkGunzip). klauspost/compress rejects a header
// with reserved flag bits set, which compress/gzip ignores, so a body
// whose header it rejects is decoded again with compress/gzip.
func gunzip(data []byte, max int64) ([]byte, error) {
	out, err := gunzipWith(data, max, func(r io.Reader) (io.ReadCloser, error) { return gzip.NewReader(r) })
	if errors.Is(err, gzip.ErrHeader) {
		return gunzipWith(data, max, func(r io.Reader) (io.ReadCloser, error) { return stdgzip.NewReader(r) })
	}
	return out, err
}

// gunzipWith decodes data with the gzip reader that newReader returns.
func gunzipWith(data []byte, max int64, newReader func(io.Reader) (io.ReadCloser, error)) ([]byte, error) {
	zr, err := newReader(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("%w: reading gzip header: %w", ErrContentDecoding, err)
	}
	defer zr.Close()
	return readDecodedSized(zr, max, "gzip", gzipSize(data, max))
}

// maxGzipRatio bounds the decoded size that gzipSize believes, so a forged
// trailer on a small body cannot make every fetch reserve max bytes. A
// farm document compresses 3.7 times, and XML feeds seldom more than 10
// times (an estimate).
const maxGzipRatio = 32

// gzipSize returns the decoded size that the gzip trailer states (ISIZE,
// the size modulo 2^32 of the last member), or -1 when data is too short
// to hold a trailer. The result is at most max and maxGzipRatio times the
// compressed size.
func gzipSize(data []byte, max int64) int64 {
	const headerAndTrailer = 18
	if len(data) < headerAndTrailer {
		return -1
	}
	stated := int64(binary.LittleEndian.Uint32(data[len(data)-4:]))
	return min(stated, max, int64(len(data))*maxGzipRatio)
}

// inflate decodes "deflate", which RFC 9110 defines as a zlib stream but
// which some servers send as raw DEFLATE without the zlib header.
func inflate(data []byte, max int64) ([]byte, error) {
	if isZlib(data) {
		zr, err := zlib.NewReader(bytes.NewReader(data))
		if err == nil {
			defer zr.Close()
			return readDecoded(zr, max, "deflate")
		}
	}
	fr := flate.NewReader(bytes.NewReader(data))
	defer fr.Close()
	return readDecoded(fr, max, "deflate")
}

func unbrotli(data []byte, max int64) ([]byte, error) {
	return readDecoded(brotli.NewReader(bytes.NewReader(data)), max, "br")
}

// readDecoded reads a decoder's output with the body-size cap applied, so
// a small compressed body cannot expand into unbounded memory.
func readDecoded(r io.Reader, max int64, coding string) ([]byte, error) {
	return readDecodedSized(r, max, coding, -1)
}

// readDecodedSized is readDecoded with the expected decoded size, or -1.
func readDecodedSized(r io.Reader, max int64, coding string, size int64) ([]byte, error) {
	out, err := readSized(io.LimitReader(r, max+1), size)
	if err != nil {
		return nil, fmt.Errorf("%w: decoding %s: %w", ErrContentDecoding, coding, err)
	}
	if int64(len(out)) > max {
		return nil, fmt.Errorf("%w: limit is %d bytes after %s decompression",
			ErrFeedTooLarge, max, coding)
	}
	return out, nil
}

// readSized reads r to the end into a buffer of size bytes, which grows
// when size is too small. With size -1 it is io.ReadAll. The caller bounds
// both size and r.
func readSized(r io.Reader, size int64) ([]byte, error) {
	if size < 0 {
		return io.ReadAll(r)
	}
	// The extra bytes.MinRead lets ReadFrom see the end of r without
	// growing a buffer that was sized right.
	buf := bytes.NewBuffer(make([]byte, 0, size+bytes.MinRead))
	_, err := buf.ReadFrom(r)
	return buf.Bytes(), err
}

func isGzip(data []byte) bool {
	return len(data) >= 2 && data[0] == 0x1f && data[1] == 0x8b
}

// isZlib checks the two-byte zlib header of RFC 1950: compression method 8
// and a header checksum that makes the 16-bit value a multiple of 31.
func isZlib(data []byte) bool {
	if len(data) < 2 {
		return false
	}
	return data[0]&0x0f == 8 && (uint16(data[0])<<8|uint16(data[1]))%31 == 0
}

// looksLikeFeedText reports whether data starts with the first character
// of an XML or JSON document: '<' or '{' after optional whitespace and a
// UTF-8 byte order mark, or right after a UTF-16 byte order mark.
func looksLikeFeedText(data []byte) bool {
	switch {
	case bytes.HasPrefix(data, []byte{0xff, 0xfe}): // UTF-16LE
		return len(data) >= 4 && isDocumentStart(data[2]) && data[3] == 0
	case bytes.HasPrefix(data, []byte{0xfe, 0xff}): // UTF-16BE
		return len(data) >= 4 && data[2] == 0 && isDocumentStart(data[3])
	}
	data = bytes.TrimPrefix(data, []byte{0xef, 0xbb, 0xbf})
	data = bytes.TrimLeft(data, " \t\r\n")
	return len(data) > 0 && isDocumentStart(data[0])
}

func isDocumentStart(b byte) bool {
	return b == '<' || b == '{'
}
