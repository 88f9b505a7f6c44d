package workers

import (
	"bytes"
	stdgzip "compress/gzip"
	"context"
	"io"
	"testing"

	"github.com/syndic-network/syndic/internal/feedfarm"
)

// farmDocumentGzip returns the first document of a one-feed farm, about
// 66 KB, gzip-compressed as the farm serves it.
func farmDocumentGzip(b *testing.B) []byte {
	b.Helper()
	farm, err := feedfarm.Start(feedfarm.Options{Feeds: 1, Hosts: 1, Items: 50})
	if err != nil {
		b.Fatalf("starting the farm: %v", err)
	}
	doc := farm.Bodies()[0]
	if err := farm.Close(context.Background()); err != nil {
		b.Fatalf("closing the farm: %v", err)
	}
	var buf bytes.Buffer
	zw := stdgzip.NewWriter(&buf)
	if _, err := zw.Write(doc); err != nil {
		b.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		b.Fatal(err)
	}
	return buf.Bytes()
}

// BenchmarkGunzip decodes a gzip-compressed farm document the way a fetch
// does (gunzip), and with compress/gzip and io.ReadAll for comparison.
func BenchmarkGunzip(b *testing.B) {
	gz := farmDocumentGzip(b)
	const maxBody = 16 << 20
	b.Run("syndic", func(b *testing.B) {
		b.SetBytes(int64(len(gz)))
		for b.Loop() {
			if _, err := gunzip(gz, maxBody); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("compress-gzip", func(b *testing.B) {
		b.SetBytes(int64(len(gz)))
		for b.Loop() {
			zr, err := stdgzip.NewReader(bytes.NewReader(gz))
			if err != nil {
				b.Fatal(err)
			}
			if _, err := io.ReadAll(io.LimitReader(zr, maxBody+1)); err != nil {
				b.Fatal(err)
			}
		}
	})
}
