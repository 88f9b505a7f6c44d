package testenv

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// defaultRedisURL is the Redis that developers and .ci/run start locally.
// Tests use database 0 and stay inside their own key prefix.
const defaultRedisURL = "redis://127.0.0.1:6379/0"

// redisTimeout bounds the ping at start and the key clean-up at the end.
const redisTimeout = 5 * time.Second

// Redis returns the URL of a running Redis and a key prefix unique to this
// test, "syndictest:<name>:<random>:". The URL comes from
// $SYNDIC_TEST_REDIS_URL, or defaultRedisURL when it is unset. When the test
// ends, every key under the prefix is deleted.
//
// When Redis does not respond to a ping, the test is skipped with a hint on
// how to start it. With CI=true a missing server fails the test instead.
func Redis(t testing.TB) (url string, prefix string) {
	t.Helper()

	url = os.Getenv("SYNDIC_TEST_REDIS_URL")
	if url == "" {
		url = defaultRedisURL
	}
	client := redisClient(t, url)

	ctx, cancel := context.WithTimeout(context.Background(), redisTimeout)
	defer cancel()
	if err := client.Ping(ctx).Err(); err != nil {
		const hint = "start it with: redis-server --daemonize yes " +
			"--bind 127.0.0.1 --port 6379, or set SYNDIC_TEST_REDIS_URL"
		if os.Getenv("CI") == "true" {
			t.Fatalf("pinging redis at %s: %v; %s", url, err, hint)
		}
		t.Skipf("redis not running at %s (%v); %s", url, err, hint)
	}

	prefix = "syndictest:" + sanitize(t.Name()) + ":" + randomSuffix() + ":"
	t.Cleanup(func() { deleteKeys(t, client, prefix) })
	return url, prefix
}

// RedisClient returns a client for the Redis at url that is closed when the
// test ends.
func RedisClient(t testing.TB, url string) *redis.Client {
	t.Helper()
	return redisClient(t, url)
}

func redisClient(t testing.TB, url string) *redis.Client {
	t.Helper()

	opts, err := redis.ParseURL(url)
	if err != nil {
		t.Fatalf("parsing redis url %q: %v", url, err)
	}
	client := redis.NewClient(opts)
	t.Cleanup(func() { _ = client.Close() })
	return client
}

// deleteKeys removes every key under prefix. The prefix contains only
// characters that sanitize allows, so it needs no escaping in the MATCH
// pattern.
func deleteKeys(t testing.TB, client *redis.Client, prefix string) {
	t.Helper()

	ctx, cancel := context.WithTimeout(context.Background(), redisTimeout)
	defer cancel()
	iter := client.Scan(ctx, 0, prefix+"*", 100).Iterator()
	var keys []string
	for iter.Next(ctx) {
		keys = append(keys, iter.Val())
	}
	if err := iter.Err(); err != nil {
		t.Errorf("scanning redis keys with prefix %q: %v", prefix, err)
		return
	}
	if len(keys) == 0 {
		return
	}
	if err := client.Del(ctx, keys...).Err(); err != nil {
		t.Errorf("deleting %d redis keys with prefix %q: %v", len(keys), prefix, err)
	}
}
