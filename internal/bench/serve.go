package bench

import (
	"context"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"
)

// ServeOptions configures RunServe.
type ServeOptions struct {
	Options
	// Bin is a built syndic binary.
	Bin string
	// Connections is the number of keep-alive connections of the load
	// generator (default 16).
	Connections int
	// Duration is how long each load lasts (default 10s).
	Duration time.Duration
	// Path is the merged feed requested (default /feeds/all.atom).
	Path string
	// RestartMemoryLimit, when set, is added to the configuration as
	// memory_limit before the restart, so the ingest runs with the
	// default and the restarted process with this limit.
	RestartMemoryLimit string
	// PollAfterRestart, when positive, slides every feed of the farm by
	// one item once the restarted process is ready, and waits until it
	// has created this many items. Its first new item builds the
	// grouping index, which a process that only restarted has not read.
	PollAfterRestart int
}

// Load is the result of one load against one server.
type Load struct {
	Target   string  `json:"target"`
	Status   int     `json:"status"`
	Requests int     `json:"requests"`
	RPS      float64 `json:"rps"`
	P50      float64 `json:"p50_ms"`
	P99      float64 `json:"p99_ms"`
}

// ServeReport contains the measurements of one RunServe.
type ServeReport struct {
	Feeds int `json:"feeds"`
	Items int `json:"items"`
	// IngestSeconds runs from the process start until the created-items
	// counter reached every item.
	IngestSeconds float64 `json:"ingest_seconds"`
	// RSS and PeakRSS are read once every item was ingested, in bytes.
	RSS     int64 `json:"rss"`
	PeakRSS int64 `json:"peak_rss"`
	// ReadySeconds runs from the restart until /readyz returned 200;
	// RestartRSS is the resident size at that moment.
	ReadySeconds float64 `json:"ready_seconds"`
	RestartRSS   int64   `json:"restart_rss"`
	// RestartMemoryLimit is the restarted process's go_gc_gomemlimit_bytes,
	// 0 when it has none.
	RestartMemoryLimit int64 `json:"restart_memory_limit"`
	// PollSeconds runs from the slide of PollAfterRestart until the
	// restarted process created that many items. PollRSS and PollPeakRSS
	// are read then, and the peak counts from the restart.
	PollSeconds float64 `json:"poll_seconds,omitempty"`
	PollRSS     int64   `json:"poll_rss,omitempty"`
	PollPeakRSS int64   `json:"poll_peak_rss,omitempty"`
	Loads       []Load  `json:"loads"`
}

// RunServe starts `syndic run` on the farm's feeds and waits until every
// item went through the pipeline, then records memory. It loads the
// merged feed with 200 and 304 requests, and a static file server with
// the same bytes. Last, it restarts the process and times its readiness.
func RunServe(ctx context.Context, o ServeOptions) (ServeReport, error) {
	o = o.withDefaults()
	var rep ServeReport
	urls, err := o.Farm.URLs(ctx)
	if err != nil {
		return rep, err
	}
	dir, err := os.MkdirTemp(o.Dir, "syndicbench-serve-")
	if err != nil {
		return rep, fmt.Errorf("creating benchmark directory: %w", err)
	}
	defer os.RemoveAll(dir)
	defer deleteRedisKeys(context.WithoutCancel(ctx), o.Store)
	config, base, admin, err := WriteRunConfig(dir, urls, o.Options)
	if err != nil {
		return rep, err
	}
	rep.Feeds, rep.Items = len(urls), len(urls)*o.Items
	logPath := filepath.Join(dir, "syndic.log")
	s, err := ingestAllItems(ctx, o, config, base, admin, logPath, &rep)
	if err != nil {
		return rep, withLog(err, logPath)
	}
	loads, err := compareServing(ctx, o, s.BaseURL+o.Path, dir)
	rep.Loads = loads
	if stopErr := s.Stop(); err == nil && stopErr != nil {
		err = stopErr
	}
	if err != nil {
		return rep, withLog(err, logPath)
	}
	return rep, withLog(restart(ctx, o, config, base, admin, logPath, &rep), logPath)
}

func (o ServeOptions) withDefaults() ServeOptions {
	o.Options = o.Options.withDefaults()
	if o.Connections <= 0 {
		o.Connections = 16
	}
	if o.Duration <= 0 {
		o.Duration = 10 * time.Second
	}
	if o.Path == "" {
		o.Path = "/feeds/all.atom"
	}
	return o
}

// withLog adds the tail of the syndic log to err.
func withLog(err error, logPath string) error {
	if err == nil {
		return nil
	}
	data, _ := os.ReadFile(logPath)
	return fmt.Errorf("%w\nsyndic log tail:\n%s", err, data[max(0, len(data)-2000):])
}

