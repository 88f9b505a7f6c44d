package config

import (
	"strings"
	"testing"
	"time"
)

func TestRetentionCheck(t *testing.T) {
	tests := []struct {
		name     string
		maxAge   time.Duration
		schedule string
		// want is a part of the error, or "" when the config must pass.
		want string
	}{
		{"daily digest with two days", 48 * time.Hour, "daily 07:00", ""},
		{"daily digest with a day", 24 * time.Hour, "daily 07:00", "use a duration of at least 48h"},
		{"weekly digest with eight days", 8 * 24 * time.Hour, "weekly mon 07:00", ""},
		{"weekly digest with a week", 7 * 24 * time.Hour, "weekly mon 07:00", "at least 192h, so events outlive the longest digest period (168h, digest d) by a day"},
		{"no digest with a day", 24 * time.Hour, "", ""},
		{"no digest with an hour", time.Hour, "", "at least 24h, the minimum retention"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := validConfig()
			c.NATS.MaxAge = tt.maxAge
			c.Digests = nil
			if tt.schedule != "" {
				d := validConfig().Digests[0]
				d.ID, d.Schedule = "d", tt.schedule
				c.Digests = []Digest{d}
			}
			err := c.Validate()
			if tt.want == "" {
				if err != nil {
					t.Fatalf("Validate returned error: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate accepted nats.max_age %s", tt.maxAge)
			}
			if !strings.Contains(err.Error(), "nats.max_age:") {
				t.Errorf("error does not name nats.max_age: %v", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error does not contain %q: %v", tt.want, err)
			}
		})
	}
}
