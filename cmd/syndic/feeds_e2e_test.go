package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

func TestFeedsStatusAndReset(t *testing.T) {
	var gone atomic.Bool
	gone.Store(true)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if gone.Load() {
			w.WriteHeader(http.StatusGone)
			return
		}
		w.Header().Set("Content-Type", "application/rss+xml; charset=utf-8")
		_, _ = io.WriteString(w, partnerRSS("1"))
	}))
	t.Cleanup(srv.Close)
	in := newInstance(t, srv.URL)
	ctx := context.Background()

	in.pollOnce(2, "FAILED wipk/news")
	code, out := in.command(ctx, "feeds", "status")
	if code != 0 {
		t.Fatalf("feeds status exit code = %d, want 0", code)
	}
	// A blank line ends the table. Errors the table cut follow it whole.
	table, _, _ := strings.Cut(strings.TrimSpace(out), "\n\n")
	lines := strings.Split(table, "\n")
	if len(lines) != 2 {
		t.Fatalf("feeds status table has %d lines, want a header and one row:\n%s", len(lines), out)
	}
	for _, want := range []string{"gone", "wipk/news", "410 Gone"} {
		if !strings.Contains(lines[1], want) {
			t.Errorf("status row lacks %q: %s", want, lines[1])
		}
	}

	code, out = in.command(ctx, "feeds", "reset", "wipk/missing")
	if code != 2 {
		t.Errorf("reset of an unknown feed exit code = %d, want 2; output %s", code, out)
	}
	gone.Store(false)
	code, out = in.command(ctx, "feeds", "reset", "wipk/news")
	if code != 0 || !strings.Contains(out, "feed wipk/news reset") {
		t.Fatalf("feeds reset exit code = %d, output %q; want 0 and a confirmation", code, out)
	}
	in.pollOnce(0, "items: 1 new")
	_, out = in.command(ctx, "feeds", "status", "--json")
	for _, want := range []string{`"status": "ok"`, `"items_seen": 1`, `"outcome": "new_content"`} {
		if !strings.Contains(out, want) {
			t.Errorf("status JSON lacks %s:\n%s", want, out)
		}
	}
}
