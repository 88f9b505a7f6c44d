package feeds

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

// bulkyView returns a view of n items whose content is about size bytes
// each, published one minute apart.
func bulkyView(t *testing.T, n, size int) *View {
	t.Helper()
	v := NewView(n)
	start := mustTime(t, "2026-12-01T00:00:00Z")
	for i := range n {
		ev := event(fmt.Sprintf("bulky-%d", i), start.Add(time.Duration(i)*time.Minute))
		word := fmt.Sprintf("w%d ", i)
		ev.Content = "<p>" + strings.Repeat(word, size/len(word)) + "</p>"
		v.Apply(ev)
	}
	return v
}

func TestQueryCacheSkipsLargeDocument(t *testing.T) {
	// Twelve items of 1 MB make every narrowed document larger than an
	// eighth of the default byte bound.
	h := NewHandler(HandlerOptions{
		View:     bulkyView(t, 12, 1<<20),
		Channels: []Channel{{ID: "all", Title: "All", MaxItems: 100}},
		BaseURL:  "https://hub.example.org",
	}).(*handler)
	for i := range 3 {
		rec := serve(t, h, http.MethodGet, fmt.Sprintf("/feeds/all.json?limit=%d", 100-i), nil)
		if rec.Code != http.StatusOK {
			t.Fatalf("query %d: status = %d, want 200", i, rec.Code)
		}
		if rec.Body.Len() < 12<<20 {
			t.Errorf("query %d: body has %d bytes, want every item in full", i, rec.Body.Len())
		}
	}
	if n := h.cache.queryLen(); n != 0 {
		t.Errorf("cached query documents = %d, want 0 for documents over the per-document limit", n)
	}
	if n := h.cache.queryByteCount(); n != 0 {
		t.Errorf("cached query bytes = %d, want 0", n)
	}
}

func TestQueryCacheBoundedByBytes(t *testing.T) {
	const bound = 4 << 20
	h := NewHandler(HandlerOptions{
		View:            bulkyView(t, 8, 100<<10),
		Channels:        []Channel{{ID: "all", Title: "All", MaxItems: 100}},
		BaseURL:         "https://hub.example.org",
		QueryCacheBytes: bound,
	}).(*handler)
	// Up to five items make a document of at most about 500 KB, below
	// the per-document limit of 512 KiB, and together the 15 documents
	// take more than the bound.
	served := 0
	for _, ext := range []string{"rss", "atom", "json"} {
		for limit := 1; limit <= 5; limit++ {
			rec := serve(t, h, http.MethodGet, fmt.Sprintf("/feeds/all.%s?limit=%d", ext, limit), nil)
			if rec.Code != http.StatusOK {
				t.Fatalf("%s limit %d: status = %d, want 200", ext, limit, rec.Code)
			}
			served += rec.Body.Len()
		}
	}
	if served <= bound {
		t.Fatalf("served %d bytes, want more than the bound %d for a meaningful test", served, bound)
	}
	got := h.cache.queryByteCount()
	if got > bound {
		t.Errorf("cached query bytes = %d, want at most %d", got, bound)
	}
	if got == 0 {
		t.Error("cached query bytes = 0, want documents below the limit cached")
	}
	if n := h.cache.queryLen(); n >= 15 {
		t.Errorf("cached query documents = %d, want fewer than 15", n)
	}
}
