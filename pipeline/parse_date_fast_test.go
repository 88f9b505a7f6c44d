package pipeline

import (
	"testing"
	"time"
)

// FuzzRFC1123ZFastPath checks that every date that parses as RFC 1123
// with a numeric zone, which parseDateZone reads without rewriting, gets
// the same time and zone state from the rewriting path.
func FuzzRFC1123ZFastPath(f *testing.F) {
	for _, s := range []string{
		"Mon, 02 Jan 2006 15:04:05 -0700",
		"Fri, 04 Dec 2026 09:00:00 +0000",
		"Sat, 29 Feb 2025 10:00:00 +0100",
		"Tue, 31 Mar 2026 23:59:59 +1400",
		"Wed, 01 Jan 0001 00:00:00 -1200",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		fast, err := time.Parse(time.RFC1123Z, s)
		if err != nil {
			return
		}
		slow, zone, ok := parseSpelledDate(s, time.UTC)
		if !ok || zone != zoneGiven || !slow.Equal(fast) {
			t.Fatalf("parseSpelledDate(%q) = %v, zone %v, %v; RFC 1123 read %v", s, slow, zone, ok, fast.UTC())
		}
	})
}
