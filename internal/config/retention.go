package config

import (
	"strings"
	"time"
)

// retentionMargin is the time the stream keeps events beyond the longest
// digest period. A digest covers the events of its whole period, and a
// sender that runs late (a restart, an SMTP outage) still finds them
// within this day.
const retentionMargin = 24 * time.Hour

// digestPeriod returns the period of a digest schedule: a day for
// "daily HH:MM" and a week for "weekly DAY HH:MM". An invalid schedule,
// which its own validator rejects, counts as daily.
func digestPeriod(schedule string) time.Duration {
	if strings.HasPrefix(schedule, "weekly ") {
		return 7 * 24 * time.Hour
	}
	return 24 * time.Hour
}

// retention rejects a stream max age shorter than the longest digest
// period plus retentionMargin, because a digest would then miss the
// events that expired before it was sent. Without digests the floor is
// the margin alone.
func (cc *crossChecker) retention(c *Config) {
	need := retentionMargin
	reason := "the minimum retention"
	for _, d := range c.Digests {
		if p := digestPeriod(d.Schedule) + retentionMargin; p > need {
			need = p
			reason = "so events outlive the longest digest period (" + formatDuration(p-retentionMargin) + ", digest " + d.ID + ") by a day"
		}
	}
	if c.NATS.MaxAge < need {
		cc.add("nats.max_age", "nats.max_age",
			"invalid value %s: use a duration of at least %s, %s",
			formatDuration(c.NATS.MaxAge), formatDuration(need), reason)
	}
}
