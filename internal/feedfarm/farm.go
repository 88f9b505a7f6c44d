// Package feedfarm serves many synthetic partner feeds on loopback
// addresses, for load tests and benchmarks of the poller. Each feed is an
// RSS 2.0 document with a fixed number of items, answers conditional
// requests with 304, and can slide its window so that the next poll sees
// a few new items and many known ones, as a live partner feed does.
package feedfarm

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Options configures a Farm. Zero fields take the defaults named on each.
type Options struct {
	// Feeds is the number of feeds served (default 2000).
	Feeds int
	// Items is the number of items in each document (default 50).
	Items int
	// Hosts is the number of loopback addresses the feeds are spread over,
	// 127.1.0.1 upwards, each with its own listener (default 50). A poller
	// limits fetches per host name, so one address would serialise them.
	Hosts int
	// Port is the TCP port every address listens on; 0 picks a free port
	// for each address.
	Port int
	// Gzip serves bodies gzip-compressed to clients that accept it, as
	// most partner web servers do.
	Gzip bool
	// Epoch is the publication time of item 0; item k is published k
	// minutes later (default: 24 hours before Start).
	Epoch time.Time
}

// Stats counts the requests a Farm served.
type Stats struct {
	Requests    int64 `json:"requests"`
	NotModified int64 `json:"not_modified"`
}

// document is one rendered version of a feed.
type document struct {
	body     []byte
	gzipped  []byte
	etag     string
	modified string
}

// Farm is a running set of feed servers. It is safe for concurrent use.
type Farm struct {
	o      Options
	epoch  time.Time
	urls   []string
	docs   []atomic.Pointer[document]
	top    int
	mu     sync.Mutex // serialises Slide
	server *http.Server
	lns    []net.Listener
	served sync.WaitGroup

	requests    atomic.Int64
	notModified atomic.Int64
}

// Start renders every feed and starts listening on o.Hosts loopback
// addresses. Close stops it.
func Start(o Options) (*Farm, error) {
	o = withDefaults(o)
	f := &Farm{o: o, epoch: o.Epoch, top: o.Items - 1}
	f.docs = make([]atomic.Pointer[document], o.Feeds)
	f.renderAll()
	f.server = &http.Server{Handler: http.HandlerFunc(f.serveFeed), ReadHeaderTimeout: 10 * time.Second}
	if err := f.listen(); err != nil {
		f.closeListeners()
		return nil, err
	}
	return f, nil
}

func withDefaults(o Options) Options {
	if o.Feeds <= 0 {
		o.Feeds = 2000
	}
	if o.Items <= 0 {
		o.Items = 50
	}
	if o.Hosts <= 0 {
		o.Hosts = 50
	}
	o.Hosts = min(o.Hosts, o.Feeds)
	if o.Epoch.IsZero() {
		o.Epoch = time.Now().Add(-24 * time.Hour).Truncate(time.Minute)
	}
	return o
}

// hostAddress returns the loopback address of host h: 127.1.0.1,
// 127.1.0.2 and so on, skipping the .0 and .255 of each /24.
func hostAddress(h int) string {
	return fmt.Sprintf("127.1.%d.%d", h/254, 1+h%254)
}

func (f *Farm) listen() error {
	hostURLs := make([]string, f.o.Hosts)
	for h := range f.o.Hosts {
		addr := net.JoinHostPort(hostAddress(h), strconv.Itoa(f.o.Port))
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return fmt.Errorf("listening on %s: %w", addr, err)
		}
		f.lns = append(f.lns, ln)
		hostURLs[h] = "http://" + ln.Addr().String()
		f.served.Go(func() { _ = f.server.Serve(ln) })
	}
	f.urls = make([]string, f.o.Feeds)
	for i := range f.o.Feeds {
		f.urls[i] = fmt.Sprintf("%s/feeds/%d.xml", hostURLs[i%f.o.Hosts], i)
	}
	return nil
}

// URLs returns the URL of every feed, feed i at index i.
func (f *Farm) URLs() []string { return f.urls }

// Bodies returns the current uncompressed document of every feed.
func (f *Farm) Bodies() [][]byte {
	out := make([][]byte, len(f.docs))
	for i := range f.docs {
		out[i] = f.docs[i].Load().body
	}
	return out
}

// Stats returns the request counts since Start.
func (f *Farm) Stats() Stats {
	return Stats{Requests: f.requests.Load(), NotModified: f.notModified.Load()}
}

// Slide adds n new items at the top of every feed and drops its n oldest,
// so the next poll of each feed sees n new items and Items-n known ones.
// Every feed gets a new ETag.
func (f *Farm) Slide(n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.top += n
	f.renderAll()
}

// renderAll renders every feed at the current top item, spread over the
// CPUs. The caller holds f.mu or is Start.
func (f *Farm) renderAll() {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for i := int(next.Add(1)) - 1; i < f.o.Feeds; i = int(next.Add(1)) - 1 {
				f.docs[i].Store(f.document(i))
			}
		})
	}
	wg.Wait()
}

func (f *Farm) document(i int) *document {
	d := &document{
		body:     f.render(i, f.top),
		etag:     fmt.Sprintf(`"f%d-t%d"`, i, f.top),
		modified: f.epoch.Add(time.Duration(f.top) * time.Minute).UTC().Format(http.TimeFormat),
	}
	if f.o.Gzip {
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		_, _ = zw.Write(d.body)
		_ = zw.Close()
		d.gzipped = buf.Bytes()
	}
	return d
}

func (f *Farm) serveFeed(w http.ResponseWriter, r *http.Request) {
	f.requests.Add(1)
	i, ok := feedIndex(r.URL.Path)
	if !ok || i >= len(f.docs) {
		http.NotFound(w, r)
		return
	}
	d := f.docs[i].Load()
	h := w.Header()
	h.Set("ETag", d.etag)
	h.Set("Last-Modified", d.modified)
	if r.Header.Get("If-None-Match") == d.etag {
		f.notModified.Add(1)
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h.Set("Content-Type", "application/rss+xml; charset=utf-8")
	body := d.body
	if d.gzipped != nil && strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
		h.Set("Content-Encoding", "gzip")
		body = d.gzipped
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	_, _ = w.Write(body)
}

// feedIndex parses "/feeds/<i>.xml".
func feedIndex(path string) (int, bool) {
	name, ok := strings.CutPrefix(path, "/feeds/")
	if !ok {
		return 0, false
	}
	name, ok = strings.CutSuffix(name, ".xml")
	if !ok {
		return 0, false
	}
	i, err := strconv.Atoi(name)
	return i, err == nil && i >= 0
}

// Close stops every listener and waits for the requests in flight; when ctx
// ends first, it cuts the connections still open.
func (f *Farm) Close(ctx context.Context) error {
	err := f.server.Shutdown(ctx)
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		// A client that keeps a connection busy past ctx (a benchmark
		// cut short, say) must not keep the farm alive: cut it.
		err = f.server.Close()
	}
	f.served.Wait()
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

func (f *Farm) closeListeners() {
	for _, ln := range f.lns {
		_ = ln.Close()
	}
}
