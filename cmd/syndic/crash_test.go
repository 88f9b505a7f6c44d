package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// buildBinary compiles the syndic command once per test into a temporary
// directory, so a crash test can kill a real process.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "syndic")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building syndic: %v\n%s", err, out)
	}
	return bin
}

// pollProcess runs `syndic poll --once` as a child process.
func pollProcess(t *testing.T, bin string, in *instance, extraEnv ...string) (*os.ProcessState, string) {
	t.Helper()
	cmd := exec.Command(bin, "poll", "--once", "--config", in.config)
	cmd.Env = append(append(os.Environ(), in.env...), extraEnv...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	var exitErr *exec.ExitError
	if err != nil && !errors.As(err, &exitErr) {
		t.Fatalf("running syndic poll: %v", err)
	}
	return cmd.ProcessState, out.String()
}

func TestCrashBetweenReserveAndPublish(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary; skipped with -short")
	}
	bin := buildBinary(t)
	partner := newPartnerFeed(t, "1", "2")
	in := newInstance(t, partner.srv.URL, "SYNDIC_REDIS_RESERVE_TTL=1s")

	state, out := pollProcess(t, bin, in, "SYNDIC_TEST_FAILPOINT=kill-after-reserve")
	ws, ok := state.Sys().(syscall.WaitStatus)
	if !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("poll with the failpoint armed ended with %v, want death by SIGKILL; output:\n%s", state, out)
	}

	// The poll had started the embedded server, so it held the
	// reservation in memory and the reservation ended with it. A
	// reservation that outlives its writer (in Redis, or one a process
	// next to a running `syndic run` left there) lasts until its TTL;
	// polls meanwhile leave the item for later instead of dropping it.
	deadline := time.Now().Add(20 * time.Second)
	for {
		state, out = pollProcess(t, bin, in)
		if state.ExitCode() == 0 && strings.Contains(out, "0 failed") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("items still not ingested 20s after the crash; last output:\n%s", out)
		}
		time.Sleep(200 * time.Millisecond)
	}
	stop := in.serve()
	defer stop()
	in.items(2)
}

// TestCrashBetweenPublishAndIndexWrite kills a poll right after the
// stream acknowledged an item and before the index recorded it. The next
// process that starts the embedded server restores the index entry from
// the stream. So the next poll, after the reservation and the duplicate
// window have expired, publishes no second event for the item.
func TestCrashBetweenPublishAndIndexWrite(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary; skipped with -short")
	}
	bin := buildBinary(t)
	partner := newPartnerFeed(t, "1", "2")
	in := newInstance(t, partner.srv.URL, "SYNDIC_REDIS_RESERVE_TTL=1s", "SYNDIC_NATS_DUPLICATE_WINDOW=1s")

	state, out := pollProcess(t, bin, in, "SYNDIC_TEST_FAILPOINT=kill-after-publish")
	ws, ok := state.Sys().(syscall.WaitStatus)
	if !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("poll with the failpoint armed ended with %v, want death by SIGKILL; output:\n%s", state, out)
	}
	// Past the reservation and the duplicate window, only the index can
	// tell that the item was published.
	time.Sleep(1500 * time.Millisecond)
	state, out = pollProcess(t, bin, in)
	if state.ExitCode() != 0 || !strings.Contains(out, "0 failed") {
		t.Fatalf("poll after the crash: exit %d; output:\n%s", state.ExitCode(), out)
	}

	stop := in.serve()
	defer stop()
	in.items(2)
	if n := in.storedEvents(); n != 2 {
		t.Errorf("stream holds %d events for 2 items, want 2", n)
	}
}
