package broker

import (
	"errors"
	"testing"
	"time"
)

func TestCheckServerVersion(t *testing.T) {
	tests := []struct {
		name    string
		version string
		tooOld  bool
		invalid bool
	}{
		{name: "debian bookworm server is rejected", version: "2.9.10", tooOld: true},
		{name: "last 2.10 release is rejected", version: "2.10.22", tooOld: true},
		{name: "first 2.11 release is accepted", version: "2.11.0"},
		{name: "pinned server is accepted", version: "2.15.3"},
		{name: "next major is accepted", version: "3.0.0"},
		{name: "release candidate counts as its release", version: "2.11.0-RC.2"},
		{name: "leading v is accepted", version: "v2.12.1"},
		{name: "old major with high minor is rejected", version: "1.99.0", tooOld: true},
		{name: "two components are invalid", version: "2.11", invalid: true},
		{name: "empty version is invalid", version: "", invalid: true},
		{name: "letters are invalid", version: "2.x.0", invalid: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := checkServerVersion(tt.version)
			switch {
			case tt.tooOld:
				if !errors.Is(err, ErrServerTooOld) {
					t.Fatalf("checkServerVersion(%q) = %v, want ErrServerTooOld", tt.version, err)
				}
			case tt.invalid:
				if err == nil || errors.Is(err, ErrServerTooOld) {
					t.Fatalf("checkServerVersion(%q) = %v, want a parse error", tt.version, err)
				}
			default:
				if err != nil {
					t.Fatalf("checkServerVersion(%q) = %v, want nil", tt.version, err)
				}
			}
		})
	}
}

func TestServerTooOldMessage(t *testing.T) {
	err := checkServerVersion("2.9.10")
	want := "nats-server 2.9.10 is too old: Syndic needs 2.11 or newer " +
		"for per-key TTLs in KV; upgrade the server"
	if err == nil || err.Error() != want {
		t.Fatalf("error = %v, want %q", err, want)
	}
}

func TestReconnectDelay(t *testing.T) {
	tests := []struct {
		name     string
		attempts int
		base     time.Duration
	}{
		{name: "first attempt waits the minimum", attempts: 1, base: minReconnectDelay},
		{name: "zero attempts waits the minimum", attempts: 0, base: minReconnectDelay},
		{name: "third attempt waits four times", attempts: 3, base: 4 * minReconnectDelay},
		{name: "many attempts wait the maximum", attempts: 10, base: maxReconnectDelay},
		{name: "huge attempt count does not overflow", attempts: 1 << 20, base: maxReconnectDelay},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for range 50 {
				got := reconnectDelay(tt.attempts)
				if got < tt.base || got > tt.base+tt.base/5 {
					t.Fatalf("reconnectDelay(%d) = %s, want within [%s, %s]",
						tt.attempts, got, tt.base, tt.base+tt.base/5)
				}
			}
		})
	}
}
