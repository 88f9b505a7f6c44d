package workers

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// newTestFetcher returns a Fetcher that may reach the 127.0.0.1 test
// servers, with its debug log written to the test output.
func newTestFetcher(t *testing.T, edit func(*FetcherOptions)) *Fetcher {
	t.Helper()
	o := FetcherOptions{
		Timeout:              5 * time.Second,
		AllowPrivateNetworks: true,
		UserAgent:            "SyndicTest/1.0",
		Logger: slog.New(slog.NewTextHandler(t.Output(),
			&slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	if edit != nil {
		edit(&o)
	}
	return NewFetcher(o)
}

// newTestServer starts an httptest server on 127.0.0.1 that is closed when
// the test ends.
func newTestServer(t *testing.T, h http.HandlerFunc) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

func readFixture(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatalf("reading fixture: %v", err)
	}
	return data
}

func fetchURL(t *testing.T, f *Fetcher, url string) FetchResult {
	t.Helper()
	return f.Fetch(t.Context(), FetchRequest{URL: url})
}

func TestFetchOutcomeByStatus(t *testing.T) {
	tests := []struct {
		name   string
		status int
		want   Outcome
	}{
		{"ok is new content", http.StatusOK, OutcomeNewContent},
		{"non-authoritative is new content", http.StatusNonAuthoritativeInfo, OutcomeNewContent},
		{"not modified", http.StatusNotModified, OutcomeNotModified},
		{"request timeout retries", http.StatusRequestTimeout, OutcomeRetryLater},
		{"too early retries", http.StatusTooEarly, OutcomeRetryLater},
		{"too many requests retries", http.StatusTooManyRequests, OutcomeRetryLater},
		{"internal error retries", http.StatusInternalServerError, OutcomeRetryLater},
		{"bad gateway retries", http.StatusBadGateway, OutcomeRetryLater},
		{"unavailable retries", http.StatusServiceUnavailable, OutcomeRetryLater},
		{"gateway timeout retries", http.StatusGatewayTimeout, OutcomeRetryLater},
		{"unauthorized is permanent", http.StatusUnauthorized, OutcomePermanent},
		{"forbidden is permanent", http.StatusForbidden, OutcomePermanent},
		{"not found is permanent", http.StatusNotFound, OutcomePermanent},
		{"teapot is permanent", http.StatusTeapot, OutcomePermanent},
		{"gone is gone", http.StatusGone, OutcomeGone},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/rss+xml; charset=utf-8")
				w.WriteHeader(tc.status)
				if tc.status != http.StatusNotModified {
					_, _ = w.Write([]byte("<rss/>"))
				}
			})
			res := fetchURL(t, newTestFetcher(t, nil), srv.URL)
			if res.Outcome != tc.want {
				t.Fatalf("Outcome = %v, want %v (err %v)", res.Outcome, tc.want, res.Err)
			}
			if res.StatusCode != tc.status {
				t.Errorf("StatusCode = %d, want %d", res.StatusCode, tc.status)
			}
			success := tc.want == OutcomeNewContent || tc.want == OutcomeNotModified
			if success != (res.Err == nil) {
				t.Errorf("Err = %v, want error only for failures", res.Err)
			}
			if tc.want == OutcomeNewContent && string(res.Body) != "<rss/>" {
				t.Errorf("Body = %q, want %q", res.Body, "<rss/>")
			}
			if tc.want != OutcomeNewContent && res.Body != nil {
				t.Errorf("Body = %q, want nil for %v", res.Body, tc.want)
			}
		})
	}
}

func TestFetchNewContentFields(t *testing.T) {
	feed := readFixture(t, "feed.xml")
	srv := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/rss+xml; charset=windows-1252")
		w.Header().Set("ETag", `W/"v7"`)
		w.Header().Set("Last-Modified", "Mon, 02 Mar 2026 09:30:00 GMT")
		_, _ = w.Write(feed)
	})
	res := fetchURL(t, newTestFetcher(t, nil), srv.URL+"/rss")
	if res.Outcome != OutcomeNewContent {
		t.Fatalf("Outcome = %v, want new_content (err %v)", res.Outcome, res.Err)
	}
	if string(res.Body) != string(feed) {
		t.Errorf("Body differs from the served feed")
	}
	if want := "application/rss+xml; charset=windows-1252"; res.ContentType != want {
		t.Errorf("ContentType = %q, want %q", res.ContentType, want)
	}
	if res.FinalURL != srv.URL+"/rss" {
		t.Errorf("FinalURL = %q, want %q", res.FinalURL, srv.URL+"/rss")
	}
	if res.MovedTo != "" {
		t.Errorf("MovedTo = %q, want empty", res.MovedTo)
	}
	want := Validators{ETag: `W/"v7"`, LastModified: "Mon, 02 Mar 2026 09:30:00 GMT"}
	if res.Validators != want {
		t.Errorf("Validators = %+v, want %+v", res.Validators, want)
	}
}