func ingestAllItems(ctx context.Context, o ServeOptions, config, base, admin, logPath string, rep *ServeReport) (*Syndic, error) {
	start := time.Now()
	s, err := StartSyndic(o.Bin, config, base, admin, logPath)
	if err != nil {
		return nil, err
	}
	if _, err := s.WaitReady(ctx, start); err != nil {
		_ = s.Stop()
		return nil, fmt.Errorf("waiting for /readyz: %w", err)
	}
	err = pollUntil(ctx, 50*time.Millisecond, func() (bool, error) {
		n, err := s.Metric("syndic_items_total", `result="created"`)
		return n >= float64(rep.Items), err
	})
	if err != nil {
		_ = s.Stop()
		return nil, fmt.Errorf("waiting for %d items: %w", rep.Items, err)
	}
	rep.IngestSeconds = time.Since(start).Seconds()
	rep.RSS, rep.PeakRSS = s.RSS()
	if o.HeapProfile != "" {
		if err := s.WriteHeapProfile(o.HeapProfile + ".ingest"); err != nil {
			_ = s.Stop()
			return nil, err
		}
	}
	return s, nil
}

func restart(ctx context.Context, o ServeOptions, config, base, admin, logPath string, rep *ServeReport) error {
	if o.RestartMemoryLimit != "" {
		if err := appendConfig(config, fmt.Sprintf("memory_limit: %q\n", o.RestartMemoryLimit)); err != nil {
			return err
		}
	}
	start := time.Now()
	s, err := StartSyndic(o.Bin, config, base, admin, logPath)
	if err != nil {
		return err
	}
	ready, err := s.WaitReady(ctx, start)
	rep.ReadySeconds = ready.Seconds()
	rep.RestartRSS, _ = s.RSS()
	if err == nil && o.HeapProfile != "" {
		err = s.WriteHeapProfile(o.HeapProfile + ".restart")
	}
	if err == nil {
		err = readMemoryLimit(s, rep)
	}
	if err == nil && o.PollAfterRestart > 0 {
		err = pollAfterRestart(ctx, o, s, rep)
	}
	if stopErr := s.Stop(); err == nil {
		err = stopErr
	}
	return err
}

// readMemoryLimit records the Go runtime's memory limit of s, as its
// metrics report it.
func readMemoryLimit(s *Syndic, rep *ServeReport) error {
	limit, err := s.Metric("go_gc_gomemlimit_bytes", "")
	if err != nil {
		return err
	}
	if limit < math.MaxInt64 {
		rep.RestartMemoryLimit = int64(limit)
	}
	return nil
}

// pollAfterRestart gives every feed one new item and waits until s has
// created o.PollAfterRestart items.
func pollAfterRestart(ctx context.Context, o ServeOptions, s *Syndic, rep *ServeReport) error {
	start := time.Now()
	if err := o.Farm.Slide(ctx, 1); err != nil {
		return fmt.Errorf("sliding the farm after the restart: %w", err)
	}
	err := pollUntil(ctx, 50*time.Millisecond, func() (bool, error) {
		n, err := s.Metric("syndic_items_total", `result="created"`)
		return n >= float64(o.PollAfterRestart), err
	})
	if err != nil {
		return fmt.Errorf("waiting for %d new items after the restart: %w", o.PollAfterRestart, err)
	}
	rep.PollSeconds = time.Since(start).Seconds()
	rep.PollRSS, rep.PollPeakRSS = s.RSS()
	if o.HeapProfile != "" {
		return s.WriteHeapProfile(o.HeapProfile + ".poll")
	}
	return nil
}

// appendConfig adds text to the end of the configuration file at path.
func appendConfig(path, text string) error {
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("opening benchmark configuration: %w", err)
	}
	if _, err := f.WriteString(text); err != nil {
		_ = f.Close()
		return fmt.Errorf("writing benchmark configuration: %w", err)
	}
	return f.Close()
}

// compareServing loads the merged feed at url and a static file server
// holding the same bytes, each with plain and conditional requests.
func compareServing(ctx context.Context, o ServeOptions, url, dir string) ([]Load, error) {
	body, etag, err := stableDocument(ctx, url)
	if err != nil {
		return nil, err
	}
	staticURL, stop, err := startStatic(dir, body)
	if err != nil {
		return nil, err
	}
	defer stop()
	_, staticModified, err := fetchOnce(ctx, staticURL, "Last-Modified")
	if err != nil {
		return nil, err
	}
	var loads []Load
	for _, l := range []struct {
		target, url, header, value string
		status                     int
	}{
		{"syndic", url, "", "", http.StatusOK},
		{"syndic", url, "If-None-Match", etag, http.StatusNotModified},
		{"static", staticURL, "", "", http.StatusOK},
		{"static", staticURL, "If-Modified-Since", staticModified, http.StatusNotModified},
	} {
		res, err := load(ctx, l.url, l.header, l.value, l.status, o.Connections, o.Duration)
		if err != nil {
			return loads, fmt.Errorf("loading %s with status %d: %w", l.target, l.status, err)
		}
		res.Target = l.target
		loads = append(loads, res)
	}
	return loads, nil
}

