package bench

import (
	"context"
	"fmt"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/syndic-network/syndic/internal/feedfarm"
)

// LocalFarm adapts a farm running in this process to Farm. Its request
// handling then counts in the measured CPU time, so use it for tests and
// small runs, and a farm in its own process for the recorded numbers.
func LocalFarm(f *feedfarm.Farm) Farm { return localFarm{f} }

type localFarm struct{ f *feedfarm.Farm }

func (l localFarm) URLs(context.Context) ([]string, error) { return l.f.URLs(), nil }

func (l localFarm) Slide(_ context.Context, n int) error {
	l.f.Slide(n)
	return nil
}

// deleteRedisKeys removes every key under the run's prefix. It refuses an
// empty prefix, which would match the whole database.
func deleteRedisKeys(ctx context.Context, s Store) error {
	if s.RedisURL == "" {
		return nil
	}
	if strings.TrimSpace(s.RedisPrefix) == "" {
		return fmt.Errorf("deleting benchmark keys: empty redis prefix would match every key")
	}
	opts, err := redis.ParseURL(s.RedisURL)
	if err != nil {
		return fmt.Errorf("parsing redis url: %w", err)
	}
	rdb := redis.NewClient(opts)
	defer rdb.Close()
	iter := rdb.Scan(ctx, 0, s.RedisPrefix+"*", 1000).Iterator()
	var batch []string
	for iter.Next(ctx) {
		batch = append(batch, iter.Val())
		if len(batch) == 1000 {
			if err := rdb.Unlink(ctx, batch...).Err(); err != nil {
				return fmt.Errorf("deleting benchmark keys: %w", err)
			}
			batch = batch[:0]
		}
	}
	if err := iter.Err(); err != nil {
		return fmt.Errorf("listing benchmark keys: %w", err)
	}
	if len(batch) > 0 {
		if err := rdb.Unlink(ctx, batch...).Err(); err != nil {
			return fmt.Errorf("deleting benchmark keys: %w", err)
		}
	}
	return nil
}