func TestFetchRequestHeaders(t *testing.T) {
	var got atomic.Pointer[http.Header]
	srv := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
		h := r.Header.Clone()
		got.Store(&h)
	})
	res := fetchURL(t, newTestFetcher(t, nil), srv.URL)
	if res.Outcome != OutcomeNewContent {
		t.Fatalf("Outcome = %v, want new_content (err %v)", res.Outcome, res.Err)
	}
	h := *got.Load()
	if ua := h.Get("User-Agent"); ua != "SyndicTest/1.0" {
		t.Errorf("User-Agent = %q, want %q", ua, "SyndicTest/1.0")
	}
	if ae := h.Get("Accept-Encoding"); ae != "gzip, deflate, br" {
		t.Errorf("Accept-Encoding = %q, want %q", ae, "gzip, deflate, br")
	}
	for _, name := range []string{"If-None-Match", "If-Modified-Since"} {
		if _, ok := h[name]; ok {
			t.Errorf("%s sent without a stored validator", name)
		}
	}
}

func TestFetchDefaultUserAgent(t *testing.T) {
	var ua atomic.Value
	srv := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
		ua.Store(r.UserAgent())
	})
	f := newTestFetcher(t, func(o *FetcherOptions) { o.UserAgent = "" })
	if res := fetchURL(t, f, srv.URL); res.Err != nil {
		t.Fatalf("Fetch: %v", res.Err)
	}
	if got := ua.Load().(string); !strings.HasPrefix(got, "Syndic/") {
		t.Errorf("User-Agent = %q, want the Syndic default", got)
	}
}

func TestFetchConditionalRequest(t *testing.T) {
	const etag = `"abc123"`
	const lastModified = "Tue, 03 Mar 2026 10:00:00 GMT"
	tests := []struct {
		name       string
		sent       Validators
		wantHeader map[string]string
	}{
		{
			name:       "etag alone",
			sent:       Validators{ETag: etag},
			wantHeader: map[string]string{"If-None-Match": etag, "If-Modified-Since": ""},
		},
		{
			name:       "last modified alone",
			sent:       Validators{LastModified: lastModified},
			wantHeader: map[string]string{"If-None-Match": "", "If-Modified-Since": lastModified},
		},
		{
			name:       "both validators",
			sent:       Validators{ETag: etag, LastModified: lastModified},
			wantHeader: map[string]string{"If-None-Match": etag, "If-Modified-Since": lastModified},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
				for name, want := range tc.wantHeader {
					if got := r.Header.Get(name); got != want {
						t.Errorf("%s = %q, want %q", name, got, want)
					}
				}
				w.WriteHeader(http.StatusNotModified)
			})
			res := newTestFetcher(t, nil).Fetch(t.Context(), FetchRequest{URL: srv.URL, Validators: tc.sent})
			if res.Outcome != OutcomeNotModified {
				t.Fatalf("Outcome = %v, want not_modified (err %v)", res.Outcome, res.Err)
			}
			if res.Err != nil {
				t.Errorf("Err = %v, want nil", res.Err)
			}
			if res.Validators != tc.sent {
				t.Errorf("Validators = %+v, want the sent %+v", res.Validators, tc.sent)
			}
		})
	}
}

func TestFetchNotModifiedUpdatesValidators(t *testing.T) {
	srv := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("ETag", `"new"`)
		w.WriteHeader(http.StatusNotModified)
	})
	sent := Validators{ETag: `"old"`, LastModified: "Tue, 03 Mar 2026 10:00:00 GMT"}
	res := newTestFetcher(t, nil).Fetch(t.Context(), FetchRequest{URL: srv.URL, Validators: sent})
	want := Validators{ETag: `"new"`, LastModified: sent.LastModified}
	if res.Validators != want {
		t.Errorf("Validators = %+v, want %+v", res.Validators, want)
	}
}

