package feeds

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"
)

// benchChannelItems is the size of the benchmarked channel.
const benchChannelItems = 100

// newBenchView returns a view with benchChannelItems items of realistic
// size: a title, a summary and a few paragraphs of content.
func newBenchView(b *testing.B) *View {
	b.Helper()
	v := NewView(benchChannelItems)
	start := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	for i := range benchChannelItems {
		ev := event(fmt.Sprintf("item-%03d", i), start.Add(time.Duration(i)*time.Hour))
		ev.Summary = "A short summary of the story, as partners write them."
		ev.Content = "<p>" + fmt.Sprint(i) + " Lorem ipsum dolor sit amet, consectetur adipiscing elit. " +
			"Sed do eiusmod tempor incididunt ut labore et dolore magna aliqua.</p>" +
			"<p>Ut enim ad minim veniam, quis nostrud exercitation ullamco laboris.</p>"
		ev.Categories = []string{"Trade", "Export"}
		v.Apply(ev)
	}
	return v
}

// measure runs b.N GETs of url from parallel clients over keep-alive
// connections and reports requests per second and the 99th percentile
// latency. header, when not empty, is sent with value, and every response
// must have status want.
func measure(b *testing.B, url, header, value string, want int) {
	b.Helper()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	var mu sync.Mutex
	var latencies []time.Duration
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		var local []time.Duration
		for pb.Next() {
			took, status, err := get(client, url, header, value)
			if err != nil {
				b.Error(err)
				return
			}
			if status != want {
				b.Errorf("status = %d, want %d", status, want)
				return
			}
			local = append(local, took)
		}
		mu.Lock()
		latencies = append(latencies, local...)
		mu.Unlock()
	})
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
	if len(latencies) > 0 {
		slices.Sort(latencies)
		b.ReportMetric(float64(latencies[len(latencies)*99/100].Microseconds()), "p99-µs")
	}
}

// get sends one GET, reads the whole body and returns the time it took.
func get(client *http.Client, url, header, value string) (time.Duration, int, error) {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return 0, 0, err
	}
	if header != "" {
		req.Header.Set(header, value)
	}
	start := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		return 0, 0, err
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return 0, 0, err
	}
	return time.Since(start), resp.StatusCode, nil
}

// BenchmarkServeChannel compares the feed handler with net/http's file
// server sending the same bytes, for full responses and for 304s:
//
//	go test ./feeds -run '^$' -bench ServeChannel -benchtime 20000x
func BenchmarkServeChannel(b *testing.B) {
	h := NewHandler(HandlerOptions{
		View:         newBenchView(b),
		Channels:     []Channel{{ID: "all", Title: "Everything", MaxItems: benchChannelItems}},
		BaseURL:      "http://127.0.0.1",
		TagAuthority: "hub.example.org,2026-12-04",
	})
	feedSrv := httptest.NewServer(h)
	b.Cleanup(feedSrv.Close)
	resp, err := http.Get(feedSrv.URL + "/feeds/all.atom")
	if err != nil {
		b.Fatalf("fetching the feed: %v", err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		b.Fatalf("reading the feed: %v", err)
	}
	feedETag := resp.Header.Get("ETag")

	dir := b.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "all.atom"), body, 0o644); err != nil {
		b.Fatalf("writing the static copy: %v", err)
	}
	staticSrv := httptest.NewServer(http.FileServer(http.Dir(dir)))
	b.Cleanup(staticSrv.Close)
	// http.FileServer sends no ETag, so its 304 comes from Last-Modified.
	stat, err := os.Stat(filepath.Join(dir, "all.atom"))
	if err != nil {
		b.Fatalf("reading the static copy: %v", err)
	}
	staticSince := stat.ModTime().UTC().Add(time.Second).Format(http.TimeFormat)

	b.Logf("document: %d bytes, %d items", len(body), benchChannelItems)
	feedURL, staticURL := feedSrv.URL+"/feeds/all.atom", staticSrv.URL+"/all.atom"
	b.Run("feed-200", func(b *testing.B) { measure(b, feedURL, "", "", http.StatusOK) })
	b.Run("static-200", func(b *testing.B) { measure(b, staticURL, "", "", http.StatusOK) })
	b.Run("feed-304", func(b *testing.B) { measure(b, feedURL, "If-None-Match", feedETag, http.StatusNotModified) })
	b.Run("static-304", func(b *testing.B) { measure(b, staticURL, "If-Modified-Since", staticSince, http.StatusNotModified) })
}
