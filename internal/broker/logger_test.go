package broker

import (
	"errors"
	"log/slog"
	"strings"
	"testing"
)

// TestServerLoggerCrashRecoveryIsInfo checks that the server's report of
// a state file it rebuilds after a crash is logged as information, while
// other recovery errors stay warnings.
func TestServerLoggerCrashRecoveryIsInfo(t *testing.T) {
	logs := &syncBuffer{}
	l := newServerLogger(slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo})))
	format := "Filestore [SYNDIC_ITEMS] Recovering stream state from index errored: %v"

	l.Warnf(format, errors.New("prior state file"))
	l.Warnf(format, errors.New("checksum mismatch"))
	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("logged %d lines, want 2:\n%s", len(lines), logs.String())
	}
	if !strings.Contains(lines[0], "level=INFO") || !strings.Contains(lines[0], "prior state file") {
		t.Errorf("rebuilt state file logged as %q, want level INFO", lines[0])
	}
	if !strings.Contains(lines[1], "level=WARN") {
		t.Errorf("other recovery error logged as %q, want level WARN", lines[1])
	}
}
