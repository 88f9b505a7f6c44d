package pipeline

import (
	"strconv"
	"strings"
	"time"
)

// seenRefreshAfter is the minimum age of a seen key's last write before a
// sighting of the same content writes it again. Rewriting it on every
// sighting cost one cache write per known item per poll: 45 writes for a
// feed of 50 items that gained 5 new ones. With a daily rewrite the key
// expires at least SeenTTL minus one day after the last sighting. `syndic
// run` sets SeenTTL one day longer than the stream's max age, so the key
// still outlives the item's events in the stream.
const seenRefreshAfter = 24 * time.Hour

// seenValue is the seen cache value for content hash written at t: the
// hash, a space and the Unix time in seconds.
func seenValue(hash string, t time.Time) string {
	return hash + " " + strconv.FormatInt(t.Unix(), 10)
}

// rememberedSeen is the seen value that a cache keeps in memory for a
// content hash whose key falls due at due. It carries the time
// seenRefreshAfter before due, so duplicate writes the key at the first
// sighting from due on, and not before.
func rememberedSeen(hash string, due time.Time) string {
	return seenValue(hash, due.Add(-seenRefreshAfter))
}

// parseSeen splits a seen cache value into the content hash and the time
// it was written, at the last space. A value without a time, as older
// releases and retractions write it, returns whole with the zero time, so
// the next sighting rewrites it.
func parseSeen(v string) (string, time.Time) {
	i := strings.LastIndexByte(v, ' ')
	if i < 0 {
		return v, time.Time{}
	}
	sec, err := strconv.ParseInt(v[i+1:], 10, 64)
	if err != nil {
		return v, time.Time{}
	}
	return v[:i], time.Unix(sec, 0)
}
