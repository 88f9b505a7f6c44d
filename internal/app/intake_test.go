package app

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/syndic-network/syndic/internal/testenv"
)

// sendRequest sends one request to h and returns the status and body.
func sendRequest(h http.Handler, method, path, token, body string) (int, string) {
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	data, _ := io.ReadAll(rec.Result().Body)
	return rec.Code, string(data)
}

// TestIntakeSplitFromFeeds runs an ingest process and a feed server as
// two apps on one NATS server: a pushed item goes in through the ingest
// handler and comes out of the feed server, which has no intake routes.
func TestIntakeSplitFromFeeds(t *testing.T) {
	url := testenv.NATS(t).URL
	cfg := testConfig(t, url, "http://127.0.0.1:1", 1, time.Minute)
	cfg.Push.Enabled = true
	ingest := openApp(t, cfg)
	serve := openApp(t, cfg)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)

	ih, err := ingest.PublicHandler(ctx, nil, Mounts{Intake: true})
	if err != nil {
		t.Fatalf("building the ingest handler: %v", err)
	}
	views, err := serve.StartViews(ctx)
	if err != nil {
		t.Fatalf("starting views: %v", err)
	}
	t.Cleanup(views.Stop)
	sh, err := serve.FeedHandler(ctx, views)
	if err != nil {
		t.Fatalf("building the feed handler: %v", err)
	}
	store, err := ingest.TokenStore(ctx)
	if err != nil {
		t.Fatalf("opening the token store: %v", err)
	}
	token, _, err := store.Issue(ctx, "farm")
	if err != nil {
		t.Fatalf("issuing a token: %v", err)
	}

	for _, path := range []string{"/healthz", "/readyz"} {
		if code, body := sendRequest(ih, http.MethodGet, path, "", ""); code != http.StatusOK {
			t.Errorf("ingest GET %s = %d %s, want 200", path, code, body)
		}
	}
	item := `{"id":"split-1","title":"Pushed through ingest","url":"https://farm.example/split/1"}`
	code, body := sendRequest(ih, http.MethodPost, "/api/v1/items", token, item)
	if code != http.StatusOK || !strings.Contains(body, `"created"`) {
		t.Fatalf("ingest POST /api/v1/items = %d %s, want 200 created", code, body)
	}
	waitFor(t, 10*time.Second, "the pushed item in the feed server's channel", func() bool {
		_, feed := sendRequest(sh, http.MethodGet, "/feeds/all.json", "", "")
		return strings.Contains(feed, "Pushed through ingest")
	})
	if code, body := sendRequest(ih, http.MethodGet, "/api/v1/items/split-1", token, ""); code != http.StatusOK {
		t.Errorf("ingest GET /api/v1/items/split-1 = %d %s, want 200", code, body)
	}

	if code, _ := sendRequest(sh, http.MethodPost, "/api/v1/items", token, item); code != http.StatusNotFound {
		t.Errorf("feed server POST /api/v1/items = %d, want 404", code)
	}
	if code, _ := sendRequest(sh, http.MethodGet, "/api/v1/openapi.json", "", ""); code != http.StatusNotFound {
		t.Errorf("feed server GET /api/v1/openapi.json = %d, want 404", code)
	}
	if code, _ := sendRequest(ih, http.MethodGet, "/feeds/all.json", "", ""); code != http.StatusNotFound {
		t.Errorf("ingest GET /feeds/all.json = %d, want 404", code)
	}
}
