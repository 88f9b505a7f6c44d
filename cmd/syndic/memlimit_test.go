package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"testing"
)

// memoryLimitConfig writes a configuration with memory_limit: 300MiB
// and returns its path. It restores the test binary's memory limit when
// the test ends, so the tests that use it must not run in parallel.
func memoryLimitConfig(t *testing.T) string {
	t.Helper()
	before := debug.SetMemoryLimit(-1)
	t.Cleanup(func() { debug.SetMemoryLimit(before) })

	path := filepath.Join(t.TempDir(), "syndic.yaml")
	cfg := fmt.Sprintf(`data_dir: %s
memory_limit: 300MiB
http: {addr: "127.0.0.1:0", admin_addr: "127.0.0.1:0", base_url: "http://127.0.0.1:1"}
push: {enabled: false}
partners:
  - {id: klaster, name: Klaster, language: pl, feeds: [{id: news, url: "http://127.0.0.1:1/feed.xml"}]}
`, t.TempDir())
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatalf("writing config: %v", err)
	}
	return path
}

// TestRunSetsMemoryLimit checks that `syndic run` hands memory_limit to
// the Go runtime before it opens anything, and that GOMEMLIMIT in the
// environment wins over it.
func TestRunSetsMemoryLimit(t *testing.T) {
	path := memoryLimitConfig(t)
	// A cancelled context stops the run during its start-up, after the
	// limit is set.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()

	tests := []struct {
		name string
		env  []string
		want int64
	}{
		{"memory_limit", nil, 300 << 20},
		{"GOMEMLIMIT wins", []string{"GOMEMLIMIT=700MiB"}, 77 << 20},
		{"SYNDIC_MEMORY_LIMIT over the file", []string{"SYNDIC_MEMORY_LIMIT=200MiB"}, 200 << 20},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// The runtime read GOMEMLIMIT of this test process at its
			// start, so 77 MiB stands for what it applied.
			debug.SetMemoryLimit(77 << 20)
			var out, errOut bytes.Buffer
			if code := run(ctx, []string{"run", "--config", path}, tt.env, &out, &errOut); code != 0 {
				t.Fatalf("exit code = %d, want 0\n%s", code, errOut.String())
			}
			if got := debug.SetMemoryLimit(-1); got != tt.want {
				t.Errorf("runtime memory limit = %d, want %d\n%s", got, tt.want, errOut.String())
			}
		})
	}
}

// TestOneShotCommandsSetMemoryLimit checks that the commands that load a
// whole deployment at once, poll --once, backup and restore, hand
// memory_limit to the Go runtime too: in a container they share the
// limit of the long-running processes.
func TestOneShotCommandsSetMemoryLimit(t *testing.T) {
	path := memoryLimitConfig(t)
	// A cancelled context stops each command when it opens the
	// deployment, after the limit is set.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for _, args := range [][]string{
		{"poll", "--once", "--config", path},
		{"backup", "--config", path, filepath.Join(t.TempDir(), "backup")},
		{"restore", "--config", path, t.TempDir()},
	} {
		t.Run(args[0], func(t *testing.T) {
			debug.SetMemoryLimit(77 << 20)
			var out, errOut bytes.Buffer
			run(ctx, args, nil, &out, &errOut)
			if got := debug.SetMemoryLimit(-1); got != 300<<20 {
				t.Errorf("runtime memory limit after %s = %d, want %d\n%s", args[0], got, 300<<20, errOut.String())
			}
		})
	}
}