func TestFetchMatchingValidatorsOn200(t *testing.T) {
	srv := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("ETag", r.Header.Get("If-None-Match"))
		_, _ = w.Write([]byte("<rss/>"))
	})
	req := FetchRequest{URL: srv.URL, Validators: Validators{ETag: `"same"`}}
	res := newTestFetcher(t, nil).Fetch(t.Context(), req)
	if res.Outcome != OutcomeNewContent {
		t.Errorf("Outcome = %v, want new_content: only 304 means not modified", res.Outcome)
	}
}

func TestFetchRetryAfterHeader(t *testing.T) {
	future := time.Now().Add(2 * time.Hour).UTC().Format(http.TimeFormat)
	tests := []struct {
		name    string
		status  int
		header  string
		wantMin time.Duration
		wantMax time.Duration
	}{
		{"seconds on 429", http.StatusTooManyRequests, "120", 120 * time.Second, 120 * time.Second},
		{"http date on 503", http.StatusServiceUnavailable, future, 119 * time.Minute, 2 * time.Hour},
		{"missing header", http.StatusServiceUnavailable, "", 0, 0},
		{"invalid header", http.StatusTooManyRequests, "soon", 0, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
				if tc.header != "" {
					w.Header().Set("Retry-After", tc.header)
				}
				w.WriteHeader(tc.status)
			})
			res := fetchURL(t, newTestFetcher(t, nil), srv.URL)
			if res.Outcome != OutcomeRetryLater {
				t.Fatalf("Outcome = %v, want retry_later", res.Outcome)
			}
			if res.RetryAfter < tc.wantMin || res.RetryAfter > tc.wantMax {
				t.Errorf("RetryAfter = %v, want between %v and %v", res.RetryAfter, tc.wantMin, tc.wantMax)
			}
		})
	}
}

// stallingServer returns a server whose handler blocks until the client
// goes away or the test ends. If body is not empty, it sends the headers
// and body first.
func stallingServer(t *testing.T, body string) *httptest.Server {
	t.Helper()
	release := make(chan struct{})
	srv := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
		if body != "" {
			_, _ = w.Write([]byte(body))
			w.(http.Flusher).Flush()
		}
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	// Cleanups run last-in first-out, so the handler is released before
	// srv.Close waits for it.
	t.Cleanup(func() { close(release) })
	return srv
}

func TestFetchTimeout(t *testing.T) {
	tests := []struct {
		name string
		body string
	}{
		{"server stalls before headers", ""},
		{"server stalls inside body", "<rss><channel>"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := stallingServer(t, tc.body)
			f := newTestFetcher(t, func(o *FetcherOptions) { o.Timeout = 200 * time.Millisecond })
			start := time.Now()
			res := fetchURL(t, f, srv.URL)
			if res.Outcome != OutcomeRetryLater {
				t.Fatalf("Outcome = %v, want retry_later (err %v)", res.Outcome, res.Err)
			}
			if !isTimeout(res.Err) {
				t.Errorf("Err = %v, want a timeout", res.Err)
			}
			if elapsed := time.Since(start); elapsed > 3*time.Second {
				t.Errorf("Fetch took %v with a 200ms timeout", elapsed)
			}
			if res.Body != nil {
				t.Errorf("Body = %q, want nil", res.Body)
			}
		})
	}
}

func isTimeout(err error) bool {
	var netErr net.Error
	if errors.As(err, &netErr) && netErr.Timeout() {
		return true
	}
	return errors.Is(err, context.DeadlineExceeded)
}

func TestFetchCallerCancellation(t *testing.T) {
	srv := stallingServer(t, "")
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	res := newTestFetcher(t, nil).Fetch(ctx, FetchRequest{URL: srv.URL})
	if res.Outcome != OutcomeRetryLater {
		t.Errorf("Outcome = %v, want retry_later", res.Outcome)
	}
	if !errors.Is(res.Err, context.Canceled) {
		t.Errorf("Err = %v, want context.Canceled", res.Err)
	}
}

func TestFetchConnectionRefused(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listening: %v", err)
	}
	addr := ln.Addr().String()
	if err := ln.Close(); err != nil {
		t.Fatalf("closing listener: %v", err)
	}
	res := fetchURL(t, newTestFetcher(t, nil), "http://"+addr+"/feed")
	if res.Outcome != OutcomeRetryLater {
		t.Errorf("Outcome = %v, want retry_later (err %v)", res.Outcome, res.Err)
	}
	if res.StatusCode != 0 {
		t.Errorf("StatusCode = %d, want 0", res.StatusCode)
	}
}

