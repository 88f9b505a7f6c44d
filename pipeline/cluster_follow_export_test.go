package pipeline

import "time"

// SetFollowCheckInterval makes readings started afterwards check their
// bucket every d, and returns a function that restores the interval.
func SetFollowCheckInterval(d time.Duration) (restore func()) {
	old := followCheckNanos.Swap(int64(d))
	return func() { followCheckNanos.Store(old) }
}
