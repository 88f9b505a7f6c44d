package app

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/syndic-network/syndic/feeds"
	"github.com/syndic-network/syndic/internal/config"
	"github.com/syndic-network/syndic/internal/testenv"
	"github.com/syndic-network/syndic/pipeline"
)

// TestStartViewsBackfillsQuietPartner rebuilds the views after a partner
// flooded the stream with more events than the window: the quiet
// partners' older items come back, and the flood keeps the rest. With
// more quiet partners than maxFilterSubjects, the back-fill reads every
// item subject and skips the flood's events itself.
func TestStartViewsBackfillsQuietPartner(t *testing.T) {
	for _, quiet := range []int{1, maxFilterSubjects + 8} {
		t.Run(fmt.Sprintf("%d quiet partners", quiet), func(t *testing.T) {
			testBackfill(t, quiet)
		})
	}
}

func testBackfill(t *testing.T, quiet int) {
	cfg := testConfig(t, testenv.NATS(t).URL, "http://127.0.0.1:1", 1, time.Minute)
	cfg.Feeds.Window = 17 + 3*quiet
	for q := range quiet {
		id := fmt.Sprintf("quiet%02d", q)
		cfg.Partners = append(cfg.Partners, config.Partner{ID: id, Name: id, Language: "en", Timezone: "UTC"})
	}
	cfg.Partners = append(cfg.Partners, config.Partner{ID: "flood", Name: "Flood", Language: "en", Timezone: "UTC"})
	cfg.Channels = []config.Channel{{ID: "all", Title: "All", MaxItems: 5}}
	a := openApp(t, cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	start := time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
	publish := func(partner string, n int, from time.Time) {
		for i := range n {
			ev := pipeline.Event{Version: pipeline.EventVersion, Kind: pipeline.KindCreated, Revision: 1, Item: pipeline.Item{
				ID: fmt.Sprintf("%s-%03d", partner, i), Partner: partner, Feed: "news",
				URL:   fmt.Sprintf("https://%s.example.org/%d", partner, i),
				Title: fmt.Sprintf("%s story %d", partner, i), Published: from.Add(time.Duration(i) * time.Minute),
			}}
			data, err := json.Marshal(ev)
			if err != nil {
				t.Fatalf("encoding event: %v", err)
			}
			if _, err := a.JS.Publish(ctx, cfg.NATS.SubjectPrefix+"."+partner, data); err != nil {
				t.Fatalf("publishing event: %v", err)
			}
		}
	}
	for q := range quiet {
		publish(fmt.Sprintf("quiet%02d", q), 3, start)
	}
	publish("flood", 150+3*quiet, start.Add(time.Hour))

	views, err := a.StartViews(ctx)
	if err != nil {
		t.Fatalf("starting views: %v", err)
	}
	defer views.Stop()
	if err := views.WaitReady(ctx); err != nil {
		t.Fatalf("views not ready: %v", err)
	}
	for q := range quiet {
		id := fmt.Sprintf("quiet%02d", q)
		if n := len(views.View.Entries(feeds.Filter{Partners: []string{id}}, 0)); n != 3 {
			t.Errorf("partner %s has %d items after the restart, want its 3", id, n)
		}
	}
	if n := views.View.PartnerLen("flood"); n != 17 {
		t.Errorf("flood partner has %d items, want the other 17 of the window", n)
	}
}

// TestWatchExpiryMarksViewsCaughtUp checks that views whose pending
// events left the stream before delivery still become ready.
func TestWatchExpiryMarksViewsCaughtUp(t *testing.T) {
	cfg := testConfig(t, testenv.NATS(t).URL, "http://127.0.0.1:1", 1, time.Minute)
	a := openApp(t, cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	ack, err := a.JS.Publish(ctx, cfg.NATS.SubjectPrefix+".farm", []byte(`{}`))
	if err != nil {
		t.Fatalf("publishing event: %v", err)
	}
	if err := a.Stream.Purge(ctx); err != nil {
		t.Fatalf("purging stream: %v", err)
	}
	v := &Views{View: feeds.NewView(10)}
	go a.watchExpiry(ctx, v, ack.Sequence, func() { v.ready.Store(true) })
	if err := v.WaitReady(ctx); err != nil {
		t.Fatalf("views never became ready after their events left the stream: %v", err)
	}
}