func TestFetchInvalidURL(t *testing.T) {
	tests := []struct {
		name    string
		url     string
		wantErr error
	}{
		{"ftp scheme", "ftp://127.0.0.1/feed.xml", ErrUnsupportedScheme},
		{"gopher scheme", "gopher://127.0.0.1/", ErrUnsupportedScheme},
		{"no scheme", "feed.example.com/rss", ErrUnsupportedScheme},
		{"malformed", "http://[::1", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := fetchURL(t, newTestFetcher(t, nil), tc.url)
			if res.Outcome != OutcomePermanent {
				t.Errorf("Outcome = %v, want permanent", res.Outcome)
			}
			if res.Err == nil {
				t.Fatal("Err = nil, want an error")
			}
			if tc.wantErr != nil && !errors.Is(res.Err, tc.wantErr) {
				t.Errorf("Err = %v, want %v", res.Err, tc.wantErr)
			}
		})
	}
}

func TestFetchGuardRejectsLoopback(t *testing.T) {
	var hits atomic.Int32
	srv := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
	})
	localhostURL := strings.Replace(srv.URL, "127.0.0.1", "localhost", 1)
	tests := []struct {
		name string
		url  string
	}{
		{"loopback address", srv.URL},
		{"name resolving to loopback", localhostURL},
	}
	f := newTestFetcher(t, func(o *FetcherOptions) { o.AllowPrivateNetworks = false })
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := fetchURL(t, f, tc.url)
			if res.Outcome != OutcomePermanent {
				t.Errorf("Outcome = %v, want permanent", res.Outcome)
			}
			if !errors.Is(res.Err, ErrPrivateAddress) {
				t.Errorf("Err = %v, want ErrPrivateAddress", res.Err)
			}
		})
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("server saw %d requests, want 0", n)
	}
}

func TestFetchPerRequestPrivateOverride(t *testing.T) {
	srv := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte("<rss/>"))
	})
	f := newTestFetcher(t, func(o *FetcherOptions) { o.AllowPrivateNetworks = false })

	allowed := f.Fetch(t.Context(), FetchRequest{URL: srv.URL, AllowPrivateNetwork: true})
	if allowed.Outcome != OutcomeNewContent {
		t.Fatalf("allowed Outcome = %v, want new_content (err %v)", allowed.Outcome, allowed.Err)
	}
	// The allowed fetch left an idle keep-alive connection to the same
	// host; a guarded fetch must not reuse it.
	guarded := f.Fetch(t.Context(), FetchRequest{URL: srv.URL})
	if !errors.Is(guarded.Err, ErrPrivateAddress) {
		t.Errorf("guarded Err = %v, want ErrPrivateAddress", guarded.Err)
	}
}

func TestFetchConcurrentUse(t *testing.T) {
	srv := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/moved" {
			http.Redirect(w, r, "/feed", http.StatusMovedPermanently)
			return
		}
		_, _ = w.Write([]byte("<rss/>"))
	})
	f := newTestFetcher(t, nil)
	type polled struct {
		path string
		res  FetchResult
	}
	results := make(chan polled, 16)
	for i := range 16 {
		path := "/feed"
		if i%2 == 0 {
			path = "/moved"
		}
		go func() {
			results <- polled{path, f.Fetch(t.Context(), FetchRequest{URL: srv.URL + path})}
		}()
	}
	for range 16 {
		p := <-results
		if p.res.Outcome != OutcomeNewContent {
			t.Errorf("%s: Outcome = %v, want new_content (err %v)", p.path, p.res.Outcome, p.res.Err)
		}
		wantMoved := ""
		if p.path == "/moved" {
			wantMoved = srv.URL + "/feed"
		}
		if p.res.MovedTo != wantMoved {
			t.Errorf("%s: MovedTo = %q, want %q", p.path, p.res.MovedTo, wantMoved)
		}
	}
}

func TestOutcomeString(t *testing.T) {
	tests := []struct {
		outcome Outcome
		want    string
	}{
		{OutcomeNotModified, "not_modified"},
		{OutcomeNewContent, "new_content"},
		{OutcomeRetryLater, "retry_later"},
		{OutcomePermanent, "permanent"},
		{OutcomeGone, "gone"},
		{Outcome(0), "outcome(0)"},
	}
	for _, tc := range tests {
		if got := tc.outcome.String(); got != tc.want {
			t.Errorf("Outcome(%d).String() = %q, want %q", int(tc.outcome), got, tc.want)
		}
	}
}
