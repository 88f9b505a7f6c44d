package pipeline

import (
	"os"
	"syscall"
)

// failpointEnv names the environment variable that arms a crash point for
// the crash-recovery tests of the binary. The process sends itself
// SIGKILL at the point the value names:
//
//   - "kill-after-reserve": right after it reserves an item and before it
//     publishes it, so the item is held but not yet in the stream;
//   - "kill-after-publish": right after the stream acknowledged an item's
//     event and before the index records it, so the stream holds an event
//     the index does not know.
const failpointEnv = "SYNDIC_TEST_FAILPOINT"

// Crash points.
const (
	afterReserve = "kill-after-reserve"
	afterPublish = "kill-after-publish"
)

var failpoint = os.Getenv(failpointEnv)

// crashPoint kills the process when the armed crash point is at.
func crashPoint(at string) {
	if failpoint == at {
		_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
		select {} // SIGKILL cannot be caught; wait for it to land.
	}
}
