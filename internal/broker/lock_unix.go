//go:build unix

package broker

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// lockFileName is the lock file inside the data directory.
const lockFileName = "syndic.lock"

// Lock is an exclusive advisory lock on a data directory, held until Unlock
// or until the process exits. The kernel releases it on exit, even after a
// crash, so a stale lock file does not block a restart.
type Lock struct {
	f *os.File
}

// LockDataDir takes an exclusive flock on dir/syndic.lock without waiting
// and writes the process id into the file. It returns an error wrapping
// ErrLocked, with the holder's process id when known, when another open
// file (usually another `syndic run`) holds the lock.
func LockDataDir(dir string) (*Lock, error) {
	path := filepath.Join(dir, lockFileName)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("opening lock file %q: %w", path, err)
	}
	if err := flock(f); err != nil {
		holder := readHolder(f)
		_ = f.Close()
		return nil, fmt.Errorf("locking %q%s: %w", path, holder, err)
	}
	if err := writePID(f); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("writing process id to lock file %q: %w", path, err)
	}
	return &Lock{f: f}, nil
}

// flock takes the lock, retrying when a signal interrupts the call.
func flock(f *os.File) error {
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		switch {
		case err == nil:
			return nil
		case errors.Is(err, syscall.EINTR):
			continue
		case errors.Is(err, syscall.EWOULDBLOCK):
			return ErrLocked
		default:
			return err
		}
	}
}

// readHolder returns " (held by process N)" from the lock file, or "" when
// the file contains no process id, so the error names the process to stop.
func readHolder(f *os.File) string {
	buf := make([]byte, 32)
	n, _ := f.ReadAt(buf, 0)
	pid := strings.TrimSpace(string(buf[:n]))
	if _, err := strconv.Atoi(pid); err != nil {
		return ""
	}
	return " (held by process " + pid + ")"
}

func writePID(f *os.File) error {
	if err := f.Truncate(0); err != nil {
		return err
	}
	_, err := f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	return err
}

// Unlock releases the lock. The file stays in place, because removing it
// would let a process that opened the old file and one that creates a new
// file both believe they hold the lock.
func (l *Lock) Unlock() error {
	if err := l.f.Close(); err != nil {
		return fmt.Errorf("unlocking data directory: %w", err)
	}
	return nil
}
