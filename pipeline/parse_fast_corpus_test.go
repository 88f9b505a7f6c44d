package pipeline

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fastPathDocument is one feed document that a fast-path equivalence
// test runs through the old and the new code.
type fastPathDocument struct {
	name string
	body []byte
}

// fastPathDocuments returns the feed documents of testdata/ and, when it
// is present, of the shared corpus, gzip files decompressed. Equivalence
// tests use them as real-world input besides their own cases.
func fastPathDocuments(t *testing.T) []fastPathDocument {
	t.Helper()
	docs := readDocuments(t, "testdata")
	if _, err := os.Stat(corpusDir); errors.Is(err, os.ErrNotExist) {
		t.Log("corpus directory is absent: checking testdata only")
		return docs
	}
	return append(docs, readDocuments(t, corpusDir)...)
}

func readDocuments(t *testing.T, dir string) []fastPathDocument {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatalf("reading %s: %v", dir, err)
	}
	var docs []fastPathDocument
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		body, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatalf("reading %s: %v", e.Name(), err)
		}
		if strings.HasSuffix(e.Name(), ".gz") {
			body = gunzip(t, e.Name(), body)
		}
		docs = append(docs, fastPathDocument{name: e.Name(), body: body})
	}
	return docs
}

func gunzip(t *testing.T, name string, body []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("opening %s: %v", name, err)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		t.Fatalf("decompressing %s: %v", name, err)
	}
	return out
}
