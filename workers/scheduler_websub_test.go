package workers

import (
	"context"
	"testing"
	"time"
)

// fakeSubscriptions is a SubscriptionPolicy with one subscribed feed.
type fakeSubscriptions struct {
	subscribed bool
	safety     time.Duration
	missed     int
}

func (f *fakeSubscriptions) PollInterval(context.Context, string, string) (time.Duration, bool) {
	return f.safety, f.subscribed
}

func (f *fakeSubscriptions) SafetyPolled(_ context.Context, _, _ string, newItems int) error {
	f.missed += newItems
	return nil
}

func TestSubscribedNextUsesSafetyInterval(t *testing.T) {
	now := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	normal := now.Add(15 * time.Minute)
	tests := []struct {
		name       string
		subscribed bool
		newItems   int
		want       time.Time
		wantMissed int
	}{
		{"unsubscribed feed keeps its schedule", false, 0, normal, 0},
		{"subscribed feed waits for the safety poll", true, 0, now.Add(6 * time.Hour), 0},
		{"missed items restore the schedule", true, 3, normal, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			subs := &fakeSubscriptions{subscribed: tt.subscribed, safety: 6 * time.Hour}
			p := NewPoller(PollerOptions{Subscriptions: subs, Now: func() time.Time { return now }})
			got := p.subscribedNext(context.Background(), Feed{Partner: "wipk", ID: "news"}, PollReport{New: tt.newItems}, normal)
			if !got.Equal(tt.want) {
				t.Errorf("next poll = %v, want %v", got, tt.want)
			}
			if subs.missed != tt.wantMissed {
				t.Errorf("items reported missed = %d, want %d", subs.missed, tt.wantMissed)
			}
		})
	}
}
