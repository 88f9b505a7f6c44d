package app

import (
	"errors"
	"fmt"
	"math"
	"runtime/debug"

	"github.com/KimMachineGun/automemlimit/memlimit"

	"github.com/syndic-network/syndic/internal/config"
)

// cgroupShare is the part of a container's memory limit that
// memory_limit: auto gives the Go runtime. The rest is left for memory
// the runtime does not count, such as the binary and the page cache that
// the cgroup charges, so the container is not killed before the
// collector speeds up.
const cgroupShare = 0.9

// MemoryLimit is the Go runtime's soft memory limit as SetMemoryLimit
// left it.
type MemoryLimit struct {
	// Bytes is the limit, or 0 for none.
	Bytes int64
	// Source is the origin of the limit: GOMEMLIMIT, memory_limit,
	// cgroup or none.
	Source string
}

// String returns the limit in MiB, or "none".
func (m MemoryLimit) String() string {
	if m.Bytes == 0 {
		return "none"
	}
	return fmt.Sprintf("%dMiB", m.Bytes>>20)
}

// SetMemoryLimit applies the memory_limit setting to the Go runtime.
// gomemlimit is the process's GOMEMLIMIT variable: when it is set, the
// runtime read it at start and SetMemoryLimit leaves that limit alone.
// cgroup reports the container's memory limit for "auto", and returns
// memlimit.ErrNoLimit, ErrNoCgroup or ErrCgroupsNotSupported when there
// is none; nil means memlimit.FromCgroup.
// An error from cgroup is returned with no limit set, so the caller can
// warn and go on.
func SetMemoryLimit(setting, gomemlimit string, cgroup memlimit.Provider) (MemoryLimit, error) {
	if gomemlimit != "" {
		return MemoryLimit{Bytes: runtimeMemoryLimit(), Source: "GOMEMLIMIT"}, nil
	}
	limit, auto, err := config.MemoryLimitBytes(setting)
	if err != nil {
		return MemoryLimit{Bytes: runtimeMemoryLimit(), Source: "none"}, fmt.Errorf("memory_limit: %w", err)
	}

	chosen := MemoryLimit{Bytes: limit, Source: "memory_limit"}
	if auto {
		chosen, err = containerLimit(cgroup)
	}
	if chosen.Bytes == 0 {
		debug.SetMemoryLimit(math.MaxInt64)
		return MemoryLimit{Source: "none"}, err
	}
	debug.SetMemoryLimit(chosen.Bytes)
	return chosen, err
}

// containerLimit returns cgroupShare of the container's memory limit that
// cgroup reports, or no limit when there is none or it cannot be read.
func containerLimit(cgroup memlimit.Provider) (MemoryLimit, error) {
	if cgroup == nil {
		cgroup = memlimit.FromCgroup
	}
	found, err := cgroup()
	if noContainerLimit(err) {
		return MemoryLimit{}, nil
	}
	if err != nil {
		return MemoryLimit{}, fmt.Errorf("memory_limit auto: reading the container's memory limit: %w; set memory_limit to a size or to none", err)
	}
	if found > math.MaxInt64 {
		return MemoryLimit{}, nil
	}
	return MemoryLimit{Bytes: int64(float64(found) * cgroupShare), Source: "cgroup"}, nil
}

// noContainerLimit reports whether err, from a cgroup provider, means
// that no container limits the process: its cgroup sets none, it is in
// no cgroup, or the system has no cgroups (any but Linux). Each is the
// "no such limit" of memory_limit: auto, not a reason to warn at every
// start.
func noContainerLimit(err error) bool {
	return errors.Is(err, memlimit.ErrNoLimit) ||
		errors.Is(err, memlimit.ErrNoCgroup) ||
		errors.Is(err, memlimit.ErrCgroupsNotSupported)
}

// runtimeMemoryLimit returns the runtime's memory limit, 0 for none.
func runtimeMemoryLimit() int64 {
	if v := debug.SetMemoryLimit(-1); v != math.MaxInt64 {
		return v
	}
	return 0
}
