package workers

import (
	"errors"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// fileURL returns the file:// URL of path.
func fileURL(path string) string {
	return (&url.URL{Scheme: "file", Path: filepath.ToSlash(path)}).String()
}

// writeFeedFile writes data to a temporary file with a fixed modification
// time and returns its path.
func writeFeedFile(t *testing.T, data []byte, modTime time.Time) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "feed.xml")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatalf("writing feed file: %v", err)
	}
	if err := os.Chtimes(path, modTime, modTime); err != nil {
		t.Fatalf("setting modification time: %v", err)
	}
	return path
}

func TestFetchFileURL(t *testing.T) {
	feed := readFixture(t, "feed.xml")
	modTime := time.Date(2026, 3, 2, 9, 30, 15, 500_000_000, time.UTC)
	path := writeFeedFile(t, feed, modTime)
	const wantLastModified = "Mon, 02 Mar 2026 09:30:15 GMT"
	tests := []struct {
		name      string
		validator string
		want      Outcome
	}{
		{"no validator reads the file", "", OutcomeNewContent},
		{"matching validator is not modified", wantLastModified, OutcomeNotModified},
		{"older validator reads the file", "Mon, 02 Mar 2026 09:30:14 GMT", OutcomeNewContent},
		{"newer validator reads the file", "Mon, 02 Mar 2026 09:30:16 GMT", OutcomeNewContent},
		{"invalid validator reads the file", "yesterday", OutcomeNewContent},
	}
	f := newTestFetcher(t, func(o *FetcherOptions) { o.AllowFileURLs = true })
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req := FetchRequest{URL: fileURL(path), Validators: Validators{LastModified: tc.validator}}
			res := f.Fetch(t.Context(), req)
			if res.Outcome != tc.want {
				t.Fatalf("Outcome = %v, want %v (err %v)", res.Outcome, tc.want, res.Err)
			}
			if res.Err != nil {
				t.Errorf("Err = %v, want nil", res.Err)
			}
			if res.Validators.LastModified != wantLastModified {
				t.Errorf("LastModified = %q, want %q", res.Validators.LastModified, wantLastModified)
			}
			if res.ContentType != "" {
				t.Errorf("ContentType = %q, want empty", res.ContentType)
			}
			wantBody := tc.want == OutcomeNewContent
			if wantBody && string(res.Body) != string(feed) {
				t.Errorf("Body differs from the file")
			}
			if !wantBody && res.Body != nil {
				t.Errorf("Body = %q, want nil", res.Body)
			}
		})
	}
}

func TestFetchFileURLDisabled(t *testing.T) {
	path := writeFeedFile(t, []byte("<rss/>"), time.Now())
	res := fetchURL(t, newTestFetcher(t, nil), fileURL(path))
	if res.Outcome != OutcomePermanent {
		t.Errorf("Outcome = %v, want permanent", res.Outcome)
	}
	if !errors.Is(res.Err, ErrFileURLsDisabled) {
		t.Errorf("Err = %v, want ErrFileURLsDisabled", res.Err)
	}
	if res.Body != nil {
		t.Errorf("Body = %q, want nil", res.Body)
	}
}

func TestFetchFileURLErrors(t *testing.T) {
	dir := t.TempDir()
	big := writeFeedFile(t, make([]byte, 101), time.Now())
	tests := []struct {
		name    string
		url     string
		want    Outcome
		wantErr error
	}{
		{"missing file", fileURL(filepath.Join(dir, "absent.xml")), OutcomePermanent, fs.ErrNotExist},
		{"directory", fileURL(dir), OutcomePermanent, errNotRegularFile},
		{"remote host", "file://partner.example.com/feed.xml", OutcomePermanent, ErrUnsupportedScheme},
		{"over the size cap", fileURL(big), OutcomePermanent, ErrFeedTooLarge},
	}
	f := newTestFetcher(t, func(o *FetcherOptions) {
		o.AllowFileURLs = true
		o.MaxBody = 100
	})
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := fetchURL(t, f, tc.url)
			if res.Outcome != tc.want {
				t.Errorf("Outcome = %v, want %v", res.Outcome, tc.want)
			}
			if !errors.Is(res.Err, tc.wantErr) {
				t.Errorf("Err = %v, want %v", res.Err, tc.wantErr)
			}
			if res.Body != nil {
				t.Errorf("Body has %d bytes, want nil", len(res.Body))
			}
		})
	}
}

func TestFetchFileURLExactCap(t *testing.T) {
	path := writeFeedFile(t, make([]byte, 100), time.Now())
	f := newTestFetcher(t, func(o *FetcherOptions) {
		o.AllowFileURLs = true
		o.MaxBody = 100
	})
	res := fetchURL(t, f, fileURL(path))
	if res.Outcome != OutcomeNewContent {
		t.Fatalf("Outcome = %v, want new_content (err %v)", res.Outcome, res.Err)
	}
	if len(res.Body) != 100 {
		t.Errorf("Body has %d bytes, want 100", len(res.Body))
	}
	if _, err := http.ParseTime(res.Validators.LastModified); err != nil {
		t.Errorf("LastModified %q is not an HTTP date: %v", res.Validators.LastModified, err)
	}
}
