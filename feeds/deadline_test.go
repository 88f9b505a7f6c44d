package feeds

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// deadlineRecorder is a ResponseRecorder that stores the write deadline
// set through http.ResponseController.
type deadlineRecorder struct {
	*httptest.ResponseRecorder
	deadline time.Time
}

func (d *deadlineRecorder) SetWriteDeadline(t time.Time) error {
	d.deadline = t
	return nil
}

func TestDocumentSetsWriteDeadline(t *testing.T) {
	h, _ := newTestHandler(t)
	tests := []struct {
		path   string
		header string
	}{
		{"/feeds/all.json", ""},
		{"/feeds/all.atom", "gzip"},
		{"/channels/all", ""},
	}
	for _, tt := range tests {
		rec := &deadlineRecorder{ResponseRecorder: httptest.NewRecorder()}
		req := httptest.NewRequest(http.MethodGet, tt.path, nil)
		if tt.header != "" {
			req.Header.Set("Accept-Encoding", tt.header)
		}
		before := time.Now()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			t.Fatalf("GET %s: status = %d, want 200", tt.path, rec.Code)
		}
		if rec.deadline.IsZero() {
			t.Errorf("GET %s: no write deadline set", tt.path)
			continue
		}
		want := before.Add(documentWriteTime(rec.Body.Len()))
		if rec.deadline.Before(want) {
			t.Errorf("GET %s: deadline %v before %v, the time for %d bytes", tt.path, rec.deadline, want, rec.Body.Len())
		}
		if limit := time.Now().Add(documentWriteTime(rec.Body.Len())); rec.deadline.After(limit) {
			t.Errorf("GET %s: deadline %v after %v, want it bounded by the body size", tt.path, rec.deadline, limit)
		}
	}
}

func TestDocumentWriteTimeGrowsWithSize(t *testing.T) {
	if got := documentWriteTime(0); got != documentWriteGrace {
		t.Errorf("time for an empty body = %v, want %v", got, documentWriteGrace)
	}
	if got, want := documentWriteTime(64<<20), documentWriteGrace+1024*time.Second; got != want {
		t.Errorf("time for 64 MiB = %v, want %v", got, want)
	}
}