// fetchOnce returns the body of a 200 response for url and the value of
// its header. It requests no compression, as the load generator does,
// because a server may give each encoding its own ETag.
func fetchOnce(ctx context.Context, url, header string) ([]byte, string, error) {
	client := &http.Client{Transport: &http.Transport{DisableCompression: true}}
	defer client.CloseIdleConnections()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, "", fmt.Errorf("building request for %s: %w", url, err)
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, "", fmt.Errorf("fetching %s: %w", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, "", fmt.Errorf("reading %s: %w", url, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, "", fmt.Errorf("fetching %s: status %d, want 200", url, resp.StatusCode)
	}
	return body, resp.Header.Get(header), nil
}

// stableDocument fetches the merged feed at url until two fetches half a
// second apart return the same ETag, and returns that document. With
// thousands of feeds the views still read the stream for a while after
// the last item was published, and a document that changes during the
// load would turn the 304 load into 200s.
func stableDocument(ctx context.Context, url string) ([]byte, string, error) {
	body, etag, err := fetchOnce(ctx, url, "ETag")
	for range 240 {
		if err != nil {
			return nil, "", err
		}
		select {
		case <-ctx.Done():
			return nil, "", ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
		var next []byte
		var nextTag string
		next, nextTag, err = fetchOnce(ctx, url, "ETag")
		if err == nil && nextTag == etag {
			return body, etag, nil
		}
		body, etag = next, nextTag
	}
	return nil, "", fmt.Errorf("fetching %s: the document still changed after 2 minutes", url)
}

// startStatic serves body as a file with net/http's file server, which
// returns 304 for a matching If-Modified-Since.
func startStatic(dir string, body []byte) (string, func(), error) {
	root := filepath.Join(dir, "static")
	if err := os.MkdirAll(root, 0o750); err != nil {
		return "", nil, fmt.Errorf("creating static directory: %w", err)
	}
	if err := os.WriteFile(filepath.Join(root, "all.atom"), body, 0o600); err != nil {
		return "", nil, fmt.Errorf("writing static feed: %w", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, fmt.Errorf("listening for the static server: %w", err)
	}
	srv := &http.Server{Handler: http.FileServer(http.Dir(root)), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	return "http://" + ln.Addr().String() + "/all.atom", func() { _ = srv.Close() }, nil
}

// load sends requests for url on conns keep-alive connections for d and
// returns the rate and latency percentiles. Every response must have
// status want.
func load(ctx context.Context, url, header, value string, want, conns int, d time.Duration) (Load, error) {
	res := Load{Status: want}
	var mu sync.Mutex
	var all []time.Duration
	var firstErr error
	deadline := time.Now().Add(d)
	var wg sync.WaitGroup
	for range conns {
		wg.Go(func() {
			lat, err := loadOne(ctx, url, header, value, want, deadline)
			mu.Lock()
			defer mu.Unlock()
			all = append(all, lat...)
			if err != nil && firstErr == nil {
				firstErr = err
			}
		})
	}
	wg.Wait()
	if firstErr != nil {
		return res, firstErr
	}
	slices.Sort(all)
	res.Requests = len(all)
	res.RPS = float64(len(all)) / d.Seconds()
	if len(all) > 0 {
		res.P50 = float64(all[len(all)/2].Microseconds()) / 1000
		res.P99 = float64(all[len(all)*99/100].Microseconds()) / 1000
	}
	return res, nil
}

func loadOne(ctx context.Context, url, header, value string, want int, deadline time.Time) ([]time.Duration, error) {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1, DisableCompression: true}}
	defer client.CloseIdleConnections()
	var lat []time.Duration
	for time.Now().Before(deadline) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return lat, fmt.Errorf("building request: %w", err)
		}
		if header != "" {
			req.Header.Set(header, value)
		}
		sent := time.Now()
		resp, err := client.Do(req)
		if err != nil {
			return lat, fmt.Errorf("requesting %s: %w", url, err)
		}
		_, err = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		lat = append(lat, time.Since(sent))
		if err != nil {
			return lat, fmt.Errorf("reading %s: %w", url, err)
		}
		if resp.StatusCode != want {
			return lat, fmt.Errorf("requesting %s: status %d, want %d", url, resp.StatusCode, want)
		}
	}
	return lat, nil
}
