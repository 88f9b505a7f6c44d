package pipeline

import (
	"os"
	"syscall"
)

// failpointEnv names the environment variable that arms a crash point for
// the crash-recovery tests of the binary. With the value
// "kill-after-reserve" the process sends itself SIGKILL right after it
// reserves an item and before it publishes it: the worst moment for a
// crash, since the item is held but not yet in the stream.
const failpointEnv = "SYNDIC_TEST_FAILPOINT"

var killAfterReserve = os.Getenv(failpointEnv) == "kill-after-reserve"

func crashPoint() {
	if killAfterReserve {
		_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
		select {} // SIGKILL cannot be caught; wait for it to land.
	}
}
