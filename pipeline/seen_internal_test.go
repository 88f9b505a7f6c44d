package pipeline

import (
	"testing"
	"time"
)

func TestParseSeen(t *testing.T) {
	at := time.Unix(1_780_000_000, 0)
	tests := []struct {
		name     string
		value    string
		wantHash string
		wantTime time.Time
	}{
		{"hash with time", seenValue("ab12", at), "ab12", at},
		{"bare hash of older releases", "ab12", "ab12", time.Time{}},
		{"text after the last space is no time", "ab12 cd", "ab12 cd", time.Time{}},
		{"empty value", "", "", time.Time{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			hash, written := parseSeen(tc.value)
			if hash != tc.wantHash {
				t.Errorf("hash = %q, want %q", hash, tc.wantHash)
			}
			if !written.Equal(tc.wantTime) {
				t.Errorf("time = %v, want %v", written, tc.wantTime)
			}
		})
	}
}
