package app

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/syndic-network/syndic/internal/broker"
	"github.com/syndic-network/syndic/internal/config"
	"github.com/syndic-network/syndic/internal/store"
	"github.com/syndic-network/syndic/internal/testenv"
	"github.com/syndic-network/syndic/internal/tokens"
	"github.com/syndic-network/syndic/workers"
)

// healthApp returns an App with only what the feed health endpoint needs:
// the configured partners and a poller whose state lives in a JetStream
// KV bucket.
func healthApp(t *testing.T, partners []config.Partner) *App {
	t.Helper()
	js, err := jetstream.New(testenv.Conn(t, testenv.NATS(t).URL))
	if err != nil {
		t.Fatalf("creating JetStream context: %v", err)
	}
	kv, err := broker.EnsureKV(context.Background(), js, testenv.Name(t)+"_CACHE", 1, 0, true)
	if err != nil {
		t.Fatalf("creating cache bucket: %v", err)
	}
	poller := workers.NewPoller(workers.PollerOptions{
		Fetcher:     workers.NewFetcher(workers.FetcherOptions{Timeout: 5 * time.Second, AllowPrivateNetworks: true}),
		State:       store.NewKV(kv),
		MinInterval: time.Minute, MaxInterval: time.Hour,
	})
	return &App{
		Config: &config.Config{Partners: partners},
		Log:    slog.New(slog.DiscardHandler),
		Poller: poller,
	}
}

func TestFeedHealthEndpoint(t *testing.T) {
	gone := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusGone)
	}))
	t.Cleanup(gone.Close)
	a := healthApp(t, []config.Partner{{ID: "wipk", Feeds: []config.PartnerFeed{
		{ID: "news", URL: "http://127.0.0.1:1/never-polled", Interval: 15 * time.Minute},
		{ID: "old", URL: gone.URL, Interval: 15 * time.Minute},
	}}})
	feeds := a.Feeds()
	a.Poller.Poll(context.Background(), feeds[1])

	rec := httptest.NewRecorder()
	a.AdminHandler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/v1/feeds", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("status = %d, want 200; body %s", rec.Code, rec.Body)
	}
	if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q, want application/json", ct)
	}
	var body struct {
		Failing int                  `json:"failing"`
		Total   int                  `json:"total"`
		Feeds   []workers.FeedHealth `json:"feeds"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatalf("decoding body: %v\n%s", err, rec.Body)
	}
	if body.Total != 2 {
		t.Errorf("total = %d, want 2", body.Total)
	}
	if body.Failing != 1 {
		t.Errorf("failing = %d, want 1", body.Failing)
	}
	if len(body.Feeds) != 2 {
		t.Fatalf("got %d feeds, want 2", len(body.Feeds))
	}
	if body.Feeds[0].Feed != "wipk/old" || body.Feeds[0].Status != workers.StatusGone {
		t.Errorf("first row = %s %s, want the gone feed wipk/old first", body.Feeds[0].Feed, body.Feeds[0].Status)
	}
	if body.Feeds[1].Status != workers.StatusPending {
		t.Errorf("second row status = %q, want pending", body.Feeds[1].Status)
	}
}

func TestPartnerHealthEndpoint(t *testing.T) {
	gone := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusGone)
	}))
	t.Cleanup(gone.Close)
	a := healthApp(t, []config.Partner{
		{ID: "wipk", Feeds: []config.PartnerFeed{{ID: "old", URL: gone.URL, Interval: 15 * time.Minute}}},
		{ID: "kurier", Feeds: []config.PartnerFeed{{ID: "news", URL: gone.URL + "/kurier", Interval: 15 * time.Minute}}},
	})
	ctx := context.Background()
	for _, f := range a.Feeds() {
		a.Poller.Poll(ctx, f)
	}
	js, err := jetstream.New(testenv.Conn(t, testenv.NATS(t).URL))
	if err != nil {
		t.Fatalf("creating JetStream context: %v", err)
	}
	kv, err := broker.EnsureKV(ctx, js, testenv.Name(t)+"_TOKENS", 1, 0, false)
	if err != nil {
		t.Fatalf("creating token bucket: %v", err)
	}
	store := tokens.New(kv, a.Log)
	token, _, err := store.Issue(ctx, "wipk")
	if err != nil {
		t.Fatalf("issuing token: %v", err)
	}
	h := a.partnerHealth(store)

	tests := []struct {
		name       string
		auth       string
		wantStatus int
		wantFeeds  []string
	}{
		{"own feeds with a valid token", "Bearer " + token, http.StatusOK, []string{"wipk/old"}},
		{"missing token is unauthorized", "", http.StatusUnauthorized, nil},
		{"unknown token is unauthorized", "Bearer wipk.not-a-real-token", http.StatusUnauthorized, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodGet, "/api/v1/partners/me/health", nil)
			if tc.auth != "" {
				req.Header.Set("Authorization", tc.auth)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tc.wantStatus {
				t.Fatalf("status = %d, want %d; body %s", rec.Code, tc.wantStatus, rec.Body)
			}
			if tc.wantStatus != http.StatusOK {
				return
			}
			var body struct {
				Feeds []workers.FeedHealth `json:"feeds"`
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
				t.Fatalf("decoding body: %v", err)
			}
			var got []string
			for _, row := range body.Feeds {
				got = append(got, row.Feed)
			}
			if !slices.Equal(got, tc.wantFeeds) {
				t.Errorf("feeds = %v, want only the partner's own %v", got, tc.wantFeeds)
			}
		})
	}
}
