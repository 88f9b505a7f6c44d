package store

import (
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestKVKey(t *testing.T) {
	// validKey is the KV key syntax that nats.go enforces, minus leading
	// and trailing dots, which it also rejects.
	validKey := regexp.MustCompile(`^[-/_=a-zA-Z0-9][-/_=.a-zA-Z0-9]*[-/_=a-zA-Z0-9]$`)
	tests := []struct {
		name     string
		key      string
		wantHead string
	}{
		{name: "plain key keeps its text", key: "seen:abc", wantHead: "seen_abc"},
		{name: "empty key gets a placeholder", key: "", wantHead: "_"},
		{name: "dots become underscores", key: "a.b", wantHead: "a_b"},
		{name: "unicode becomes underscores", key: "ü日", wantHead: "__"},
		{name: "long key is cut", key: strings.Repeat("x", 300), wantHead: strings.Repeat("x", keyHeadLen)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := kvKey(tt.key)
			if !validKey.MatchString(got) {
				t.Errorf("kvKey(%q) = %q, not a valid KV key", tt.key, got)
			}
			head, hash, ok := strings.Cut(got, ".")
			if !ok {
				t.Fatalf("kvKey(%q) = %q, want head.hash", tt.key, got)
			}
			if head != tt.wantHead {
				t.Errorf("head = %q, want %q", head, tt.wantHead)
			}
			if len(hash) != keyHashChars {
				t.Errorf("hash %q has %d characters, want %d", hash, len(hash), keyHashChars)
			}
		})
	}
}

func TestKVKeyDistinguishesSameHead(t *testing.T) {
	a, b := kvKey("a/b"), kvKey("a.b")
	if a == b {
		t.Errorf("keys a/b and a.b both map to %q", a)
	}
}

func TestCreateOptsRoundsUp(t *testing.T) {
	tests := []struct {
		name string
		ttl  time.Duration
		want int
	}{
		{name: "zero has no option", ttl: 0, want: 0},
		{name: "negative has no option", ttl: -time.Second, want: 0},
		{name: "positive has one option", ttl: 1500 * time.Millisecond, want: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := len(createOpts(tt.ttl)); got != tt.want {
				t.Errorf("len(createOpts(%s)) = %d, want %d", tt.ttl, got, tt.want)
			}
		})
	}
}

func TestRedisTTL(t *testing.T) {
	tests := []struct {
		name string
		ttl  time.Duration
		want time.Duration
	}{
		{name: "zero means no expiry", ttl: 0, want: 0},
		{name: "negative means no expiry", ttl: -1, want: 0},
		{name: "sub-millisecond rounds up", ttl: time.Microsecond, want: time.Millisecond},
		{name: "second stays", ttl: time.Second, want: time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := redisTTL(tt.ttl); got != tt.want {
				t.Errorf("redisTTL(%s) = %s, want %s", tt.ttl, got, tt.want)
			}
		})
	}
}
