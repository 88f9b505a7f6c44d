package feeds

import (
	"encoding/json"
	"net/http"
	"sync/atomic"
	"testing"
)

func TestHandlerNotReadyAnswers503(t *testing.T) {
	h, _, _ := newArchiveHandler(t)
	var ready atomic.Bool
	h.opts.Ready = ready.Load
	gated := []string{
		"/feeds/all.atom",
		"/feeds/all.json?lang=en",
		"/feeds/all/archive/1.atom",
		"/channels/all",
	}
	for _, path := range gated {
		rec := serve(t, h, http.MethodGet, path, nil)
		if rec.Code != http.StatusServiceUnavailable {
			t.Errorf("GET %s while not ready: status = %d, want 503", path, rec.Code)
			continue
		}
		if got := rec.Header().Get("Retry-After"); got != "2" {
			t.Errorf("GET %s: Retry-After = %q, want 2", path, got)
		}
		if got := rec.Header().Get("Cache-Control"); got != "no-store" {
			t.Errorf("GET %s: Cache-Control = %q, want no-store", path, got)
		}
		if got := rec.Header().Get("ETag"); got != "" {
			t.Errorf("GET %s: ETag = %q, want none", path, got)
		}
		var body struct {
			Error struct {
				Code string `json:"code"`
			} `json:"error"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
			t.Errorf("GET %s: decoding error body: %v", path, err)
		} else if body.Error.Code != "not_ready" {
			t.Errorf("GET %s: error code = %q, want not_ready", path, body.Error.Code)
		}
	}
	for _, path := range []string{"/feeds", "/opml"} {
		if rec := serve(t, h, http.MethodGet, path, nil); rec.Code != http.StatusOK {
			t.Errorf("GET %s while not ready: status = %d, want 200", path, rec.Code)
		}
	}
	if n := h.cache.queryLen(); n != 0 {
		t.Errorf("cached query documents while not ready = %d, want 0", n)
	}

	ready.Store(true)
	for _, path := range gated {
		rec := serve(t, h, http.MethodGet, path, nil)
		if rec.Code != http.StatusOK {
			t.Errorf("GET %s once ready: status = %d, want 200", path, rec.Code)
		}
		if got := rec.Header().Get("Cache-Control"); got == "no-store" {
			t.Errorf("GET %s once ready: Cache-Control = no-store, want the document's", path)
		}
	}
}
