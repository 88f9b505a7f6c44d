package app

import (
	"errors"
	"fmt"
	"math"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/KimMachineGun/automemlimit/memlimit"
)

// keepMemoryLimit restores the test binary's memory limit after a test
// that changes it. Such tests must not run in parallel.
func keepMemoryLimit(t *testing.T) {
	t.Helper()
	before := debug.SetMemoryLimit(-1)
	t.Cleanup(func() { debug.SetMemoryLimit(before) })
}

func noCgroup() (uint64, error) {
	panic("the cgroup provider was called")
}

func TestSetMemoryLimit(t *testing.T) {
	const mib = 1 << 20
	tests := []struct {
		name       string
		setting    string
		gomemlimit string
		cgroup     memlimit.Provider
		want       MemoryLimit
		runtime    int64
	}{
		{name: "size", setting: "450MiB", cgroup: noCgroup,
			want: MemoryLimit{Bytes: 450 * mib, Source: "memory_limit"}, runtime: 450 * mib},
		{name: "decimal size", setting: "500MB", cgroup: noCgroup,
			want: MemoryLimit{Bytes: 500_000_000, Source: "memory_limit"}, runtime: 500_000_000},
		{name: "none", setting: "none", cgroup: noCgroup,
			want: MemoryLimit{Source: "none"}, runtime: math.MaxInt64},
		{name: "auto in a container", setting: "auto", cgroup: memlimit.Limit(1000 * mib),
			want: MemoryLimit{Bytes: 900 * mib, Source: "cgroup"}, runtime: 900 * mib},
		{name: "auto without a container limit", setting: "auto",
			cgroup: func() (uint64, error) { return 0, memlimit.ErrNoLimit },
			want:   MemoryLimit{Source: "none"}, runtime: math.MaxInt64},
		{name: "auto in no cgroup", setting: "auto",
			cgroup: func() (uint64, error) { return 0, memlimit.ErrNoCgroup },
			want:   MemoryLimit{Source: "none"}, runtime: math.MaxInt64},
		{name: "auto on a system without cgroups", setting: "auto",
			cgroup: func() (uint64, error) { return 0, fmt.Errorf("probing: %w", memlimit.ErrCgroupsNotSupported) },
			want:   MemoryLimit{Source: "none"}, runtime: math.MaxInt64},
		{name: "auto with a limit too large for the runtime", setting: "auto",
			cgroup: memlimit.Limit(math.MaxUint64),
			want:   MemoryLimit{Source: "none"}, runtime: math.MaxInt64},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			keepMemoryLimit(t)
			debug.SetMemoryLimit(123 * mib)
			got, err := SetMemoryLimit(tt.setting, tt.gomemlimit, tt.cgroup)
			if err != nil {
				t.Fatalf("SetMemoryLimit(%q): %v", tt.setting, err)
			}
			if got != tt.want {
				t.Errorf("SetMemoryLimit(%q) = %+v, want %+v", tt.setting, got, tt.want)
			}
			if r := debug.SetMemoryLimit(-1); r != tt.runtime {
				t.Errorf("runtime limit after %q = %d, want %d", tt.setting, r, tt.runtime)
			}
		})
	}
}

// TestSetMemoryLimitLeavesGOMEMLIMIT checks that a GOMEMLIMIT in the
// environment, which the runtime applied at start, wins over the setting.
func TestSetMemoryLimitLeavesGOMEMLIMIT(t *testing.T) {
	keepMemoryLimit(t)
	debug.SetMemoryLimit(300 << 20)
	for _, setting := range []string{"auto", "none", "100MiB"} {
		got, err := SetMemoryLimit(setting, "300MiB", noCgroup)
		if err != nil {
			t.Fatalf("SetMemoryLimit(%q): %v", setting, err)
		}
		want := MemoryLimit{Bytes: 300 << 20, Source: "GOMEMLIMIT"}
		if got != want {
			t.Errorf("SetMemoryLimit(%q) with GOMEMLIMIT = %+v, want %+v", setting, got, want)
		}
		if r := debug.SetMemoryLimit(-1); r != 300<<20 {
			t.Errorf("runtime limit after %q = %d, want the GOMEMLIMIT value %d", setting, r, 300<<20)
		}
	}
}

// TestSetMemoryLimitCgroupError checks that a container limit that cannot
// be read leaves no limit and an error that names what to set instead.
func TestSetMemoryLimitCgroupError(t *testing.T) {
	keepMemoryLimit(t)
	debug.SetMemoryLimit(123 << 20)
	got, err := SetMemoryLimit("auto", "", func() (uint64, error) {
		return 0, errors.New("reading /sys/fs/cgroup/memory.max: permission denied")
	})
	if err == nil {
		t.Fatal("SetMemoryLimit: no error for an unreadable cgroup limit")
	}
	for _, part := range []string{"permission denied", "set memory_limit to a size or to none"} {
		if !strings.Contains(err.Error(), part) {
			t.Errorf("error %q does not contain %q", err, part)
		}
	}
	if got != (MemoryLimit{Source: "none"}) {
		t.Errorf("SetMemoryLimit = %+v, want no limit", got)
	}
	if r := debug.SetMemoryLimit(-1); r != math.MaxInt64 {
		t.Errorf("runtime limit = %d, want none", r)
	}
}

func TestSetMemoryLimitRejectsBadSetting(t *testing.T) {
	keepMemoryLimit(t)
	debug.SetMemoryLimit(123 << 20)
	for _, setting := range []string{"", "10MiB", "2048GiB", "lots", "450mb", "-1"} {
		if _, err := SetMemoryLimit(setting, "", noCgroup); err == nil {
			t.Errorf("SetMemoryLimit(%q): no error", setting)
		}
		if r := debug.SetMemoryLimit(-1); r != 123<<20 {
			t.Errorf("SetMemoryLimit(%q) changed the runtime limit to %d", setting, r)
		}
	}
}

func TestMemoryLimitString(t *testing.T) {
	if got := (MemoryLimit{Bytes: 450 << 20}).String(); got != "450MiB" {
		t.Errorf("String() = %q, want 450MiB", got)
	}
	if got := (MemoryLimit{}).String(); got != "none" {
		t.Errorf("String() = %q, want none", got)
	}
}
