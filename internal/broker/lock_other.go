//go:build !unix

package broker

import (
	"errors"
	"runtime"
)

// Lock is an exclusive lock on a data directory. Only Unix systems support
// it.
type Lock struct{}

// LockDataDir returns an error, because flock exists only on Unix systems
// and Syndic ships for Linux.
func LockDataDir(dir string) (*Lock, error) {
	return nil, errors.New("locking data directory: not supported on " + runtime.GOOS)
}

// Unlock does nothing.
func (l *Lock) Unlock() error { return nil }
