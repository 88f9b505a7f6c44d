package app

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/syndic-network/syndic/internal/testenv"
)

// TestOpenWarnsOfOtherMaxAge opens two processes on one NATS server, the
// second with another nats.max_age, and checks that the second warns
// with both values, while a third with the same value does not.
func TestOpenWarnsOfOtherMaxAge(t *testing.T) {
	ns := testenv.NATS(t)
	first := testConfig(t, ns.URL, "http://127.0.0.1:9", 1, time.Hour)
	openApp(t, first)

	open := func(maxAge time.Duration) string {
		t.Helper()
		cfg := testConfig(t, ns.URL, "http://127.0.0.1:9", 1, time.Hour)
		cfg.NATS.Stream, cfg.NATS.SubjectPrefix, cfg.NATS.KVPrefix = first.NATS.Stream, first.NATS.SubjectPrefix, first.NATS.KVPrefix
		cfg.NATS.MaxAge = maxAge
		logs := &syncBuffer{}
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		a, err := Open(ctx, cfg, slog.New(slog.NewTextHandler(logs, nil)), OpenOptions{})
		if err != nil {
			t.Fatalf("opening app with max age %v: %v", maxAge, err)
		}
		a.Close(context.Background())
		return logs.String()
	}

	logs := open(30 * time.Minute)
	var warning string
	for line := range strings.Lines(logs) {
		if strings.Contains(line, "nats.max_age") {
			warning = line
		}
	}
	for _, want := range []string{"level=WARN", "configured=30m0s", "stream_max_age=1h0m0s", "stream=" + first.NATS.Stream} {
		if !strings.Contains(warning, want) {
			t.Errorf("max age warning %q, want %q in it; logs:\n%s", warning, want, logs)
		}
	}
	if logs := open(30 * time.Minute); strings.Contains(logs, "nats.max_age") {
		t.Errorf("a process with the stream's max age logged:\n%s", logs)
	}
}
