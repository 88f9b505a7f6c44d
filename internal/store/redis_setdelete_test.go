package store

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/syndic-network/syndic/internal/testenv"
	"github.com/syndic-network/syndic/pipeline"
)

var _ pipeline.SetDeleter = (*Redis)(nil)

func TestRedisSetThenDelete(t *testing.T) {
	ctx := testContext(t)
	url, prefix := testenv.Redis(t)
	client := testenv.RedisClient(t, url)
	c := NewRedis(client, prefix+"a:")
	other := NewRedis(client, prefix+"b:")

	assertReserve(ctx, t, c, "reserve:x", "h1", true)
	assertReserve(ctx, t, other, "reserve:x", "h1", true)
	setErr, delErr := c.SetThenDelete(ctx, "seen:x", "h1 20261206", time.Minute, "reserve:x")
	if setErr != nil || delErr != nil {
		t.Fatalf("SetThenDelete = %v, %v; want nil, nil", setErr, delErr)
	}
	assertValue(ctx, t, c, "seen:x", "h1 20261206")
	assertAbsent(ctx, t, c, "reserve:x")
	// The other prefix keeps its reservation and gets no seen key.
	assertValue(ctx, t, other, "reserve:x", "h1")
	assertAbsent(ctx, t, other, "seen:x")
	ttl, err := client.PTTL(ctx, prefix+"a:seen:x").Result()
	if err != nil || ttl <= 50*time.Second || ttl > time.Minute {
		t.Errorf("seen key expires in %v (%v), want just under a minute", ttl, err)
	}

	// Deleting an absent key is not an error, and a ttl of zero keeps the
	// value without expiry, as Set does.
	if setErr, delErr := c.SetThenDelete(ctx, "seen:y", "v", 0, "reserve:none"); setErr != nil || delErr != nil {
		t.Fatalf("SetThenDelete of an absent key = %v, %v; want nil, nil", setErr, delErr)
	}
	if ttl, err := client.PTTL(ctx, prefix+"a:seen:y").Result(); err != nil || ttl != -1 {
		t.Errorf("seen:y expiry %v (%v), want none (-1)", ttl, err)
	}

	// The set runs before the delete: with one key for both, the key is gone.
	if setErr, delErr := c.SetThenDelete(ctx, "same", "v", time.Minute, "same"); setErr != nil || delErr != nil {
		t.Fatalf("SetThenDelete of one key = %v, %v; want nil, nil", setErr, delErr)
	}
	assertAbsent(ctx, t, c, "same")
}

func TestRedisSetThenDeleteErrors(t *testing.T) {
	down := redis.NewClient(&redis.Options{Addr: closedAddr(t), MaxRetries: -1})
	t.Cleanup(func() { _ = down.Close() })
	url, prefix := testenv.Redis(t)
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	for _, tc := range []struct {
		name string
		c    *Redis
		ctx  context.Context
	}{
		{"server down", NewRedis(down, "down:"), testContext(t)},
		{"cancelled context", NewRedis(testenv.RedisClient(t, url), prefix), cancelled},
	} {
		t.Run(tc.name, func(t *testing.T) {
			setErr, delErr := tc.c.SetThenDelete(tc.ctx, "seen:x", "v", time.Minute, "reserve:x")
			if setErr == nil || !strings.Contains(setErr.Error(), `"seen:x"`) {
				t.Errorf("set error %v, want one that names seen:x", setErr)
			}
			if delErr == nil || !strings.Contains(delErr.Error(), `"reserve:x"`) {
				t.Errorf("delete error %v, want one that names reserve:x", delErr)
			}
		})
	}
}
