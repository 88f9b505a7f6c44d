package app

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/syndic-network/syndic/feeds"
	"github.com/syndic-network/syndic/internal/testenv"
)

// TestFeedsAnswer503UntilViewsReady serves feeds from views that have not
// caught up with the stream, then from the same views once they have.
func TestFeedsAnswer503UntilViewsReady(t *testing.T) {
	cfg := testConfig(t, testenv.NATS(t).URL, "http://127.0.0.1:1", 1, time.Minute)
	a := openApp(t, cfg)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	views := &Views{View: feeds.NewView(10)}
	h, err := a.FeedHandler(ctx, views)
	if err != nil {
		t.Fatalf("building the feed handler: %v", err)
	}
	paths := []string{"/feeds/all.json", "/feeds/all.atom?lang=en", "/channels/all"}
	for _, path := range paths {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		if rec.Code != http.StatusServiceUnavailable {
			t.Errorf("GET %s while loading: status = %d, want 503", path, rec.Code)
		}
		if got := rec.Header().Get("Retry-After"); got != "2" {
			t.Errorf("GET %s while loading: Retry-After = %q, want 2", path, got)
		}
		if got := rec.Header().Get("Cache-Control"); got != "no-store" {
			t.Errorf("GET %s while loading: Cache-Control = %q, want no-store", path, got)
		}
	}
	if code, _ := sendRequest(h, http.MethodGet, "/readyz", "", ""); code != http.StatusServiceUnavailable {
		t.Errorf("GET /readyz while loading = %d, want 503", code)
	}

	views.ready.Store(true)
	for _, path := range paths {
		if code, body := sendRequest(h, http.MethodGet, path, "", ""); code != http.StatusOK {
			t.Errorf("GET %s once ready = %d %s, want 200", path, code, body)
		}
	}
}

func TestCompleteViewsServeAtOnce(t *testing.T) {
	cfg := testConfig(t, testenv.NATS(t).URL, "http://127.0.0.1:1", 1, time.Minute)
	a := openApp(t, cfg)
	h, err := a.FeedHandler(context.Background(), CompleteViews(feeds.NewView(10)))
	if err != nil {
		t.Fatalf("building the feed handler: %v", err)
	}
	if code, body := sendRequest(h, http.MethodGet, "/feeds/all.json", "", ""); code != http.StatusOK {
		t.Errorf("GET /feeds/all.json = %d %s, want 200", code, body)
	}
}
