package main

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"testing"
)

func TestSplitPositionalFlagOrder(t *testing.T) {
	tests := []struct {
		args        []string
		flags, rest []string
	}{
		{[]string{"n-43", "--partner", "wipk"}, []string{"--partner", "wipk"}, []string{"n-43"}},
		{[]string{"--partner", "wipk", "n-43", "--config", "s.yaml"}, []string{"--partner", "wipk", "--config", "s.yaml"}, []string{"n-43"}},
		{[]string{"--partner=wipk", "n-43"}, []string{"--partner=wipk"}, []string{"n-43"}},
		{[]string{"a", "b"}, nil, []string{"a", "b"}},
	}
	for _, tc := range tests {
		flags, rest := splitPositional(tc.args, "config", "partner")
		if !slices.Equal(flags, tc.flags) || !slices.Equal(rest, tc.rest) {
			t.Errorf("splitPositional(%q) = %q, %q; want %q, %q", tc.args, flags, rest, tc.flags, tc.rest)
		}
	}
}

func TestItemIDOfEntryID(t *testing.T) {
	tests := map[string]string{
		"tag:127.0.0.1,2026-12-04:0551fd7f513b6a73cfdf478bcab54317": "0551fd7f513b6a73cfdf478bcab54317",
		"0551fd7f513b6a73cfdf478bcab54317":                          "0551fd7f513b6a73cfdf478bcab54317",
		"n-43":                                                      "n-43",
	}
	for in, want := range tests {
		if got := itemIDOf(in); got != want {
			t.Errorf("itemIDOf(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestRetractRejectsMalformedID checks that an id of no known form is
// reported as invalid, with the forms that work, before any connection.
func TestRetractRejectsMalformedID(t *testing.T) {
	in := newInstance(t, "http://127.0.0.1:9/feed.xml")
	for _, id := range []string{"nonsense", "tag:x,2026:nothex", strings.Repeat("A", 32)} {
		var out, errOut bytes.Buffer
		code := run(context.Background(), []string{"items", "retract", id, "--config", in.config}, nil, &out, &errOut)
		if code != 2 {
			t.Errorf("retract %q exited %d, want 2", id, code)
		}
		if msg := errOut.String(); !strings.Contains(msg, "invalid item id") || !strings.Contains(msg, "--partner") {
			t.Errorf("retract %q said %q, want the id called invalid and the forms named", id, msg)
		}
	}
}
