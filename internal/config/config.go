package config

import (
	"log/slog"
	"time"
	// The binary must resolve partner time zones on hosts and containers
	// without a zoneinfo database, so the database is compiled in (about
	// 450 KB).
	_ "time/tzdata"
)

// Config is the effective configuration of one Syndic process. The yaml tags
// are the keys of the configuration file, and Keys has one row for each
// field.
type Config struct {
	DataDir string `yaml:"data_dir"`
	Log     Log    `yaml:"log"`
	// ShutdownGrace bounds how long a stopping process finishes the
	// requests and polls in flight.
	ShutdownGrace time.Duration `yaml:"shutdown_grace"`
	// MemoryLimit is auto, none or a size: the Go runtime's soft
	// memory limit (MemoryLimitBytes).
	MemoryLimit string    `yaml:"memory_limit"`
	HTTP        HTTP      `yaml:"http"`
	NATS        NATS      `yaml:"nats"`
	Redis       Redis     `yaml:"redis"`
	Fetch       Fetch     `yaml:"fetch"`
	Feeds       Feeds     `yaml:"feeds"`
	Push        Push      `yaml:"push"`
	Partners    []Partner `yaml:"partners"`
	Channels    []Channel `yaml:"channels"`
	// SMTP, DigestsSecret, DigestsBounceToken and Digests configure the
	// email digests; the types are in digests.go.
	SMTP               SMTP     `yaml:"smtp"`
	DigestsSecret      string   `yaml:"digests_secret"`
	DigestsBounceToken string   `yaml:"digests_bounce_token"`
	Digests            []Digest `yaml:"digests"`
}

// Log is the logging section.
type Log struct {
	Level  string `yaml:"level"`
	Format string `yaml:"format"`
}

// HTTP is the section of the public and the admin HTTP listeners.
type HTTP struct {
	Addr      string `yaml:"addr"`
	BaseURL   string `yaml:"base_url"`
	AdminAddr string `yaml:"admin_addr"`
	// AdminPprof serves net/http/pprof on the admin server.
	AdminPprof bool `yaml:"admin_pprof"`
}

// NATS is the section of the NATS connection, the item stream and the
// JetStream key-value buckets.
type NATS struct {
	URL             string        `yaml:"url"`
	Stream          string        `yaml:"stream"`
	SubjectPrefix   string        `yaml:"subject_prefix"`
	Replicas        int           `yaml:"replicas"`
	MaxAge          time.Duration `yaml:"max_age"`
	DuplicateWindow time.Duration `yaml:"duplicate_window"`
	KVPrefix        string        `yaml:"kv_prefix"`
	SyncAlways      bool          `yaml:"sync_always"`
}

// Redis is the section of the optional Redis cache.
type Redis struct {
	URL        string        `yaml:"url"`
	Prefix     string        `yaml:"prefix"`
	ReserveTTL time.Duration `yaml:"reserve_ttl"`
}

// Fetch is the section of the feed fetcher and its scheduler.
type Fetch struct {
	AllowPrivateNetworks bool          `yaml:"allow_private_networks"`
	AllowFileURLs        bool          `yaml:"allow_file_urls"`
	Timeout              time.Duration `yaml:"timeout"`
	MaxBody              ByteSize      `yaml:"max_body"`
	Concurrency          int           `yaml:"concurrency"`
	MinInterval          time.Duration `yaml:"min_interval"`
	MaxInterval          time.Duration `yaml:"max_interval"`
	MaxRedirects         int           `yaml:"max_redirects"`
	ContactURL           string        `yaml:"contact_url"`
	AdoptRedirectAfter   int           `yaml:"adopt_redirect_after"`
	PerHost              int           `yaml:"per_host"`
	BackfillMaxAge       time.Duration `yaml:"backfill_max_age"`
	MaxItems             int           `yaml:"max_items"`
	ParseMemoBytes       ByteSize      `yaml:"parse_memo_bytes"`
	IncidentAfter        time.Duration `yaml:"incident_after"`
	IncidentFrom         string        `yaml:"incident_from"`
	LeaseTTL             time.Duration `yaml:"lease_ttl"`
}

// Feeds is the section of the merged feed views.
type Feeds struct {
	Window          int      `yaml:"window"`
	QueryCacheSize  int      `yaml:"query_cache_size"`
	QueryCacheBytes ByteSize `yaml:"query_cache_bytes"`
}

// Partner is one organisation whose feeds Syndic polls.
type Partner struct {
	ID       string        `yaml:"id"`
	Name     string        `yaml:"name"`
	URL      string        `yaml:"url"`
	Language string        `yaml:"language"`
	Timezone string        `yaml:"timezone"`
	Charset  string        `yaml:"charset"`
	Feeds    []PartnerFeed `yaml:"feeds"`
	// Contact receives one mail per feed incident; empty sends none.
	Contact string `yaml:"contact"`
}

// PartnerFeed is one feed of a partner.
type PartnerFeed struct {
	ID                  string        `yaml:"id"`
	URL                 string        `yaml:"url"`
	Interval            time.Duration `yaml:"interval"`
	AllowPrivateNetwork bool          `yaml:"allow_private_network"`
}

// Channel is one merged output feed.
type Channel struct {
	ID                 string        `yaml:"id"`
	Title              string        `yaml:"title"`
	Description        string        `yaml:"description"`
	MaxItems           int           `yaml:"max_items"`
	MaxItemsPerPartner int           `yaml:"max_items_per_partner"`
	Filter             ChannelFilter `yaml:"filter"`
}

// ChannelFilter selects the items of a channel. An empty list places no
// restriction. The feeds package applies the filter.
type ChannelFilter struct {
	Partners        []string `yaml:"partners"`
	Languages       []string `yaml:"languages"`
	Categories      []string `yaml:"categories"`
	Keywords        []string `yaml:"keywords"`
	ExcludeKeywords []string `yaml:"exclude_keywords"`
}

// Default returns the configuration built from the defaults in Keys alone,
// with no partners and no channels.
func Default() *Config {
	c := &Config{}
	applyDefaults(c)
	return c
}

// SlogLevel returns the slog level named by Level, or slog.LevelInfo when
// Level is not one of debug, info, warn and error.
func (l Log) SlogLevel() slog.Level {
	switch l.Level {
	case "debug":
		return slog.LevelDebug
	case "warn":
		return slog.LevelWarn
	case "error":
		return slog.LevelError
	default:
		return slog.LevelInfo
	}
}

// Location returns the time zone named by Timezone, or time.UTC when the name
// is empty or unknown. Load rejects unknown names, so the fallback only
// applies to a Config built in Go and never validated.
func (p Partner) Location() *time.Location {
	loc, err := time.LoadLocation(p.Timezone)
	if err != nil {
		return time.UTC
	}
	return loc
}
