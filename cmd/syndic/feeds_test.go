package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/syndic-network/syndic/workers"
)

func TestHealthTable(t *testing.T) {
	now := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	rows := []workers.FeedHealth{
		{
			Feed: "wipk/old", Status: workers.StatusGone, Outcome: "gone", Since: now.Add(-3 * 24 * time.Hour),
			ConsecutiveFailures: 4, LastError: strings.Repeat("x", 100),
		},
		{
			Feed: "wipk/news", Status: workers.StatusOK, Outcome: "not_modified", Since: now.Add(-90 * time.Second),
			LastSuccess: now.Add(-5 * time.Minute), NextAttempt: now.Add(2 * time.Hour), ItemsSeen: 12,
			LastError: "the connection to the server failed", Warnings: []string{workers.WarningDuplicateGUID},
		},
		{Feed: "wipk/new", Status: workers.StatusPending, NextAttempt: now.Add(-time.Second)},
	}
	var out bytes.Buffer
	writeHealthTable(&out, rows, now)
	lines := strings.Split(strings.TrimRight(out.String(), "\n"), "\n")
	if len(lines) != 4 {
		t.Fatalf("table has %d lines, want a header and 3 rows:\n%s", len(lines), out.String())
	}
	tests := []struct {
		name string
		line int
		want []string
	}{
		{"header names the columns", 0, []string{"STATUS", "FEED", "OUTCOME", "SINCE", "FAILURES", "LAST SUCCESS", "NEXT", "ITEMS", "ERROR"}},
		{"gone row keeps its order and cuts the error", 1, []string{"gone", "wipk/old", "3d ago", " 4 ", strings.Repeat("x", 79) + "…"}},
		{"healthy row shows relative times", 2, []string{"ok", "wipk/news", "not_modified", "1m ago", "5m ago", "in 2h", " 12 "}},
		{"pending row shows dashes and due", 3, []string{"pending", "wipk/new", "due"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, w := range tc.want {
				if !strings.Contains(lines[tc.line], w) {
					t.Errorf("line %d = %q, want it to contain %q", tc.line, lines[tc.line], w)
				}
			}
		})
	}
	if strings.Contains(lines[2], "connection") {
		t.Errorf("healthy row shows the error of a past failure: %q", lines[2])
	}
	if !strings.Contains(lines[2], "warning: "+workers.WarningDuplicateGUID) {
		t.Errorf("healthy row lacks its warning: %q", lines[2])
	}
	if strings.Contains(lines[1], strings.Repeat("x", 81)) {
		t.Errorf("gone row error was not shortened: %q", lines[1])
	}
}

func TestResetHints(t *testing.T) {
	rows := []workers.FeedHealth{
		{Feed: "wipk/old", Status: workers.StatusGone},
		{Feed: "wipk/moved", Status: workers.StatusFlagged},
		{Feed: "wipk/flaky", Status: workers.StatusFailing},
		{Feed: "wipk/news", Status: workers.StatusOK},
	}
	var out bytes.Buffer
	writeResetHints(&out, rows)
	lines := strings.Split(strings.TrimRight(out.String(), "\n"), "\n")
	if len(lines) != 2 {
		t.Fatalf("hints have %d lines, want one per gone or flagged feed:\n%s", len(lines), out.String())
	}
	for i, feed := range []string{"wipk/old", "wipk/moved"} {
		if want := "`syndic feeds reset " + feed + "`"; !strings.Contains(lines[i], want) {
			t.Errorf("hint %d = %q, want it to contain %s", i, lines[i], want)
		}
	}
	if !strings.Contains(lines[1], "is flagged") {
		t.Errorf("hint for the flagged feed = %q, want it to say flagged", lines[1])
	}
}

func TestRoughDuration(t *testing.T) {
	tests := []struct {
		name string
		d    time.Duration
		want string
	}{
		{"seconds under a minute", 59 * time.Second, "59s"},
		{"minutes under an hour", 59 * time.Minute, "59m"},
		{"hours under two days", 47 * time.Hour, "47h"},
		{"days from two days", 49 * time.Hour, "2d"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := roughDuration(tc.d); got != tc.want {
				t.Errorf("roughDuration(%v) = %q, want %q", tc.d, got, tc.want)
			}
		})
	}
}

func TestFullProblemsBelowTable(t *testing.T) {
	long := "address not allowed: 127.0.0.1 is loopback; set allow_private_network: true on the feed"
	rows := []workers.FeedHealth{
		{Feed: "wipk/local", Status: workers.StatusFailing, ConsecutiveFailures: 1, LastError: long},
		{Feed: "wipk/news", Status: workers.StatusFailing, ConsecutiveFailures: 1, LastError: "timed out"},
	}
	var out bytes.Buffer
	writeFullProblems(&out, rows)
	if !strings.Contains(out.String(), "wipk/local: "+long) {
		t.Errorf("output lacks the whole cut error:\n%s", out.String())
	}
	if strings.Contains(out.String(), "wipk/news") {
		t.Errorf("output repeats an error the table shows whole:\n%s", out.String())
	}
}
