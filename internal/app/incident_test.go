package app

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/syndic-network/syndic/internal/config"
	"github.com/syndic-network/syndic/workers"
)

func TestIncidentMessage(t *testing.T) {
	since := time.Date(2026, 12, 4, 6, 0, 0, 0, time.UTC)
	h := workers.FeedHealth{
		Feed: "wipk/news", URL: "https://wipk.example/rss", Status: workers.StatusFailing,
		Since: since, LastAttempt: since.Add(6 * time.Hour), ConsecutiveFailures: 7,
		LastError: "the server failed (HTTP 503 Service Unavailable)",
	}
	msg, err := incidentMessage("Syndic <syndic@example.org>", "it@wipk.example", "WIPK", h)
	if err != nil {
		t.Fatalf("incidentMessage: %v", err)
	}
	var raw bytes.Buffer
	if _, err := msg.WriteTo(&raw); err != nil {
		t.Fatalf("writing message: %v", err)
	}
	text := raw.String()
	for _, want := range []string{
		"To: <it@wipk.example>",
		"Subject: Syndic cannot read your feed https://wipk.example/rss",
		"since 2026-12-04 06:00 UTC",
		"Problem: the server failed (HTTP 503 Service Unavailable)",
		"Failed attempts in a row: 7",
		"sends no further mail about this problem",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("message lacks %q:\n%s", want, text)
		}
	}
}

func TestIncidentMessageGoneFeed(t *testing.T) {
	_, body := incidentText("WIPK", workers.FeedHealth{URL: "https://wipk.example/rss", Status: workers.StatusGone})
	if !strings.Contains(body, "stopped polling it") {
		t.Errorf("gone feed mail does not say polling stopped:\n%s", body)
	}
}

func TestIncidentHookNeedsSenderAndRelay(t *testing.T) {
	withContact := []config.Partner{{ID: "wipk", Contact: "it@wipk.example"}}
	tests := []struct {
		name     string
		from     string
		host     string
		partners []config.Partner
		want     bool
	}{
		{"sender and relay enable mails", "syndic@example.org", "smtp.example.org", withContact, true},
		{"no sender disables mails", "", "smtp.example.org", withContact, false},
		{"no relay disables mails", "syndic@example.org", "", withContact, false},
		// A reload may add a contact later.
		{"no contact yet keeps mails on", "syndic@example.org", "smtp.example.org", []config.Partner{{ID: "wipk"}}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := &App{Config: &config.Config{Partners: tc.partners}}
			a.Config.Fetch.IncidentFrom = tc.from
			a.Config.SMTP.Host = tc.host
			if got := a.incidentHook() != nil; got != tc.want {
				t.Errorf("incident hook set = %v, want %v", got, tc.want)
			}
		})
	}
}
