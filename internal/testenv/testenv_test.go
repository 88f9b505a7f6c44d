package testenv

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

func TestNameIsNATSSafe(t *testing.T) {
	valid := regexp.MustCompile(`^[A-Z0-9_]+$`)
	for _, name := range []string{"plain", "with space/and.dots*>", "ünïcode", strings.Repeat("x", 200)} {
		t.Run(name[:min(len(name), 20)], func(t *testing.T) {
			got := Name(t)
			if !valid.MatchString(got) {
				t.Errorf("Name = %q, want only [A-Z0-9_]", got)
			}
			if len(got) > maxNameLen+9 {
				t.Errorf("Name = %q has %d characters, want at most %d", got, len(got), maxNameLen+9)
			}
		})
	}
}

func TestNameIsUnique(t *testing.T) {
	if a, b := Name(t), Name(t); a == b {
		t.Errorf("two calls both returned %q", a)
	}
}

func TestNATSRestartKeepsStreams(t *testing.T) {
	ns := NATS(t)
	nc := Conn(t, ns.URL)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatalf("creating jetstream context: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	stream := Name(t)
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: stream, Subjects: []string{"env.>"}}); err != nil {
		t.Fatalf("creating stream: %v", err)
	}
	if _, err := js.Publish(ctx, "env.one", []byte("1")); err != nil {
		t.Fatalf("publishing: %v", err)
	}
	oldURL := ns.URL
	reconnected := nc.StatusChanged(nats.CONNECTED)

	ns.Restart(t)
	select {
	case <-reconnected:
	case <-ctx.Done():
		t.Fatalf("client did not reconnect after restart: %v", ctx.Err())
	}

	if ns.URL != oldURL {
		t.Errorf("URL after restart = %s, want %s", ns.URL, oldURL)
	}
	// JetStream may still be recovering its store when the client is back,
	// so the look-up is polled until it succeeds or the context ends.
	s, err := js.Stream(ctx, stream)
	for err != nil && ctx.Err() == nil {
		time.Sleep(10 * time.Millisecond) // poll interval
		s, err = js.Stream(ctx, stream)
	}
	if err != nil {
		t.Fatalf("looking up stream after restart: %v", err)
	}
	if msgs := s.CachedInfo().State.Msgs; msgs != 1 {
		t.Errorf("stream has %d messages after restart, want 1", msgs)
	}
}

func TestRedisPrefixIsCleaned(t *testing.T) {
	var url, prefix string
	t.Run("writer", func(t *testing.T) {
		url, prefix = Redis(t)
		client := RedisClient(t, url)
		if err := client.Set(context.Background(), prefix+"k", "v", time.Minute).Err(); err != nil {
			t.Fatalf("setting key: %v", err)
		}
	})
	if url == "" {
		t.Skip("redis not available")
	}
	if !strings.HasPrefix(prefix, "syndictest:") || !strings.HasSuffix(prefix, ":") {
		t.Errorf("prefix = %q, want syndictest:<name>:<random>:", prefix)
	}

	client := RedisClient(t, url)
	n, err := client.Exists(context.Background(), prefix+"k").Result()
	if err != nil {
		t.Fatalf("checking key: %v", err)
	}
	if n != 0 {
		t.Errorf("key %q survived the subtest cleanup", prefix+"k")
	}
}
