package faulttest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// importSubscribers adds digestSubscribers to the digest "daily" as
// confirmed subscribers. An import starts each subscriber's digest window
// at the import, so the process's catch-up run at start sends nothing and
// the scheduled run at digestAt is the only one.
func (d *deployment) importSubscribers(t *testing.T, cfg string) {
	t.Helper()
	var b strings.Builder
	b.WriteString("digest,email,locale,time_zone,languages,partners,categories,status,created_at,confirmed_at\n")
	for _, email := range digestSubscribers {
		fmt.Fprintf(&b, "daily,%s,en,UTC,,,,confirmed,,2026-01-01T00:00:00Z\n", email)
	}
	csv := filepath.Join(d.dir, "subscribers.csv")
	if err := os.WriteFile(csv, []byte(b.String()), 0o600); err != nil {
		t.Fatalf("writing subscribers: %v", err)
	}
	out, err := exec.Command(d.syndic, "subscribers", "import", "--digest", "daily", "--file", csv, "--config", cfg).CombinedOutput()
	if err != nil {
		t.Fatalf("syndic subscribers import: %v\n%s", err, out)
	}
	if want := fmt.Sprintf("%d added", len(digestSubscribers)); !strings.Contains(string(out), want) {
		t.Fatalf("syndic subscribers import output lacks %q:\n%s", want, out)
	}
}

// digestCounts sums up the digests the mailbox received.
type digestCounts struct {
	messages, items, duplicates int
}

// farmURL matches the item URLs of the partner farm in a message body.
var farmURL = regexp.MustCompile(`https://farm\.example/f\d+/story-\d+`)

// checkDigests waits for the digest process to finish its scheduled run
// and checks that each subscriber got exactly one message, and that no
// message lists an item twice or an item the farm never published.
func (d *deployment) checkDigests(t *testing.T, published map[string]bool) digestCounts {
	t.Helper()
	finished := d.waitForDigestRun(t)
	t.Logf("digest run finished at %s", finished.Format(time.TimeOnly))
	var c digestCounts
	received := map[string]int{}
	for _, m := range d.mail.all() {
		c.messages++
		for _, to := range m.to {
			received[to]++
		}
		c.countItems(t, m, published)
	}
	for _, email := range digestSubscribers {
		if received[email] != 1 {
			t.Errorf("%s received %d digests, want 1", email, received[email])
		}
	}
	for to := range received {
		if !slices.Contains(digestSubscribers, to) {
			t.Errorf("a message went to %s, who is not a subscriber", to)
		}
	}
	return c
}

// countItems adds the farm items that message m lists to c.
func (c *digestCounts) countItems(t *testing.T, m mailMessage, published map[string]bool) {
	t.Helper()
	text, err := textBody(m.data)
	if err != nil {
		t.Errorf("digest to %v: %v", m.to, err)
		return
	}
	seen := map[string]bool{}
	for _, u := range farmURL.FindAllString(text, -1) {
		c.items++
		if seen[u] {
			c.duplicates++
			t.Errorf("digest to %v lists %s twice", m.to, u)
		}
		seen[u] = true
		if !published[u] {
			t.Errorf("digest to %v lists %s, which the farm never published", m.to, u)
		}
	}
	if len(seen) == 0 {
		t.Errorf("digest to %v lists no farm item:\n%s", m.to, text)
	}
}

// waitForDigestRun waits until the digest process logs the end of a run,
// at most two minutes after the send time, and returns the log time.
func (d *deployment) waitForDigestRun(t *testing.T) time.Time {
	t.Helper()
	deadline := d.digestAt.Add(2 * time.Minute)
	for {
		for _, l := range d.logs.all() {
			if l.Process == "digest" && l.Msg == "digest run finished" {
				return l.Time
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("digest process logged no finished run by %s (send time %s)",
				deadline.Format(time.TimeOnly), d.digestAt.Format(time.TimeOnly))
		}
		waitDuration(500 * time.Millisecond)
	}
}
