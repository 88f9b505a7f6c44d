package main

import (
	"testing"

	"github.com/syndic-network/syndic/digests"
)

// TestSendSummaryCountsUnconfirmedApart pins a summary that counted nine
// unconfirmed sign-ups as "already sent or claimed".
func TestSendSummaryCountsUnconfirmedApart(t *testing.T) {
	rep := digests.Report{Sent: 1, Deferred: 2, Unconfirmed: 9, Undeliverable: 3}
	got := sendSummary("daily", "2026-12-05", rep)
	want := "digest daily, period 2026-12-05: 1 sent, 0 empty, 0 already sent or claimed, 0 rejected, 2 deferred; not sent to 9 unconfirmed and 3 undeliverable addresses"
	if got != want {
		t.Errorf("sendSummary =\n%s\nwant\n%s", got, want)
	}
}
