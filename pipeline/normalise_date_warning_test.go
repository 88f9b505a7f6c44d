package pipeline

import (
	"strings"
	"testing"
	"time"
)

func TestDateWarnings(t *testing.T) {
	now := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	cases := []struct {
		name, published, updated, want string
	}{
		{"readable date", "2026-12-01T08:00:00Z", "", ""},
		{"no date", "", "", ""},
		{"unreadable date", "sometime in May", "", "the time of receipt is used"},
		{"date before 1970", "1969-07-20T20:17:00Z", "", "the time of receipt is used"},
		{"unreadable date with an updated one", "soon", "2026-12-02T08:00:00Z", "the updated date is used"},
		{"date a year ahead", "2027-12-04T12:00:00Z", "", "after the time of receipt"},
	}
	for _, c := range cases {
		d := &itemDraft{published: c.published, updated: c.updated}
		var w FieldWarnings
		dateWarnings(&w, resolveDates(d, time.UTC, now))
		got := w["published"]
		if c.want == "" && got != "" {
			t.Errorf("%s: warning = %q, want none", c.name, got)
		}
		if c.want != "" && !strings.Contains(got, c.want) {
			t.Errorf("%s: warning = %q, want it to say %q", c.name, got, c.want)
		}
	}
}
