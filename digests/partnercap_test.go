package digests

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/syndic-network/syndic/internal/config"
	"github.com/syndic-network/syndic/pipeline"
)

func TestSelectItemsPerPartner(t *testing.T) {
	var items []pipeline.Item
	for i := range 6 {
		items = append(items, pipeline.Item{ID: fmt.Sprintf("w%d", i), Partner: "wipk"})
	}
	items = append(items, pipeline.Item{ID: "c0", Partner: "cci"}, pipeline.Item{ID: "c1", Partner: "cci"})
	tests := []struct {
		name       string
		maxItems   int
		perPartner int
		want       []string
	}{
		{"zero cap takes the newest", 4, 0, []string{"w0", "w1", "w2", "w3"}},
		{"cap of two skips the flood", 4, 2, []string{"w0", "w1", "c0", "c1"}},
		{"cap of max items changes nothing", 4, 4, []string{"w0", "w1", "w2", "w3"}},
		{"max items bounds the capped result", 3, 2, []string{"w0", "w1", "c0"}},
		{"fewer items than max items", 20, 0, []string{"w0", "w1", "w2", "w3", "w4", "w5", "c0", "c1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, it := range selectItems(items, tt.maxItems, tt.perPartner) {
				got = append(got, it.ID)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("items = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestDigestPerPartnerCap sends a digest with max_items 5 and
// max_items_per_partner 2 after partner wipk published 30 items newer than
// the two of cci. The message must contain two items of wipk, both of cci,
// and count the other 28 as left out.
func TestDigestPerPartnerCap(t *testing.T) {
	e := newDigestEnv(t)
	ctx := testContext(t)
	since := time.Now().Add(-time.Minute)
	sub := e.addConfirmed(t, "ann@example.org", since)

	newest := time.Now().UTC().Add(-time.Hour)
	for i := range 30 {
		it := item(fmt.Sprintf("w%02d", i), "wipk", fmt.Sprintf("Flood item %02d", i))
		it.Published = newest.Add(-time.Duration(29-i) * time.Minute)
		e.publish(t, event(pipeline.KindCreated, 1, it))
	}
	for i := range 2 {
		it := item(fmt.Sprintf("c%d", i), "cci", fmt.Sprintf("Chamber item %d", i))
		it.Published = newest.Add(-time.Duration(48-i) * time.Hour)
		e.publish(t, event(pipeline.KindCreated, 1, it))
	}

	d := testDigest()
	d.MaxItems, d.MaxItemsPerPartner = 5, 2
	r := NewRunner(RunnerOptions{
		Digest: d, Store: e.Store, SendLog: e.SendLog, Collector: e.Collector,
		Mailer: e.Sink.mailer(t), Links: e.Links, Partners: testPartners, Owner: "worker-1",
		Lease: time.Minute, RatePerMinute: 60_000, Retries: 3, Backoff: time.Millisecond,
	})
	rep, err := r.Run(ctx, time.Now())
	if err != nil {
		t.Fatalf("Run returned error: %v", err)
	}
	if rep.Sent != 1 {
		t.Fatalf("report = %+v, want one sent to %s", rep, sub.Email)
	}
	text := parseMessage(t, e.Sink.waitFor(t, 1)[0].Data).Parts["text/plain"].Body
	for _, want := range []string{"Flood item 29", "Flood item 28", "Chamber item 0", "Chamber item 1", "28 more items"} {
		if !strings.Contains(text, want) {
			t.Errorf("digest lacks %q", want)
		}
	}
	if n := strings.Count(text, "* Flood item "); n != 2 {
		t.Errorf("digest contains %d flood items, want 2:\n%s", n, text)
	}
}

func TestFromConfigKeepsPerPartnerCap(t *testing.T) {
	cfg := config.Default()
	cfg.Channels = []config.Channel{{ID: "all", Title: "All", MaxItems: 100}}
	cfg.Digests = []config.Digest{{
		ID: "daily", Channel: "all", Schedule: "daily 07:00", Timezone: "UTC",
		MaxItems: 20, MaxItemsPerPartner: 3, From: testFrom, GroupBy: "partner",
	}}
	digests, err := FromConfig(cfg)
	if err != nil {
		t.Fatalf("FromConfig returned error: %v", err)
	}
	if got := digests[0].MaxItemsPerPartner; got != 3 {
		t.Errorf("MaxItemsPerPartner = %d, want 3", got)
	}
}
