package workers

import (
	"context"
	"time"
)

// IncidentFunc is called once per incident: when a feed has kept failing
// for PollerOptions.IncidentAfter. health is the feed's state after the
// poll that crossed the threshold. It runs in the polling goroutine, so it
// should return quickly (send a mail with a timeout, or hand it off). An
// error it meets is its own to log; the incident is not reported again
// until the feed has recovered and failed anew.
type IncidentFunc func(ctx context.Context, f Feed, health FeedHealth)

// trackIncident updates the failure start of next and reports whether
// this poll must report an incident. That is the case when the feed has
// been failing (any failure, gone or flagged) for at least after, and no
// report was made for this run of failures. A successful poll ends the
// incident.
func trackIncident(next *fetchState, now time.Time, after time.Duration) bool {
	failing := next.Failures > 0 || next.Gone || next.Flagged
	if !failing {
		next.FailingSince, next.Reported = time.Time{}, false
		return false
	}
	if next.FailingSince.IsZero() {
		next.FailingSince = now
	}
	if after <= 0 || next.Reported || now.Sub(next.FailingSince) < after {
		return false
	}
	next.Reported = true
	return true
}
