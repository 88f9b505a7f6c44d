package store

import (
	"context"
	"testing"
	"time"

	"github.com/syndic-network/syndic/internal/testenv"
)

func TestRedisGetMany(t *testing.T) {
	ctx := context.Background()
	url, prefix := testenv.Redis(t)
	c := NewRedis(testenv.RedisClient(t, url), prefix)
	if err := c.Set(ctx, "a", "1", time.Minute); err != nil {
		t.Fatalf("setting a: %v", err)
	}
	if err := c.Set(ctx, "c", "", time.Minute); err != nil {
		t.Fatalf("setting c: %v", err)
	}
	values, found, err := c.GetMany(ctx, []string{"a", "b", "c"})
	if err != nil {
		t.Fatalf("GetMany: %v", err)
	}
	if len(values) != 3 || len(found) != 3 {
		t.Fatalf("GetMany returned %d values and %d flags, want 3 each", len(values), len(found))
	}
	if !found[0] || values[0] != "1" {
		t.Errorf("a = %q, %t; want %q, true", values[0], found[0], "1")
	}
	if found[1] {
		t.Errorf("b found with %q, want absent", values[1])
	}
	if !found[2] || values[2] != "" {
		t.Errorf("c = %q, %t; want the empty value, true", values[2], found[2])
	}
}
