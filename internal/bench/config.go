package bench

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/syndic-network/syndic/internal/config"
)

// feedsPerPartner groups the farm's feeds into partners of this many
// feeds, close to a chamber of commerce with several topic feeds.
const feedsPerPartner = 10

// Store selects the dedup cache a run uses.
type Store struct {
	// RedisURL is empty for the embedded cache (a JetStream KV bucket).
	RedisURL string
	// RedisPrefix is the key prefix of this run; Run deletes its keys
	// afterwards.
	RedisPrefix string
}

// writeConfig writes a configuration for urls into dir and loads it the
// way `syndic run --config` does, so the run uses every default a user
// gets unless o overrides it.
func writeConfig(dir string, urls []string, o Options) (*config.Config, error) {
	var b strings.Builder
	fmt.Fprintf(&b, "data_dir: %q\n", filepath.Join(dir, "data"))
	fmt.Fprintf(&b, "log: {level: warn}\n")
	fmt.Fprintf(&b, "nats: {sync_always: %t}\n", o.SyncAlways)
	if o.Store.RedisURL != "" {
		fmt.Fprintf(&b, "redis: {url: %q, prefix: %q}\n", o.Store.RedisURL, o.Store.RedisPrefix)
	}
	interval := ""
	if o.FeedInterval > 0 {
		interval = fmt.Sprintf(", interval: %s", o.FeedInterval)
		fmt.Fprintf(&b, "fetch: {allow_private_networks: true, concurrency: %d, min_interval: %s, max_interval: %s}\n",
			o.Concurrency, o.FeedInterval, o.FeedInterval)
	} else {
		fmt.Fprintf(&b, "fetch: {allow_private_networks: true, concurrency: %d}\n", o.Concurrency)
	}
	b.WriteString("channels: [{id: all, title: All}]\npartners:\n")
	for i, u := range urls {
		if i%feedsPerPartner == 0 {
			fmt.Fprintf(&b, "  - {id: p%d, name: Partner %d, language: en, feeds: [", i/feedsPerPartner, i/feedsPerPartner)
		}
		fmt.Fprintf(&b, "{id: f%d, url: %q%s}", i, u, interval)
		if i%feedsPerPartner == feedsPerPartner-1 || i == len(urls)-1 {
			b.WriteString("]}\n")
		} else {
			b.WriteString(", ")
		}
	}
	path := filepath.Join(dir, "syndic.yaml")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		return nil, fmt.Errorf("writing benchmark configuration: %w", err)
	}
	cfg, err := config.Load(path, nil)
	if err != nil {
		return nil, fmt.Errorf("loading benchmark configuration: %w", err)
	}
	return cfg, nil
}
