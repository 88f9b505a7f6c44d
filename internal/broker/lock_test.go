//go:build unix

package broker

import (
	"errors"
	"os"
	"strconv"
	"strings"
	"testing"
)

func TestLockDataDir(t *testing.T) {
	dir := t.TempDir()

	first, err := LockDataDir(dir)
	if err != nil {
		t.Fatalf("first LockDataDir: %v", err)
	}

	// flock locks belong to open file descriptions, so a second open in
	// this process conflicts just as another process would.
	second, err := LockDataDir(dir)
	if !errors.Is(err, ErrLocked) {
		if second != nil {
			_ = second.Unlock()
		}
		t.Fatalf("second LockDataDir = %v, want ErrLocked", err)
	}
	if pid := strconv.Itoa(os.Getpid()); !strings.Contains(err.Error(), "held by process "+pid) {
		t.Errorf("error %q does not name the holding process %s", err, pid)
	}

	if err := first.Unlock(); err != nil {
		t.Fatalf("Unlock: %v", err)
	}
	third, err := LockDataDir(dir)
	if err != nil {
		t.Fatalf("LockDataDir after Unlock: %v", err)
	}
	if err := third.Unlock(); err != nil {
		t.Fatalf("second Unlock: %v", err)
	}
}

func TestLockDataDirMissingDir(t *testing.T) {
	_, err := LockDataDir(t.TempDir() + "/missing")
	if err == nil {
		t.Fatal("LockDataDir on a missing directory succeeded, want an error")
	}
	if errors.Is(err, ErrLocked) {
		t.Errorf("error = %v, want an open error, not ErrLocked", err)
	}
}
