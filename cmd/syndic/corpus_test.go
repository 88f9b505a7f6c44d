package main

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/syndic-network/syndic/internal/feedcheck"
)

// corpusDir is the shared collection of real-world feeds, beside the
// checkout. The test reads the files in place and never copies them.
const corpusDir = "../../../shared/corpus/feeds"

// Expected totals for the whole corpus through poll --once: files that
// are not feeds at all or are cut off before any complete item fail, and
// every other file contributes all of its items. The per-file table is in
// pipeline/corpus_test.go; these totals catch drift in the wiring between
// fetcher, parser and ingester.
const (
	corpusFiles  = 145
	corpusFailed = 4
	// One item of miniflux-nodecl-latin1.xml has an empty title, link and
	// description, so the pipeline rejects it.
	corpusItems    = 3955
	corpusRejected = 1
	// rejectingFileItems are the accepted items of that file. A document
	// with a rejected item is read again even when its body is unchanged.
	rejectingFileItems = 9
	// corpusGroup is how many corpus files share one merged channel, so
	// each channel stays under the max_items limit of 1000.
	corpusGroup = 10
)

// serveCorpus serves every corpus file on loopback; *.xml.gz files are
// sent as gzip bodies with Content-Encoding, as a server would. Once
// *newline is set, each document gets a trailing newline, which changes
// its bytes but none of its items.
func serveCorpus(t *testing.T, names []string, newline *atomic.Bool) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(r.URL.Path, "/")
		data, err := os.ReadFile(filepath.Join(corpusDir, filepath.Base(name)))
		if err != nil {
			http.NotFound(w, r)
			return
		}
		gzipped := strings.HasSuffix(name, ".gz")
		if newline.Load() {
			data = appendNewline(t, data, gzipped)
		}
		if gzipped {
			w.Header().Set("Content-Encoding", "gzip")
		}
		_, _ = w.Write(data)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// appendNewline returns data with a newline after its last byte, inside
// the compression when gzipped is set.
func appendNewline(t *testing.T, data []byte, gzipped bool) []byte {
	if !gzipped {
		return append(data, '\n')
	}
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Errorf("reading gzip corpus file: %v", err)
		return data
	}
	plain, err := io.ReadAll(zr)
	if err != nil {
		t.Errorf("reading gzip corpus file: %v", err)
		return data
	}
	var out bytes.Buffer
	zw := gzip.NewWriter(&out)
	_, _ = zw.Write(append(plain, '\n'))
	_ = zw.Close()
	return out.Bytes()
}

// corpusConfig writes a configuration with one partner per corpus file and
// one channel per group of files.
func corpusConfig(t *testing.T, names []string, feedBase string) *instance {
	t.Helper()
	in := newInstance(t, feedBase+"/unused")
	var b strings.Builder
	b.WriteString("partners:\n")
	for i, name := range names {
		fmt.Fprintf(&b, "  - {id: c%03d, name: %q, language: en, feeds: [{id: feed, url: %q}]}\n", i, name, feedBase+"/"+name)
	}
	b.WriteString("channels:\n")
	for g := 0; g*corpusGroup < len(names); g++ {
		var ids []string
		for i := g * corpusGroup; i < min(len(names), (g+1)*corpusGroup); i++ {
			ids = append(ids, fmt.Sprintf("c%03d", i))
		}
		fmt.Fprintf(&b, "  - {id: group-%02d, title: Corpus group %d, max_items: 1000, filter: {partners: [%s]}}\n",
			g, g, strings.Join(ids, ", "))
	}
	raw, err := os.ReadFile(in.config)
	if err != nil {
		t.Fatalf("reading config: %v", err)
	}
	head, _, _ := strings.Cut(string(raw), "partners:")
	if err := os.WriteFile(in.config, []byte(head+b.String()), 0o600); err != nil {
		t.Fatalf("writing config: %v", err)
	}
	return in
}

func TestCorpusMergedFeedsAreValid(t *testing.T) {
	entries, err := os.ReadDir(corpusDir)
	if os.IsNotExist(err) {
		t.Skip("corpus not found at " + corpusDir)
	}
	if err != nil {
		t.Fatalf("reading corpus: %v", err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	if len(names) != corpusFiles {
		t.Fatalf("corpus has %d files, want %d; update the expected totals", len(names), corpusFiles)
	}
	var newline atomic.Bool
	srv := serveCorpus(t, names, &newline)
	in := corpusConfig(t, names, srv.URL)

	start := time.Now()
	feedsLine := fmt.Sprintf("feeds: %d ok, 0 not modified, %d failed", corpusFiles-corpusFailed, corpusFailed)
	in.pollOnce(1, feedsLine, fmt.Sprintf("items: %d new, 0 updated, 0 duplicate, %d rejected", corpusItems, corpusRejected))
	t.Logf("first poll of the corpus: %v", time.Since(start))
	start = time.Now()
	// The corpus server sends no validators, so the second poll fetches
	// every document again. Each body is the one read in full before, so
	// none is parsed but the one with a rejected item.
	unchanged := fmt.Sprintf("feeds: 1 ok, %d not modified, %d failed", corpusFiles-corpusFailed-1, corpusFailed)
	in.pollOnce(1, unchanged, fmt.Sprintf("items: 0 new, 0 updated, %d duplicate, %d rejected", rejectingFileItems, corpusRejected))
	t.Logf("second poll of the corpus: %v", time.Since(start))
	// With a newline added, every document is read again, and the
	// pipeline must classify every item as a duplicate and publish
	// nothing.
	newline.Store(true)
	start = time.Now()
	in.pollOnce(1, feedsLine, fmt.Sprintf("items: 0 new, 0 updated, %d duplicate, %d rejected", corpusItems, corpusRejected))
	t.Logf("third poll of the corpus: %v", time.Since(start))
	start = time.Now()
	stop := in.serve()
	defer stop()
	defer func() { t.Logf("checking merged feeds: %v", time.Since(start)) }()
	total := 0
	for g := 0; g*corpusGroup < len(names); g++ {
		base := fmt.Sprintf("http://%s/feeds/group-%02d", in.addr, g)
		feedcheck.CheckRSS(t, fetchDoc(t, base+".rss"))
		feedcheck.CheckAtom(t, fetchDoc(t, base+".atom"))
		doc := fetchDoc(t, base+".json")
		feedcheck.CheckJSONFeed(t, doc)
		total += strings.Count(string(doc), `"_syndic"`)
	}
	if total == 0 {
		t.Error("merged corpus feeds carry no items")
	}
}

func fetchDoc(t *testing.T, url string) []byte {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("fetching %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("fetching %s: status %d, err %v", url, resp.StatusCode, err)
	}
	return body
}
